/** `edgesim scenario run|check FILE.yaml`: situations written down once, run at a time scale, with a verdict. */
import type { Command } from 'commander';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createClock } from '../common/index.js';
import { junitXml, parseScenario, planScenario, runScenario, timelineRows, verdictLine, type Scenario, type ScenarioResult } from '../scenario/index.js';
import { loggerFromFlags, withLogFlags } from './logging.js';
import { onInterrupt } from './process.js';
import { formatTable } from './table.js';

interface RunFlags {
  junit?: string;
  output?: 'table' | 'json';
  workDir?: string;
  keep?: boolean;
  timeScale?: string;
  logLevel?: string;
  logFormat?: string;
}

async function load(file: string, timeScale?: string): Promise<Scenario> {
  const text = await readFile(file, 'utf8').catch((e: NodeJS.ErrnoException) => {
    throw new Error(`${file}: cannot read it (${e.code ?? e.message})`);
  });
  try {
    const s = parseScenario(text);
    if (timeScale !== undefined) {
      const k = Number(timeScale);
      if (!(Number.isInteger(k) && k >= 1 && k <= 100)) throw new Error(`--time-scale must be an integer from 1 to 100, got "${timeScale}"`);
      s.topology.timeScale = k;
    }
    return s;
  } catch (e) {
    throw new Error(`${file}: ${(e as Error).message}`);
  }
}

export function registerScenarioCommands(program: Command): void {
  const scenario = program
    .command('scenario')
    .description('Scenarios as files: topology, controller-side steps, faults over time, expectations with spec-time deadlines, invariants.');
  scenario
    .command('check')
    .argument('<file...>', 'scenario files (YAML)')
    .description('Parse scenario files strictly and print each plan (chaos steps expanded with their seed); nothing runs.')
    .action(async (files: string[]) => {
      for (const f of files) {
        const s = await load(f);
        const plan = planScenario(s);
        process.stdout.write(`${f}: ${s.name} — ${s.topology.nodes} nodes, ${s.topology.network}, time scale ${s.topology.timeScale}, ${plan.length} steps\n`);
        process.stdout.write(formatTable(plan.map((p) => ({ ref: p.ref, step: p.label })), ['ref', 'step']) + '\n\n');
      }
    });
  withLogFlags(
    scenario
      .command('run')
      .argument('<file...>', 'scenario files (YAML), run one after the other')
      .description('Run scenarios on the demo machinery (controller, agents, k3s stand-ins on etcd); exit 0 only when every expectation and invariant held.')
      .option('--junit <file>', 'also write JUnit XML (one suite per scenario, one case per step and invariant) for CI systems')
      .option('--output <format>', 'table (timeline) or json (one result document per scenario); default: table on a TTY, else json')
      .option('--time-scale <k>', "override the scenarios' topology.timeScale")
      .option('--work-dir <dir>', 'keep state and logs (dev*/agent.log, controller) here, one folder per scenario; default: a temp dir')
      .option('--keep', 'keep the temp work dir even when the scenario passed (a failed one is always kept)')
      .addHelpText(
        'after',
        [
          '',
          'A scenario file (see scenarios/*.yaml):',
          '  name: partition-heal',
          '  topology: { nodes: 3, network: netns, timeScale: 10 }',
          '  steps:',
          '    - partition: dev3',
          '    - expect: { leaderSees: dev3, as: NotReady, within: 80s }',
          '    - heal: dev3',
          '    - expect: { allReady: true, within: 120s }',
          '  invariants: [one-reporter-per-app, eventually-ready, no-stale-cluster-address]',
          '',
          'Steps: wait, applyCluster, rotateToken, deployApp, deleteApp, bumpConfig, toSingleNode, kill, restart, controller (stop|start),',
          '  fault, clearFault, partition, heal, chaos { kills, seed, every, down }, failover { kill, app, within }, expect.',
          'Expectations: { node, reports: READY|NOTREADY|DOWN, within }, { leaderSees, as: Ready|NotReady, within },',
          '  { app, runningOn?, notOn?, within } (exactly one node reports it running), { allReady: true, within },',
          '  { node, clusterAddress: present|none, within }. Durations are spec time (50s, 10m); real = spec ÷ time scale.',
          'Invariants: one-reporter-per-app, one-leader, eventually-ready, no-stale-cluster-address, no-info-lost (default: all).',
          '',
          'Examples:',
          '  edgesim scenario run scenarios/failover-preferred.yaml',
          '  edgesim scenario run scenarios/*.yaml --junit build/scenarios.xml --output json',
        ].join('\n'),
      ),
    'warn',
  ).action(async (files: string[], flags: RunFlags) => {
    const logger = loggerFromFlags(flags, false);
    const ctl = new AbortController();
    onInterrupt(() => {
      process.stderr.write('\nstopping the scenario (Ctrl-C again to exit at once)…\n');
      ctl.abort();
    });
    const output = flags.output ?? (process.stdout.isTTY ? 'table' : 'json');
    if (output !== 'table' && output !== 'json') throw new Error(`--output must be table or json, got "${String(output)}"`);
    const scenarios = await Promise.all(files.map((f) => load(f, flags.timeScale)));
    const results: ScenarioResult[] = [];
    for (const s of scenarios) {
      if (ctl.signal.aborted) break;
      const workDir = flags.workDir ? path.join(flags.workDir, s.name) : await mkdtemp(path.join(os.tmpdir(), `edgesim-scenario-${s.name}-`));
      const r = await runScenario(s, {
        workDir,
        selfCommand: [process.execPath, ...process.execArgv, process.argv[1]],
        pathEnv: process.env.PATH ?? '',
        onProgress: (line) => process.stderr.write(`${line}\n`),
        clock: createClock(1),
        logger,
        signal: ctl.signal,
      });
      results.push(r);
      if (output === 'json') process.stdout.write(JSON.stringify(r) + '\n');
      else process.stdout.write(`\n${formatTable(timelineRows(r), ['real', 'spec', 'step', 'result', 'seen'])}\n\n${verdictLine(r)}\n`);
      if (!flags.workDir && r.passed && !flags.keep) await rm(workDir, { recursive: true, force: true }).catch(() => undefined);
    }
    if (flags.junit) await writeFile(flags.junit, junitXml(results));
    process.exitCode = results.length === scenarios.length && results.every((r) => r.passed) ? 0 : 1;
  });
}

/** `edgesim demo`: the whole cluster on one machine, shown live. */
import type { Command } from 'commander';
import { createClock, isAbortError } from '../common/index.js';
import { DEMO_SCENARIOS, failoverRows, runDemo, type DemoScenario, type DemoResult, type DemoView } from '../demo/index.js';
import { loggerFromFlags, withLogFlags } from './logging.js';
import { onInterrupt } from './process.js';
import { formatTable } from './table.js';

interface DemoFlags {
  scenario: string;
  nodes: string;
  timeScale: string;
  tpm: 'auto' | 'swtpm' | 'soft';
  netns: 'auto' | 'on' | 'off';
  workDir?: string;
  exitWhenReady?: boolean;
  profileStart?: boolean;
  timeout?: string;
  output: 'table' | 'json';
  logLevel?: string;
  logFormat?: string;
}

export function registerDemoCommands(program: Command): void {
  withLogFlags(
    program
      .command('demo')
      .description('Start the embedded controller and N simulated EVE nodes (swtpm, agent, k3s stand-in on etcd) and form a cluster.')
      .option('--scenario <name>', `what to do with the cluster: ${DEMO_SCENARIOS.join(' or ')} (see below)`, 'cluster')
      .option('--nodes <n>', 'number of nodes', '3')
      .option('--time-scale <k>', 'divide every agent and k3s timer by K (EVE timeline K times faster)', '10')
      .option('--tpm <mode>', 'auto (swtpm per node when installed), swtpm, or soft', 'auto')
      .option(
        '--netns <mode>',
        'on: each node in its own network namespace, eth1 on a shared bridge, cluster IPs 10.244.244.2… (root only); ' +
          'off: loopback addresses 127.0.100.2…; auto: on when root and `ip netns` works',
        'auto',
      )
      .option('--work-dir <dir>', 'keep state and logs (agent.log per node) here; default: a temp dir removed at exit')
      .option('--exit-when-ready', 'exit 0 once every node reported READY and the leader lists them all (for scripts)')
      .option('--profile-start', "with the cluster scenario: exit when READY (as --exit-when-ready) and print node 1's start timeline (controller, swtpm, agent process, module load, key store, onboarding, attestation, first config, k3s spawn, READY)")
      .option('--timeout <s>', 'with --exit-when-ready: fail a wait after this many seconds (default 120; the failover scenario has the deadlines of scenarios/failover.yaml)')
      .option('--output <format>', 'table (live view) or json (one JSON view per line; failover: one result document)', 'table')
      .addHelpText(
        'after',
        [
          '',
          'Scenarios:',
          '  cluster   form the cluster and show it live until Ctrl-C (default)',
          '  failover  form the cluster, wait until every node is READY, deploy one PREFERRED app designated to node 1,',
          '            wait until node 1 reports it RUNNING (cluster_app_running), kill node 1 (agent and k3s, as a',
          '            power loss), then print the failover timeline: NotReady seen, old pod evicted, new pod scheduled',
          '            and running, new host reporting; real seconds after the kill, the same in spec time (× time',
          "            scale) and EVE's own timeline (cluster.md §10: T+40 s, T+55 s, ~T+65 s). Exits when done.",
          '            It runs the shipped scenarios/failover.yaml (edgesim scenario run takes the same file).',
          '',
          'Examples:',
          '  edgesim demo',
          '  edgesim demo --nodes 5 --time-scale 20',
          '  edgesim demo --exit-when-ready --output json',
          '  edgesim demo --profile-start --time-scale 1',
          '  edgesim demo --scenario failover --time-scale 1',
          '  edgesim demo --scenario failover --output json',
          '  sudo edgesim demo --netns on   # then: edgesim ctl --state-dir <work-dir>/dev3/state fault inject cluster-interface-down',
        ].join('\n'),
      ),
    'warn',
  ).action(async (flags: DemoFlags) => {
    const logger = loggerFromFlags(flags, false);
    const ctl = new AbortController();
    onInterrupt(() => {
      process.stderr.write('\nstopping the demo (Ctrl-C again to exit at once)…\n');
      ctl.abort();
    });
    const scenario = parseScenario(flags.scenario);
    const tty = process.stdout.isTTY === true && flags.output === 'table' && scenario === 'cluster';
    let lastPrinted = '';
    const print = (v: DemoView): void => {
      if (flags.output === 'json') {
        if (!flags.exitWhenReady && scenario === 'cluster') process.stdout.write(JSON.stringify(v) + '\n');
        return;
      }
      const table = formatTable(v.nodes.map((r) => ({ ...r, leader: r.leader ? '*' : '' })), ['node', 'role', 'clusterIp', 'status', 'leaderView', 'leader', 'lastReport']);
      const head = `edgesim demo (${v.network}) — cluster ${v.clusterId} — ${(v.elapsedMs / 1000).toFixed(1)} s${v.allReady ? ' — all nodes READY' : ''}`;
      if (tty) process.stdout.write(`\x1b[2J\x1b[H${head}\n\n${table}\n\n(Ctrl-C stops and cleans up; logs in ${v.workDir})\n`);
      else if (table !== lastPrinted) process.stdout.write(`${head}\n${table}\n\n`);
      lastPrinted = table;
    };
    let view: DemoResult;
    try {
      view = await runDemo({
        scenario,
        nodes: Number(flags.nodes),
        timeScale: Number(flags.timeScale),
        tpm: flags.tpm,
        netns: parseNetns(flags.netns),
        ...(flags.workDir ? { workDir: flags.workDir } : {}),
        ...(flags.exitWhenReady || flags.profileStart ? { exitWhenReady: true } : {}),
        ...(flags.profileStart ? { profileStart: true } : {}),
        ...(flags.timeout !== undefined ? { timeoutMs: Number(flags.timeout) * 1000 } : {}),
        selfCommand: [process.execPath, ...process.execArgv, process.argv[1]],
        pathEnv: process.env.PATH ?? '',
        onView: print,
        onProgress: (m) => process.stderr.write(`${m}\n`),
        onDashboard: (url) => process.stderr.write(`dashboard: ${url}\n`),
        clock: createClock(1),
        logger,
        signal: ctl.signal,
      });
    } catch (e) {
      // Ctrl-C while nodes are still starting: runDemo has cleaned up; the abort is the user's, not a failure.
      if (!(ctl.signal.aborted && isAbortError(e))) throw e;
      process.stderr.write('stopped\n');
      process.exitCode = 130;
      return;
    }
    if (view.failover) {
      const f = view.failover;
      if (flags.output === 'json') {
        process.stdout.write(JSON.stringify({ scenario, clusterId: view.clusterId, network: view.network, nodes: view.nodes, ...f }) + '\n');
      } else {
        process.stdout.write(
          `\nfailover of ${f.app.name} (PREFERRED, designated ${f.app.designatedNode}), time scale ${f.timeline.timeScale}: ${f.lostNode} killed\n\n` +
            `${formatTable(failoverRows(f), ['event', 'real', 'spec', 'eve', 'detail'])}\n\n` +
            (f.timeline.complete ? `new host: ${f.timeline.newNode ?? '?'}\n` : 'timeline incomplete: a step was not seen before the timeout\n'),
        );
      }
      if (!f.timeline.complete) process.exitCode = 1;
    } else if (scenario === 'failover') {
      process.stderr.write('stopped before the failover scenario finished\n');
      process.exitCode = 130;
    } else if (flags.exitWhenReady || flags.profileStart) {
      if (flags.output === 'json') process.stdout.write(JSON.stringify(view) + '\n');
      else process.stdout.write(`all ${view.nodes.length} nodes READY after ${((view.readyAfterMs ?? view.elapsedMs) / 1000).toFixed(1)} s\n`);
      if (view.startProfile && flags.output !== 'json') {
        const ms = (v: number): string => `${(v / 1000).toFixed(2)} s`;
        const rows = view.startProfile.map((s) => ({ step: s.step, at: ms(s.atMs), took: `+${ms(s.deltaMs)}` }));
        process.stdout.write(`\nstart of edge-dev1 (seconds after the demo started):\n${formatTable(rows, ['step', 'at', 'took'])}\n`);
      }
    }
  });
}

function parseScenario(v: string): DemoScenario {
  const s = DEMO_SCENARIOS.find((x) => x === v);
  if (!s) throw new Error(`--scenario must be one of ${DEMO_SCENARIOS.join(', ')}, got "${v}"`);
  return s;
}

function parseNetns(v: string): 'auto' | 'on' | 'off' {
  if (v === 'auto' || v === 'on' || v === 'off') return v;
  throw new Error(`--netns must be auto, on or off, got "${v}"`);
}

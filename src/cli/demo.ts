/** `edgesim demo`: the whole cluster on one machine, shown live. */
import type { Command } from 'commander';
import { createClock } from '../common/index.js';
import { runDemo, type DemoView } from '../demo/index.js';
import { loggerFromFlags, withLogFlags } from './logging.js';
import { formatTable } from './table.js';

interface DemoFlags {
  nodes: string;
  timeScale: string;
  tpm: 'auto' | 'swtpm' | 'soft';
  netns: 'auto' | 'on' | 'off';
  workDir?: string;
  exitWhenReady?: boolean;
  timeout: string;
  output: 'table' | 'json';
  logLevel?: string;
  logFormat?: string;
}

export function registerDemoCommands(program: Command): void {
  withLogFlags(
    program
      .command('demo')
      .description('Start the embedded controller and N simulated EVE nodes (swtpm, agent, k3s stand-in on etcd) and form a cluster.')
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
      .option('--timeout <s>', 'with --exit-when-ready: fail after this many seconds', '120')
      .option('--output <format>', 'table (live view) or json (one JSON view per line)', 'table')
      .addHelpText(
        'after',
        '\nExamples:\n  edgesim demo\n  edgesim demo --nodes 5 --time-scale 20\n  edgesim demo --exit-when-ready --output json\n  sudo edgesim demo --netns on   # then: edgesim ctl --state-dir <work-dir>/dev3/state fault inject cluster-interface-down',
      ),
    'warn',
  ).action(async (flags: DemoFlags) => {
    const logger = loggerFromFlags(flags, false);
    const ctl = new AbortController();
    let stopping = false;
    const onSignal = (): void => {
      if (stopping) process.exit(130);
      stopping = true;
      process.stderr.write('\nstopping the demo (Ctrl-C again to exit at once)…\n');
      ctl.abort();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    const tty = process.stdout.isTTY === true && flags.output === 'table';
    let lastPrinted = '';
    const print = (v: DemoView): void => {
      if (flags.output === 'json') {
        if (!flags.exitWhenReady) process.stdout.write(JSON.stringify(v) + '\n');
        return;
      }
      const table = formatTable(v.nodes.map((r) => ({ ...r, leader: r.leader ? '*' : '' })), ['node', 'role', 'clusterIp', 'status', 'leader', 'lastReport']);
      const head = `edgesim demo (${v.network}) — cluster ${v.clusterId} — ${(v.elapsedMs / 1000).toFixed(1)} s${v.allReady ? ' — all nodes READY' : ''}`;
      if (tty) process.stdout.write(`\x1b[2J\x1b[H${head}\n\n${table}\n\n(Ctrl-C stops and cleans up; logs in ${v.workDir})\n`);
      else if (table !== lastPrinted) process.stdout.write(`${head}\n${table}\n\n`);
      lastPrinted = table;
    };
    const view = await runDemo({
      nodes: Number(flags.nodes),
      timeScale: Number(flags.timeScale),
      tpm: flags.tpm,
      netns: parseNetns(flags.netns),
      ...(flags.workDir ? { workDir: flags.workDir } : {}),
      ...(flags.exitWhenReady ? { exitWhenReady: true } : {}),
      timeoutMs: Number(flags.timeout) * 1000,
      selfCommand: [process.execPath, ...process.execArgv, process.argv[1]],
      pathEnv: process.env.PATH ?? '',
      onView: print,
      clock: createClock(1),
      logger,
      signal: ctl.signal,
    });
    if (flags.exitWhenReady) {
      if (flags.output === 'json') process.stdout.write(JSON.stringify(view) + '\n');
      else process.stdout.write(`all ${view.nodes.length} nodes READY after ${((view.readyAfterMs ?? view.elapsedMs) / 1000).toFixed(1)} s\n`);
    }
  });
}

function parseNetns(v: string): 'auto' | 'on' | 'off' {
  if (v === 'auto' || v === 'on' || v === 'off') return v;
  throw new Error(`--netns must be auto, on or off, got "${v}"`);
}

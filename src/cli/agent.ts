/** `edgesim agent`: run one simulated EVE node. */
import type { Command } from 'commander';
import { Agent, resolveK3sLaunch } from '../agent/index.js';
import { createClock } from '../common/index.js';
import { loggerFromFlags, withLogFlags } from './logging.js';
import { dumpConfig, runAgentWithOps, withAgentOpsFlags, type AgentOpsFlags } from './agent-ops.js';

interface AgentFlags extends AgentOpsFlags {
  configDir: string;
  stateDir: string;
  tpm: string;
  once?: boolean;
  configInterval?: string;
  infoInterval?: string;
  metricInterval?: string;
  timeScale: string;
  k3s: boolean;
  k3sBin?: string;
  ifaceMap: string[];
  singleNodeIp: string;
  statusPort?: string;
  dryRun?: boolean;
  leaveK3sRunning?: boolean;
  allowConfigRollback?: boolean;
  requestTimeout?: string;
  logLevel?: string;
  logFormat?: string;
}

const seconds = (v: string | undefined): number | undefined => (v === undefined ? undefined : Number(v) * 1000);

const collect = (v: string, prev: string[]): string[] => [...prev, v];

function parseIfaceMap(pairs: string[]): Record<string, string> {
  const map: Record<string, string> = {};
  for (const p of pairs) {
    const m = /^([^=]+)=(.+)$/.exec(p);
    if (!m) throw new Error(`--iface-map "${p}": expected label=ifname, e.g. ethernet1=eth1`);
    map[m[1]] = m[2]!;
  }
  return map;
}

export function registerAgentCommands(program: Command): void {
  withAgentOpsFlags(withLogFlags(
    program
      .command('agent')
      .description('Run an EVE edge-node agent: onboard, attest, poll the signed config, report, reconcile the cluster and apps.')
      .addHelpText(
        'after',
        '\nExamples:\n' +
          '  edgesim agent --config-dir ./dev1/config --state-dir ./dev1/state\n' +
          '  edgesim agent --config-dir ./dev1/config --state-dir ./dev1/state --tpm swtpm:host=127.0.0.1,port=2321 --once\n' +
          '  edgesim agent ... --log-level info,agent.queue=debug --time-scale 10',
      )
      .requiredOption('--config-dir <dir>', 'EVE config folder: server, root-certificate.pem, onboard.cert.pem/onboard.key.pem, soft_serial')
      .requiredOption('--state-dir <dir>', 'persistent state: keys (soft), certs, checkpoints, info queue, k3s files')
      .option('--tpm <spec>', 'key store: soft | swtpm:host=H,port=N | device:/dev/tpmrm0 | tabrmd', 'soft')
      .option('--once', 'run one full cycle (onboard, attest, config, device info delivered) and exit; non-zero on failure')
      .option('--config-interval <s>', 'config poll interval in seconds (default: config item timer.config.interval, else 60)')
      .option('--info-interval <s>', 'device info heartbeat in seconds (default: timer.deviceinfo.interval, else 600)')
      .option('--metric-interval <s>', 'metrics interval in seconds (default: timer.metric.interval, else 60)')
      .option('--time-scale <k>', 'divide every timer by K (fast tests and demos); also passed to the k3s stand-in', '1')
      .option('--no-k3s', 'run no k3s at all: onboarding, config and reports only')
      .option('--k3s-bin <path>', 'k3s executable; "standin" forces the edgesim stand-in (default: k3s from PATH, else the stand-in)')
      .option('--iface-map <label=ifname>', 'map a logical port label to a Linux interface, e.g. ethernet1=eth1; repeatable', collect, [])
      .option('--single-node-ip <ip>', 'node IP of single-node k3s before a cluster config (one per node on a shared loopback)', '127.0.0.1')
      .option('--status-port <port>', 'cluster status server port (EVE: 12346)')
      .option('--dry-run', 'render k3s drop-ins and network changes without applying them')
      .option('--leave-k3s-running', 'on stop, leave k3s running instead of stopping it')
      .option('--request-timeout <s>', 'deadline of one controller request in seconds, connect to last byte (EVE timer.send.timeout)', '120')
      .option(
        '--allow-config-rollback',
        'accept a signed config older than the one in force (lower numeric version, or controller epoch going back); ' +
          'by default it is refused and reported — use this for controllers whose versions are not ordered',
      ),
  )).action(async (flags: AgentFlags) => {
    const logger = loggerFromFlags(flags, true);
    if (flags.dumpConfig) return dumpConfig(flags);
    // performance.now() counts from process start: what loading the modules took (demo --profile-start).
    logger.info('agent process started', { sinceProcessStartMs: Math.round(performance.now()), pid: process.pid });
    const agent = await Agent.create({
      configDir: flags.configDir,
      stateDir: flags.stateDir,
      tpm: flags.tpm,
      once: !!flags.once,
      ...(flags.allowConfigRollback ? { allowConfigRollback: true } : {}),
      ...(flags.requestTimeout ? { requestTimeoutMs: seconds(flags.requestTimeout)! } : {}),
      ...(flags.configInterval ? { configIntervalMs: seconds(flags.configInterval)! } : {}),
      ...(flags.infoInterval ? { deviceInfoIntervalMs: seconds(flags.infoInterval)! } : {}),
      ...(flags.metricInterval ? { metricIntervalMs: seconds(flags.metricInterval)! } : {}),
      clock: createClock(Number(flags.timeScale)),
      logger,
      ...(flags.k3s
        ? {
            cluster: {
              launch: await resolveK3sLaunch({
                ...(flags.k3sBin ? { bin: flags.k3sBin } : {}),
                selfCommand: [process.execPath, ...process.execArgv, process.argv[1]],
                pathEnv: process.env.PATH ?? '',
              }),
              ifaceMap: parseIfaceMap(flags.ifaceMap),
              singleNodeIp: flags.singleNodeIp,
              ...(flags.statusPort ? { statusPort: Number(flags.statusPort) } : {}),
              ...(flags.dryRun ? { dryRun: true } : {}),
              ...(flags.leaveK3sRunning ? { leaveK3sRunning: true } : {}),
            },
          }
        : {}),
    });
    await runAgentWithOps(agent, flags, logger, program.version() ?? '0.0.0');
  });
}

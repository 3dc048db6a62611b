/** `edgesim agent`: run one simulated EVE node. */
import type { Command } from 'commander';
import { Agent } from '../agent/index.js';
import { createClock } from '../common/index.js';
import { loggerFromFlags, withLogFlags } from './logging.js';
import { stopOnSignals } from './process.js';

interface AgentFlags {
  configDir: string;
  stateDir: string;
  tpm: string;
  once?: boolean;
  configInterval?: string;
  infoInterval?: string;
  metricInterval?: string;
  timeScale: string;
  logLevel?: string;
  logFormat?: string;
}

const seconds = (v: string | undefined): number | undefined => (v === undefined ? undefined : Number(v) * 1000);

export function registerAgentCommands(program: Command): void {
  withLogFlags(
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
      .option('--time-scale <k>', 'divide every timer by K (fast tests and demos)', '1'),
  ).action(async (flags: AgentFlags) => {
    const logger = loggerFromFlags(flags, true);
    const agent = await Agent.create({
      configDir: flags.configDir,
      stateDir: flags.stateDir,
      tpm: flags.tpm,
      once: !!flags.once,
      ...(flags.configInterval ? { configIntervalMs: seconds(flags.configInterval)! } : {}),
      ...(flags.infoInterval ? { deviceInfoIntervalMs: seconds(flags.infoInterval)! } : {}),
      ...(flags.metricInterval ? { metricIntervalMs: seconds(flags.metricInterval)! } : {}),
      clock: createClock(Number(flags.timeScale)),
      logger,
    });
    stopOnSignals(() => agent.stop());
    try {
      await agent.run();
    } finally {
      await agent.stop();
    }
  });
}

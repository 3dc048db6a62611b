/**
 * The operations flags of `edgesim agent` (admin socket, metrics, --dump-config) and their wiring, kept apart from
 * src/cli/agent.ts so that file only adds the flags and calls these functions.
 */
import type { Command } from 'commander';
import type { Agent } from '../agent/index.js';
// Not the admin barrel: it would load prom-client, which operations.ts loads only with --metrics-listen.
import { dumpCheckpointedConfig } from '../agent/admin/dump-config.js';
import { Operations } from '../agent/admin/operations.js';
import { createClock, type Logger } from '../common/index.js';
import { loggerFromFlags } from './logging.js';
import { stopOnSignals } from './process.js';

/** The flags this file adds (plus the agent flags it reads). */
export interface AgentOpsFlags {
  configDir: string;
  stateDir: string;
  tpm: string;
  timeScale: string;
  adminSocket?: string;
  metricsListen?: string;
  dumpConfig?: boolean;
}

/** Adds `--admin-socket`, `--metrics-listen` and `--dump-config` to the agent command. */
export function withAgentOpsFlags(cmd: Command): Command {
  return cmd
    .option('--admin-socket <path>', 'admin API unix socket, mode 0600, for `edgesim ctl` (default: <state-dir>/admin.sock)')
    .option('--metrics-listen <host:port>', 'serve Prometheus metrics at http://HOST:PORT/metrics, loopback only, e.g. 127.0.0.1:9464 (default: off)')
    .option('--dump-config', 'print the checkpointed config of --state-dir (verified, secrets redacted) as JSON and exit; contacts no controller')
    .addHelpText(
      'after',
      '\nOperating it:\n' +
        '  edgesim agent ... --metrics-listen 127.0.0.1:9464      # then: curl http://127.0.0.1:9464/metrics\n' +
        '  edgesim ctl --state-dir ./dev1/state status           # talks to <state-dir>/admin.sock\n' +
        '  edgesim agent --config-dir ./dev1/config --state-dir ./dev1/state --dump-config\n' +
        'Under systemd (Type=notify, see deploy/edgesim-agent.service) it sends READY=1, STATUS= and WATCHDOG=1.',
    );
}

/**
 * `--dump-config`: prints the verified, redacted checkpoint as JSON; exit code 1 when the state dir holds none.
 * Stop a running agent first (or use `edgesim ctl config`): both would open the same key store.
 */
export async function dumpConfig(flags: AgentOpsFlags & { logLevel?: string; logFormat?: string }): Promise<void> {
  const dumped = await dumpCheckpointedConfig({
    configDir: flags.configDir,
    stateDir: flags.stateDir,
    tpm: flags.tpm,
    clock: createClock(Number(flags.timeScale)),
    logger: loggerFromFlags(flags, false), // stderr: stdout carries the JSON
  });
  if (!dumped) {
    process.stderr.write(`edgesim agent: no verified config checkpoint in ${flags.stateDir}\n`);
    process.exitCode = 1;
    return;
  }
  process.stdout.write(JSON.stringify(dumped, null, 2) + '\n');
}

/**
 * Runs a created agent with its admin socket, metrics and systemd notifier until it ends or a signal stops it;
 * on the way out stops them (STOPPING=1, socket removed) before the agent (queue flushed, k3s per its options).
 * NOTIFY_SOCKET and WATCHDOG_* leave the process environment first, so k3s and other children cannot notify
 * systemd in the agent's name.
 */
export async function runAgentWithOps(agent: Agent, flags: AgentOpsFlags, logger: Logger, version: string): Promise<void> {
  let ops: Operations | undefined;
  stopOnSignals(async () => {
    await ops?.stop();
    await agent.stop();
  });
  try {
    ops = await startAgentOps(agent, flags, logger, version);
    await agent.run();
  } finally {
    await ops?.stop();
    await agent.stop();
  }
}

function startAgentOps(agent: Agent, flags: AgentOpsFlags, logger: Logger, version: string): Promise<Operations> {
  const env = { ...process.env };
  for (const k of ['NOTIFY_SOCKET', 'WATCHDOG_USEC', 'WATCHDOG_PID']) delete process.env[k];
  return Operations.create({
    agent,
    stateDir: flags.stateDir,
    ...(flags.adminSocket ? { adminSocket: flags.adminSocket } : {}),
    ...(flags.metricsListen ? { metricsListen: flags.metricsListen } : {}),
    env,
    pid: process.pid,
    version,
    clock: createClock(Number(flags.timeScale)),
    logger,
  });
}

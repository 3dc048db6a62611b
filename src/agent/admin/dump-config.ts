/**
 * `edgesim agent --dump-config`: the decoded config checkpointed in a state dir, verified and redacted, without
 * contacting the controller.
 *
 * The Agent has no public "read the checkpoint" call yet, so this runs the agent's own start-up through its public
 * API: with `once` and the controller-unreachable fault, `run()` loads and verifies the checkpoint (certs, then
 * config, handing it to `onConfig` listeners) and then fails at the first controller exchange, before any state
 * is written. Nothing is sent: the injected fault fails every request before it leaves the process.
 */
import type { Clock, LogFields, Logger } from '../../common/index.js';
import { Agent, type AgentOptions } from '../index.js';
import { redactConfig } from './redact-config.js';

/** What --dump-config prints. */
export interface DumpedConfig {
  /** configHash of the checkpointed reply. */
  configHash: string;
  /** Epoch ms when it was loaded (now). */
  loadedAtMs: number;
  /** The DeviceConfig, secrets replaced by "[REDACTED]". */
  config: Record<string, unknown>;
}

export interface DumpConfigOptions {
  configDir: string;
  stateDir: string;
  /** Key store spec, as for the agent. @default 'soft' */
  tpm?: string;
  clock: Clock;
  /** Receives the agent's own lines; those caused by the injected fault are demoted to debug. */
  logger: Logger;
}

/** The dump's own fault makes the agent log a failed exchange at warn/error; that is expected here, not news. */
function demoteInjectedFaultLines(log: Logger): Logger {
  const expected = (fields?: LogFields): boolean =>
    Object.values(fields ?? {}).some((v) => typeof v === 'string' && v.includes('injected fault'));
  return {
    error: (msg, fields) => (expected(fields) ? log.debug(msg, fields) : log.error(msg, fields)),
    warn: (msg, fields) => (expected(fields) ? log.debug(msg, fields) : log.warn(msg, fields)),
    info: (msg, fields) => log.info(msg, fields),
    debug: (msg, fields) => log.debug(msg, fields),
    child: (fields) => demoteInjectedFaultLines(log.child(fields)),
  };
}

/** Returns the verified checkpointed config, or undefined when the state dir holds none that verifies. */
export async function dumpCheckpointedConfig(opts: DumpConfigOptions): Promise<DumpedConfig | undefined> {
  const agentOpts: AgentOptions = {
    configDir: opts.configDir,
    stateDir: opts.stateDir,
    ...(opts.tpm ? { tpm: opts.tpm } : {}),
    once: true,
    clock: opts.clock,
    logger: demoteInjectedFaultLines(opts.logger),
  };
  const agent = await Agent.create(agentOpts);
  try {
    agent.faults.inject('controller-unreachable');
    let found: DumpedConfig | undefined;
    agent.onConfig((cfg) => {
      found = { configHash: agent.status().lastConfigHash, loadedAtMs: agent.status().lastConfigAtMs, config: redactConfig(cfg) };
    });
    await agent.run().catch(() => undefined); // expected: the first controller exchange fails (the fault)
    return found;
  } finally {
    await agent.stop();
  }
}

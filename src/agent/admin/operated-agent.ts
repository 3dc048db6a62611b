/**
 * What the operations side (admin API, metrics, systemd notifier) uses of an Agent: its public API only, so a test
 * can stand a small stand-in where no real agent can run. `Agent` satisfies this type as it is.
 */
import type { Agent, DeviceConfig } from '../index.js';

/** The slice of `Agent` the operations side reads. */
export type OperatedAgent = Pick<Agent, 'status' | 'onEvent' | 'onConfig' | 'observe' | 'faults' | 'keyStore'>;

/** The latest accepted config of an agent, kept current through `onConfig`. */
export interface ConfigTracker {
  /** The last accepted config; undefined until the agent accepted one (from the controller or the checkpoint). */
  current(): DeviceConfig | undefined;
}

/** Starts following the agent's accepted configs (the listener stays registered for the agent's lifetime). */
export function trackConfig(agent: OperatedAgent): ConfigTracker {
  let latest: DeviceConfig | undefined;
  agent.onConfig((cfg) => {
    latest = cfg;
  });
  return { current: () => latest };
}

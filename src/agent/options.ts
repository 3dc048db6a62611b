/**
 * Agent options in two layers: `AgentOptions` (what callers and the CLI give, all optional but the folders) and
 * `CompiledAgentOptions` (every default filled, durations in ms, validated once).
 */
import path from 'node:path';
import type { Clock, Logger } from '../common/index.js';
import type { K3sLaunch } from './cluster/k3s-runtime.js';

/** How the agent runs k3s and maps the cluster interface; absent = no k3s (onboarding, config and reports only). */
export interface ClusterOptions {
  launch: K3sLaunch;
  /** Logical port label → Linux interface, e.g. `{ ethernet1: 'eth1' }`. @default identity */
  ifaceMap?: Record<string, string>;
  /** Node IP of the single-node k3s before any cluster config. @default '127.0.0.1' */
  singleNodeIp?: string;
  /** Cluster status server port. @default 12346 */
  statusPort?: number;
  /** Render k3s drop-ins and network changes without applying them. */
  dryRun?: boolean;
  /** On stop, leave k3s running (a restarted agent adopts nothing; k3s keeps serving). @default false */
  leaveK3sRunning?: boolean;
}

export interface AgentOptions {
  /** EVE-style config folder (`server`, `root-certificate.pem`, `onboard.*`, `soft_serial`). */
  configDir: string;
  /** Where keys (soft), certs, checkpoints, the queue and k3s files live. */
  stateDir: string;
  /** Key store: `soft`, `swtpm:host=127.0.0.1,port=N`, `device:/dev/tpmrm0`, `tabrmd`. @default 'soft' */
  tpm?: string;
  /** Override of `timer.config.interval` in ms (else config items, else 60 s). */
  configIntervalMs?: number;
  /** Override of `timer.deviceinfo.interval` in ms (else config items, else 600 s). */
  deviceInfoIntervalMs?: number;
  /** Override of `timer.metric.interval` in ms (else config items, else 60 s). */
  metricIntervalMs?: number;
  /** Per-request timeout in ms. @default 120000 (EVE timer.send.timeout) */
  requestTimeoutMs?: number;
  /**
   * Accept a verified config older than the one in force (a lower numeric version in the same controller epoch, or
   * an epoch that went backwards); by default such a config is refused, reported and logged once. @default false
   */
  allowConfigRollback?: boolean;
  /** Run one full cycle (onboard, attest, config, info sent) and return; failure throws. */
  once?: boolean;
  /** k3s and cluster settings; absent = the agent runs no k3s. */
  cluster?: ClusterOptions;
  clock: Clock;
  logger: Logger;
}

export interface CompiledAgentOptions
  extends Required<Omit<AgentOptions, 'configIntervalMs' | 'deviceInfoIntervalMs' | 'metricIntervalMs' | 'cluster'>> {
  cluster: ClusterOptions | undefined;
  configIntervalMs: number | undefined;
  deviceInfoIntervalMs: number | undefined;
  metricIntervalMs: number | undefined;
}

/** Fills defaults and validates; errors name the option. */
export function compileAgentOptions(o: AgentOptions): CompiledAgentOptions {
  if (!o.configDir) throw new Error('--config-dir is required');
  if (!o.stateDir) throw new Error('--state-dir is required');
  const positive = (name: string, v: number | undefined): number | undefined => {
    if (v !== undefined && !(v > 0)) throw new Error(`${name} must be a positive duration, got ${v} ms`);
    return v;
  };
  return {
    configDir: path.resolve(o.configDir),
    stateDir: path.resolve(o.stateDir),
    tpm: o.tpm ?? 'soft',
    configIntervalMs: positive('--config-interval', o.configIntervalMs),
    deviceInfoIntervalMs: positive('--info-interval', o.deviceInfoIntervalMs),
    metricIntervalMs: positive('--metric-interval', o.metricIntervalMs),
    requestTimeoutMs: positive('--request-timeout', o.requestTimeoutMs) ?? 120_000,
    allowConfigRollback: o.allowConfigRollback ?? false,
    once: o.once ?? false,
    cluster: o.cluster,
    clock: o.clock,
    logger: o.logger,
  };
}

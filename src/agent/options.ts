/**
 * Agent options in two layers: `AgentOptions` (what callers and the CLI give, all optional but the folders) and
 * `CompiledAgentOptions` (every default filled, durations in ms, validated once).
 */
import path from 'node:path';
import type { Clock, Logger } from '../common/index.js';

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
  /** Run one full cycle (onboard, attest, config, info sent) and return; failure throws. */
  once?: boolean;
  clock: Clock;
  logger: Logger;
}

export interface CompiledAgentOptions extends Required<Omit<AgentOptions, 'configIntervalMs' | 'deviceInfoIntervalMs' | 'metricIntervalMs'>> {
  configIntervalMs: number | undefined;
  deviceInfoIntervalMs: number | undefined;
  metricIntervalMs: number | undefined;
}

/** Fills defaults and validates; errors name the option. */
export function compileAgentOptions(o: AgentOptions): CompiledAgentOptions {
  if (!o.configDir) throw new Error('--config-dir is required');
  if (!o.stateDir) throw new Error('--state-dir is required');
  const positive = (name: string, v: number | undefined): number | undefined => {
    if (v !== undefined && !(v > 0)) throw new Error(`${name} must be a positive number of seconds`);
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
    once: o.once ?? false,
    clock: o.clock,
    logger: o.logger,
  };
}

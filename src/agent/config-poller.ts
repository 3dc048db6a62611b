/**
 * The config poller (EVE's handleconfig.go): POST config every `timer.config.interval` (uniform [0.3·T, T]),
 * 304 = unchanged, 403 = re-attest, 404 = no config yet; every reply's signature is verified, the last good config
 * is checkpointed (with a backup) and used at start when the controller is unreachable; a config that fails
 * verification changes nothing and is logged once, and so does an older config than the one in force (the rollback
 * guard, config-order.ts, unless `allowConfigRollback`). Accepted configs go to the listeners (reconcilers).
 */
import type { Clock, Logger } from '../common/index.js';
import { errorMessage, jitter } from '../common/index.js';
import { isAuthError, type config } from '../eve/index.js';
import { isTpmError } from '../tpm/index.js';
import { ControllerReplyError, type ControllerApi } from './controller-api.js';
import { ControllerUnreachableError } from './controller-client.js';
import { checkConfigOrder } from './config-order.js';
import type { ControllerSession } from './controller-session.js';
import type { DeviceStore } from './device-store.js';
import type { FaultSet } from './faults.js';
import type { InfoQueue } from './info-queue.js';
import type { AgentObservers, ConfigFetchResult } from './observers.js';
import { configTimers, parseDeviceConfig, type DeviceConfig } from './parse-config.js';

/** Called with every newly accepted config (from the controller or the checkpoint). */
export type ConfigListener = (cfg: DeviceConfig) => void | Promise<void>;

export interface ConfigPollerContext {
  api: ControllerApi;
  clock: Clock;
  logger: Logger;
  signal: AbortSignal;
  emit(kind: string, message: string, fields?: Record<string, unknown>): void;
  session: ControllerSession;
  store: DeviceStore;
  faults: FaultSet;
  observers: AgentObservers;
  queue: InfoQueue;
  timers: { configIntervalMs?: number | undefined; deviceInfoIntervalMs?: number | undefined; metricIntervalMs?: number | undefined };
  /** Accept a config older than the one in force (controllers whose versions are not ordered). @default false */
  allowConfigRollback?: boolean | undefined;
}

/** A verified config that is older than the one in force (refused by the rollback guard). */
class ConfigRollbackError extends Error {
  override readonly name = 'ConfigRollbackError';
}

export class ConfigPoller {
  configHash = '';
  current: DeviceConfig | undefined;
  lastConfigAtMs = 0;
  source: 'none' | 'controller' | 'checkpoint' = 'none';
  lastError: string | undefined;
  /** The last poll's result (the fleet's live view counts devices by it). */
  lastResult: ConfigFetchResult | undefined;
  private readonly listeners: ConfigListener[] = [];
  private readonly epochListeners: Array<() => void> = [];
  private readonly log: Logger;

  constructor(private readonly c: ConfigPollerContext) {
    this.log = c.logger.child({ component: 'agent' });
  }

  /** Registers a listener; it receives the current config at once if there is one. */
  addListener(listener: ConfigListener): void {
    this.listeners.push(listener);
    if (this.current) void this.notify(listener, this.current);
  }

  /** Called when the controller epoch changes (ZInfoDevice is re-sent). */
  onEpochChange(listener: () => void): void {
    this.epochListeners.push(listener);
  }

  /** Hands the current config to every listener again (the controller certs changed). */
  async renotify(): Promise<void> {
    if (this.current) for (const l of this.listeners) await this.notify(l, this.current);
  }

  /** EVE's timers from the config items, unless overridden. */
  timers(): { configMs: number; deviceInfoMs: number; metricMs: number } {
    const t = configTimers(this.current?.configItems ?? new Map<string, string>());
    const o = this.c.timers;
    return {
      configMs: o.configIntervalMs ?? t.configMs,
      deviceInfoMs: o.deviceInfoIntervalMs ?? t.deviceInfoMs,
      metricMs: o.metricIntervalMs ?? t.metricMs,
    };
  }

  /** Loads the last good config (verified with the checkpointed controller certs) before the controller is reached. */
  async loadCheckpoint(): Promise<void> {
    if (!this.c.api.certs) return;
    for (const raw of await this.c.store.configCheckpoint.candidates()) {
      try {
        const response = await this.c.api.openConfigReply(raw);
        await this.accept(response, raw, 'checkpoint');
        return;
      } catch (e) {
        this.log.warn('config checkpoint does not verify', { error: errorMessage(e) });
      }
    }
  }

  async loop(): Promise<void> {
    const { signal } = this.c;
    while (!signal.aborted) {
      // handleconfig.go configTimerTask: uniform [0.3·T, T], no backoff on failure.
      await this.c.clock.sleep(jitter(this.timers().configMs, 0.3, 1), signal);
      await this.c.observers.pass('config', async () => {
        await this.c.faults.untilCleared('config-loop-stall', signal); // the injected hang (watchdog)
        await this.poll();
      });
    }
  }

  /** One timed config request; never throws except on abort (failures are logged and kept in the status). */
  poll(): Promise<void> {
    return this.c.observers.timeConfigFetch(async () => (this.lastResult = await this.fetchOnce()));
  }

  private async fetchOnce(): Promise<ConfigFetchResult> {
    const { api, session, signal } = this.c;
    try {
      const res = await api.fetchConfig({ configHash: this.configHash, integrityToken: session.integrityToken }, signal);
      if (!session.reachable) this.c.queue.kick(); // connectivity is back: retry queued info now
      session.markReachable();
      if (this.lastError && res.kind === 'unchanged') this.lastError = undefined;
      if (res.kind === 'none') {
        // Nothing was rejected: a new device polls before anyone gave it a config (the previous one, if any, stays).
        this.noteError('no config for this device on the controller yet (404)', 'info');
        return 'http-error';
      }
      if (res.kind === 'unchanged') {
        this.log.debug('config unchanged');
        return 'unchanged';
      }
      await this.accept(res.response, res.raw, 'controller');
      return 'accepted';
    } catch (e) {
      if (signal.aborted) throw e;
      if (e instanceof ControllerUnreachableError) {
        session.markUnreachable(e); // logged once per outage
        this.log.debug('config fetch failed: controller unreachable', { error: e.reason });
        return 'unreachable';
      }
      session.markReachable();
      if (e instanceof ControllerReplyError && e.status === 403) {
        this.log.warn('config refused (403): attestation restarts');
        session.invalidateToken();
        return 'refused';
      }
      if (isTpmError(e)) {
        this.noteError(`config request not sent: the TPM cannot sign it (${e.message})`, 'error');
        return 'tpm-error';
      }
      if (isAuthError(e) && e.kind === 'CERT_MISS') {
        // SenderStatusCertMiss: the controller may have rotated its signing cert; re-fetch /certs (§5.4 step 5).
        await session.refreshCerts().catch((err: unknown) => this.log.warn('cert re-fetch failed', { error: errorMessage(err) }));
      }
      const message = `config rejected, keeping the previous config: ${errorMessage(e)}`;
      if (this.noteError(message, 'error')) this.c.emit('config.rejected', message);
      return e instanceof ControllerReplyError ? 'http-error' : 'rejected';
    }
  }

  /**
   * Keeps the last config failure for the status. One line per distinct failure at `level`; the same failure on
   * every later poll is logged at debug. Returns whether it is new.
   */
  private noteError(message: string, level: 'error' | 'info'): boolean {
    const fresh = message !== this.lastError;
    this.log[fresh ? level : 'debug'](message);
    this.lastError = message;
    return fresh;
  }

  /** Accepts a verified config: checkpoint (when fresh), parse, hand to the listeners. */
  private async accept(response: config.ConfigResponse, raw: Buffer, source: 'controller' | 'checkpoint'): Promise<void> {
    const cfg = parseDeviceConfig(response.config ?? {});
    const previous = this.current;
    if (source === 'controller' && !this.c.allowConfigRollback) {
      const order = checkConfigOrder(previous, cfg);
      if (!order.accept) throw new ConfigRollbackError(`refused as a rollback: ${order.reason}`);
    }
    if (source === 'controller') await this.c.store.configCheckpoint.save(raw);
    this.configHash = response.configHash;
    this.current = cfg;
    this.lastConfigAtMs = this.c.clock.now();
    this.source = source;
    this.lastError = undefined;
    this.log.info('config accepted', { source, version: cfg.version, configHash: response.configHash });
    this.c.emit('config.accepted', `config version ${cfg.version} from the ${source}`, { source, version: cfg.version });
    if (previous && source === 'controller') {
      if (previous.controllerEpoch !== cfg.controllerEpoch) for (const l of this.epochListeners) l();
      if (previous.controllerCertConfigHash !== cfg.controllerCertConfigHash) {
        await this.c.session.refreshCerts().catch((e: unknown) => this.log.warn('cert refresh failed', { error: errorMessage(e) }));
      }
    }
    for (const l of this.listeners) await this.notify(l, cfg);
  }

  private async notify(listener: ConfigListener, cfg: DeviceConfig): Promise<void> {
    try {
      await listener(cfg);
    } catch (e) {
      this.log.error('config listener failed', { error: errorMessage(e) });
    }
  }
}

/**
 * One EVE device's protocol core (the role of EVE's client + zedagent, without reconcilers): the controller
 * session (certs, onboarding, attestation), the config poller (304/403/404, verify, checkpoint), the reporters
 * (device info, metrics) and the persisted info queue. `edgesim agent` runs one inside `Agent`; `edgesim fleet`
 * runs thousands in one process, each over the same code with its own store, keys and faults.
 *
 * `run()` reads top to bottom: checkpoint → controller certs → onboarding (register + uuid) → attestation → the
 * running loops (config poll, device info, metrics, cert refresh, re-attestation) while the queue drains.
 */
import type { Clock, Logger } from '../common/index.js';
import { errorMessage, isAbortError } from '../common/index.js';
import { info, infoIdentity } from '../eve/index.js';
import type { DeviceIdentity, KeyStore } from '../tpm/index.js';
import { ConfigPoller, type ConfigListener } from './config-poller.js';
import { ControllerApi } from './controller-api.js';
import type { ControllerClient } from './controller-client.js';
import { ControllerSession } from './controller-session.js';
import type { DeviceConfigFolder } from './device-config.js';
import type { DeviceStore } from './device-store.js';
import type { FaultSet } from './faults.js';
import { InfoQueue, PRIORITY, type QueueItem, type SendOutcome } from './info-queue.js';
import type { AgentObservers } from './observers.js';
import type { DeviceConfig } from './parse-config.js';
import { Reporters, type DeviceExtras } from './reporters.js';

/** Lifecycle of a device. */
export type AgentPhase = 'initialized' | 'onboarding' | 'attesting' | 'running' | 'stopping' | 'stopped' | 'failed';

/** Something the device did or saw, for the admin API's watch stream and the demo. */
export interface AgentEvent {
  timeMs: number;
  /** e.g. `phase`, `config.accepted`, `config.rejected`, `attested`, `info.queued`, `fault`. */
  kind: string;
  message: string;
  fields?: Record<string, unknown>;
}

/** Interval overrides (ms); absent = the config items, else EVE's defaults. */
export interface TimerOverrides {
  configIntervalMs?: number | undefined;
  deviceInfoIntervalMs?: number | undefined;
  metricIntervalMs?: number | undefined;
}

export interface DeviceCoreOptions {
  folder: DeviceConfigFolder;
  /** The device's keys (already wrapped by the fault and timing decorators). */
  keys: KeyStore;
  identity: DeviceIdentity;
  /** The transport (a fleet shares one keep-alive pool among all its devices). */
  client: ControllerClient;
  store: DeviceStore;
  faults: FaultSet;
  observers: AgentObservers;
  /** The device's clock (with the clock-skew fault applied). */
  clock: Clock;
  logger: Logger;
  timers: TimerOverrides;
  /** One full cycle, then return; every failure throws instead of being retried. */
  once: boolean;
  /** Turn the config rollback guard off (config-order.ts). @default false */
  allowConfigRollback?: boolean;
  /**
   * What ZInfoDevice says beyond the core: the cluster port and EVE-k capabilities of an agent running k3s, the
   * hardware model a fleet's profile gives a device.
   */
  deviceExtras?: () => DeviceExtras;
}

/** The per-device protocol object both `edgesim agent` and `edgesim fleet` create. */
export class DeviceCore {
  readonly api: ControllerApi;
  readonly session: ControllerSession;
  readonly config: ConfigPoller;
  readonly reporters: Reporters;
  private phaseValue: AgentPhase = 'initialized';
  private readonly stopCtl = new AbortController();
  private readonly eventListeners = new Set<(e: AgentEvent) => void>();
  private readonly log: Logger;
  private runPromise: Promise<void> | undefined;

  private constructor(
    private readonly opts: DeviceCoreOptions,
    readonly queue: InfoQueue,
    api: ControllerApi,
  ) {
    this.log = opts.logger.child({ component: 'agent' });
    this.api = api;
    const ctx = {
      api,
      clock: opts.clock,
      logger: opts.logger,
      signal: this.stopCtl.signal,
      once: opts.once,
      emit: (kind: string, message: string, fields?: Record<string, unknown>) => this.emit(kind, message, fields),
    };
    this.session = new ControllerSession({ ...ctx, folder: opts.folder, keys: opts.keys, identity: opts.identity, store: opts.store });
    this.config = new ConfigPoller({ ...ctx, session: this.session, store: opts.store, faults: opts.faults, observers: opts.observers, queue, timers: opts.timers, allowConfigRollback: opts.allowConfigRollback });
    this.reporters = new Reporters({
      ...ctx,
      session: this.session,
      config: this.config,
      keys: opts.keys,
      observers: opts.observers,
      publishInfo: (key, msg) => this.publishInfo(key, msg),
      ...(opts.deviceExtras ? { extras: opts.deviceExtras } : {}),
    });
    this.session.onCertsChanged(() => this.config.renotify());
    this.config.onEpochChange(
      () => void this.reporters.reportDeviceInfo(true).catch((e: unknown) => this.log.warn('ZInfoDevice not queued', { error: errorMessage(e) })),
    );
  }

  /** Opens the device's queue over its store; nothing is sent before `run()`. */
  static async create(opts: DeviceCoreOptions): Promise<DeviceCore> {
    const api = new ControllerApi({
      client: opts.client,
      rootCertPem: opts.folder.rootCertPem,
      device: { signer: opts.keys.deviceSigner, deviceCertPem: opts.identity.deviceCertPem },
      onboardingHeaders: { serial: opts.folder.serial, softSerial: opts.folder.softSerial },
      now: () => opts.clock.now(),
      tamperConfig: () => opts.faults.has('config-tamper'),
      faults: () => ({
        unreachable: opts.faults.has('controller-unreachable'),
        ...(opts.faults.has('controller-5xx') ? { status5xx: opts.faults.get('controller-5xx')?.value ?? 503 } : {}),
        ...(opts.faults.has('controller-delay') ? { delayMs: opts.faults.get('controller-delay')?.value ?? 5_000 } : {}),
      }),
    });
    // The queue is created first and sends through the core, which owns the classification of answers.
    const ref: { core?: DeviceCore } = {};
    const queue = await InfoQueue.create({
      store: opts.store.queue,
      clock: opts.clock,
      logger: opts.logger.child({ component: 'agent.queue' }),
      send: (item, signal) => ref.core!.sendQueued(item, signal),
    });
    const core = new DeviceCore(opts, queue, api);
    ref.core = core;
    return core;
  }

  get phase(): AgentPhase {
    return this.phaseValue;
  }

  /** Aborted when the device stops (reconcilers end their loops on it). */
  get signal(): AbortSignal {
    return this.stopCtl.signal;
  }

  private setPhase(to: AgentPhase): void {
    if (to === this.phaseValue) return;
    this.log.info('phase', { from: this.phaseValue, to });
    this.emit('phase', `${this.phaseValue} → ${to}`, { from: this.phaseValue, to });
    this.phaseValue = to;
  }

  /** Hears every AgentEvent; returns an unsubscribe function. */
  onEvent(listener: (e: AgentEvent) => void): () => void {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  /** Publishes an event to the listeners. */
  emit(kind: string, message: string, fields?: Record<string, unknown>): void {
    if (this.eventListeners.size === 0) return;
    const e: AgentEvent = { timeMs: this.opts.clock.now(), kind, message, ...(fields ? { fields } : {}) };
    for (const l of this.eventListeners) l(e);
  }

  /** Registers a config listener; it receives the current config at once if there is one. */
  onConfig(listener: ConfigListener): void {
    this.config.addListener(listener);
  }

  /** The current config, if any. */
  get current(): DeviceConfig | undefined {
    return this.config.current;
  }

  /** Queues an info message for its object key (reconcilers report through here). */
  async publishInfo(key: string, msg: info.IZInfoMsg): Promise<void> {
    const priority = msg.ztype === info.ZInfoTypes.ZiApp ? PRIORITY.app : PRIORITY.other;
    const payload = ControllerApi.encodeInfo(msg);
    await this.queue.enqueue({ key, action: 'info', priority, payload });
    // The identity (content fingerprint, atTimeStamp) lets a watcher find this very message among what the controller
    // stored (the scenario invariant no-info-lost); computed only when someone listens.
    if (this.eventListeners.size === 0) return;
    this.emit('info.queued', `${info.ZInfoTypes[msg.ztype ?? 0] ?? 'ZiNop'} for ${key}`, { key, ...infoIdentity(payload) });
  }

  /** Runs until stop(); with `once`, one full cycle then returns (throws on failure). */
  run(): Promise<void> {
    this.runPromise ??= this.runInner();
    return this.runPromise;
  }

  /** Stops every loop and waits for them (the queue is flushed by `close`). */
  async halt(): Promise<void> {
    this.stopCtl.abort();
    await this.runPromise?.catch(() => undefined);
  }

  /**
   * Stops the loops, runs `beforeFlush` (the agent stops its reconcilers there), flushes the queue to the store,
   * runs `afterFlush` (the agent closes its key store). Idempotent.
   */
  async stop(hooks: { beforeFlush?: () => Promise<void> | undefined; afterFlush?: () => Promise<void> } = {}): Promise<void> {
    if (this.phaseValue === 'stopped') return;
    this.setPhase('stopping');
    await this.halt();
    await hooks.beforeFlush?.();
    await this.queue.stop();
    await hooks.afterFlush?.();
    this.setPhase('stopped');
  }

  private async runInner(): Promise<void> {
    const signal = this.stopCtl.signal;
    try {
      this.setPhase('onboarding');
      await this.session.loadCheckpoint();
      await this.config.loadCheckpoint();
      await this.session.establishCerts();
      await this.session.onboard();
      this.queue.start();
      this.setPhase('attesting');
      await this.session.attestWithRetry(this.opts.once ? 1 : Infinity);
      this.setPhase('running');
      await this.config.poll();
      await this.reporters.reportDeviceInfo(true);
      if (this.opts.once) {
        await this.queue.pass();
        if (this.queue.depth > 0) throw new Error(`${this.queue.depth} info message(s) could not be delivered`);
        return;
      }
      await Promise.all([this.config.loop(), this.reporters.deviceInfoLoop(), this.reporters.metricsLoop(), this.session.certLoop(), this.session.attestLoop()]);
    } catch (e) {
      if (isAbortError(e) || signal.aborted) return;
      this.setPhase('failed');
      this.log.error('agent failed', { error: errorMessage(e) });
      throw e;
    }
  }

  /** Sends one queued item and classifies the answer (eve-api.md §3, §11). */
  private async sendQueued(item: QueueItem, signal: AbortSignal): Promise<SendOutcome> {
    if (!this.api.deviceUuid) return 'unreachable';
    if (this.opts.faults.has('queue-drop')) {
      this.log.warn('queued item dropped unsent (fault queue-drop)', { key: item.key });
      return 'drop';
    }
    const res = await this.session.exchange(() => this.api.send(item.action, item.payload, signal));
    if (res === 'unreachable') return 'unreachable';
    const s = res.status;
    if (s === 200 || s === 201 || s === 204) return 'sent';
    if ([401, 403, 407, 408, 429].includes(s) || s >= 500) return 'retry';
    return 'drop';
  }
}

/**
 * The edgesim agent: one EVE node's control loop (the role of EVE's client + zedagent).
 *
 * Run reads top to bottom: open keys → controller certs → onboarding (register + uuid) → attestation →
 * the running loop, whose timers are the config poll, device info, metrics and cert refresh, while the info queue
 * drains in the background. Every verified config is checkpointed and handed to the reconcilers through
 * `onConfig` listeners; a config that fails verification changes nothing.
 */
import { mkdir, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import type { Clock, Logger } from '../common/index.js';
import { writeFileAtomic } from '../common/atomic-file.js';
import { errorMessage, isAbortError, jitter } from '../common/index.js';
import { decryptCipherBlock, deviceZCertHash, info, isAuthError, loadPrivateKeyPem, softSigner, type common, type config } from '../eve/index.js';
import { ClusterReconciler } from './cluster/cluster-reconciler.js';
import type { ClusterStatus } from './cluster/cluster-status.js';
import { AppReconciler, type AppStatus } from './apps/index.js';
import { isTpmError, openKeyStore, type DeviceIdentity, type KeyStore } from '../tpm/index.js';
import { attestCertRequest, attestOnce } from './attestation.js';
import { Checkpoint } from './checkpoint.js';
import { ControllerApi, ControllerReplyError } from './controller-api.js';
import { ControllerClient, ControllerUnreachableError } from './controller-client.js';
import { faultyKeyStore, FaultSet, skewedClock } from './faults.js';
import { readDeviceConfigFolder, type DeviceConfigFolder } from './device-config.js';
import { InfoQueue, PRIORITY, type QueueItem, type SendOutcome } from './info-queue.js';
import { AgentObservers, timedKeyStore, type AgentObserver, type ConfigFetchResult } from './observers.js';
import { compileAgentOptions, type AgentOptions, type CompiledAgentOptions } from './options.js';
import { configTimers, parseDeviceConfig, type DeviceConfig, type EncryptedValue } from './parse-config.js';
import { deviceInfoMessage, metricsMessage } from './reports.js';

/** Lifecycle of the agent. */
export type AgentPhase = 'initialized' | 'onboarding' | 'attesting' | 'running' | 'stopping' | 'stopped' | 'failed';

/** Snapshot of what the agent knows (admin API, `--once`, tests). */
export interface AgentStatus {
  phase: AgentPhase;
  deviceUuid: string | undefined;
  keyStore: string;
  controllerReachable: boolean;
  attested: boolean;
  lastConfigHash: string;
  lastConfigAtMs: number;
  configSource: 'none' | 'controller' | 'checkpoint';
  lastConfigError: string | undefined;
  queueDepth: number;
  queueOldestAgeMs: number;
  /** Undefined when the agent runs no k3s. */
  cluster: ClusterStatus | undefined;
  /** Observed app status on this node (undefined without k3s). */
  apps?: AppStatus[] | undefined;
}

/** Something the agent did or saw, for the admin API's watch stream and the demo. */
export interface AgentEvent {
  timeMs: number;
  /** e.g. `phase`, `config.accepted`, `config.rejected`, `attested`, `info.queued`, `fault`. */
  kind: string;
  message: string;
  fields?: Record<string, unknown>;
}

/** Called with every newly accepted config (from the controller or the checkpoint). */
export type ConfigListener = (cfg: DeviceConfig) => void | Promise<void>;

const ONBOARD_RETRY_MIN_MS = 1_000; // client.go: 1 s → 600 s, no jitter
const ONBOARD_RETRY_MAX_MS = 600_000;
const ATTEST_RETRY_MS = 15_000; // attesttask.go retryTimeInterval
const CERT_INTERVAL_MS = 86_400_000; // timer.cert.interval
const CERT_RETRY_MS = 120_000; // 120 s after a failure

export class Agent {
  private phaseValue: AgentPhase = 'initialized';
  private readonly stopCtl = new AbortController();
  private readonly listeners: ConfigListener[] = [];
  private readonly eventListeners = new Set<(e: AgentEvent) => void>();
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly bootTimeMs: number;
  private integrityToken: Buffer | undefined;
  private attestNeeded = true;
  private configHash = '';
  private current: DeviceConfig | undefined;
  private lastConfigAtMs = 0;
  private configSource: AgentStatus['configSource'] = 'none';
  private lastConfigError: string | undefined;
  private reachable = false;
  private lastDeviceInfoDigest = '';
  private runPromise: Promise<void> | undefined;
  private cluster: ClusterReconciler | undefined;
  private apps: AppReconciler | undefined;
  private constructor(
    private readonly opts: CompiledAgentOptions,
    /** Faults injected through the admin API; components consult it where the real failure would happen. */
    readonly faults: FaultSet,
    private readonly folder: DeviceConfigFolder,
    private readonly keys: KeyStore,
    private readonly identity: DeviceIdentity,
    private readonly api: ControllerApi,
    private readonly queue: InfoQueue,
    private readonly certCheckpoint: Checkpoint,
    private readonly configCheckpoint: Checkpoint,
    private readonly observers: AgentObservers,
  ) {
    this.log = opts.logger.child({ component: 'agent' });
    this.clock = opts.clock;
    this.bootTimeMs = opts.clock.now();
  }

  /** Validates options, reads the config folder, opens and provisions the key store, opens the queue. */
  static async create(options: AgentOptions): Promise<Agent> {
    const compiled = compileAgentOptions(options);
    // Faults time their durations on the real clock; everything else sees the clock-skew fault.
    const faults = new FaultSet(compiled.clock);
    const opts: CompiledAgentOptions = { ...compiled, clock: skewedClock(compiled.clock, faults) };
    const folder = await readDeviceConfigFolder(opts.configDir);
    await mkdir(opts.stateDir, { recursive: true, mode: 0o700 });
    const tpm = await openKeyStore({ spec: opts.tpm, stateDir: opts.stateDir, logger: opts.logger, clock: opts.clock });
    const observers = new AgentObservers();
    const keys = timedKeyStore(faultyKeyStore(tpm, faults), observers);
    try {
      const identity = await keys.provision();
      const client = new ControllerClient({
        server: folder.server,
        rootCertPem: folder.rootCertPem,
        timeoutMs: opts.requestTimeoutMs,
        faults: () => ({
          unreachable: faults.has('controller-unreachable'),
          ...(faults.has('controller-5xx') ? { status5xx: faults.get('controller-5xx')?.value ?? 503 } : {}),
          ...(faults.has('controller-delay') ? { delayMs: faults.get('controller-delay')?.value ?? 5_000 } : {}),
        }),
        sleep: (ms, signal) => opts.clock.sleep(ms, signal),
      });
      const api = new ControllerApi({
        client,
        rootCertPem: folder.rootCertPem,
        device: { signer: keys.deviceSigner, deviceCertPem: identity.deviceCertPem },
        onboardingHeaders: { serial: folder.serial, softSerial: folder.softSerial },
        now: () => opts.clock.now(),
        tamperConfig: () => faults.has('config-tamper'),
      });
      const checkpointDir = path.join(opts.stateDir, 'checkpoint');
      // The queue is created first and sends through the agent, which owns the classification of answers.
      const ref: { agent?: Agent } = {};
      const queue = await InfoQueue.create({
        dir: path.join(opts.stateDir, 'queue'),
        clock: opts.clock,
        logger: opts.logger.child({ component: 'agent.queue' }),
        send: (item, signal) => ref.agent!.sendQueued(item, signal),
      });
      const agent = new Agent(
        opts,
        faults,
        folder,
        keys,
        identity,
        api,
        queue,
        new Checkpoint(checkpointDir, 'controllercerts'),
        new Checkpoint(checkpointDir, 'lastconfig'),
        observers,
      );
      ref.agent = agent;
      if (opts.cluster) agent.startCluster(opts.cluster);
      agent.log.info('key store opened', { keyStore: keys.description });
      return agent;
    } catch (e) {
      await keys.close();
      throw e;
    }
  }

  get phase(): AgentPhase {
    return this.phaseValue;
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

  /** Publishes an event to the watch stream (reconcilers report their steps through here too). */
  emit(kind: string, message: string, fields?: Record<string, unknown>): void {
    const e: AgentEvent = { timeMs: this.clock.now(), kind, message, ...(fields ? { fields } : {}) };
    for (const l of this.eventListeners) l(e);
    // A cluster transition may change the ports and addresses ZInfoDevice carries: re-report on change.
    if (kind === 'cluster.phase') void this.reportDeviceInfo().catch(() => undefined);
  }

  /** Registers an observer of config requests, key store operations and loop passes (metrics, watchdog). */
  observe(observer: AgentObserver): () => void {
    return this.observers.add(observer);
  }

  /** Registers a reconciler; it receives the current config at once if there is one. */
  onConfig(listener: ConfigListener): void {
    this.listeners.push(listener);
    if (this.current) void this.notify(listener, this.current);
  }

  private startCluster(c: NonNullable<CompiledAgentOptions['cluster']>): void {
    const reconciler = new ClusterReconciler({
      stateDir: this.opts.stateDir,
      launch: c.launch,
      ifaceMap: c.ifaceMap ?? {},
      singleNodeIp: c.singleNodeIp ?? '127.0.0.1',
      ...(c.statusPort !== undefined ? { statusPort: c.statusPort } : {}),
      ...(c.dryRun ? { dryRun: true } : {}),
      deviceUuid: () => this.api.deviceUuid,
      decrypt: (v) => this.decrypt(v),
      publishInfo: (key, msg) => this.publishInfo(key, msg),
      emit: (kind, message, fields) => this.emit(kind, message, fields),
      faults: this.faults,
      clock: this.clock,
      logger: this.opts.logger,
    });
    this.cluster = reconciler;
    // Apps, volumes, content trees on the cluster (issue 6, src/agent/apps); its loops end with the agent's stop signal.
    const apps = AppReconciler.create({ cluster: reconciler, deviceUuid: () => this.api.deviceUuid, publishInfo: (k, m) => this.publishInfo(k, m), emit: (k, m, f) => this.emit(k, m, f), clock: this.clock, logger: this.opts.logger, signal: this.signal });
    this.apps = apps;
    this.listeners.push((cfg) => apps.onConfig(cfg));
    // Not awaited: a join can wait for its bootstrap for minutes; the config loop must go on.
    this.listeners.push((cfg) => void reconciler.onConfig(cfg));
  }

  /** Decrypts a CipherBlock of the current config with the device ECDH key (TPM ZGen or software). */
  async decrypt(value: EncryptedValue): Promise<common.EncryptionBlock> {
    const env = this.cipherEnvironment();
    return decryptCipherBlock(value.block, value.contexts, {
      ecdhKey: this.keys.ecdh,
      controllerCertsByHashHex: env.controllerCerts,
      deviceCertsByHashHex: env.deviceCerts,
      signal: this.signal,
    });
  }

  /** The cluster reconciler, when the agent runs k3s. */
  get clusterReconciler(): ClusterReconciler | undefined {
    return this.cluster;
  }

  /** The current status snapshot. */
  status(): AgentStatus {
    return {
      phase: this.phaseValue,
      deviceUuid: this.api.deviceUuid,
      keyStore: this.keys.description,
      controllerReachable: this.reachable,
      attested: !!this.integrityToken,
      lastConfigHash: this.configHash,
      lastConfigAtMs: this.lastConfigAtMs,
      configSource: this.configSource,
      lastConfigError: this.lastConfigError,
      queueDepth: this.queue.depth,
      queueOldestAgeMs: this.queue.oldestAgeMs(),
      cluster: this.cluster?.status(),
      apps: this.apps?.status().apps,
    };
  }

  /** The key store (reconcilers decrypt with its ECDH key). */
  get keyStore(): KeyStore {
    return this.keys;
  }

  /** Controller certs by hex hash (for CipherBlock decryption), and the device's own published certs. */
  cipherEnvironment(): { controllerCerts: Map<string, Buffer>; deviceCerts: Map<string, Buffer> } {
    const own = deviceZCertHash(this.identity.ecdhCertPem).toString('hex');
    return {
      controllerCerts: this.api.certs?.certsByHashHex ?? new Map<string, Buffer>(),
      deviceCerts: new Map([[own, this.identity.ecdhCertPem]]),
    };
  }

  /** Queues an info message for its object key (reconcilers report through here). */
  async publishInfo(key: string, msg: info.IZInfoMsg): Promise<void> {
    const priority = msg.ztype === info.ZInfoTypes.ZiApp ? PRIORITY.app : PRIORITY.other;
    await this.queue.enqueue({ key, action: 'info', priority, payload: ControllerApi.encodeInfo(msg) });
    this.emit('info.queued', `${info.ZInfoTypes[msg.ztype ?? 0] ?? 'ZiNop'} for ${key}`, { key });
  }

  /** Runs until stop(); with `once`, one full cycle then returns (throws on failure). */
  run(): Promise<void> {
    this.runPromise ??= this.runInner();
    return this.runPromise;
  }

  /** Stops every loop, flushes the queue to disk, closes the key store. Idempotent. */
  async stop(): Promise<void> {
    if (this.phaseValue === 'stopped') return;
    this.setPhase('stopping');
    this.stopCtl.abort();
    await this.runPromise?.catch(() => undefined);
    await this.cluster?.stop({ leaveK3sRunning: this.opts.cluster?.leaveK3sRunning ?? false });
    await this.queue.stop();
    await this.keys.close();
    this.setPhase('stopped');
  }

  private get signal(): AbortSignal {
    return this.stopCtl.signal;
  }

  private async runInner(): Promise<void> {
    try {
      this.setPhase('onboarding');
      await this.loadCheckpointedConfig();
      await this.establishCerts();
      await this.onboard();
      this.queue.start();
      this.setPhase('attesting');
      await this.attestWithRetry(this.opts.once ? 1 : Infinity);
      this.setPhase('running');
      await this.pollConfig();
      await this.reportDeviceInfo(true);
      if (this.opts.once) {
        await this.queue.pass();
        if (this.queue.depth > 0) throw new Error(`${this.queue.depth} info message(s) could not be delivered`);
        return;
      }
      await Promise.all([this.configLoop(), this.deviceInfoLoop(), this.metricsLoop(), this.certLoop(), this.attestLoop()]);
    } catch (e) {
      if (isAbortError(e) || this.signal.aborted) return;
      this.setPhase('failed');
      this.log.error('agent failed', { error: errorMessage(e) });
      throw e;
    }
  }

  // --- controller certs -----------------------------------------------------------------------------------

  /** GET /certs until it verifies; falls back to the checkpoint when the controller is unreachable. */
  private async establishCerts(): Promise<void> {
    let delay = ONBOARD_RETRY_MIN_MS;
    for (;;) {
      try {
        await this.refreshCerts();
        return;
      } catch (e) {
        if (this.signal.aborted) throw e;
        if (this.api.certs) {
          this.log.warn('controller certs unavailable; continuing from the checkpoint', { error: errorMessage(e) });
          return;
        }
        if (this.opts.once) throw e;
        this.log.warn('controller certs unavailable; retrying', { error: errorMessage(e), retryInMs: delay });
        await this.clock.sleep(delay, this.signal);
        delay = Math.min(ONBOARD_RETRY_MAX_MS, delay * 2);
      }
    }
  }

  private async refreshCerts(): Promise<void> {
    const { verified, raw } = await this.api.fetchCerts(this.signal);
    this.reachable = true;
    const changed = this.api.certs?.hashSetKey !== verified.hashSetKey;
    if (changed) {
      await this.certCheckpoint.save(raw);
      this.log.info('controller certs verified', { certs: verified.certsByHashHex.size });
    }
    this.api.certs = verified;
    // A block that could not be decrypted is retried when the controller certs change (cluster.md §2.3).
    if (changed && this.current) for (const l of this.listeners) await this.notify(l, this.current);
  }

  /** Loads the last good config (and the certs that verify it) before the controller is reached. */
  private async loadCheckpointedConfig(): Promise<void> {
    for (const raw of await this.certCheckpoint.candidates()) {
      try {
        this.api.certs = this.api.verifyCertsReply(raw);
        break;
      } catch (e) {
        this.log.warn('controller cert checkpoint does not verify', { error: errorMessage(e) });
      }
    }
    const uuid = await this.readUuid();
    if (uuid) this.api.deviceUuid = uuid;
    if (!this.api.certs) return;
    for (const raw of await this.configCheckpoint.candidates()) {
      try {
        const response = this.api.openConfigReply(raw);
        await this.accept(response, raw, 'checkpoint');
        return;
      } catch (e) {
        this.log.warn('config checkpoint does not verify', { error: errorMessage(e) });
      }
    }
  }

  // --- onboarding ---------------------------------------------------------------------------------------

  private uuidFile(): string {
    return path.join(this.opts.stateDir, 'status', 'uuid');
  }

  private async readUuid(): Promise<string | undefined> {
    try {
      return (await readFile(this.uuidFile(), 'utf8')).trim() || undefined;
    } catch {
      return undefined;
    }
  }

  /** register (with the onboarding cert, outcome ignored) + uuid, interleaved, 1 s → 600 s (client.go). */
  private async onboard(): Promise<void> {
    if (this.api.deviceUuid) {
      this.log.info('device already onboarded', { deviceUuid: this.api.deviceUuid });
      return;
    }
    const onboarding = this.folder.onboarding;
    const signer = onboarding ? softSigner(loadPrivateKeyPem(onboarding.keyPem)) : undefined;
    let delay = ONBOARD_RETRY_MIN_MS;
    for (;;) {
      try {
        if (onboarding && signer) {
          const status = await this.api.register(
            { signer, certPem: onboarding.certPem },
            { serial: this.folder.serial, softSerial: this.folder.softSerial },
            this.signal,
          );
          this.log.info('register answered', { status });
        }
        const got = await this.api.fetchUuid(this.signal);
        this.api.deviceUuid = got.uuid;
        this.reachable = true;
        await writeFileAtomic(this.uuidFile(), got.uuid + '\n', { mode: 0o600 });
        this.log.info('onboarded', { deviceUuid: got.uuid });
        this.emit('onboarded', `device UUID ${got.uuid}`, { deviceUuid: got.uuid });
        return;
      } catch (e) {
        if (this.signal.aborted) throw e;
        if (this.opts.once) throw e;
        this.log.warn('onboarding not done yet', { error: errorMessage(e), retryInMs: delay });
        await this.clock.sleep(delay, this.signal);
        delay = Math.min(ONBOARD_RETRY_MAX_MS, delay * 2);
      }
    }
  }

  // --- attestation --------------------------------------------------------------------------------------

  private async attestWithRetry(tries: number): Promise<void> {
    for (let i = 0; i < tries; i++) {
      try {
        const cert = await this.api.attest(attestCertRequest(this.identity), this.signal);
        this.log.debug('attestation certs published', { respType: cert.respType });
        this.integrityToken = await attestOnce(this.api, this.keys, this.signal);
        this.attestNeeded = false;
        this.reachable = true;
        this.log.info('attested', { quote: this.keys.kind === 'tpm' ? 'TPM2_Quote' : 'TPM-less' });
        this.emit('attested', `integrity token received (${this.keys.kind === 'tpm' ? 'TPM2_Quote' : 'TPM-less quote'})`);
        return;
      } catch (e) {
        if (this.signal.aborted) throw e;
        this.log.warn('attestation failed', { error: errorMessage(e), retryInMs: ATTEST_RETRY_MS });
        if (i + 1 >= tries) {
          if (this.opts.once) throw e;
          return; // the attest loop keeps trying
        }
        await this.clock.sleep(ATTEST_RETRY_MS, this.signal);
      }
    }
  }

  private async attestLoop(): Promise<void> {
    while (!this.signal.aborted) {
      await this.clock.sleep(ATTEST_RETRY_MS, this.signal);
      if (this.attestNeeded) await this.attestWithRetry(1);
    }
  }

  // --- config -------------------------------------------------------------------------------------------

  private timers(): { configMs: number; deviceInfoMs: number; metricMs: number } {
    const t = configTimers(this.current?.configItems ?? new Map<string, string>());
    return {
      configMs: this.opts.configIntervalMs ?? t.configMs,
      deviceInfoMs: this.opts.deviceInfoIntervalMs ?? t.deviceInfoMs,
      metricMs: this.opts.metricIntervalMs ?? t.metricMs,
    };
  }

  private async configLoop(): Promise<void> {
    while (!this.signal.aborted) {
      // handleconfig.go configTimerTask: uniform [0.3·T, T], no backoff on failure.
      await this.clock.sleep(jitter(this.timers().configMs, 0.3, 1), this.signal);
      await this.observers.pass('config', async () => {
        await this.faults.untilCleared('config-loop-stall', this.signal); // the injected hang (watchdog)
        await this.pollConfig();
      });
    }
  }

  /** One timed config request; never throws except on abort (failures are logged and kept in the status). */
  private pollConfig(): Promise<void> {
    return this.observers.timeConfigFetch(() => this.fetchConfigOnce());
  }

  private async fetchConfigOnce(): Promise<ConfigFetchResult> {
    try {
      const res = await this.api.fetchConfig({ configHash: this.configHash, integrityToken: this.integrityToken }, this.signal);
      if (!this.reachable) this.queue.kick(); // connectivity is back: retry queued info now
      this.reachable = true;
      if (this.lastConfigError && res.kind === 'unchanged') this.lastConfigError = undefined;
      if (res.kind === 'unchanged') {
        this.log.debug('config unchanged');
        return 'unchanged';
      }
      await this.accept(res.response, res.raw, 'controller');
      return 'accepted';
    } catch (e) {
      if (this.signal.aborted) throw e;
      if (e instanceof ControllerUnreachableError) {
        this.reachable = false;
        this.log.warn('config fetch failed: controller unreachable', { error: e.reason });
        return 'unreachable';
      }
      this.reachable = true;
      if (e instanceof ControllerReplyError && e.status === 403) {
        this.log.warn('config refused (403): attestation restarts');
        this.integrityToken = undefined;
        this.attestNeeded = true;
        return 'refused';
      }
      if (isTpmError(e)) {
        this.noteConfigError(`config request not sent: the TPM cannot sign it (${e.message})`, 'error');
        return 'tpm-error';
      }
      if (e instanceof ControllerReplyError && e.status === 404) {
        // Nothing was rejected: a new device polls before anyone gave it a config (the previous one, if any, stays).
        this.noteConfigError('no config for this device on the controller yet (404)', 'info');
        return 'http-error';
      }
      if (isAuthError(e) && e.kind === 'CERT_MISS') {
        // SenderStatusCertMiss: the controller may have rotated its signing cert; re-fetch /certs (§5.4 step 5).
        await this.refreshCerts().catch((err: unknown) => this.log.warn('cert re-fetch failed', { error: errorMessage(err) }));
      }
      const message = `config rejected, keeping the previous config: ${errorMessage(e)}`;
      if (this.noteConfigError(message, 'error')) this.emit('config.rejected', message);
      return e instanceof ControllerReplyError ? 'http-error' : 'rejected';
    }
  }

  /**
   * Keeps the last config failure for the status. One line per distinct failure at `level`; the same failure on
   * every later poll is logged at debug. Returns whether it is new.
   */
  private noteConfigError(message: string, level: 'error' | 'info'): boolean {
    const fresh = message !== this.lastConfigError;
    this.log[fresh ? level : 'debug'](message);
    this.lastConfigError = message;
    return fresh;
  }

  /** Accepts a verified config: checkpoint (when fresh), parse, hand to the reconcilers. */
  private async accept(response: config.ConfigResponse, raw: Buffer, source: 'controller' | 'checkpoint'): Promise<void> {
    const cfg = parseDeviceConfig(response.config ?? {});
    const previous = this.current;
    if (source === 'controller') await this.configCheckpoint.save(raw);
    this.configHash = response.configHash;
    this.current = cfg;
    this.lastConfigAtMs = this.clock.now();
    this.configSource = source;
    this.lastConfigError = undefined;
    this.log.info('config accepted', { source, version: cfg.version, configHash: response.configHash });
    this.emit('config.accepted', `config version ${cfg.version} from the ${source}`, { source, version: cfg.version });
    if (previous && source === 'controller') {
      if (previous.controllerEpoch !== cfg.controllerEpoch) void this.reportDeviceInfo(true);
      if (previous.controllerCertConfigHash !== cfg.controllerCertConfigHash) {
        await this.refreshCerts().catch((e: unknown) => this.log.warn('cert refresh failed', { error: errorMessage(e) }));
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

  // --- reports ------------------------------------------------------------------------------------------

  private async deviceInfoLoop(): Promise<void> {
    while (!this.signal.aborted) {
      await this.clock.sleep(jitter(this.timers().deviceInfoMs, 0.8, 1.2), this.signal);
      await this.observers.pass('device-info', () => this.reportDeviceInfo(true));
    }
  }

  /** Queues ZInfoDevice when it changed (or always when `force`). */
  async reportDeviceInfo(force = false): Promise<void> {
    const uuid = this.api.deviceUuid;
    if (!uuid) return;
    const clusterPort = this.cluster?.status().port;
    const msg = deviceInfoMessage(
      {
        deviceUuid: uuid,
        deviceName: this.current?.deviceName ?? '',
        bootTimeMs: this.bootTimeMs,
        hostname: this.current?.deviceName || os.hostname(),
        tpm: this.keys.kind === 'tpm',
        attestationState: this.integrityToken
          ? info.AttestationState.ATTESTATION_STATE_COMPLETE
          : info.AttestationState.ATTESTATION_STATE_NONCE_WAIT,
        // The cluster IP still appears in its port's IPAddrs (cluster.md §3, §7.9).
        ports: clusterPort ? [{ ifname: clusterPort.ifname, label: clusterPort.label, addrs: [clusterPort.address], up: true }] : [],
        kubevirt: !!this.cluster, // EVE-k reports hv_type_kubevirt and etcd_snapshot
      },
      this.clock.now(),
    );
    const digest = createHash('sha256').update(JSON.stringify({ ...msg.dinfo, bootTime: null })).digest('hex');
    if (!force && digest === this.lastDeviceInfoDigest) return;
    this.lastDeviceInfoDigest = digest;
    await this.publishInfo(uuid, msg);
  }

  private async metricsLoop(): Promise<void> {
    while (!this.signal.aborted) {
      await this.clock.sleep(jitter(this.timers().metricMs, 0.3, 1), this.signal);
      const uuid = this.api.deviceUuid;
      if (!uuid) continue;
      try {
        const res = await this.api.postMetrics(metricsMessage(uuid, this.clock.now(), this.lastConfigAtMs), this.signal);
        if (res.status !== 201 && res.status !== 200) this.log.warn('metrics refused', { status: res.status });
      } catch (e) {
        if (this.signal.aborted) throw e;
        this.log.debug('metrics not sent', { error: errorMessage(e) }); // fire-and-forget (§10)
      }
    }
  }

  private async certLoop(): Promise<void> {
    let wait = jitter(CERT_INTERVAL_MS, 0.3, 1);
    while (!this.signal.aborted) {
      await this.clock.sleep(wait, this.signal);
      try {
        await this.refreshCerts();
        wait = jitter(CERT_INTERVAL_MS, 0.3, 1);
      } catch (e) {
        if (this.signal.aborted) throw e;
        this.log.warn('controller cert refresh failed', { error: errorMessage(e) });
        wait = CERT_RETRY_MS;
      }
    }
  }

  /** Sends one queued item and classifies the answer (eve-api.md §3, §11). */
  private async sendQueued(item: QueueItem, signal: AbortSignal): Promise<SendOutcome> {
    if (!this.api.deviceUuid) return 'unreachable';
    try {
      const res = await this.api.send(item.action, item.payload, signal);
      this.reachable = true;
      const s = res.status;
      if (s === 200 || s === 201 || s === 204) return 'sent';
      if ([401, 403, 407, 408, 429].includes(s) || s >= 500) return 'retry';
      return 'drop';
    } catch (e) {
      if (e instanceof ControllerUnreachableError) {
        this.reachable = false;
        return 'unreachable';
      }
      throw e;
    }
  }
}

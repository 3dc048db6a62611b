/**
 * The edgesim agent: one EVE node, the composition root around one DeviceCore (src/agent/device-core.ts, the
 * protocol object a fleet also runs): it opens the key store and the state dir, creates the core over them, and adds
 * what only a full node has — the cluster and app reconcilers, CipherBlock decryption and the operator's view.
 */
import { mkdir } from 'node:fs/promises';
import type { Clock } from '../common/index.js';
import type { common, info } from '../eve/index.js';
import type { ClusterReconciler } from './cluster/cluster-reconciler.js';
import { decryptEncryptionBlock } from './cluster/cluster-token.js';
import type { ClusterStatus } from './cluster/cluster-status.js';
import type { AppStatus } from './apps/index.js';
import { DeviceWorkloads, deviceCipherParts } from './workloads.js';
import { openKeyStore, type DeviceIdentity, type KeyStore } from '../tpm/index.js';
import { ControllerClient } from './controller-client.js';
import { DeviceCore, type AgentEvent, type AgentPhase } from './device-core.js';
import { fileDeviceStore } from './device-store.js';
import { faultyKeyStore, FaultSet, skewedClock } from './faults.js';
import { readDeviceConfigFolder } from './device-config.js';
import { AgentObservers, timedKeyStore, type AgentObserver } from './observers.js';
import { compileAgentOptions, type AgentOptions, type CompiledAgentOptions } from './options.js';
import type { EncryptedValue } from './parse-config.js';
import type { ConfigListener } from './config-poller.js';

export type { AgentEvent, AgentPhase } from './device-core.js';
export type { ConfigListener } from './config-poller.js';

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

export class Agent {
  private readonly clock: Clock;
  private runPromise: Promise<void> | undefined;
  private stopped: Promise<void> | undefined;
  /** Cluster and app reconcilers, when the agent runs k3s. */
  private workloads: DeviceWorkloads | undefined;
  private constructor(
    private readonly opts: CompiledAgentOptions,
    /** Faults injected through the admin API; components consult it where the real failure would happen. */
    readonly faults: FaultSet,
    private readonly keys: KeyStore,
    private readonly identity: DeviceIdentity,
    private readonly client: ControllerClient,
    /** The device's protocol core: session, config poller, reporters, info queue. */
    readonly core: DeviceCore,
    private readonly observers: AgentObservers,
  ) {
    this.clock = opts.clock;
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
        sleep: (ms, signal) => opts.clock.sleep(ms, signal),
      });
      const ref: { agent?: Agent } = {};
      const core = await DeviceCore.create({
        folder,
        keys,
        identity,
        client,
        store: fileDeviceStore(opts.stateDir, opts.logger.child({ component: 'agent.queue' })),
        faults,
        observers,
        clock: opts.clock,
        logger: opts.logger,
        timers: {
          configIntervalMs: opts.configIntervalMs,
          deviceInfoIntervalMs: opts.deviceInfoIntervalMs,
          metricIntervalMs: opts.metricIntervalMs,
        },
        once: opts.once,
        allowConfigRollback: opts.allowConfigRollback,
        deviceExtras: () => ref.agent!.deviceExtras(),
      });
      const agent = new Agent(opts, faults, keys, identity, client, core, observers);
      ref.agent = agent;
      if (opts.cluster) agent.startCluster(opts.cluster);
      opts.logger.child({ component: 'agent' }).info('key store opened', { keyStore: keys.description });
      return agent;
    } catch (e) {
      await keys.close();
      throw e;
    }
  }

  get phase(): AgentPhase {
    return this.core.phase;
  }

  /** Hears every AgentEvent; returns an unsubscribe function. */
  onEvent(listener: (e: AgentEvent) => void): () => void {
    return this.core.onEvent(listener);
  }

  /** Publishes an event to the watch stream (reconcilers report their steps through here too). */
  emit(kind: string, message: string, fields?: Record<string, unknown>): void {
    this.core.emit(kind, message, fields);
  }

  /** Registers an observer of config requests, key store operations and loop passes (metrics, watchdog). */
  observe(observer: AgentObserver): () => void {
    return this.observers.add(observer);
  }

  /** Registers a reconciler; it receives the current config at once if there is one. */
  onConfig(listener: ConfigListener): void {
    this.core.onConfig(listener);
  }

  /** What ZInfoDevice carries of the cluster: the cluster IP on its port, EVE-k flags (workloads.ts). */
  private deviceExtras(): { ports: { ifname: string; label: string; addrs: string[]; up: boolean }[]; kubevirt: boolean } {
    return DeviceWorkloads.extrasOf(this.workloads);
  }

  private startCluster(c: NonNullable<CompiledAgentOptions['cluster']>): void {
    const workloads = DeviceWorkloads.create({
      core: this.core,
      keys: this.keys,
      identity: this.identity,
      cluster: c,
      stateDir: this.opts.stateDir,
      faults: this.faults,
      clock: this.clock,
      logger: this.opts.logger,
    });
    this.workloads = workloads;
    this.core.onConfig((cfg) => workloads.onConfig(cfg));
  }

  /** Decrypts an encrypted value of the current config with the device ECDH key (uncached; cluster-token.ts). */
  decrypt(value: EncryptedValue): Promise<common.EncryptionBlock> {
    return decryptEncryptionBlock(value, { ...this.cipherParts(), signal: this.signal });
  }

  private cipherParts(): ReturnType<typeof deviceCipherParts> {
    return deviceCipherParts(this.core, this.keys, this.identity);
  }

  /** The cluster reconciler, when the agent runs k3s. */
  get clusterReconciler(): ClusterReconciler | undefined {
    return this.workloads?.cluster;
  }

  /** The current status snapshot. */
  status(): AgentStatus {
    const { session, config, queue, api } = this.core;
    return {
      phase: this.core.phase,
      deviceUuid: api.deviceUuid,
      keyStore: this.keys.description,
      controllerReachable: session.reachable,
      attested: !!session.integrityToken,
      lastConfigHash: config.configHash,
      lastConfigAtMs: config.lastConfigAtMs,
      configSource: config.source,
      lastConfigError: config.lastError,
      queueDepth: queue.depth,
      queueOldestAgeMs: queue.oldestAgeMs(),
      cluster: this.workloads?.cluster.status(),
      apps: this.workloads?.apps.status().apps,
    };
  }

  /** The key store (reconcilers decrypt with its ECDH key). */
  get keyStore(): KeyStore {
    return this.keys;
  }

  /** Controller certs by hex hash (for CipherBlock decryption), and the device's own published certs. */
  cipherEnvironment(): { controllerCerts: Map<string, Buffer>; deviceCerts: Map<string, Buffer> } {
    const p = this.cipherParts();
    return { controllerCerts: p.controllerCertsByHashHex, deviceCerts: p.deviceCertsByHashHex };
  }

  /** Queues an info message for its object key (reconcilers report through here). */
  publishInfo(key: string, msg: info.IZInfoMsg): Promise<void> {
    return this.core.publishInfo(key, msg);
  }

  /** Queues ZInfoDevice when it changed (or always when `force`). */
  reportDeviceInfo(force = false): Promise<void> {
    return this.core.reporters.reportDeviceInfo(force);
  }

  /** Runs until stop(); with `once`, one full cycle then returns (throws on failure). */
  run(): Promise<void> {
    this.runPromise ??= this.core.run();
    return this.runPromise;
  }

  /**
   * Stops every loop, then in reverse start order: apps, cluster, the queue (flushed to disk), the key store.
   * Idempotent: a second call (SIGTERM and the run's `finally`) waits for the first.
   */
  stop(): Promise<void> {
    this.stopped ??= this.core
      .stop({
        beforeFlush: async () => {
          await this.workloads?.stop({ leaveK3sRunning: this.opts.cluster?.leaveK3sRunning ?? false });
        },
        afterFlush: () => this.keys.close(),
      })
      .finally(() => this.client.close());
    return this.stopped;
  }

  private get signal(): AbortSignal {
    return this.core.signal;
  }
}


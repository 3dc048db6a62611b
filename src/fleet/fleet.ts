/**
 * `edgesim fleet run`: N EVE devices in one process. Each is the agent's DeviceCore (src/fleet/fleet-device.ts);
 * what they share is built once here: the scheduler clock (one heap, one timer), the keep-alive pool to the
 * controller (bounded in flight), the SQLite state store, the logger, the observers and one metrics registry.
 *
 * `create()` validates the options and opens the state file; `run()` proves the inputs with the first device's
 * full cycle (a clear FleetError otherwise, nothing recorded that a later correct run trips over), then ramps the
 * rest at `rampPerSecond` and keeps them running until `stop()`, applying the profile's churn.
 */
import { createHash, randomInt } from 'node:crypto';
import path from 'node:path';
import { Gauge, Registry } from 'prom-client';
import type { Logger } from '../common/index.js';
import { errorMessage } from '../common/index.js';
import {
  AgentObservers,
  FAULT_KINDS,
  FaultError,
  readDeviceConfigFolder,
  type DeviceConfigFolder,
  type TimerOverrides,
} from '../agent/index.js';
import { FleetDevice, type FleetDevicePhase } from './fleet-device.js';
import { FleetClusters, planClusters, type ClusterTarget, type FleetClusterCounts } from './fleet-clusters.js';
import { FleetError, explainStartFailure } from './preflight.js';
import { EMPTY_PROFILE, assignTraits, type DeviceTraits, type FleetProfile } from './profile.js';
import { ObservedControllerClient, RequestMetrics, type EndpointPeriod } from './request-metrics.js';
import type { SchedulerClock } from './scheduler-clock.js';
import { shardSerials, type Shard } from './shard.js';
import { FleetStateStore } from './state-store.js';

export interface FleetOptions {
  /** The EVE config folder all devices share (server, root-certificate.pem, onboard.cert.pem/onboard.key.pem). */
  configDir: string;
  /** The SQLite state file (created 0600). */
  statePath: string;
  /** Devices in the whole fleet (all shards together). */
  count: number;
  /** @default 'edgesim-fleet-' */
  serialPrefix?: string;
  /** Number of the first serial. @default 0 */
  serialStart?: number;
  /** This process's part of the fleet. @default 0/1 */
  shard?: Shard;
  /** Devices started per second (real time). @default 100 */
  rampPerSecond?: number;
  /**
   * Requests in flight to the controller at once (the keep-alive pool's size). 64: at 32 the fleet and the controller
   * of the fleet bench left the two cores ~18 % idle, each waiting on the other's answers; at 64 each turn of either
   * event loop takes more work. 128 was no better (docs/fleet-figures.md).
   * @default 64
   */
  maxInFlight?: number;
  /** Per-request timeout in ms. @default 120000 (EVE timer.send.timeout) */
  requestTimeoutMs?: number;
  timers?: TimerOverrides;
  profile?: FleetProfile;
  /**
   * Where the profile's clusters are asked for: the embedded controller's admin API, or a YAML file for another
   * controller. @default file `<state>.clusters.yaml`
   */
  clusterTarget?: ClusterTarget;
  /** Extra k3s config of the in-process k3s of every device (e.g. `{ 'pod-start-delay': '1s' }`). */
  k3sConfig?: Record<string, string | string[]>;
  /** The scheduler clock (its time scale is the fleet's `--time-scale`). */
  clock: SchedulerClock;
  logger: Logger;
}

/** Lifecycle of the fleet process. */
export type FleetState = 'created' | 'proving' | 'ramping' | 'running' | 'stopping' | 'stopped' | 'failed';

/** The live view's figures over one period: the status, with the period's request rates instead of the totals. */
export interface FleetSnapshot extends Omit<FleetStatus, 'requests'> {
  atMs: number;
  requests: Record<string, EndpointPeriod>;
  scheduler: { pending: number; maxLateMs: number };
  rssMiB: number;
  /** V8 heap in use (what the devices' objects take; RSS adds allocator slack, code and OpenSSL). */
  heapUsedMiB: number;
}

/** One device as `fleet devices` / `fleet device` show it. */
export interface FleetDeviceView {
  serial: string;
  uuid: string | undefined;
  phase: FleetDevicePhase;
  queueDepth: number;
  reachable: boolean;
  faults: string[];
  restarts: number;
  lastError: string | undefined;
  /** `<manufacturer> <productName>` of the profile's model; undefined = the default. */
  hardware: string | undefined;
}

/** Counts over the devices of the process (`fleet status`). */
export interface FleetStatus {
  state: FleetState;
  shard: string;
  devices: number;
  byPhase: Partial<Record<FleetDevicePhase, number>>;
  onboarded: number;
  queueDepth: number;
  faults: Partial<Record<FleetFaultKind, number>>;
  restarts: number;
  clusters: FleetClusterCounts;
  /** `"<endpoint> <outcome>"` → requests since start. */
  requests: Record<string, number>;
}

/** The agent's fault catalogue, plus power loss (k3s killed, cluster interface and device down; until cleared or for `duration`). */
export const FLEET_FAULT_KINDS = [...FAULT_KINDS, 'power-loss'] as const;
export type FleetFaultKind = (typeof FLEET_FAULT_KINDS)[number];

interface Compiled extends Required<Omit<FleetOptions, 'timers' | 'profile' | 'clusterTarget' | 'k3sConfig'>> {
  timers: TimerOverrides;
  profile: FleetProfile;
  clusterTarget: ClusterTarget;
  k3sConfig: Record<string, string | string[]> | undefined;
}

function compile(o: FleetOptions): Compiled {
  const positiveInt = (flag: string, v: number): number => {
    if (!Number.isInteger(v) || v < 1) throw new Error(`${flag} must be a positive integer, got ${v}`);
    return v;
  };
  const ramp = o.rampPerSecond ?? 100;
  if (!(ramp > 0) || !Number.isFinite(ramp)) throw new Error(`--ramp must be a positive number of devices per second, got ${ramp}`);
  const start = o.serialStart ?? 0;
  if (!Number.isInteger(start) || start < 0) throw new Error(`--serial-start must be a non-negative integer, got ${start}`);
  const prefix = o.serialPrefix ?? 'edgesim-fleet-';
  if (!/^[a-zA-Z0-9_-]{0,200}$/.test(prefix)) throw new Error(`--serial-prefix "${prefix}": use up to 200 characters of [a-zA-Z0-9_-]`);
  if (!o.configDir) throw new Error('--config-dir is required');
  if (!o.statePath) throw new Error('--state is required');
  return {
    configDir: path.resolve(o.configDir),
    statePath: path.resolve(o.statePath),
    count: positiveInt('--count', o.count),
    serialPrefix: prefix,
    serialStart: start,
    shard: o.shard ?? { index: 0, count: 1 },
    rampPerSecond: ramp,
    maxInFlight: positiveInt('--max-in-flight', o.maxInFlight ?? 64),
    requestTimeoutMs: positiveInt('--request-timeout', o.requestTimeoutMs ?? 120_000),
    timers: o.timers ?? {},
    profile: o.profile ?? EMPTY_PROFILE,
    clusterTarget: o.clusterTarget ?? { kind: 'file', path: `${path.resolve(o.statePath)}.clusters.yaml` },
    k3sConfig: o.k3sConfig,
    clock: o.clock,
    logger: o.logger,
  };
}

/** Onboarding window of the ramp (see `onboardingRoom`): devices per pooled connection, longest time one counts. */
const ONBOARDING_WINDOW_PER_CONNECTION = 8;
const ONBOARDING_WINDOW_MS = 1_000;
const ONBOARDING_POLL_MS = 10;
/** Phases of a started device that has not onboarded yet. */
const ONBOARDING_PHASES: ReadonlySet<FleetDevicePhase> = new Set(['pending', 'provisioning', 'initialized', 'onboarding', 'attesting']);

/** The meta row that ties a state file to its controller: the server and the root certificate's SHA-256. */
const CONTROLLER_META = 'controller';

export class Fleet {
  private stateValue: FleetState = 'created';
  private readonly devices: FleetDevice[];
  private readonly bySerial: Map<string, FleetDevice>;
  private readonly traits: Map<string, DeviceTraits>;
  private readonly stopCtl = new AbortController();
  private readonly log: Logger;
  private runPromise: Promise<void> | undefined;
  private stopPromise: Promise<void> | undefined;
  private cancelChurn: (() => void) | undefined;
  private readonly pendingStarts = new Set<Promise<void>>();
  /** Devices the ramp started that have not reached 'running' yet, with when they started (the onboarding window). */
  private readonly onboarding = new Map<FleetDevice, number>();
  /** The in-process clusters of the devices and the profile's cluster groups. */
  private readonly clusters: FleetClusters;

  private constructor(
    private readonly o: Compiled,
    private readonly folder: DeviceConfigFolder,
    private readonly state: FleetStateStore,
    private readonly client: ObservedControllerClient,
    private readonly controllerId: string,
    /** Prometheus registry of the fleet (aggregates only). */
    readonly registry: Registry,
    /** Requests of all devices by endpoint and outcome. */
    readonly requests: RequestMetrics,
  ) {
    this.log = o.logger.child({ component: 'fleet' });
    const observers = new AgentObservers();
    const serials = shardSerials({ total: o.count, shard: o.shard, prefix: o.serialPrefix, start: o.serialStart });
    this.traits = assignTraits(serials, o.profile);
    this.clusters = new FleetClusters({
      plans: planClusters({ serials, groups: o.profile.clusters, shard: o.shard, serialPrefix: o.serialPrefix }),
      target: o.clusterTarget,
      state,
      runningUuid: (s) => {
        const d = this.bySerial.get(s);
        return d?.phase === 'running' ? d.uuid : undefined;
      },
      clock: o.clock,
      logger: o.logger,
      ...(o.k3sConfig ? { extraConfig: o.k3sConfig } : {}),
    });
    const ctx = { folder, client, state, clock: o.clock, logger: o.logger, observers, timers: o.timers, workloads: this.clusters.workloads() };
    this.devices = serials.map((s) => new FleetDevice(s, ctx, this.traits.get(s)?.hardware));
    this.bySerial = new Map(this.devices.map((d) => [d.serial, d]));
    this.registerGauges();
  }

  /** Validates the options, reads the config folder and opens the state file (refusing one of another controller). */
  static async create(options: FleetOptions): Promise<Fleet> {
    const o = compile(options);
    const folder = await readDeviceConfigFolder(o.configDir);
    const controllerId = `${folder.server} ${createHash('sha256').update(folder.rootCertPem).digest('hex')}`;
    const state = await FleetStateStore.open(o.statePath, o.logger);
    try {
      const recorded = state.meta(CONTROLLER_META);
      if (recorded !== undefined && recorded !== controllerId) {
        throw new FleetError(
          'state-mismatch',
          `--state ${o.statePath} holds devices of the controller at ${recorded.split(' ')[0]} (or another root certificate); ` +
            `give a new --state file for ${folder.server}`,
        );
      }
      const registry = new Registry();
      const requests = new RequestMetrics(registry);
      const client = new ObservedControllerClient(
        {
          server: folder.server,
          rootCertPem: folder.rootCertPem,
          timeoutMs: o.requestTimeoutMs,
          maxInFlight: o.maxInFlight,
          sleep: (ms, signal) => o.clock.sleep(ms, signal),
          deadlineTimer: o.clock.afterReal,
        },
        requests,
      );
      // Checked before anything runs: a profile whose clusters do not fit the shard is bad input.
      planClusters({ serials: shardSerials({ total: o.count, shard: o.shard, prefix: o.serialPrefix, start: o.serialStart }), groups: o.profile.clusters, shard: o.shard, serialPrefix: o.serialPrefix });
      return new Fleet(o, folder, state, client, controllerId, registry, requests);
    } catch (e) {
      state.close();
      throw e;
    }
  }

  get lifecycle(): FleetState {
    return this.stateValue;
  }

  private setState(to: FleetState): void {
    if (to === this.stateValue) return;
    this.log.info('fleet state', { from: this.stateValue, to });
    this.stateValue = to;
  }

  /** Proves the inputs with the first device, ramps the rest, runs until stop(). Rejects with FleetError on bad input. */
  run(): Promise<void> {
    this.runPromise ??= this.runInner();
    return this.runPromise;
  }

  private async runInner(): Promise<void> {
    const signal = this.stopCtl.signal;
    const [first] = this.devices;
    if (!first) {
      this.setState('running');
      return;
    }
    this.setState('proving');
    try {
      // The first device runs one full cycle (certs, onboarding, attestation, config, info delivered) without faults.
      await first.start(true);
    } catch (e) {
      this.setState('failed');
      if (signal.aborted) return;
      throw explainStartFailure(e, this.folder.server, this.o.configDir);
    }
    this.state.setMeta(CONTROLLER_META, this.controllerId);
    this.setState('ramping');
    this.clusters.start();
    const t0 = this.o.clock.monotonic();
    for (let i = 0; i < this.devices.length && !signal.aborted; i++) {
      const due = t0 + (i * 1000) / this.o.rampPerSecond;
      const ahead = due - this.o.clock.monotonic();
      if (ahead > 2) await this.o.clock.sleepReal(ahead, signal).catch(() => undefined);
      if (signal.aborted) break;
      await this.onboardingRoom(signal);
      if (signal.aborted) break;
      this.startDevice(this.devices[i]);
      // Bounded: provisioning is CPU work; more at once only queues it.
      if (this.pendingStarts.size >= 64) await Promise.race(this.pendingStarts);
    }
    await Promise.all(this.pendingStarts);
    this.onboarding.clear();
    if (signal.aborted) return;
    this.setState('running');
    this.startChurn();
  }

  /**
   * Waits until fewer than ONBOARDING_WINDOW_PER_CONNECTION × maxInFlight started devices are still onboarding. A ramp
   * faster than the controller answers would otherwise start every device at once: all of them wait in the pool's
   * queue, each one's onboarding takes the whole ramp, and its short-lived objects live long enough to reach the old
   * generation (1.8 GiB of V8 heap at 10,000 devices). A device counts for ONBOARDING_WINDOW_MS at most, so the ramp
   * never falls below `width` devices per second: devices that cannot onboard (a fault, a refusing controller) or a
   * controller saturated by the running devices' traffic (seconds per answer) slow it, never stop it.
   */
  private async onboardingRoom(signal: AbortSignal): Promise<void> {
    const width = ONBOARDING_WINDOW_PER_CONNECTION * this.o.maxInFlight;
    for (;;) {
      if (this.onboarding.size < width) return;
      const now = this.o.clock.monotonic();
      for (const [d, startedAt] of this.onboarding) {
        if (!ONBOARDING_PHASES.has(d.phase) || now - startedAt > ONBOARDING_WINDOW_MS) this.onboarding.delete(d);
      }
      if (this.onboarding.size < width || signal.aborted) return;
      await this.o.clock.sleepReal(ONBOARDING_POLL_MS, signal).catch(() => undefined);
    }
  }

  private startDevice(d: FleetDevice): void {
    this.onboarding.set(d, this.o.clock.monotonic());
    const traits = this.traits.get(d.serial);
    const p = (async () => {
      for (const f of traits?.faults ?? []) {
        d.faults.inject(f.kind, { ...(f.value !== undefined ? { value: f.value } : {}), ...(f.durationMs !== undefined ? { durationMs: f.durationMs } : {}) });
      }
      if (traits?.clockSkewMs !== undefined) d.faults.inject('clock-skew', { value: traits.clockSkewMs });
      await d.start();
    })()
      .catch((e: unknown) => {
        d.lastError = errorMessage(e);
        this.log.warn('device did not start', { node: d.serial, error: d.lastError });
      })
      .finally(() => this.pendingStarts.delete(p));
    this.pendingStarts.add(p);
  }

  /** Reboots random running devices at the profile's rate: the expected count accrues every spec second, whole reboots fire. */
  private startChurn(): void {
    const perSecond = this.o.profile.rebootsPerHour / 3600;
    if (!(perSecond > 0)) return;
    let owed = 0;
    this.cancelChurn = this.o.clock.every(1000, () => {
      const running = this.devices.filter((d) => d.phase === 'running');
      owed += running.length * perSecond;
      for (; owed >= 1 && running.length > 0; owed--) {
        const d = running.splice(randomInt(running.length), 1)[0];
        d.reboot().catch((e: unknown) => this.log.warn('reboot failed', { node: d.serial, error: errorMessage(e) }));
      }
    });
  }

  /**
   * Injects a fault of the agent's catalogue into `fraction` of the devices (exactly round(fraction · n), chosen at
   * random) or into the named `serials`. Returns the serials it reached.
   */
  injectFault(kind: string, o: { fraction?: number; serials?: string[]; value?: number; durationMs?: number }): string[] {
    if (!(FLEET_FAULT_KINDS as readonly string[]).includes(kind)) throw new FaultError(`fault "${kind}" is not one of: ${FLEET_FAULT_KINDS.join(', ')}`);
    if (o.durationMs !== undefined && !(o.durationMs > 0)) throw new FaultError('duration must be positive');
    let targets: FleetDevice[];
    if (o.serials?.length) {
      targets = o.serials.map((s) => {
        const d = this.bySerial.get(s);
        if (!d) throw new FaultError(`serial "${s}" is not a device of this fleet process`);
        return d;
      });
    } else {
      const f = o.fraction ?? 1;
      if (!(f > 0 && f <= 1)) throw new FaultError(`fraction must be in (0, 1], got ${f}`);
      const pool = [...this.devices];
      const n = Math.round(f * pool.length);
      for (let i = 0; i < n; i++) {
        const j = i + randomInt(pool.length - i);
        [pool[i], pool[j]] = [pool[j], pool[i]];
      }
      targets = pool.slice(0, n);
    }
    for (const d of targets) {
      if (kind === 'power-loss') {
        d.powerOff(o.durationMs).catch((e: unknown) => this.log.warn('power loss failed', { node: d.serial, error: errorMessage(e) }));
        continue;
      }
      d.faults.inject(kind, { ...(o.value !== undefined ? { value: o.value } : {}), ...(o.durationMs !== undefined ? { durationMs: o.durationMs } : {}) });
    }
    this.log.info('fault injected', { kind, devices: targets.length });
    return targets.map((d) => d.serial);
  }

  /** Clears a fault kind (or 'all') on every device; returns how many devices had it. */
  clearFault(kind: string): number {
    let n = 0;
    for (const d of this.devices) {
      let had = kind !== 'power-loss' && d.faults.clear(kind).length > 0;
      if ((kind === 'power-loss' || kind === 'all') && d.poweredOff) {
        had = true;
        d.powerOn().catch((e: unknown) => this.log.warn('power on failed', { node: d.serial, error: errorMessage(e) }));
      }
      if (had) n++;
    }
    return n;
  }

  /** Counts by phase and fault, queue depth, restarts and request totals, now. */
  status(): FleetStatus {
    const byPhase: Partial<Record<FleetDevicePhase, number>> = {};
    const faults: Partial<Record<FleetFaultKind, number>> = {};
    let queueDepth = 0;
    let restarts = 0;
    let onboarded = 0;
    for (const d of this.devices) {
      byPhase[d.phase] = (byPhase[d.phase] ?? 0) + 1;
      queueDepth += d.queueDepth;
      restarts += d.restarts;
      if (d.onboarded) onboarded++;
      for (const f of d.faults.list()) faults[f.kind] = (faults[f.kind] ?? 0) + 1;
      if (d.poweredOff) faults['power-loss'] = (faults['power-loss'] ?? 0) + 1;
    }
    return {
      state: this.stateValue,
      shard: `${this.o.shard.index}/${this.o.shard.count}`,
      devices: this.devices.length,
      byPhase,
      onboarded,
      queueDepth,
      faults,
      restarts,
      clusters: this.clusters.counts(),
      requests: this.requests.totals(),
    };
  }

  /** The live view's figures: the status plus rates and latency since the previous snapshot (a new period starts). */
  snapshot(): FleetSnapshot {
    const s = this.o.clock.stats();
    return {
      atMs: this.o.clock.now(),
      ...this.status(),
      // Rates and latency of the period replace the totals.
      requests: this.requests.takePeriod(),
      scheduler: { pending: s.pending, maxLateMs: Math.round(s.maxLateMs) },
      ...memory(),
    };
  }

  /** Every device of this process (serial order), or one page of them. */
  list(offset = 0, limit = Infinity): FleetDeviceView[] {
    return this.devices.slice(offset, offset + limit).map((d) => view(d));
  }

  /** One device by serial; undefined when it is not in this process. */
  device(serial: string): FleetDeviceView | undefined {
    const d = this.bySerial.get(serial);
    return d ? view(d) : undefined;
  }

  /** Stops ramping and churn, stops every device (queues flushed to the store), closes the pool and the file. */
  stop(): Promise<void> {
    this.stopPromise ??= (async () => {
      this.setState('stopping');
      this.stopCtl.abort();
      this.cancelChurn?.();
      await this.clusters.stop();
      // Devices first: stopping them aborts their requests, which the proving cycle or the ramp may be waiting on.
      const stopDevices = (): Promise<unknown> =>
        Promise.all(this.devices.map((d) => d.stop().catch((e: unknown) => this.log.warn('device stop failed', { node: d.serial, error: errorMessage(e) }))));
      await stopDevices();
      await this.runPromise?.catch(() => undefined);
      await stopDevices(); // any the ramp was still starting
      this.client.close();
      this.state.close();
      this.setState('stopped');
    })();
    return this.stopPromise;
  }

  private registerGauges(): void {
    const devices = this.devices;
    new Gauge({
      name: 'edgesim_fleet_devices',
      help: 'Devices of this fleet process by phase.',
      labelNames: ['phase'],
      registers: [this.registry],
      collect() {
        this.reset();
        const by = new Map<string, number>();
        for (const d of devices) by.set(d.phase, (by.get(d.phase) ?? 0) + 1);
        for (const [phase, n] of by) this.set({ phase }, n);
      },
    });
    new Gauge({
      name: 'edgesim_fleet_queue_depth',
      help: 'Info messages queued on all devices of this process, not yet accepted by the controller.',
      registers: [this.registry],
      collect() {
        this.set(devices.reduce((n, d) => n + d.queueDepth, 0));
      },
    });
    new Gauge({
      name: 'edgesim_fleet_faults',
      help: 'Devices with an active fault, by kind.',
      labelNames: ['kind'],
      registers: [this.registry],
      collect() {
        this.reset();
        const by = new Map<string, number>();
        for (const d of devices) for (const f of d.faults.list()) by.set(f.kind, (by.get(f.kind) ?? 0) + 1);
        for (const [kind, n] of by) this.set({ kind }, n);
      },
    });
  }
}

function memory(): { rssMiB: number; heapUsedMiB: number } {
  const m = process.memoryUsage();
  return { rssMiB: Math.round(m.rss / 1048576), heapUsedMiB: Math.round(m.heapUsed / 1048576) };
}

function view(d: FleetDevice): FleetDeviceView {
  return {
    serial: d.serial,
    uuid: d.uuid,
    phase: d.phase,
    queueDepth: d.queueDepth,
    reachable: d.reachable,
    faults: d.faults.list().map((f) => f.kind),
    restarts: d.restarts,
    lastError: d.lastError,
    hardware: d.hardware ? `${d.hardware.manufacturer} ${d.hardware.productName}` : undefined,
  };
}

/**
 * One simulated device of a fleet: the agent's DeviceCore (the same protocol object `edgesim agent` runs) over
 * this device's rows of the state store, soft keys kept there too, its own FaultSet, and the fleet's shared
 * transport, scheduler clock, observers and logger. A reboot (churn) stops the core, flushing its queue, and
 * starts a new one from the checkpoint, as a restarted `edgesim agent` does.
 *
 * A device whose config brings a cluster block or apps gets the agent's workloads (src/agent/workloads.ts: the
 * cluster and app reconcilers) on the seams the fleet gives it (in-process k3s on the fleet's segment), created
 * on that first config so that plain devices cost nothing more. Power loss (a fleet fault) kills its k3s and
 * takes its cluster interface and its core down at once; power on boots it again from its checkpoint.
 */
import type { Clock, Logger } from '../common/index.js';
import { errorMessage, silentLogger } from '../common/index.js';
import {
  DeviceCore,
  DeviceWorkloads,
  FaultSet,
  faultyKeyStore,
  skewedClock,
  type AgentObservers,
  type AgentPhase,
  type ClusterOptions,
  type ControllerClient,
  type DeviceConfig,
  type DeviceConfigFolder,
  type TimerOverrides,
  type WorkloadSeams,
} from '../agent/index.js';
import { softKeyStoreOver, type DeviceIdentity, type KeyStore } from '../tpm/index.js';
import type { HardwareModel } from './profile.js';
import type { FleetStateStore } from './state-store.js';

/** Where a device is: not started yet (ramp), creating keys, the core's phase, between two cores (reboot), or off. */
export type FleetDevicePhase = 'pending' | 'provisioning' | 'rebooting' | 'powered-off' | AgentPhase;

/** One device's place in the fleet's in-process clusters: its seams, and its power switch for them. */
export interface DeviceHost {
  seams: WorkloadSeams;
  /** Power loss: k3s dies at once (nothing released, no restart) and the cluster interface goes down. */
  powerOff(): void;
  /** Power back: the cluster interface comes up (the reconciler starts k3s again). */
  powerOn(): void;
}

/** How the fleet runs its devices' clusters and apps (absent: devices ignore cluster blocks and apps). */
export interface FleetWorkloads {
  cluster: Omit<ClusterOptions, 'leaveK3sRunning'>;
  /** The host of `serial` (called once per device, kept across reboots: it is the device's k3s data). */
  host(serial: string): DeviceHost;
}

/** What every device of a fleet shares. */
export interface FleetDeviceContext {
  /** The shared config folder (server, root cert, onboarding cert); serials are per device. */
  folder: DeviceConfigFolder;
  client: ControllerClient;
  state: FleetStateStore;
  /** The fleet's scheduler clock. */
  clock: Clock;
  logger: Logger;
  observers: AgentObservers;
  timers: TimerOverrides;
  workloads?: FleetWorkloads;
}

export class FleetDevice {
  /** Faults of this device (profile, `fleet fault inject`); the core consults them where the failure happens. */
  readonly faults: FaultSet;
  private core: DeviceCore | undefined;
  private keys: KeyStore | undefined;
  private identity: DeviceIdentity | undefined;
  private between: 'pending' | 'provisioning' | 'rebooting' | 'powered-off' | undefined = 'pending';
  private workloads: DeviceWorkloads | undefined;
  private host: DeviceHost | undefined;
  private powerTimer: AbortController | undefined;
  private readonly log: Logger;
  private closed = false;
  /** Times the device restarted from its checkpoint (churn). */
  restarts = 0;
  /** The error that ended the last core, if any. */
  lastError: string | undefined;

  constructor(
    readonly serial: string,
    private readonly ctx: FleetDeviceContext,
    /** The model the profile gave this device; undefined = the default (this machine's figures). */
    readonly hardware?: HardwareModel,
  ) {
    this.faults = new FaultSet(ctx.clock);
    this.log = ctx.logger.child({ node: serial });
  }

  get phase(): FleetDevicePhase {
    return this.between ?? this.core?.phase ?? 'pending';
  }

  /** Whether the device has its UUID (in memory: the live view counts this every second). */
  get onboarded(): boolean {
    return this.core?.api.deviceUuid !== undefined;
  }

  /** The controller-given UUID once onboarded. */
  get uuid(): string | undefined {
    return this.core?.api.deviceUuid ?? this.ctx.state.uuidOf(this.serial);
  }

  get queueDepth(): number {
    return this.core?.queue.depth ?? 0;
  }

  /** Whether the last exchange with the controller got an HTTP answer. */
  get reachable(): boolean {
    return this.core?.session.reachable ?? false;
  }

  /**
   * Creates (or loads) the keys, opens the core and starts it. With `once`, runs one full cycle and returns when it
   * is done, throwing what failed (the fleet's first device proves the controller and the onboarding material).
   */
  async start(once = false): Promise<void> {
    if (this.closed) return;
    this.between = 'provisioning';
    const clock = skewedClock(this.ctx.clock, this.faults);
    if (!this.keys) {
      const soft = softKeyStoreOver(this.ctx.state.softKeyStorage(this.serial), { logger: this.log.child({ component: 'tpm' }), clock });
      this.keys = faultyKeyStore(soft, this.faults);
      this.identity = await this.keys.provision();
    }
    const core = await DeviceCore.create({
      folder: { ...this.ctx.folder, serial: this.serial, softSerial: this.serial },
      keys: this.keys,
      identity: this.identity!,
      client: this.ctx.client,
      store: this.ctx.state.deviceStore(this.serial),
      faults: this.faults,
      observers: this.ctx.observers,
      clock,
      // The proving cycle's failure is explained by the fleet in one line; its own log lines would only repeat it.
      logger: once ? silentLogger : this.log,
      timers: this.ctx.timers,
      once,
      ...(this.hardware || this.ctx.workloads
        ? { deviceExtras: () => ({ ...DeviceWorkloads.extrasOf(this.workloads), hardware: this.hardware }) }
        : {}),
    });
    this.core = core;
    if (this.ctx.workloads && !once) core.onConfig((cfg) => this.onConfig(core, cfg));
    this.between = undefined;
    if (this.closed) return; // stopped while provisioning: the core never runs
    if (once) {
      try {
        await core.run();
      } finally {
        await core.stop();
      }
      return;
    }
    core.run().catch((e: unknown) => {
      this.lastError = errorMessage(e);
    });
  }

  /** The cluster and app reconcilers, created by the first config that has a cluster block or apps. */
  private async onConfig(core: DeviceCore, cfg: DeviceConfig): Promise<void> {
    const w = this.ctx.workloads;
    if (!w || core !== this.core) return;
    if (!this.workloads) {
      if (cfg.cluster.kind === 'absent' && cfg.apps.length === 0) return;
      this.host ??= w.host(this.serial);
      this.workloads = DeviceWorkloads.create({
        core,
        keys: this.keys!,
        identity: this.identity!,
        cluster: w.cluster,
        stateDir: `inproc://${this.serial}`,
        seams: this.host.seams,
        faults: this.faults,
        clock: skewedClock(this.ctx.clock, this.faults),
        logger: this.log,
      });
    }
    await this.workloads.onConfig(cfg);
  }

  /** Stops the core; its workloads stop before the queue is flushed (apps, then the cluster). */
  private async stopCore(core: DeviceCore): Promise<void> {
    await core.stop({
      beforeFlush: async () => {
        const w = this.workloads;
        this.workloads = undefined;
        await w?.stop();
      },
    });
  }

  /** Restarts from the checkpoint: the core stops (queue flushed to the store), a new one starts. */
  async reboot(): Promise<void> {
    const core = this.core;
    if (!core || this.between) return;
    this.between = 'rebooting';
    await this.stopCore(core);
    this.restarts++;
    await this.start();
  }

  /** Whether the device is powered off (the power-loss fault). */
  get poweredOff(): boolean {
    return this.between === 'powered-off';
  }

  /**
   * Power loss: k3s is killed and the cluster interface goes down at once, then the core stops (nothing more is
   * sent). After `durationMs` (spec time; absent = until {@link powerOn}) the device boots from its checkpoint.
   */
  async powerOff(durationMs?: number): Promise<void> {
    const core = this.core;
    if (!core || this.between) return;
    this.between = 'powered-off';
    this.host?.powerOff();
    await this.stopCore(core);
    if (durationMs !== undefined) {
      const t = (this.powerTimer = new AbortController());
      this.ctx.clock.sleep(durationMs, t.signal).then(() => this.powerOn(), () => undefined);
    }
  }

  /** Power back after a power loss: the device boots from its checkpoint. */
  async powerOn(): Promise<void> {
    if (this.between !== 'powered-off' || this.closed) return;
    this.powerTimer?.abort();
    this.powerTimer = undefined;
    this.host?.powerOn();
    this.restarts++;
    await this.start();
  }

  /** Stops the core, flushing its queue; the keys stay in the store. Idempotent. */
  async stop(): Promise<void> {
    this.closed = true;
    this.powerTimer?.abort();
    if (this.core) await this.stopCore(this.core);
    this.between = undefined;
  }
}

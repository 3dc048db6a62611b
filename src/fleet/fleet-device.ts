/**
 * One simulated device of a fleet: the agent's DeviceCore (the same protocol object `edgesim agent` runs) over
 * this device's rows of the state store, soft keys kept there too, its own FaultSet, and the fleet's shared
 * transport, scheduler clock, observers and logger. A reboot (churn) stops the core, flushing its queue, and
 * starts a new one from the checkpoint, as a restarted `edgesim agent` does.
 */
import type { Clock, Logger } from '../common/index.js';
import { errorMessage, silentLogger } from '../common/index.js';
import {
  DeviceCore,
  FaultSet,
  faultyKeyStore,
  skewedClock,
  type AgentObservers,
  type AgentPhase,
  type ControllerClient,
  type DeviceConfigFolder,
  type TimerOverrides,
} from '../agent/index.js';
import { softKeyStoreOver, type DeviceIdentity, type KeyStore } from '../tpm/index.js';
import type { HardwareModel } from './profile.js';
import type { FleetStateStore } from './state-store.js';

/** Where a device is: not started yet (ramp), creating keys, the core's phase, or between two cores (reboot). */
export type FleetDevicePhase = 'pending' | 'provisioning' | 'rebooting' | AgentPhase;

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
}

export class FleetDevice {
  /** Faults of this device (profile, `fleet fault inject`); the core consults them where the failure happens. */
  readonly faults: FaultSet;
  private core: DeviceCore | undefined;
  private keys: KeyStore | undefined;
  private identity: DeviceIdentity | undefined;
  private between: 'pending' | 'provisioning' | 'rebooting' | undefined = 'pending';
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
      ...(this.hardware ? { deviceExtras: () => ({ ports: [], kubevirt: false, hardware: this.hardware }) } : {}),
    });
    this.core = core;
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

  /** Restarts from the checkpoint: the core stops (queue flushed to the store), a new one starts. */
  async reboot(): Promise<void> {
    const core = this.core;
    if (!core || this.between) return;
    this.between = 'rebooting';
    await core.stop();
    this.restarts++;
    await this.start();
  }

  /** Stops the core, flushing its queue; the keys stay in the store. Idempotent. */
  async stop(): Promise<void> {
    this.closed = true;
    await this.core?.stop();
    this.between = undefined;
  }
}

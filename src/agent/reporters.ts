/**
 * The device's own reports (EVE's zedagent reportinfo/metrics): ZInfoDevice through the info queue every
 * `timer.deviceinfo.interval` (uniform [0.8·T, 1.2·T]) and on change, and ZMetricMsg posted every
 * `timer.metric.interval` ([0.3·T, T]), fire-and-forget (eve-api.md §10).
 */
import { createHash } from 'node:crypto';
import os from 'node:os';
import type { Clock, Logger } from '../common/index.js';
import { errorMessage, jitter } from '../common/index.js';
import { info } from '../eve/index.js';
import type { KeyStore } from '../tpm/index.js';
import type { ConfigPoller } from './config-poller.js';
import type { ControllerApi } from './controller-api.js';
import type { ControllerSession } from './controller-session.js';
import type { AgentObservers } from './observers.js';
import { deviceInfoMessage, metricsMessage, type HardwareFigures } from './reports.js';

/** A network port as ZInfoDevice lists it. */
export interface DevicePort {
  ifname: string;
  label: string;
  addrs: string[];
  up: boolean;
}

/** What ZInfoDevice says beyond the core. */
export interface DeviceExtras {
  ports: DevicePort[];
  kubevirt: boolean;
  hardware?: HardwareFigures | undefined;
}

export interface ReportersContext {
  api: ControllerApi;
  clock: Clock;
  logger: Logger;
  signal: AbortSignal;
  session: ControllerSession;
  config: ConfigPoller;
  keys: KeyStore;
  observers: AgentObservers;
  publishInfo(key: string, msg: info.IZInfoMsg): Promise<void>;
  /** Ports and EVE-k capabilities beyond the core (an agent running k3s), a simulated hardware model (a fleet). */
  extras?: () => DeviceExtras;
}

export class Reporters {
  private readonly bootTimeMs: number;
  private lastDeviceInfoDigest = '';
  private readonly log: Logger;

  constructor(private readonly c: ReportersContext) {
    this.bootTimeMs = c.clock.now();
    this.log = c.logger.child({ component: 'agent' });
  }

  async deviceInfoLoop(): Promise<void> {
    while (!this.c.signal.aborted) {
      await this.c.clock.sleep(jitter(this.c.config.timers().deviceInfoMs, 0.8, 1.2), this.c.signal);
      await this.c.observers.pass('device-info', () => this.reportDeviceInfo(true));
    }
  }

  /** Queues ZInfoDevice when it changed (or always when `force`). */
  async reportDeviceInfo(force = false): Promise<void> {
    const uuid = this.c.api.deviceUuid;
    if (!uuid) return;
    const extras = this.c.extras?.() ?? { ports: [], kubevirt: false };
    const current = this.c.config.current;
    const msg = deviceInfoMessage(
      {
        deviceUuid: uuid,
        deviceName: current?.deviceName ?? '',
        bootTimeMs: this.bootTimeMs,
        hostname: current?.deviceName || os.hostname(),
        tpm: this.c.keys.kind === 'tpm',
        attestationState: this.c.session.integrityToken
          ? info.AttestationState.ATTESTATION_STATE_COMPLETE
          : info.AttestationState.ATTESTATION_STATE_NONCE_WAIT,
        ports: extras.ports,
        kubevirt: extras.kubevirt,
        hardware: extras.hardware,
      },
      this.c.clock.now(),
    );
    const digest = createHash('sha256').update(JSON.stringify({ ...msg.dinfo, bootTime: null })).digest('hex');
    if (!force && digest === this.lastDeviceInfoDigest) return;
    this.lastDeviceInfoDigest = digest;
    await this.c.publishInfo(uuid, msg);
  }

  async metricsLoop(): Promise<void> {
    const { signal } = this.c;
    while (!signal.aborted) {
      await this.c.clock.sleep(jitter(this.c.config.timers().metricMs, 0.3, 1), signal);
      const uuid = this.c.api.deviceUuid;
      if (!uuid) continue;
      try {
        const res = await this.c.api.postMetrics(metricsMessage(uuid, this.c.clock.now(), this.c.config.lastConfigAtMs), signal);
        if (res.status !== 201 && res.status !== 200) this.log.warn('metrics refused', { status: res.status });
      } catch (e) {
        if (signal.aborted) throw e;
        this.log.debug('metrics not sent', { error: errorMessage(e) }); // fire-and-forget (§10)
      }
    }
  }
}

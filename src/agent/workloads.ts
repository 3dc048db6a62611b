/**
 * What a device runs besides its protocol core: the cluster reconciler (k3s, membership, ZInfoClusterNode /
 * ZInfoKubeCluster) and the app reconciler on its Kubernetes (ZInfoApp, volumes, content trees), composed around
 * one {@link DeviceCore}. `edgesim agent` creates it with the real seams (a k3s process, the host's network);
 * `edgesim fleet` with in-process ones (src/inproc), which it passes in: this module never imports them.
 */
import type { Clock, Logger } from '../common/index.js';
import { deviceZCertHash } from '../eve/index.js';
import type { DeviceIdentity, KeyStore } from '../tpm/index.js';
import { AppReconciler, type AppStatus } from './apps/index.js';
import { ClusterReconciler, type ClusterReconcilerOptions } from './cluster/cluster-reconciler.js';
import type { ClusterStatus } from './cluster/cluster-status.js';
import { ClusterTokenDecryptor } from './cluster/cluster-token.js';
import type { DeviceCore } from './device-core.js';
import type { FaultSet } from './faults.js';
import type { ClusterOptions } from './options.js';
import type { DeviceConfig } from './parse-config.js';
import type { DeviceExtras } from './reporters.js';

/** Where the workloads run: k3s, the cluster interface, the status server, the bootstrap wait. @default the real ones */
export type WorkloadSeams = Pick<ClusterReconcilerOptions, 'k3s' | 'network' | 'startStatusServer' | 'waitForBootstrap'>;

/** The keys a CipherBlock is decrypted with: the device's ECDH key, the controller's certs and the device's own. */
export interface DeviceCipherParts {
  ecdhKey: KeyStore['ecdh'];
  controllerCertsByHashHex: Map<string, Buffer>;
  deviceCertsByHashHex: Map<string, Buffer>;
}

/** The cipher parts of a device now (the controller's certs change with /certs). */
export function deviceCipherParts(core: DeviceCore, keys: KeyStore, identity: DeviceIdentity): DeviceCipherParts {
  const own = deviceZCertHash(identity.ecdhCertPem).toString('hex');
  return {
    ecdhKey: keys.ecdh,
    controllerCertsByHashHex: core.api.certs?.certsByHashHex ?? new Map<string, Buffer>(),
    deviceCertsByHashHex: new Map([[own, identity.ecdhCertPem]]),
  };
}

export interface DeviceWorkloadsOptions {
  core: DeviceCore;
  keys: KeyStore;
  identity: DeviceIdentity;
  cluster: Omit<ClusterOptions, 'leaveK3sRunning'>;
  /** k3s data, drop-ins and the status file live under it. */
  stateDir: string;
  seams?: WorkloadSeams;
  faults: FaultSet;
  clock: Clock;
  logger: Logger;
}

/** The cluster and app reconcilers of one device. */
export class DeviceWorkloads {
  private constructor(
    readonly cluster: ClusterReconciler,
    readonly apps: AppReconciler,
  ) {}

  static create(o: DeviceWorkloadsOptions): DeviceWorkloads {
    const { core } = o;
    // The reconcilers' events go to the core's watch stream.
    const emit = (kind: string, message: string, fields?: Record<string, unknown>): void => {
      core.emit(kind, message, fields);
      // A cluster transition may change the ports and addresses ZInfoDevice carries: re-report on change.
      if (kind === 'cluster.phase') void core.reporters.reportDeviceInfo().catch(() => undefined);
    };
    const tokens = new ClusterTokenDecryptor(() => ({ ...deviceCipherParts(core, o.keys, o.identity), certSetKey: core.api.certs?.hashSetKey ?? '' }));
    const c = o.cluster;
    const cluster = new ClusterReconciler({
      stateDir: o.stateDir,
      launch: c.launch,
      ifaceMap: c.ifaceMap ?? {},
      singleNodeIp: c.singleNodeIp ?? '127.0.0.1',
      ...(c.statusPort !== undefined ? { statusPort: c.statusPort } : {}),
      ...(c.dryRun ? { dryRun: true } : {}),
      deviceUuid: () => core.api.deviceUuid,
      decryptToken: (v) => tokens.token(v, core.signal),
      publishInfo: (key, msg) => core.publishInfo(key, msg),
      emit,
      faults: o.faults,
      clock: o.clock,
      logger: o.logger,
      ...o.seams,
    });
    // Apps, volumes, content trees on the cluster (issue 6, src/agent/apps); its loops end with the core's stop signal.
    const apps = AppReconciler.create({
      cluster,
      deviceUuid: () => core.api.deviceUuid,
      publishInfo: (k, m) => core.publishInfo(k, m),
      emit,
      clock: o.clock,
      logger: o.logger,
      signal: core.signal,
    });
    return new DeviceWorkloads(cluster, apps);
  }

  /** Hands a config to both reconcilers, apps first (awaited by the config loop), as the agent always did. */
  async onConfig(cfg: DeviceConfig): Promise<void> {
    await this.apps.onConfig(cfg);
    // Not awaited: a join can wait for its bootstrap for minutes; the config loop must go on.
    void this.cluster.onConfig(cfg);
  }

  /** What ZInfoDevice carries of a device's workloads, `w` (none: no cluster port, not EVE-k). */
  static extrasOf(w: DeviceWorkloads | undefined): Pick<DeviceExtras, 'ports' | 'kubevirt'> {
    return w?.deviceExtras() ?? { ports: [], kubevirt: false };
  }

  /** What ZInfoDevice carries of the cluster: the cluster IP on its port (cluster.md §3, §7.9), EVE-k flags. */
  deviceExtras(): Pick<DeviceExtras, 'ports' | 'kubevirt'> {
    const port = this.cluster.status().port;
    return {
      ports: port ? [{ ifname: port.ifname, label: port.label, addrs: [port.address], up: true }] : [],
      kubevirt: true, // EVE-k reports hv_type_kubevirt and etcd_snapshot
    };
  }

  status(): { cluster: ClusterStatus; apps: AppStatus[] } {
    return { cluster: this.cluster.status(), apps: this.apps.status().apps };
  }

  /** Apps, then the cluster (k3s stopped unless `leaveK3sRunning`). */
  async stop(o: { leaveK3sRunning?: boolean } = {}): Promise<void> {
    await this.apps.stop();
    await this.cluster.stop({ leaveK3sRunning: o.leaveK3sRunning ?? false });
  }
}

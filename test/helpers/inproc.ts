/**
 * Devices of an in-process cluster for tests and benches: per device the agent's real ClusterReconciler and
 * AppReconciler, given the in-process seams of src/inproc (k3s from the stand-in's machinery in memory, network,
 * status server, bootstrap wait), and the info messages they publish. Configs are built as the controller would
 * send them (one cluster block per device, optional apps) and parsed by the agent's own parser.
 */
import { ClusterReconciler } from '../../src/agent/cluster/cluster-reconciler.js';
import { AppReconciler } from '../../src/agent/apps/index.js';
import { FaultSet } from '../../src/agent/faults.js';
import { parseDeviceConfig, type DeviceConfig } from '../../src/agent/parse-config.js';
import type { Clock, Logger } from '../../src/common/index.js';
import type { info } from '../../src/eve/index.js';
import { org } from '../../src/gen/eve.js';
import { inprocClusterSeams, type InprocClusterSeams } from '../../src/inproc/node.js';
import type { InprocSegment } from '../../src/inproc/segment.js';

/** One published info message. */
export interface Published {
  key: string;
  msg: info.IZInfoMsg;
  atMs: number;
}

/** One device of an in-process cluster. */
export interface InprocDevice {
  name: string;
  uuid: string;
  ip: string;
  cluster: ClusterReconciler;
  apps: AppReconciler;
  seams: InprocClusterSeams;
  /** The device's fault set (`edgesim ctl fault` acts on the same). */
  faults: FaultSet;
  published: Published[];
  /** Hands a config to both reconcilers, as the config poller does. */
  apply(cfg: DeviceConfig): void;
  /** Power loss: k3s dies at once, the agent with it (nothing released). */
  kill(): Promise<void>;
  /** Orderly stop. */
  stop(): Promise<void>;
}

/** A PREFERRED (or REQUIRED) app in proto field names. */
export interface InprocApp {
  uuid: string;
  name: string;
  designated: string;
  affinity?: 'preferred' | 'required';
}

/** What the cluster block of every member says. */
export interface InprocClusterSpec {
  clusterId: string;
  /** `a.b.c.` — member i gets `<net>(i+2)`, member 0 is the bootstrap (join server). */
  net: string;
  token: string;
  apps?: InprocApp[];
}

export const deviceUuid = (cluster: number, i: number): string =>
  `d0000000-0000-4000-8000-${cluster.toString(16).padStart(6, '0')}${i.toString(16).padStart(6, '0')}`;

/** The EdgeDevConfig a controller would send member `i` (version `version`), parsed by the agent's parser. */
export function memberConfig(spec: InprocClusterSpec, uuid: string, name: string, i: number, version: number): DeviceConfig {
  const wire = org.lfedge.eve.config.EdgeDevConfig.fromObject({
    id: { uuid, version: String(version) },
    device_name: name,
    cluster: {
      cluster_name: `c-${spec.clusterId.slice(0, 8)}`,
      cluster_id: spec.clusterId,
      cluster_interface: 'ethernet1',
      cluster_ip_prefix: `${spec.net}${i + 2}/24`,
      join_server_ip: `${spec.net}2`,
      is_worker_node: false,
      encrypted_cluster_token: { cipherContextId: 'ctx', cipherData: Buffer.from(spec.token) },
    },
    cipherContexts: [{ contextId: 'ctx' }],
    apps: (spec.apps ?? []).map((a) => ({
      uuidandversion: { uuid: a.uuid, version: '1' },
      displayname: a.name,
      activate: true,
      designated_node_id: a.designated,
      affinity: a.affinity === 'required' ? 'AFFINITY_TYPE_REQUIRED' : 'AFFINITY_TYPE_PREFERRED',
      fixedresources: { vcpus: 1, memory: 262144, maxmem: 262144 },
    })),
  });
  return parseDeviceConfig(wire);
}

/** Creates device `name` on `segment` (not configured yet). */
export function inprocDevice(segment: InprocSegment, o: { name: string; uuid: string; ip: string; clock: Clock; logger: Logger; podStartDelay?: string }): InprocDevice {
  const { clock } = o;
  const logger = o.logger.child({ device: o.name });
  const published: Published[] = [];
  const life = new AbortController();
  const host = segment.host(o.name);
  const seams = inprocClusterSeams({ host, clock, logger, extraConfig: { 'pod-start-delay': o.podStartDelay ?? '2s' } });
  const publishInfo = (key: string, msg: info.IZInfoMsg): Promise<void> => {
    if (!life.signal.aborted) published.push({ key, msg, atMs: clock.now() });
    return Promise.resolve();
  };
  const faults = new FaultSet(clock);
  const cluster = new ClusterReconciler({
    stateDir: `inproc://${o.name}`,
    launch: { bin: 'inproc', args: [], standin: true },
    ifaceMap: { ethernet1: 'eth1' },
    singleNodeIp: '127.0.0.1',
    deviceUuid: () => o.uuid,
    decryptToken: (v) => Promise.resolve({ token: v.cipherData.toString(), digest: `sha256:${v.cipherData.toString('hex').slice(0, 16)}` }),
    publishInfo,
    emit: () => undefined,
    faults,
    clock,
    logger,
    ...seams,
  });
  const apps = AppReconciler.create({ cluster, deviceUuid: () => o.uuid, publishInfo, emit: () => undefined, clock, logger, signal: life.signal });
  return {
    name: o.name,
    uuid: o.uuid,
    ip: o.ip,
    cluster,
    apps,
    seams,
    faults,
    published,
    apply(cfg) {
      void cluster.onConfig(cfg);
      void apps.onConfig(cfg);
    },
    async kill() {
      seams.k3s.member?.kill();
      void host.setLinkUp('eth1', false);
      life.abort();
      await Promise.all([apps.stop(), cluster.stop()]);
    },
    async stop() {
      life.abort();
      await apps.stop();
      await cluster.stop();
    },
  };
}

/** `n` members of one cluster on `segment`, configured at once (as a controller's cluster apply does). */
export function startInprocCluster(segment: InprocSegment, spec: InprocClusterSpec, n: number, o: { index: number; clock: Clock; logger: Logger; podStartDelay?: string }): InprocDevice[] {
  const devices: InprocDevice[] = [];
  for (let i = 0; i < n; i++) {
    const name = `c${o.index}-dev${i + 1}`;
    devices.push(inprocDevice(segment, { name, uuid: deviceUuid(o.index, i), ip: `${spec.net}${i + 2}`, clock: o.clock, logger: o.logger, ...(o.podStartDelay ? { podStartDelay: o.podStartDelay } : {}) }));
  }
  return devices;
}

/** Configures every member with the spec (version `version`). */
export function configureCluster(devices: InprocDevice[], spec: InprocClusterSpec, version: number): void {
  devices.forEach((d, i) => d.apply(memberConfig(spec, d.uuid, d.name, i, version)));
}

/**
 * The one place where the agent reads the wire config: EdgeDevConfig → plain typed config for the reconcilers
 * (lf-edge/eve: pkg/pillar/cmd/zedagent/parseconfig.go). Reconcilers and actions never see protobuf types.
 */
import { isIP } from 'node:net';
import type { org } from '../gen/eve.js';
import { isBootstrapNode } from '../k3s/index.js';

type EdgeDevConfig = org.lfedge.eve.config.IEdgeDevConfig;
type CipherBlock = org.lfedge.eve.common.ICipherBlock;
type CipherContext = org.lfedge.eve.common.ICipherContext;

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const NIL_UUID = '00000000-0000-0000-0000-000000000000';

/** The cipher context an encrypted value names, as plain data (eve-api CipherContext). */
export interface CipherContextData {
  contextId: string;
  hashScheme: number;
  keyExchangeScheme: number;
  encryptionScheme: number;
  deviceCertHash: Buffer;
  controllerCertHash: Buffer;
}

/**
 * An encrypted value (eve-api CipherBlock) with the one cipher context it names, as bytes and ids. Decrypted by
 * src/agent/cluster/cluster-token.ts; `context` is undefined when the config carries no context of that id.
 */
export interface EncryptedValue {
  contextId: string;
  initialValue: Buffer;
  cipherData: Buffer;
  clearTextSha256: Buffer;
  context: CipherContextData | undefined;
}

/** How this node takes part in its cluster. */
export type ClusterMemberRole = 'bootstrap' | 'server' | 'agent';

/** The valid cluster block of this node (cluster.md §2.1, §2.3). */
export interface EdgeNodeClusterConfig {
  clusterName: string;
  clusterId: string;
  /** Logical label of the cluster port (e.g. `ethernet1`). */
  clusterInterface: string;
  /** This node's cluster address and prefix length. */
  clusterIp: string;
  prefixLength: number;
  joinServerIp: string;
  /**
   * Decided here once (cluster.md §2.2): `bootstrap` when the own cluster IP equals join_server_ip (normalised
   * compare), else `agent` for is_worker_node (Simulator choice §4.6; ignored on the bootstrap), else `server`.
   */
  role: ClusterMemberRole;
  clusterType: number;
  tieBreakerNodeId: string;
  encryptedToken: EncryptedValue;
}

/** Outcome of parsing the cluster block; `invalid` is kept apart from a real removal (`absent`). */
export type ClusterParse =
  | { kind: 'absent' }
  | { kind: 'invalid'; field: string; reason: string }
  | { kind: 'valid'; config: EdgeNodeClusterConfig };

/** AppInstanceConfig as the app reconciler needs it. */
export interface AppConfig {
  uuid: string;
  version: string;
  displayName: string;
  activate: boolean;
  /** Empty → every node is designated (cluster.md §8). */
  designatedNodeId: string;
  /** AFFINITY_TYPE_REQUIRED (1) → 'required'; anything else → 'preferred'. */
  affinity: 'preferred' | 'required';
  purgeCounter: number;
  restartCounter: number;
  volumeRefs: string[];
  cpus: number;
  memoryKb: number;
}

export interface VolumeConfig {
  uuid: string;
  displayName: string;
  designatedNodeId: string;
  generationCount: number;
  contentTreeId: string;
  /** `maxsizebytes`: the size the volume's PVC asks for (0 when unset). */
  maxSizeBytes: number;
}

export interface ContentTreeConfig {
  uuid: string;
  displayName: string;
  designatedNodeId: string;
  /** True for container-format trees (local on every node). */
  isContainer: boolean;
}

/** Everything the agent acts on, in plain types. */
export interface DeviceConfig {
  deviceUuid: string;
  version: string;
  deviceName: string;
  controllerEpoch: number;
  controllerCertConfigHash: string;
  configItems: Map<string, string>;
  cluster: ClusterParse;
  apps: AppConfig[];
  volumes: VolumeConfig[];
  contentTrees: ContentTreeConfig[];
}

const buf = (b: Uint8Array | null | undefined): Buffer => Buffer.from(b ?? new Uint8Array());

function encryptedValue(block: CipherBlock, contexts: CipherContext[]): EncryptedValue {
  const id = block.cipherContextId ?? '';
  const ctx = contexts.find((c) => c.contextId === id);
  return {
    contextId: id,
    initialValue: buf(block.initialValue),
    cipherData: buf(block.cipherData),
    clearTextSha256: buf(block.clearTextSha256),
    context: ctx
      ? {
          contextId: id,
          hashScheme: Number(ctx.hashScheme ?? 0),
          keyExchangeScheme: Number(ctx.keyExchangeScheme ?? 0),
          encryptionScheme: Number(ctx.encryptionScheme ?? 0),
          deviceCertHash: buf(ctx.deviceCertHash),
          controllerCertHash: buf(ctx.controllerCertHash),
        }
      : undefined,
  };
}

function parseCluster(c: org.lfedge.eve.config.IEdgeNodeCluster | null | undefined, contexts: CipherContext[]): ClusterParse {
  if (!c) return { kind: 'absent' };
  const bad = (field: string, reason: string): ClusterParse => ({ kind: 'invalid', field: `cluster.${field}`, reason });
  const prefix = c.cluster_ip_prefix ?? '';
  const m = /^([^/]+)\/(\d{1,3})$/.exec(prefix);
  if (!m || !isIP(m[1]) || Number(m[2]) > (isIP(m[1]) === 4 ? 32 : 128)) {
    return bad('cluster_ip_prefix', `"${prefix}" is not an address with a prefix length (e.g. 10.244.244.2/24)`);
  }
  const join = c.join_server_ip ?? '';
  if (!isIP(join)) return bad('join_server_ip', `"${join}" is not an IP address`);
  if (!UUID_RE.test(c.cluster_id ?? '')) return bad('cluster_id', `"${c.cluster_id ?? ''}" is not a UUID`);
  if (c.tie_breaker_node_id && !UUID_RE.test(c.tie_breaker_node_id)) {
    return bad('tie_breaker_node_id', `"${c.tie_breaker_node_id}" is not a UUID`);
  }
  const block = c.encrypted_cluster_token;
  if (!block || !block.cipherContextId || !block.cipherData?.length) {
    return bad('encrypted_cluster_token', 'missing or incomplete cipher block');
  }
  if (!c.cluster_interface) return bad('cluster_interface', 'empty');
  const bootstrap = isBootstrapNode(m[1], join);
  return {
    kind: 'valid',
    config: {
      clusterName: c.cluster_name ?? '',
      clusterId: c.cluster_id!.toLowerCase(),
      clusterInterface: c.cluster_interface,
      clusterIp: m[1],
      prefixLength: Number(m[2]),
      joinServerIp: join,
      role: bootstrap ? 'bootstrap' : c.is_worker_node ? 'agent' : 'server',
      clusterType: c.cluster_type ?? 0,
      tieBreakerNodeId: (c.tie_breaker_node_id ?? '').toLowerCase(),
      encryptedToken: encryptedValue(block, contexts),
    },
  };
}

/** Turns a verified EdgeDevConfig into the agent's plain config. Never throws on content. */
export function parseDeviceConfig(cfg: EdgeDevConfig): DeviceConfig {
  const contexts = (cfg.cipherContexts ?? []).filter((c) => !!c.contextId);
  return {
    deviceUuid: cfg.id?.uuid ?? '',
    version: cfg.id?.version ?? '',
    deviceName: cfg.device_name ?? '',
    controllerEpoch: Number(cfg.controller_epoch ?? 0),
    controllerCertConfigHash: cfg.controllercert_confighash ?? '',
    configItems: new Map((cfg.configItems ?? []).map((i) => [i.key ?? '', i.value ?? ''])),
    cluster: parseCluster(cfg.cluster, contexts),
    apps: (cfg.apps ?? []).map((a) => ({
      uuid: a.uuidandversion?.uuid ?? '',
      version: a.uuidandversion?.version ?? '',
      displayName: a.displayname ?? '',
      activate: !!a.activate,
      designatedNodeId: (a.designated_node_id ?? '').toLowerCase(),
      affinity: Number(a.affinity ?? 0) === 1 ? 'required' : 'preferred', // AFFINITY_TYPE_REQUIRED
      purgeCounter: a.purge?.counter ?? 0,
      restartCounter: a.restart?.counter ?? 0,
      volumeRefs: (a.volumeRefList ?? []).map((v) => v.uuid ?? '').filter(Boolean),
      cpus: a.fixedresources?.vcpus ?? 0,
      memoryKb: a.fixedresources?.memory ?? 0,
    })),
    volumes: (cfg.volumes ?? []).map((v) => ({
      uuid: v.uuid ?? '',
      displayName: v.displayName ?? '',
      designatedNodeId: (v.designated_node_id ?? '').toLowerCase(),
      generationCount: Number(v.generationCount ?? 0),
      contentTreeId: v.origin?.downloadContentTreeID ?? '',
      maxSizeBytes: Number(v.maxsizebytes ?? 0),
    })),
    contentTrees: (cfg.contentInfo ?? []).map((t) => ({
      uuid: t.uuid ?? '',
      displayName: t.displayName ?? '',
      designatedNodeId: (t.designated_node_id ?? '').toLowerCase(),
      isContainer: Number(t.iformat ?? 0) === 8, // Format.CONTAINER
    })),
  };
}

/** Config-item timers (eve-api.md §13), in ms, with EVE's defaults and ranges. */
export function configTimers(items: Map<string, string>): { configMs: number; deviceInfoMs: number; metricMs: number } {
  const num = (key: string, def: number, min: number, max: number): number => {
    const v = Number(items.get(key));
    return Number.isFinite(v) && v >= min && v <= max ? v * 1000 : def * 1000;
  };
  return {
    configMs: num('timer.config.interval', 60, 5, 86400),
    deviceInfoMs: num('timer.deviceinfo.interval', 600, 30, 86400 * 365),
    metricMs: num('timer.metric.interval', 60, 5, 3600),
  };
}

/**
 * Edge-node clusters (cluster.md §2): one definition becomes an `EdgeNodeCluster` block in every member's
 * config. The block is the same for all members except `cluster_ip_prefix` (the member's own address) and
 * `encrypted_cluster_token`, encrypted per device against the ECDH cert it published with ATTEST_REQ_CERT
 * (cluster.md §2.2; cipher-and-tpm.md §3; `lf-edge/eve: pkg/pillar/evetest/clusterconfig.go`).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import net from 'node:net';
import { registerSecret } from '../common/index.js';
import { certs, config, encryptCipherBlock } from '../eve/index.js';
import { ControllerError } from './errors.js';
import type { ControllerPki } from './pki.js';
import type { ControllerStore, DeviceRecord } from './store.js';
import { currentConfig, storeDeviceConfig } from './device-config.js';

/** One member of a cluster definition. */
export interface ClusterMemberSpec {
  /** Device UUID, name or serial. */
  device: string;
  /** Cluster IP of this member; default: the prefix's network address + 2 + member index. */
  ip?: string;
  /** Worker (agent) instead of server node (cluster.md §4.6). @default false */
  isWorker?: boolean;
  /** Sets the member config's `device_name` (the k8s node name source) when given. */
  name?: string;
}

/** A cluster definition (`edgesim controller cluster apply -f cluster.yaml`). */
export interface ClusterSpec {
  name: string;
  /** Cluster UUID; default: the id of the stored cluster with this name, else a new UUIDv4. */
  id?: string;
  /** Logical label of the port carrying the cluster IP, e.g. `ethernet1`. */
  interface: string;
  /** Cluster network with prefix length, e.g. `10.244.244.0/24`. */
  prefix: string;
  members: ClusterMemberSpec[];
  /** The bootstrap member (device reference) whose IP becomes `join_server_ip`. @default the first member */
  joinServer?: string;
  /** `ClusterType` name or number. @default CLUSTER_TYPE_REPLICATED_STORAGE */
  type?: string | number;
  /** Device reference of the tie-breaker node (cluster.md §12); unset by default. */
  tieBreaker?: string;
  /** ECDH with the controller's encrypt cert (true) or its signing cert (false, Eden's pod default). @default true */
  useEncryptCert?: boolean;
  /**
   * Generate a new cluster token on this apply and send it to every member (k3s token rotation; the agents rewrite
   * their drop-ins and restart k3s). Not kept in the stored definition. @default false
   */
  rotateToken?: boolean;
}

/** What `applyCluster` did for each member. */
export interface ClusterApplyResult {
  id: string;
  name: string;
  members: { uuid: string; clusterIpPrefix: string; isWorker: boolean; configVersion: number }[];
  /** Former members (in the previous apply, not in this one) whose `cluster` block was removed. */
  removed: { uuid: string; configVersion: number }[];
}

/** What the store keeps per cluster: the definition as given and the member UUIDs it resolved to. */
interface StoredClusterSpec {
  definition: unknown;
  memberUuids: string[];
}

function bad(field: string, reason: string): ControllerError {
  return new ControllerError('INVALID_INPUT', `cluster: ${field}: ${reason}`, { field });
}

function ipv4ToInt(ip: string): number {
  return ip.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
}

function intToIpv4(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

interface CompiledClusterSpec {
  name: string;
  id: string | undefined;
  interface: string;
  prefix: string;
  members: ClusterMemberSpec[];
  joinServer: string | undefined;
  type: number;
  tieBreaker: string | undefined;
  useEncryptCert: boolean;
  rotateToken: boolean;
}

/** Validates the raw definition and fills defaults. */
function compileSpec(raw: unknown): CompiledClusterSpec {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw bad('(root)', 'must be an object');
  const s = raw as Record<string, unknown>;
  const known = new Set(['name', 'id', 'interface', 'prefix', 'members', 'joinServer', 'type', 'tieBreaker', 'useEncryptCert', 'rotateToken']);
  for (const k of Object.keys(s)) if (!known.has(k)) throw bad(k, 'unknown field');
  const str = (k: string, required: boolean): string | undefined => {
    const v = s[k];
    if (v === undefined && !required) return undefined;
    if (typeof v !== 'string' || v.length === 0) throw bad(k, 'must be a non-empty string');
    return v;
  };
  const name = str('name', true)!;
  const id = str('id', false);
  if (id !== undefined && !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) throw bad('id', 'must be a UUID');
  const iface = str('interface', true)!;
  const prefix = str('prefix', true)!;
  const pm = /^(\d+\.\d+\.\d+\.\d+)\/(\d{1,2})$/.exec(prefix);
  if (!pm || !net.isIPv4(pm[1]) || Number(pm[2]) > 30) throw bad('prefix', 'must be an IPv4 CIDR such as 10.244.244.0/24');
  if (!Array.isArray(s.members) || s.members.length === 0) throw bad('members', 'must be a non-empty list');
  const members = s.members.map((m: unknown, i): ClusterMemberSpec => {
    const f = `members[${i}]`;
    if (m === null || typeof m !== 'object') throw bad(f, 'must be an object');
    const r = m as Record<string, unknown>;
    for (const k of Object.keys(r)) if (!['device', 'ip', 'isWorker', 'name'].includes(k)) throw bad(`${f}.${k}`, 'unknown field');
    if (typeof r.device !== 'string' || !r.device) throw bad(`${f}.device`, 'must be a device UUID, name or serial');
    if (r.ip !== undefined && (typeof r.ip !== 'string' || !net.isIPv4(r.ip))) throw bad(`${f}.ip`, 'must be an IPv4 address');
    if (r.isWorker !== undefined && typeof r.isWorker !== 'boolean') throw bad(`${f}.isWorker`, 'must be true or false');
    if (r.name !== undefined && (typeof r.name !== 'string' || !r.name)) throw bad(`${f}.name`, 'must be a non-empty string');
    return {
      device: r.device,
      ...(r.ip !== undefined ? { ip: r.ip } : {}),
      ...(r.isWorker !== undefined ? { isWorker: r.isWorker } : {}),
      ...(r.name !== undefined ? { name: r.name } : {}),
    };
  });
  let type: number = config.ClusterType.CLUSTER_TYPE_REPLICATED_STORAGE;
  if (s.type !== undefined) {
    const t = typeof s.type === 'number' ? s.type : config.ClusterType[s.type as keyof typeof config.ClusterType];
    if (typeof t !== 'number' || config.ClusterType[t] === undefined) {
      throw bad('type', `must be one of ${Object.keys(config.ClusterType).filter((k) => Number.isNaN(Number(k))).join(', ')}`);
    }
    type = t;
  }
  if (s.useEncryptCert !== undefined && typeof s.useEncryptCert !== 'boolean') throw bad('useEncryptCert', 'must be true or false');
  if (s.rotateToken !== undefined && typeof s.rotateToken !== 'boolean') throw bad('rotateToken', 'must be true or false');
  return {
    rotateToken: s.rotateToken === true,
    name,
    id,
    interface: iface,
    prefix,
    members,
    joinServer: str('joinServer', false),
    type,
    tieBreaker: str('tieBreaker', false),
    useEncryptCert: (s.useEncryptCert) ?? true,
  };
}

function resolve(store: ControllerStore, ref: string, field: string): DeviceRecord {
  let d: DeviceRecord | undefined;
  try {
    d = store.findDevice(ref);
  } catch (e) {
    throw new ControllerError('CONFLICT', `cluster: ${field}: ${(e as Error).message}`, { field });
  }
  if (!d) throw new ControllerError('NOT_FOUND', `cluster: ${field}: no device "${ref}"`, { field });
  return d;
}

/**
 * Creates or updates a cluster and writes each member's config: the current config with `cluster`
 * replaced, the token's CipherContext added to `cipherContexts` (unless one with the same id exists),
 * optional `device_name`, and a new version. The token is generated once per cluster and kept (a new one with
 * `rotateToken`).
 * @throws ControllerError `INVALID_INPUT` (definition), `NOT_FOUND` (member), `STATE` (member without ECDH cert)
 */
export async function applyCluster(store: ControllerStore, pki: ControllerPki, raw: unknown): Promise<ClusterApplyResult> {
  const spec = compileSpec(raw);
  const [, netAddr, lenText] = /^(.+)\/(\d+)$/.exec(spec.prefix)!;
  const len = Number(lenText);
  const base = ipv4ToInt(netAddr) - (ipv4ToInt(netAddr) % 2 ** (32 - len));
  const inPrefix = (ip: string): boolean => ipv4ToInt(ip) - (ipv4ToInt(ip) % 2 ** (32 - len)) === base;

  const members = spec.members.map((m, i) => {
    const device = resolve(store, m.device, `members[${i}].device`);
    const ip = m.ip ?? intToIpv4(base + 2 + i);
    if (!inPrefix(ip)) throw bad(`members[${i}].ip`, `${ip} is outside ${spec.prefix}`);
    const ecdh = device.attestCerts.find((c) => c.type === (certs.ZCertType.CERT_TYPE_DEVICE_ECDH_EXCHANGE as number));
    if (!ecdh) {
      throw new ControllerError('STATE', `cluster: device ${device.uuid} has not published its ECDH cert (ATTEST_REQ_CERT) yet`, {
        field: `members[${i}].device`,
      });
    }
    return { spec: m, device, ip, ecdhPem: Buffer.from(ecdh.certB64, 'base64') };
  });
  const uuids = new Set<string>();
  for (const m of members) {
    if (uuids.has(m.device.uuid)) throw bad('members', `device ${m.device.uuid} is listed twice`);
    uuids.add(m.device.uuid);
  }
  const joinUuid = spec.joinServer === undefined ? members[0].device.uuid : resolve(store, spec.joinServer, 'joinServer').uuid;
  const join = members.find((m) => m.device.uuid === joinUuid);
  if (!join) throw bad('joinServer', 'must be one of the members');
  if (join.spec.isWorker) throw bad('joinServer', 'the bootstrap member cannot be a worker');
  const tieBreaker = spec.tieBreaker === undefined ? undefined : resolve(store, spec.tieBreaker, 'tieBreaker').uuid;

  // One read of the clusters (each read parses every stored definition: ~7 ms at 1,000 clusters).
  const clusters = store.listClusters();
  const id = spec.id ?? clusters.find((c) => c.name === spec.name)?.id ?? randomUUID();
  // A k3s token: opaque string; kept in SQLite (0600 data dir) and never logged.
  const previous = clusters.find((c) => c.id === id)?.spec as StoredClusterSpec | undefined;
  const definition = { ...(raw as Record<string, unknown>) };
  delete definition.rotateToken; // a request of this apply, not part of the cluster
  const stored: StoredClusterSpec = { definition, memberUuids: members.map((m) => m.device.uuid) };
  const rec = store.upsertCluster(id, spec.name, stored, () => randomBytes(32).toString('hex'), spec.rotateToken);
  registerSecret(rec.token);

  const ctlCert = spec.useEncryptCert ? pki.encrypt : pki.signing;
  const result: ClusterApplyResult = { id, name: spec.name, members: [], removed: [] };
  for (const m of members) {
    const enc = await encryptCipherBlock(
      { cluster_token: rec.token },
      { controllerCertPem: ctlCert.certPem, controllerEcdh: ctlCert.ecdh, deviceEcdhCertPem: m.ecdhPem },
    );
    const cur = currentConfig(store, m.device.uuid);
    const next: config.IEdgeDevConfig = cur ?? {};
    const contexts = (next.cipherContexts ?? []).filter((c) => c.contextId !== enc.context.contextId);
    next.cipherContexts = [...contexts, enc.context];
    next.cluster = {
      cluster_name: spec.name,
      cluster_id: id,
      cluster_interface: spec.interface,
      cluster_ip_prefix: `${m.ip}/${len}`,
      is_worker_node: m.spec.isWorker ?? false,
      join_server_ip: join.ip,
      encrypted_cluster_token: enc.block,
      cluster_type: spec.type as config.ClusterType,
      ...(tieBreaker ? { tie_breaker_node_id: tieBreaker } : {}),
      master_node_uuids: members.filter((x) => !x.spec.isWorker).map((x) => x.device.uuid),
    };
    if (m.spec.name) next.device_name = m.spec.name;
    const saved = storeDeviceConfig(store, pki, m.device.uuid, next);
    result.members.push({ uuid: m.device.uuid, clusterIpPrefix: `${m.ip}/${len}`, isWorker: m.spec.isWorker ?? false, configVersion: saved.version });
  }
  // A member dropped from the definition leaves: its block is removed, which EVE takes as the departure
  // signal and turns back into a single node (cluster.md §2.3, §5.5).
  for (const uuid of previous?.memberUuids ?? []) {
    if (uuids.has(uuid) || !store.getDevice(uuid)) continue;
    const cur = currentConfig(store, uuid);
    if (!cur?.cluster || cur.cluster.cluster_id !== id) continue;
    cur.cluster = null;
    result.removed.push({ uuid, configVersion: storeDeviceConfig(store, pki, uuid, cur).version });
  }
  return result;
}

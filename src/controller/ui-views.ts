/**
 * The dashboard's views as pure functions of what the store holds (decoded info messages, member configs, device
 * rows): no I/O, table-tested. Each view is built field by field, so no key, cert, nonce or token can slip through.
 */
import { leaderReport, listedReady, type KubeClusterNodeJson, type KubeClusterReport } from './kube-cluster-json.js';
import type { DeviceRecord, InfoRecord } from './store.js';
import type { AppRow, AppsView, ClusterNodeCard, ClusterView, InfoEvent, NodeSelfStatus, VolumeRow } from './ui-types.js';

/** The `cluster` block of a member's config (proto field names, as configToObject gives them). */
export interface MemberClusterBlock {
  cluster_id?: string;
  cluster_ip_prefix?: string;
  is_worker_node?: boolean;
  join_server_ip?: string;
  tie_breaker_node_id?: string;
}

/** What the cluster view needs of one member. */
export interface ClusterMemberInput {
  device: Pick<DeviceRecord, 'uuid' | 'name' | 'serial' | 'lastSeenAt'>;
  block: MemberClusterBlock | undefined;
  /** Its newest info of each ztype (ControllerStore.latestInfos). */
  latest: readonly InfoRecord[];
}


type Json = Record<string, unknown>;

function asObject(v: unknown): Json | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : undefined;
}

/** The info's content object (`cluster_node`, `cluster_info`, …), or undefined. */
function content(r: InfoRecord | undefined, key: string): Json | undefined {
  return r ? asObject(asObject(r.json)?.[key]) : undefined;
}

const text = (v: unknown, dflt: string): string => (typeof v === 'string' || typeof v === 'number' ? String(v) : dflt);

const stripPrefix = (v: unknown, prefix: string): string | null => (typeof v === 'string' ? v.replace(prefix, '') : null);

function selfStatus(latest: readonly InfoRecord[]): { status: NodeSelfStatus; at: number | null } {
  // The simulator sends ZInfoClusterNode as ztype ZiNop (README: simulator choice §7.7); accept any ztype carrying it.
  const r = [...latest].reverse().find((i) => content(i, 'cluster_node'));
  if (!r) return { status: 'NONE', at: null };
  const s = stripPrefix(content(r, 'cluster_node')?.node_status, 'Z_INFO_CLUSTER_NODE_STATUS_');
  const status: NodeSelfStatus = s === 'READY' || s === 'NOTREADY' || s === 'DOWN' ? s : 'UNKNOWN';
  return { status, at: r.receivedAt };
}

/**
 * The cluster view: a card per member with its self-report next to the leader's view (leaderReport: the member
 * whose ZInfoKubeCluster for this cluster arrived last).
 */
export function buildClusterView(now: number, id: string, name: string, members: readonly ClusterMemberInput[]): ClusterView {
  const reports = members.flatMap((m): KubeClusterReport<string>[] => {
    const r = m.latest.find((i) => content(i, 'cluster_info'));
    const c = content(r, 'cluster_info');
    return r && c ? [{ sender: m.device.uuid, receivedAt: r.receivedAt, cluster: c }] : [];
  });
  const report = leaderReport(reports, id);
  const leader = report && { uuid: report.sender, at: report.receivedAt, nodes: Array.isArray(report.cluster.nodes) ? report.cluster.nodes : [] };
  const nodes = members.map((m): ClusterNodeCard => {
    const ip = m.block?.cluster_ip_prefix ?? null;
    const bare = ip?.split('/')[0];
    const seen = leader?.nodes.find((n) => n.node_id === m.device.uuid || (bare !== undefined && n.internal_ip === bare));
    const self = selfStatus(m.latest);
    const upRec = m.latest.find((i) => content(i, 'cluster_update_info'));
    const up = content(upRec, 'cluster_update_info');
    const upErr = asObject(up?.error);
    return {
      uuid: m.device.uuid,
      name: m.device.name,
      serial: m.device.serial,
      role: m.block?.is_worker_node ? 'worker' : 'server',
      tieBreaker: m.block?.tie_breaker_node_id === m.device.uuid,
      joinServer: bare !== undefined && m.block?.join_server_ip === bare,
      clusterIp: ip,
      selfStatus: self.status,
      selfReportAt: self.at,
      leaderView: seen ? (listedReady(seen) ? 'Ready' : 'NotReady') : null,
      admission: stripPrefix(seen?.admission_status, 'NODE_ADMISSION_'),
      isLeader: leader?.uuid === m.device.uuid,
      lastSeenAt: m.device.lastSeenAt,
      update:
        up && upRec
          ? {
              status: stripPrefix(up.status, 'KUBE_COMP_UPDATE_STATUS_') ?? 'UNSPECIFIED',
              component: stripPrefix(up.component, 'KUBE_COMP_'),
              reason: typeof upErr?.description === 'string' ? upErr.description : null,
              at: upRec.receivedAt,
            }
          : null,
    };
  });
  return { now, id, name, leader: leader?.uuid ?? null, leaderReportAt: leader?.at ?? null, nodes };
}

/** What the apps view needs of one device: its config's apps and volumes and its ZiApp reports (oldest first). */
export interface AppsDeviceInput {
  uuid: string;
  displayName: string;
  cluster: string | null;
  /** `apps` of its config (proto field names). */
  apps: readonly Json[];
  /** `volumes` of its config. */
  volumes: readonly Json[];
  appInfos: readonly InfoRecord[];
}

/**
 * Per app (by UUID, merged over the configs that carry it): designated node and affinity from the config, and
 * from the newest ZiApp report of each device whether it runs the app there.
 */
export function buildAppsView(now: number, devices: readonly AppsDeviceInput[]): AppsView {
  const apps = new Map<string, AppRow>();
  const volumes = new Map<string, VolumeRow>();
  const nodeNames: Record<string, string> = {};
  for (const d of devices) {
    nodeNames[d.uuid] = d.displayName;
    for (const a of d.apps) {
      const uuid = asObject(a.uuidandversion)?.uuid;
      if (typeof uuid !== 'string' || apps.has(uuid)) continue;
      apps.set(uuid, {
        uuid,
        name: typeof a.displayname === 'string' ? a.displayname : uuid,
        cluster: d.cluster,
        designatedNode: typeof a.designated_node_id === 'string' && a.designated_node_id ? a.designated_node_id : null,
        affinity: stripPrefix(a.affinity, 'AFFINITY_TYPE_') ?? 'PREFERRED',
        runningOn: [],
        state: null,
        stateFrom: null,
        stateAt: null,
      });
    }
    for (const v of d.volumes) {
      if (typeof v.uuid !== 'string' || volumes.has(v.uuid)) continue;
      volumes.set(v.uuid, {
        uuid: v.uuid,
        name: typeof v.displayName === 'string' ? v.displayName : v.uuid,
        designatedNode: typeof v.designated_node_id === 'string' && v.designated_node_id ? v.designated_node_id : null,
      });
    }
  }
  for (const d of devices) {
    const newest = new Map<string, InfoRecord>();
    for (const r of d.appInfos) {
      const id = content(r, 'ainfo')?.AppID;
      if (typeof id === 'string') newest.set(id, r);
    }
    for (const [id, r] of newest) {
      const row = apps.get(id);
      const a = content(r, 'ainfo')!;
      if (!row) continue;
      if (a.cluster_app_running === true) row.runningOn.push(d.uuid);
      if (row.stateAt === null || r.receivedAt > row.stateAt) {
        row.state = typeof a.state === 'string' ? a.state : null;
        row.stateFrom = d.uuid;
        row.stateAt = r.receivedAt;
      }
    }
  }
  const byName = <T extends { name: string }>(a: T, b: T): number => a.name.localeCompare(b.name);
  return { now, nodeNames, apps: [...apps.values()].sort(byName), volumes: [...volumes.values()].sort(byName) };
}

const SUMMARY_MAX = 140;

function scalars(o: Json, limit: number): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(o)) {
    if (parts.length >= limit) break;
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') parts.push(`${k} ${String(v)}`);
  }
  return parts.join(', ');
}

/** A few key fields of one info message, as one line. */
export function summarizeInfo(r: InfoRecord): string {
  const msg = asObject(r.json) ?? {};
  const node = content(r, 'cluster_node');
  const kube = content(r, 'cluster_info');
  const up = content(r, 'cluster_update_info');
  const app = content(r, 'ainfo');
  let line: string;
  if (node) line = `node_status ${stripPrefix(node.node_status, 'Z_INFO_CLUSTER_NODE_STATUS_') ?? '?'}`;
  else if (kube) {
    const nodes = Array.isArray(kube.nodes) ? (kube.nodes as KubeClusterNodeJson[]) : [];
    const list = nodes.map((n) => `${n.name ?? '?'} ${n.conditions?.[0]?.set ? 'Ready' : 'NotReady'}`).join('; ');
    line = `cluster ${text(kube.cluster_id, '?').slice(0, 8)} · ${nodes.length} nodes: ${list}`;
  } else if (up) {
    const err = asObject(up.error)?.description;
    line = `${stripPrefix(up.component, 'KUBE_COMP_') ?? '?'} ${stripPrefix(up.status, 'KUBE_COMP_UPDATE_STATUS_') ?? '?'}${typeof err === 'string' ? `: ${err}` : ''}`;
  } else if (app) line = `${text(app.AppName, text(app.AppID, '?'))} ${text(app.state, '')} running ${app.cluster_app_running === true ? 'yes' : 'no'}`;
  else {
    const key = Object.keys(msg).find((k) => k !== 'ztype' && k !== 'devId' && k !== 'atTimeStamp' && asObject(msg[k]));
    line = key ? `${key}: ${scalars(asObject(msg[key])!, 4)}` : '';
  }
  return line.length > SUMMARY_MAX ? line.slice(0, SUMMARY_MAX - 1) + '…' : line;
}

/** The device timeline: its info messages, newest first. */
export function infoEvents(records: readonly InfoRecord[]): InfoEvent[] {
  return [...records].reverse().map((r) => ({ seq: r.seq, at: r.receivedAt, ztype: r.ztype, summary: summarizeInfo(r) }));
}

/**
 * What the controller has received from the scenario's nodes (ZInfoClusterNode, ZInfoKubeCluster, ZInfoApp,
 * ZInfoDevice), fetched incrementally, and the pure checks of expectations and invariants over it. Times are the
 * controller's receive times (epoch ms, the same machine's clock as the runner's).
 */
import { leaderReport, listedReady, type ControllerAdminClient, type KubeClusterJson, type KubeClusterReport } from '../controller/index.js';
import { infoIdentityOfJson } from '../eve/index.js';
import { InfoLedger } from './info-ledger.js';
import type { Expectation } from './spec.js';

/** One ZInfoKubeCluster: `sender` is the node index, `receivedAt` the controller's receive time. */
export interface KubeView extends KubeClusterReport<number> {
  /** When the sender made the report (ZInfoMsg atTimeStamp): a queued report delivered late keeps its time. */
  madeAt: number;
  /** The cluster the report is about (the nil UUID from a single node). */
  clusterId: string;
  /** Ready condition by device UUID as the sender's ZInfoKubeCluster lists it. */
  ready: Map<string, boolean>;
}

export interface AppView {
  at: number;
  running: boolean;
}

export interface NodeObservation {
  seq: number;
  statuses: Array<{ value: string; at: number }>;
  apps: Map<string, AppView>;
  /** Addresses of the cluster port in the latest ZInfoDevice (empty: no cluster port). */
  clusterAddrs?: { addrs: string[]; at: number };
}

/** The scenario's side of each node: what it did to it, for the checks. */
export interface NodeFacts {
  uuid: string;
  /** The cluster IP it was given (undefined once turned single or before the cluster). */
  clusterIp: string | undefined;
  /** Killed and not restarted, or partitioned and not healed: its last reports are stale. */
  down: boolean;
  /** Its reports before this time are stale (restart). */
  freshSinceMs: number;
  /** Its cluster status reports before this time are stale (k3s restarted with a rotated token: it reports again). */
  statusFreshSinceMs?: number;
}

export class Observation {
  readonly nodes: NodeObservation[];
  readonly kube: KubeView[] = [];
  /** What each node produced (the runner fills it) and what the controller stored (filled here): `no-info-lost`. */
  readonly infos: InfoLedger;

  constructor(n: number) {
    this.nodes = Array.from({ length: n }, () => ({ seq: 0, statuses: [], apps: new Map<string, AppView>() }));
    this.infos = new InfoLedger(n);
  }

  /** Fetches what arrived since the last call (errors — the controller stopped — leave it as it was). */
  async refresh(admin: ControllerAdminClient | undefined, uuids: string[], clusterIfname = 'ethernet1'): Promise<void> {
    if (!admin) return;
    await Promise.all(
      uuids.map(async (uuid, i) => {
        const o = this.nodes[i];
        const items = await admin.info(uuid, { after: o.seq }).catch(() => []);
        for (const item of items) {
          o.seq = Math.max(o.seq, item.seq);
          this.ingest(i, item.info as Record<string, unknown>, item.receivedAt, clusterIfname, madeAt(item.info));
        }
      }),
    );
  }

  /** Adds one ZInfoMsg (protojson field names) of node `i`. */
  ingest(i: number, m: Record<string, unknown>, at: number, clusterIfname = 'ethernet1', made = at): void {
    const o = this.nodes[i];
    this.infos.store(i, infoIdentityOfJson(m));
    const status = (m.cluster_node as { node_status?: string } | undefined)?.node_status;
    if (status !== undefined) o.statuses.push({ value: status.replace('Z_INFO_CLUSTER_NODE_STATUS_', ''), at });
    const kube = m.cluster_info as KubeClusterJson | undefined;
    if (kube?.nodes) {
      const ready = new Map<string, boolean>();
      for (const n of kube.nodes) {
        if (n.node_id) ready.set(n.node_id, listedReady(n));
      }
      this.kube.push({ sender: i, receivedAt: at, cluster: kube, madeAt: made, clusterId: kube.cluster_id ?? NIL_UUID, ready });
    }
    const a = m.ainfo as { AppID?: string; state?: string; cluster_app_running?: boolean } | undefined;
    if (a?.AppID) o.apps.set(a.AppID, { at, running: a.state === 'RUNNING' && a.cluster_app_running === true });
    const d = m.dinfo as { systemAdapter?: { status?: Array<{ ports?: Array<{ name?: string; IPAddrs?: string[] }> }> } } | undefined;
    if (d) {
      const ports = d.systemAdapter?.status?.[0]?.ports ?? [];
      o.clusterAddrs = { addrs: ports.filter((p) => p.name === clusterIfname).flatMap((p) => p.IPAddrs ?? []), at };
    }
  }

  latestStatus(i: number): string | undefined {
    return this.nodes[i].statuses.at(-1)?.value;
  }

  /** Live nodes whose latest fresh report says `app` runs (cluster_app_running). */
  runningOn(appUuid: string, facts: NodeFacts[]): number[] {
    const out: number[] = [];
    this.nodes.forEach((o, i) => {
      const a = o.apps.get(appUuid);
      if (a?.running && !facts[i].down && a.at >= facts[i].freshSinceMs) out.push(i);
    });
    return out;
  }
}

/** The outcome of one check: held, and what was seen (for the report). */
export interface CheckResult {
  held: boolean;
  seen: string;
}

const dev = (i: number): string => `dev${i + 1}`;
const NIL_UUID = '00000000-0000-0000-0000-000000000000';

/** A ZInfoMsg's `atTimeStamp` ({seconds, nanos} as the controller stores it) in epoch ms, when present. */
function madeAt(m: unknown): number | undefined {
  const t = (m as { atTimeStamp?: { seconds?: string | number; nanos?: number } } | undefined)?.atTimeStamp;
  if (t?.seconds === undefined) return undefined;
  const ms = Number(t.seconds) * 1000 + (t.nanos ?? 0) / 1e6;
  return Number.isFinite(ms) ? ms : undefined;
}

/**
 * Whether `e` holds in `obs` for reports received since `sinceMs` (the expectation's start): a status or leader view
 * reported since then, or the current state for the app, readiness and address checks.
 */
export function checkExpectation(e: Expectation, obs: Observation, facts: NodeFacts[], sinceMs: number, appUuid: (name: string) => string): CheckResult {
  switch (e.kind) {
    case 'node-status': {
      const latest = obs.latestStatus(e.node);
      const seenSince = obs.nodes[e.node].statuses.some((s) => s.at >= sinceMs && s.value === e.status);
      return { held: seenSince || latest === (e.status), seen: `${dev(e.node)} latest ${latest ?? 'none'}` };
    }
    case 'leader-sees': {
      const uuid = facts[e.node].uuid;
      const views = obs.kube.filter((k) => k.receivedAt >= sinceMs && k.ready.has(uuid) && !facts[k.sender].down);
      const hit = views.find((k) => k.ready.get(uuid) === e.ready);
      const last = views.at(-1);
      return {
        held: hit !== undefined,
        seen: hit ? `${dev(hit.sender)} lists ${dev(e.node)} ${e.ready ? 'Ready' : 'NotReady'}` : last ? `${dev(last.sender)} lists ${dev(e.node)} ${last.ready.get(uuid) ? 'Ready' : 'NotReady'}` : 'no ZInfoKubeCluster since the step',
      };
    }
    case 'app-running': {
      const on = obs.runningOn(appUuid(e.app), facts);
      const held = on.length === 1 && (e.on === undefined || on[0] === e.on) && (e.notOn === undefined || on[0] !== e.notOn);
      return { held, seen: on.length ? `running on ${on.map(dev).join(', ')}` : 'reported running by no node' };
    }
    case 'all-ready':
      return allReady(obs, facts);
    case 'cluster-address': {
      const a = obs.nodes[e.node].clusterAddrs;
      const has = (a?.addrs.length ?? 0) > 0;
      return { held: has === e.present && (!e.present || a!.addrs.some((x) => x.split('/')[0] === facts[e.node].clusterIp)), seen: `${dev(e.node)} cluster port ${has ? a!.addrs.join(',') : 'none'}` };
    }
  }
}

/**
 * Every clustered node reports READY (a report since its last restart or heal) and the newest ZInfoKubeCluster of a
 * live leader lists each of them Ready. The leader sends only when its view changes: a member back within the
 * node-monitor grace was never NotReady to it, so no view newer than that restart comes, and the newest one is right.
 */
export function allReady(obs: Observation, facts: NodeFacts[]): CheckResult {
  const members = facts.map((f, i) => ({ f, i })).filter((x) => x.f.clusterIp !== undefined);
  const since = (i: number): number => Math.max(facts[i].freshSinceMs, facts[i].statusFreshSinceMs ?? 0);
  const fresh = (i: number): string | undefined => {
    const last = obs.nodes[i].statuses.at(-1);
    return last && last.at >= since(i) ? last.value : undefined;
  };
  const notReady = members.filter((x) => x.f.down || fresh(x.i) !== 'READY');
  const views = obs.kube.filter((k) => !facts[k.sender].down && k.receivedAt >= facts[k.sender].freshSinceMs);
  const leader = leaderReport(views);
  const unlisted = members.filter((x) => leader?.ready.get(x.f.uuid) !== true);
  if (notReady.length === 0 && unlisted.length === 0) return { held: true, seen: `${members.length} nodes READY, all Ready in the leader's view` };
  const parts: string[] = [];
  if (notReady.length) parts.push(`not READY: ${notReady.map((x) => `${dev(x.i)} (${x.f.down ? 'down' : (fresh(x.i) ?? 'no report since its restart')})`).join(', ')}`);
  if (unlisted.length) parts.push(`not Ready in the leader's view: ${unlisted.map((x) => dev(x.i)).join(', ')}`);
  return { held: false, seen: parts.join('; ') };
}

/** `one-reporter-per-app`: the apps more than one live node reports running, with those nodes. */
export function doubleReporters(obs: Observation, facts: NodeFacts[], apps: Map<string, string>): string[] {
  const out: string[] = [];
  for (const [name, uuid] of apps) {
    const on = obs.runningOn(uuid, facts);
    if (on.length > 1) out.push(`app ${name} reported running by ${on.map(dev).join(' and ')}`);
  }
  return out;
}

/**
 * `one-leader`: pairs of live nodes that both act as the kube-stats leader — their ZInfoKubeCluster reports about a
 * cluster, in the order they were made, alternate (A, B, A, B: each went on after the other began) within the window
 * ending at `nowMs`. A handover (A stops, B starts) gives two runs. Creation time, not receive time: a killed leader's
 * queued report goes out after its restart but was made before the new leader began. A single node's nil-UUID report
 * is not a leader's.
 */
export function concurrentLeaders(obs: Observation, facts: NodeFacts[], nowMs: number, windowMs: number): string[] {
  const recent = obs.kube.filter(
    (k) => k.clusterId !== NIL_UUID && k.madeAt >= nowMs - windowMs && !facts[k.sender].down && k.madeAt >= facts[k.sender].freshSinceMs,
  ).sort((x, y) => x.madeAt - y.madeAt);
  const out: string[] = [];
  const senders = [...new Set(recent.map((k) => k.sender))].sort((a, b) => a - b);
  for (const a of senders) {
    for (const b of senders) {
      if (b <= a) continue;
      // The senders a and b in receive order with runs collapsed: 4 or more runs = both kept reporting.
      const runs = recent.filter((k) => k.sender === a || k.sender === b).reduce<number[]>((acc, k) => (acc.at(-1) === k.sender ? acc : [...acc, k.sender]), []);
      if (runs.length >= 4) out.push(`${dev(a)} and ${dev(b)} both report ZInfoKubeCluster as leader`);
    }
  }
  return out;
}

/** `no-stale-cluster-address`: nodes whose latest ZInfoDevice carries a cluster address that is not theirs (now). */
export function staleAddresses(obs: Observation, facts: NodeFacts[]): string[] {
  const out: string[] = [];
  obs.nodes.forEach((o, i) => {
    const a = o.clusterAddrs;
    if (!a || facts[i].down || a.at < facts[i].freshSinceMs) return;
    const wrong = a.addrs.filter((x) => x.split('/')[0] !== facts[i].clusterIp);
    if (wrong.length) out.push(`${dev(i)} reports cluster address ${wrong.join(',')} (assigned: ${facts[i].clusterIp ?? 'none'})`);
  });
  return out;
}

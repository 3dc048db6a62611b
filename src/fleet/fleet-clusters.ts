/**
 * Edge-node clusters inside a fleet (issue 13). Every device may run the agent's workloads (cluster and app
 * reconcilers, src/agent/workloads.ts) on in-process k3s (src/inproc) with its cluster interface on the fleet's one
 * in-memory segment (never a real interface). The profile's cluster groups are planned here — which serials form
 * which cluster, its cluster network and apps, a pure function of the serials — and, once every member of a
 * cluster runs (onboarded and attested, so its ECDH cert is published), asked of the controller: through the
 * embedded controller's admin API (`cluster apply`, then the apps in each member's config), or, for another
 * controller, written to a YAML file of what it must be given.
 */
import { createHash } from 'node:crypto';
import { stringify } from 'yaml';
import type { Logger } from '../common/index.js';
import { errorMessage } from '../common/index.js';
import { writeFileAtomic } from '../common/atomic-file.js';
import { appConfigJson, type ControllerAdminClient, type ClusterSpec } from '../controller/index.js';
import { inprocClusterSeams } from '../inproc/node.js';
import { InprocSegment } from '../inproc/segment.js';
import type { DeviceHost, FleetWorkloads } from './fleet-device.js';
import { ProfileError, type ClusterGroup, type ProfileApp } from './profile.js';
import type { SchedulerClock } from './scheduler-clock.js';
import type { Shard } from './shard.js';
import type { FleetStateStore } from './state-store.js';

/** The logical label of the cluster port and the in-memory interface it maps to. */
const CLUSTER_PORT = 'ethernet1';
const CLUSTER_IFNAME = 'eth1';
/** Cluster j's network: 10.<j/256>.<j%256>.0/24, so every cluster of a fleet has its own. */
const MAX_CLUSTERS = 65_536;

/** One cluster of the profile, as this process forms it. */
export interface PlannedCluster {
  /** Controller-side name: `<serial prefix>cluster-<index>`. */
  name: string;
  /** Index over all cluster groups of the whole fleet (all shards). */
  index: number;
  /** The cluster network, e.g. `10.0.7.0/24`. */
  prefix: string;
  /** Member serials; the first is the bootstrap server, workers and the tie-breaker are the last ones. */
  members: string[];
  workers: number;
  tieBreaker: boolean;
  apps: ProfileApp[];
}

/**
 * Which serials of this shard form which cluster. Cluster j (counted over the groups in order) belongs to shard
 * j mod n, so every cluster lives in one process (one segment); within a shard, clusters take its serials in
 * order. Throws when the shard has too few devices.
 */
export function planClusters(o: { serials: readonly string[]; groups: readonly ClusterGroup[]; shard: Shard; serialPrefix: string }): PlannedCluster[] {
  const out: PlannedCluster[] = [];
  let index = 0;
  let at = 0;
  for (const g of o.groups) {
    for (let k = 0; k < g.count; k++, index++) {
      if (index % o.shard.count !== o.shard.index) continue;
      if (index >= MAX_CLUSTERS) throw new ProfileError(`profile clusters: more than ${MAX_CLUSTERS} clusters in one fleet`);
      out.push({
        name: `${o.serialPrefix}cluster-${index}`,
        index,
        prefix: `10.${Math.floor(index / 256)}.${index % 256}.0/24`,
        members: o.serials.slice(at, at + g.size),
        workers: g.workers,
        tieBreaker: g.tieBreaker,
        apps: g.apps,
      });
      at += g.size;
    }
  }
  if (at > o.serials.length) {
    throw new ProfileError(
      `profile clusters: the clusters of shard ${o.shard.index}/${o.shard.count} need ${at} devices, it has ${o.serials.length} (raise --count)`,
    );
  }
  return out;
}

/** A UUID derived from `text` (the same app keeps its UUID across runs and fleet restarts). */
function stableUuid(text: string): string {
  const h = createHash('sha256').update(text).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${((parseInt(h[16], 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** What the controller must be given for cluster `c` with member UUIDs `uuids`: the definition and each member's apps. */
export interface ClusterRequest {
  definition: ClusterSpec;
  /** AppInstanceConfigs (protojson field names) for every member's config. */
  apps: Record<string, unknown>[];
}

/** The cluster apply definition and the apps of `c`; apps go round-robin to the server members (not the tie-breaker). */
export function clusterRequest(c: PlannedCluster, uuids: readonly string[]): ClusterRequest {
  const n = uuids.length;
  const tie = (i: number): boolean => c.tieBreaker && i === n - 1;
  const isWorker = (i: number): boolean => !tie(i) && i >= n - (c.tieBreaker ? 1 : 0) - c.workers;
  const servers = uuids.filter((_, i) => !isWorker(i) && !tie(i));
  return {
    definition: {
      name: c.name,
      interface: CLUSTER_PORT,
      prefix: c.prefix,
      members: uuids.map((device, i) => ({ device, ...(isWorker(i) ? { isWorker: true } : {}) })),
      ...(c.tieBreaker ? { tieBreaker: uuids[n - 1] } : {}),
    },
    apps: c.apps.map((a, i) => appConfigJson({ uuid: stableUuid(`${c.name}/${a.name}`), name: `${a.name}-${c.index}` }, servers[i % servers.length], a.affinity)),
  };
}

/** Where the fleet's clusters are asked for. */
export type ClusterTarget = { kind: 'admin'; admin: ControllerAdminClient } | { kind: 'file'; path: string };

/** Options of {@link FleetClusters}. */
export interface FleetClustersOptions {
  plans: PlannedCluster[];
  target: ClusterTarget;
  state: FleetStateStore;
  /** The UUID of a device once it runs (onboarded and attested), else undefined. */
  runningUuid: (serial: string) => string | undefined;
  clock: SchedulerClock;
  logger: Logger;
  /** Extra k3s config values for every in-process k3s (e.g. `{ 'pod-start-delay': '1s' }`). */
  extraConfig?: Record<string, string | string[]>;
}

/** Cluster counts for the live view and `fleet status`. */
export interface FleetClusterCounts {
  planned: number;
  /** Asked of the controller (applied through its admin API, or written to the file). */
  requested: number;
  failed: number;
}

/** The fleet's segment and the profile's clusters, asked for as their members come up. */
export class FleetClusters {
  private readonly segment = new InprocSegment();
  private readonly log: Logger;
  private readonly requested = new Map<string, ClusterRequest>();
  private failures = 0;
  private readonly stopCtl = new AbortController();
  private loop: Promise<void> | undefined;

  constructor(private readonly o: FleetClustersOptions) {
    this.log = o.logger.child({ component: 'fleet.clusters' });
  }

  /** What every device gets: in-process k3s with its cluster interface on the fleet's segment. */
  workloads(): FleetWorkloads {
    const { clock, logger } = this.o;
    return {
      cluster: { launch: { bin: 'inproc', args: [], standin: true }, ifaceMap: { [CLUSTER_PORT]: CLUSTER_IFNAME } },
      host: (serial): DeviceHost => {
        const host = this.segment.host(serial);
        const seams = inprocClusterSeams({ host, clock, logger: logger.child({ node: serial }), ...(this.o.extraConfig ? { extraConfig: this.o.extraConfig } : {}) });
        return {
          seams,
          powerOff: () => {
            seams.k3s.member?.kill();
            void host.setLinkUp(CLUSTER_IFNAME, false);
          },
          powerOn: () => void host.setLinkUp(CLUSTER_IFNAME, true),
        };
      },
    };
  }

  counts(): FleetClusterCounts {
    return { planned: this.o.plans.length, requested: this.requested.size, failed: this.failures };
  }

  /** Asks for each planned cluster once all its members run (every real second, until every one is asked). */
  start(): void {
    if (this.o.plans.length === 0) return;
    for (const p of this.o.plans) {
      const done = this.o.state.meta(`cluster/${p.name}`);
      if (done) this.requested.set(p.name, JSON.parse(done) as ClusterRequest);
    }
    if (this.requested.size) this.log.info('clusters asked for by an earlier run', { clusters: this.requested.size });
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    const signal = this.stopCtl.signal;
    while (!signal.aborted && this.requested.size < this.o.plans.length) {
      const ready: { plan: PlannedCluster; uuids: string[] }[] = [];
      for (const plan of this.o.plans) {
        if (this.requested.has(plan.name)) continue;
        const uuids = plan.members.map((s) => this.o.runningUuid(s));
        if (uuids.every((u) => u !== undefined)) ready.push({ plan, uuids: uuids });
      }
      if (ready.length) await this.request(ready, signal);
      await this.o.clock.sleepReal(1_000, signal).catch(() => undefined);
    }
  }

  private async request(ready: { plan: PlannedCluster; uuids: string[] }[], signal: AbortSignal): Promise<void> {
    const t = this.o.target;
    if (t.kind === 'file') {
      for (const r of ready) this.record(r.plan, clusterRequest(r.plan, r.uuids));
      const all = this.o.plans.filter((p) => this.requested.has(p.name)).map((p) => ({ ...this.requested.get(p.name)!, members: p.members }));
      await writeFileAtomic(t.path, stringify({ clusters: all }), { mode: 0o600 });
      this.log.warn('clusters written for the controller to apply', { file: t.path, clusters: all.length, planned: this.o.plans.length });
      return;
    }
    // A few at once: each apply encrypts and signs every member's config at the controller.
    const queue = [...ready];
    const worker = async (): Promise<void> => {
      for (let r = queue.shift(); r && !signal.aborted; r = queue.shift()) {
        try {
          await this.apply(t.admin, r.plan, r.uuids, signal);
        } catch (e) {
          if (signal.aborted) return;
          this.failures++;
          this.log.warn('cluster apply failed (retried)', { cluster: r.plan.name, error: errorMessage(e) });
        }
      }
    };
    await Promise.all(Array.from({ length: 4 }, worker));
  }

  /** `cluster apply` at the embedded controller, then the apps into each member's config (kept: the rest of it). */
  private async apply(admin: ControllerAdminClient, plan: PlannedCluster, uuids: string[], signal: AbortSignal): Promise<void> {
    const req = clusterRequest(plan, uuids);
    const r = await admin.applyCluster(req.definition, signal);
    if (req.apps.length) {
      for (const uuid of uuids) {
        const cur = (await admin.getConfig(uuid, signal)).config;
        await admin.setConfig(uuid, { ...cur, apps: req.apps }, signal);
      }
    }
    this.record(plan, req);
    this.log.info('cluster applied', { cluster: plan.name, id: r.id, members: uuids.length, apps: req.apps.length });
  }

  private record(plan: PlannedCluster, req: ClusterRequest): void {
    this.requested.set(plan.name, req);
    this.o.state.setMeta(`cluster/${plan.name}`, JSON.stringify(req));
  }

  async stop(): Promise<void> {
    this.stopCtl.abort();
    await this.loop;
  }
}

/**
 * The app reconciler (the cluster roles of EVE's zedmanager, domainmgr's kubevirt hypervisor and zedkube's app
 * loops; cluster.md §7.5, §7.6, §8–§11): places each configured app as a ReplicaSet in `eve-kube-app`, watches
 * where its pod runs, fails over behind the partition-safety gate and reports ZInfoApp / ZInfoVolume /
 * ZInfoContentTree under EVE's reporting rules.
 *
 * Two loops on every node:
 * - app pass, every 10 s: list pods and nodes once, then per app — the designated node (and a node hosting the pod)
 *   creates, scales, repairs the affinity of, or purges the ReplicaSet; the node a failed-over pod landed on
 *   writes the old pod off only when its node is lost (§10); the node hosting the pod restarts it on a restart
 *   counter change; then the §7.5 gate decides whether this node reports the app.
 * - storage pass, every 2 s: content-tree "downloads" and volume creation — the designated node's PVC (§8) —
 *   reported on change; PVCs of volumes that left the config are deleted by the node that made them.
 */
import type { V1ReplicaSet } from '@kubernetes/client-node';
import type { Clock, Logger } from '../../common/index.js';
import { errorMessage, isAbortError } from '../../common/index.js';
import { info } from '../../eve/index.js';
import {
  appKubeName,
  appKubeNameWithPurge,
  isKubeError,
  LABEL_NODE_UUID,
  type KubeClient,
  type KubeNodeStatus,
  type KubePodStatus,
} from '../../k3s/index.js';
import type { AppConfig, DeviceConfig, VolumeConfig } from '../parse-config.js';
import { appInfo, appInfoDigest, appInfoMessage, appSwState, decideAppReport } from './app-report.js';
import { apiUnreachable, observeApp, partitionSafe, type AppKubeStatus, type AppObservation } from './app-status.js';
import {
  contentTreeInfoMessage,
  contentTreeStatus,
  isDesignated,
  STORAGE_CLASS,
  STORAGE_CLASS_TIE_BREAKER,
  volumeInfoMessage,
  volumePvc,
  volumePvcName,
  volumeStatus,
  type ContentTreeStatus,
  type VolumeStatus,
} from './storage.js';
import { appReplicaSet, LABEL_APP_UUID, workloadUpdate } from './workload.js';
import { applyDeparture, withoutRetained, type Retained } from './departure.js';

/** App status / failover / affinity-repair loop (cluster.md §14, zedkube.go `logcollectInterval`). */
export const APP_LOOP_MS = 10_000;
/** Pod lists failing this long → `APIUnreachable` (zedkube/applogs.go `handleKubeAPIError`). */
export const APP_API_DOWN_MS = 120_000;
/**
 * Simulator choice: for 60 s after the pods or node readiness changed, the app pass runs every 2 s (the kubelet's
 * status frequency) instead of 10 s, so a failed-over pod is noticed as soon as it runs, as a watch would.
 */
const SETTLING_LOOP_MS = 2_000;
const SETTLING_WINDOW_MS = 60_000;
/** Storage pass (simulated download progress granularity). */
const STORAGE_TICK_MS = 2_000;
/** Label on the tie-breaker node (cluster.md §12): PVCs then use the 2-replica storage class. */
const TIE_BREAKER_SELECTOR = 'tie-breaker-node=true';
/** Default simulated download time of a local content tree, spec ms. */
export const DEFAULT_DOWNLOAD_MS = 10_000;

/** The part of the cluster reconciler the apps need (ClusterReconciler satisfies it). */
export interface AppClusterView {
  /** `nodeName` = this node's k8s name; `role` 'none' while no k3s runs. */
  status(): { nodeName: string; role: string };
  /** `kube()` is undefined until k3s wrote its kubeconfig. */
  readonly runtime: { kube(): KubeClient | undefined };
}

/** Options of {@link AppReconciler}. */
export interface AppReconcilerOptions {
  cluster: AppClusterView;
  deviceUuid: () => string | undefined;
  /** Queues an info message, latest wins per key (the app, volume or content-tree UUID). */
  publishInfo: (key: string, msg: info.IZInfoMsg) => Promise<void>;
  /** Agent event stream (`app.*`, `volume.*`, `contenttree.*`). */
  emit: (kind: string, message: string, fields?: Record<string, unknown>) => void;
  clock: Clock;
  logger: Logger;
  /** Stops both loops (the agent's stop signal). */
  signal?: AbortSignal;
  /** Simulated download time of a local content tree, spec ms. @default 10000 */
  downloadMs?: number;
}

/** Lifecycle of the reconciler. */
export type AppReconcilerState = 'running' | 'stopped';

/** One app as this node last saw and reported it. */
export interface AppStatus {
  uuid: string;
  displayName: string;
  kubeName: string;
  designated: boolean;
  affinity: AppConfig['affinity'];
  kubeStatus: AppKubeStatus;
  scheduledOnThisNode: boolean;
  /** `cluster_app_running`. */
  activated: boolean;
  /** `ZSwState` name. */
  state: string;
  /** This node passes the §7.5 gate for the app. */
  reporting: boolean;
  /** Why a failover is held, while it is. */
  waitingFor?: string;
}

/** Everything the reconciler knows (admin API, demo). */
export interface AppsStatus {
  state: AppReconcilerState;
  apps: AppStatus[];
  volumes: VolumeStatus[];
  contentTrees: ContentTreeStatus[];
}

/** Per-app memory between passes. */
interface AppRuntime {
  obs: AppObservation | undefined;
  kubeName: string;
  designated: boolean;
  workloadExists: boolean;
  /** What the workload was last made to match, and when (spec: looked at every 10 s). */
  ensuredIntent: string;
  ensuredAtMs: number;
  restartCounter: number;
  lastDigest: string | undefined;
  status: AppStatus | undefined;
}

/** An app that left the config and whose workload this node removes (when it owned it). */
interface Removal {
  app: AppConfig;
  kubeName: string;
  owner: boolean;
}

/** One pass's view of the cluster: the pods of `eve-kube-app`, and the nodes on demand. */
interface PassView {
  pods: KubePodStatus[];
  nodes: () => Promise<KubeNodeStatus[]>;
}

/** Wakes a sleeping loop early (a config change). */
class Waker {
  private ctl = new AbortController();
  wake(): void {
    this.ctl.abort();
  }
  async nap(clock: Clock, ms: number, stop: AbortSignal): Promise<void> {
    const ctl = this.ctl;
    await clock.sleep(ms, AbortSignal.any([ctl.signal, stop])).catch(() => undefined);
    if (ctl.signal.aborted) this.ctl = new AbortController();
  }
}

export class AppReconciler {
  private readonly log: Logger;
  private readonly stopCtl = new AbortController();
  private readonly signal: AbortSignal;
  private stateValue: AppReconcilerState = 'running';
  private cfg: DeviceConfig | undefined;
  private readonly apps = new Map<string, AppRuntime>();
  private readonly removals: Removal[] = [];
  private readonly appWaker = new Waker();
  private readonly storageWaker = new Waker();
  private readonly treeStarted = new Map<string, number>();
  private treeStatuses = new Map<string, ContentTreeStatus>();
  private volumeStatuses = new Map<string, VolumeStatus>();
  private readonly storageDigests = new Map<string, string>();
  /** Volume UUID → the PVC this node made for it (it is the volume's designated node). */
  private readonly pvcs = new Map<string, string>();
  /** PVCs to delete (volume gone or a new generation); a failed delete stays queued. */
  private readonly pvcRemovals: string[] = [];
  /** Departure suppression (departure.ts): armed while the node leaves the cluster, until its single-node restart. */
  private departing = false;
  private retained: Retained = { apps: [], volumes: [], contentTrees: [] };
  private apiSeen = false;
  private bootFailbackDone = false;
  private lastApiOkMs: number;
  private fingerprint = '';
  private lastChangeMs = 0;
  private readonly loops: Promise<void>;

  private constructor(private readonly o: AppReconcilerOptions) {
    this.log = o.logger.child({ component: 'agent.apps' });
    this.signal = o.signal ? AbortSignal.any([o.signal, this.stopCtl.signal]) : this.stopCtl.signal;
    this.lastApiOkMs = o.clock.now();
    this.loops = Promise.all([this.appLoop(), this.storageLoop()]).then(() => this.setState('stopped'));
  }

  /** Starts both loops; they run until `stop()` or the options' signal. Nothing to acquire. */
  static create(opts: AppReconcilerOptions): AppReconciler {
    return new AppReconciler(opts);
  }

  private setState(to: AppReconcilerState): void {
    if (to === this.stateValue) return;
    this.log.info('app reconciler state', { from: this.stateValue, to });
    this.stateValue = to;
  }

  /** Stops both loops and waits for them. Idempotent. */
  async stop(): Promise<void> {
    this.stopCtl.abort();
    await this.loops;
  }

  /** A snapshot for the admin API and the demo. */
  status(): AppsStatus {
    return {
      state: this.stateValue,
      apps: [...this.apps.values()].flatMap((r) => (r.status ? [{ ...r.status }] : [])),
      volumes: [...this.volumeStatuses.values()],
      contentTrees: [...this.treeStatuses.values()],
    };
  }

  /**
   * Takes a new config: objects that left it are reported deleted at once (every node sends the UUID-only
   * message, §7.5, §7.6); workloads are changed by the next pass, which starts now. While the node leaves the
   * cluster (valid cluster block → none, §2.3), objects that leave the config are kept instead (departure.ts).
   */
  async onConfig(next: DeviceConfig): Promise<void> {
    const devId = this.o.deviceUuid();
    const now = this.o.clock.now();
    const d = applyDeparture({ effective: this.cfg, departing: this.departing }, next);
    if (d.departing !== this.departing) {
      this.log.info('departure suppression', { from: this.departing, to: d.departing });
      this.o.emit('apps.departure', d.departing ? 'leaving the cluster: objects that leave the config are kept until the single-node restart' : 'cluster block back: departure suppression cancelled');
    }
    if (d.retained.apps.length + d.retained.volumes.length + d.retained.contentTrees.length > 0) {
      const ids = (l: { uuid: string }[]): string[] => l.map((x) => x.uuid);
      this.log.info('kept while leaving the cluster', { apps: ids(d.retained.apps), volumes: ids(d.retained.volumes), contentTrees: ids(d.retained.contentTrees) });
    }
    this.departing = d.departing;
    this.retained = d.retained;
    const cfg = d.effective;
    const apps = new Set(cfg.apps.map((a) => a.uuid));
    for (const a of this.cfg?.apps ?? []) {
      if (apps.has(a.uuid)) continue;
      const rt = this.apps.get(a.uuid);
      this.apps.delete(a.uuid);
      this.removals.push({ app: a, kubeName: rt?.kubeName ?? safeKubeName(a), owner: !!rt && (rt.designated || !!rt.obs?.hostedHere) });
      this.log.info('app deleted from config', { appId: a.uuid, name: a.displayName });
      this.o.emit('app.deleted', `${a.displayName} deleted from the config`, { appId: a.uuid });
      if (devId) await this.o.publishInfo(a.uuid, appInfoMessage(devId, now, { AppID: a.uuid }));
    }
    const vols = new Set(cfg.volumes.map((v) => v.uuid));
    for (const v of this.cfg?.volumes ?? []) {
      if (vols.has(v.uuid)) continue;
      const pvc = this.pvcs.get(v.uuid);
      if (pvc) this.pvcRemovals.push(pvc);
      this.pvcs.delete(v.uuid);
      this.volumeStatuses.delete(v.uuid);
      this.storageDigests.delete(v.uuid);
      if (devId) await this.o.publishInfo(v.uuid, volumeInfoMessage(devId, now, v.uuid, undefined));
    }
    const trees = new Set(cfg.contentTrees.map((t) => t.uuid));
    for (const t of this.cfg?.contentTrees ?? []) {
      if (trees.has(t.uuid)) continue;
      const reported = this.treeStatuses.get(t.uuid)?.local;
      this.treeStatuses.delete(t.uuid);
      this.treeStarted.delete(t.uuid);
      this.storageDigests.delete(t.uuid);
      if (devId && reported) await this.o.publishInfo(t.uuid, contentTreeInfoMessage(devId, now, t.uuid, undefined));
    }
    this.cfg = cfg;
    this.storageWaker.wake();
    this.appWaker.wake();
  }

  // --- loops --------------------------------------------------------------------------------------------

  private async appLoop(): Promise<void> {
    while (!this.signal.aborted) {
      try {
        await this.appPass();
      } catch (e) {
        if (isAbortError(e) || this.signal.aborted) break;
        this.log.warn('app pass failed', { error: errorMessage(e) });
      }
      const settling = this.o.clock.now() - this.lastChangeMs < this.o.clock.scaled(SETTLING_WINDOW_MS);
      await this.appWaker.nap(this.o.clock, settling ? SETTLING_LOOP_MS : APP_LOOP_MS, this.signal);
    }
  }

  private async storageLoop(): Promise<void> {
    while (!this.signal.aborted) {
      try {
        await this.storagePass();
      } catch (e) {
        if (isAbortError(e) || this.signal.aborted) break;
        this.log.warn('storage pass failed', { error: errorMessage(e) });
      }
      await this.storageWaker.nap(this.o.clock, STORAGE_TICK_MS, this.signal);
    }
  }

  // --- app pass -----------------------------------------------------------------------------------------

  /** This node's kube client while k3s runs with a node name. */
  private kube(): KubeClient | undefined {
    const { nodeName, role } = this.o.cluster.status();
    return role !== 'none' && nodeName ? this.o.cluster.runtime.kube() : undefined;
  }

  /**
   * The node left the cluster and runs single-node k3s now: EVE reboots into single-node mode there (§5.5), after
   * which it no longer knows the retained objects. They are forgotten without deleting anything (their workloads
   * and PVCs belong to the cluster) and departure suppression ends.
   */
  private restartedSingle(): void {
    if (!this.departing || !this.cfg || this.o.cluster.status().role !== 'single') return;
    const r = this.retained;
    for (const a of r.apps) this.apps.delete(a.uuid);
    for (const v of r.volumes) {
      this.pvcs.delete(v.uuid);
      this.volumeStatuses.delete(v.uuid);
      this.storageDigests.delete(v.uuid);
    }
    for (const t of r.contentTrees) {
      this.treeStatuses.delete(t.uuid);
      this.treeStarted.delete(t.uuid);
      this.storageDigests.delete(t.uuid);
    }
    this.cfg = withoutRetained(this.cfg, r);
    this.departing = false;
    this.retained = { apps: [], volumes: [], contentTrees: [] };
    this.log.info('departure suppression', { from: true, to: false, reason: 'single-node restart' });
    this.o.emit('apps.departure', 'single-node now: objects kept while leaving the cluster are forgotten (not deleted)');
  }

  private async appPass(): Promise<void> {
    this.restartedSingle();
    const cfg = this.cfg;
    const devId = this.o.deviceUuid();
    if (!cfg || !devId) return;
    const { nodeName } = this.o.cluster.status();
    const kube = this.kube();
    let view: PassView | undefined;
    if (kube) {
      try {
        const pods = await kube.listPods({}, this.signal);
        let nodes: Promise<KubeNodeStatus[]> | undefined;
        // Nodes are read at most once per pass and only when a decision needs them (takeover gate, creator check).
        view = { pods, nodes: () => (nodes ??= kube.listNodes({}, this.signal)) };
        this.apiSeen = true;
        this.lastApiOkMs = this.o.clock.now();
        this.noteChanges(pods);
      } catch (e) {
        if (isAbortError(e) || this.signal.aborted) throw e;
        this.log.debug('pod list failed', { error: errorMessage(e) });
      }
    }
    const apiDown = !view && this.apiSeen && this.o.clock.now() - this.lastApiOkMs >= this.o.clock.scaled(APP_API_DOWN_MS);
    if (kube && view) {
      // A removal that failed (API hiccup) stays queued for the next pass.
      for (const r of this.removals.splice(0)) if (!(await this.removeWorkload(kube, r, view))) this.removals.push(r);
      if (!this.bootFailbackDone && descheduleOnBoot(cfg)) await this.failbackOnBoot(kube, cfg, nodeName, view);
    }
    for (const app of cfg.apps) {
      try {
        await this.appPassOne(app, { devId, nodeName, kube, view, apiDown });
      } catch (e) {
        if (isAbortError(e) || this.signal.aborted) throw e;
        this.log.warn('app reconcile failed', { appId: app.uuid, error: errorMessage(e) });
      }
    }
  }

  /**
   * Failback on boot, only when configured (cluster.md §11, zedkube/descheduler.go): once this node is Ready and
   * schedulable after a start, pods of PREFERRED apps that run away from their Ready, schedulable designated node
   * are evicted (the descheduler's RemovePodsViolatingNodeAffinity); the ReplicaSet's new pod lands at home.
   */
  private async failbackOnBoot(kube: KubeClient, cfg: DeviceConfig, nodeName: string, view: PassView): Promise<void> {
    const nodes = await view.nodes();
    const self = nodes.find((n) => n.name === nodeName);
    if (self?.ready !== 'True' || !self.schedulable) return;
    this.bootFailbackDone = true;
    for (const p of failbackEvictions(cfg.apps, view.pods, nodes)) {
      try {
        await kube.deletePod(p.pod, {}, this.signal);
        this.log.info('pod evicted for failback on boot', { appId: p.appId, pod: p.pod, to: p.home });
        this.o.emit('app.failback', `pod ${p.pod} evicted: back to ${p.home}`, { appId: p.appId, pod: p.pod });
      } catch (e) {
        if (!isKubeError(e, 'NOT_FOUND')) this.log.warn('failback eviction failed', { pod: p.pod, error: errorMessage(e) });
      }
    }
  }

  /** Remembers when the pods last changed (drives the settling interval). */
  private noteChanges(pods: KubePodStatus[]): void {
    const fp = JSON.stringify(pods.map((p) => [p.name, p.nodeName, p.phase, !!p.deletionTimestamp]).sort());
    if (fp !== this.fingerprint) {
      this.fingerprint = fp;
      this.lastChangeMs = this.o.clock.now();
    }
  }

  private runtimeOf(app: AppConfig, kubeName: string, designated: boolean): AppRuntime {
    let rt = this.apps.get(app.uuid);
    if (!rt) {
      rt = { obs: undefined, kubeName, designated, workloadExists: false, ensuredIntent: '', ensuredAtMs: 0, restartCounter: app.restartCounter, lastDigest: undefined, status: undefined };
      this.apps.set(app.uuid, rt);
    }
    return rt;
  }

  private async appPassOne(
    app: AppConfig,
    c: { devId: string; nodeName: string; kube: KubeClient | undefined; view: PassView | undefined; apiDown: boolean },
  ): Promise<void> {
    const designated = isDesignated(app.designatedNodeId, c.devId);
    const kubeName = safeKubeName(app);
    const rt = this.runtimeOf(app, kubeName, designated);
    const previousName = rt.kubeName;
    rt.designated = designated;
    const obs: AppObservation = c.view
      ? observeApp(c.view.pods, { kubeName, appUuid: app.uuid, nodeName: c.nodeName, appUuidLabel: LABEL_APP_UUID })
      : c.apiDown
        ? apiUnreachable()
        : (rt.obs ?? { kubeStatus: 'Unknown', scheduledOnThisNode: false, terminatingElsewhere: [], appPods: [], hostedHere: false });
    const storageState = designated ? this.appStorageState(app) : undefined;
    let waitingFor: string | undefined;
    if (c.kube && c.view) {
      // The workload is looked at every 10 s (affinity repair), and at once when its intent changed or no pod exists.
      const intent = JSON.stringify([kubeName, app.activate, app.affinity, designated, storageState === undefined]);
      const due = intent !== rt.ensuredIntent || obs.kubeStatus === 'NotInCluster' || this.o.clock.now() - rt.ensuredAtMs >= this.o.clock.scaled(APP_LOOP_MS);
      if ((designated || obs.hostedHere) && due) {
        await this.ensureWorkload(c.kube, app, { kubeName, previousName, designated, nodeName: c.nodeName, storageReady: storageState === undefined, obs, nodes: c.view.nodes, rt });
        rt.ensuredIntent = intent;
        rt.ensuredAtMs = this.o.clock.now();
      }
      if (obs.scheduledOnThisNode && app.affinity === 'preferred' && obs.terminatingElsewhere.length > 0) {
        waitingFor = await this.detachOldWorkload(c.kube, app, obs, await c.view.nodes());
      }
      await this.restartIfAsked(c.kube, app, obs, rt);
    }
    rt.obs = obs;
    rt.kubeName = kubeName;
    // getKubeAppActivateStatus (cluster.md §9.3): the designated node follows `activate` once its workload exists;
    // another node only while the pod is scheduled on it (and, after a failover, the old host is written off).
    const activated = app.activate && (designated ? rt.workloadExists && storageState === undefined : obs.scheduledOnThisNode && !waitingFor);
    const state = appSwState({
      activate: app.activate,
      kubeStatus: obs.kubeStatus,
      ...(obs.localPod ? { localPodPhase: obs.localPod.phase } : {}),
      ...(storageState !== undefined ? { storageState } : {}),
      waitingForDetach: !!waitingFor,
    });
    const decision = decideAppReport({ deleted: false, designated, kubeStatus: obs.kubeStatus, scheduledOnThisNode: obs.scheduledOnThisNode });
    this.recordStatus(rt, {
      uuid: app.uuid,
      displayName: app.displayName,
      kubeName,
      designated,
      affinity: app.affinity,
      kubeStatus: obs.kubeStatus,
      scheduledOnThisNode: obs.scheduledOnThisNode,
      activated,
      state: info.ZSwState[state] ?? String(state),
      reporting: decision === 'status',
      ...(waitingFor ? { waitingFor } : {}),
    });
    if (decision !== 'status') {
      rt.lastDigest = undefined; // a later report is sent even if it repeats the last one (e.g. failback)
      return;
    }
    const bootMs = state === info.ZSwState.RUNNING && obs.localPod?.creationTimestamp ? Date.parse(obs.localPod.creationTimestamp) : undefined;
    const ainfo = appInfo({
      uuid: app.uuid,
      version: app.version,
      displayName: app.displayName,
      state,
      clusterAppRunning: activated,
      volumeRefs: app.volumeRefs,
      ...(bootMs !== undefined && Number.isFinite(bootMs) ? { bootTimeMs: bootMs } : {}),
      ...(waitingFor
        ? {
            error: {
              description: `failover held: ${waitingFor}`,
              severity: info.Severity.SEVERITY_WARNING,
              retryCondition: 'the old host is declared lost (Ready condition "Kubelet stopped posting node status.")',
              timeMs: this.o.clock.now(),
            },
          }
        : {}),
    });
    const digest = appInfoDigest(ainfo);
    if (digest === rt.lastDigest) return;
    rt.lastDigest = digest;
    await this.o.publishInfo(app.uuid, appInfoMessage(c.devId, this.o.clock.now(), ainfo));
  }

  private recordStatus(rt: AppRuntime, s: AppStatus): void {
    const p = rt.status;
    rt.status = s;
    if (p && p.kubeStatus === s.kubeStatus && p.scheduledOnThisNode === s.scheduledOnThisNode && p.activated === s.activated && p.state === s.state && p.reporting === s.reporting) {
      return;
    }
    const fields = { appId: s.uuid, kubeName: s.kubeName, kubeStatus: s.kubeStatus, scheduledOnThisNode: s.scheduledOnThisNode, activated: s.activated, state: s.state, reporting: s.reporting };
    this.log.info('app status', { ...fields, from: p?.state ?? 'none', to: s.state });
    this.o.emit('app.status', `${s.displayName}: ${s.state}${s.scheduledOnThisNode ? ' here' : ''}${s.activated ? ', running flag set' : ''}`, fields);
  }

  /**
   * Creates, scales, repairs and purges the app's ReplicaSet. The designated node creates it (once its volumes
   * exist); a node hosting a pod of the app (any purge generation) creates a missing one (after a purge) only
   * while the designated node is not Ready, so a live designated node stays the creator and the affinity target (§9.1). `AlreadyExists` from a
   * second creator is ignored. Only the designated node repairs the affinity (§9.2).
   */
  private async ensureWorkload(
    kube: KubeClient,
    app: AppConfig,
    w: {
      kubeName: string;
      previousName: string;
      designated: boolean;
      nodeName: string;
      storageReady: boolean;
      obs: AppObservation;
      nodes: () => Promise<KubeNodeStatus[]>;
      rt: AppRuntime;
    },
  ): Promise<void> {
    let rs: V1ReplicaSet | undefined;
    try {
      rs = await kube.getReplicaSet(w.kubeName, this.signal);
    } catch (e) {
      if (!isKubeError(e, 'NOT_FOUND')) throw e;
    }
    if (!rs) {
      w.rt.workloadExists = false;
      if (!app.activate || !w.storageReady) return;
      if (!w.designated && designatedNodeReady(await w.nodes(), app.designatedNodeId)) return;
      try {
        await kube.createReplicaSet(appReplicaSet({ app, kubeName: w.kubeName, nodeName: w.nodeName, replicas: 1 }), this.signal);
        this.log.info('app workload created', { appId: app.uuid, kubeName: w.kubeName, affinity: app.affinity, node: w.nodeName });
        this.o.emit('app.workload', `ReplicaSet ${w.kubeName} created (${app.affinity} on ${w.nodeName})`, { appId: app.uuid, kubeName: w.kubeName });
      } catch (e) {
        if (!isKubeError(e, 'CONFLICT')) throw e;
      }
      w.rt.workloadExists = true;
    } else {
      w.rt.workloadExists = true;
      const upd = workloadUpdate(rs, {
        replicas: app.activate ? 1 : 0,
        ...(w.designated ? { repairAffinityTo: { nodeName: w.nodeName, affinity: app.affinity } } : {}),
      });
      if (upd) {
        try {
          await kube.replaceReplicaSet(upd.rs, this.signal);
          this.log.info('app workload updated', { appId: app.uuid, kubeName: w.kubeName, changes: upd.changes });
          this.o.emit('app.workload', `ReplicaSet ${w.kubeName}: ${upd.changes.join(', ')}`, { appId: app.uuid, kubeName: w.kubeName });
        } catch (e) {
          if (!isKubeError(e, 'CONFLICT')) throw e; // someone else wrote it: look again next pass
        }
      }
    }
    for (const old of olderGenerations(app, w.kubeName, w.previousName, w.obs.appPods)) {
      try {
        await kube.deleteReplicaSet(old, this.signal);
        this.log.info('app workload of an older purge generation deleted', { appId: app.uuid, kubeName: old });
        this.o.emit('app.purged', `ReplicaSet ${old} deleted, ${w.kubeName} replaces it`, { appId: app.uuid, old, kubeName: w.kubeName });
      } catch (e) {
        if (!isKubeError(e, 'NOT_FOUND')) throw e;
      }
    }
  }

  /**
   * `DetachOldWorkload` (cluster.md §10): the app's new pod is scheduled here while the old one is still
   * terminating on another node. The old pod is force-deleted only when its node passes the partition-safety
   * gate; otherwise the takeover waits (returns why).
   */
  private async detachOldWorkload(kube: KubeClient, app: AppConfig, obs: AppObservation, nodes: KubeNodeStatus[]): Promise<string | undefined> {
    for (const old of obs.terminatingElsewhere) {
      const gate = partitionSafe(nodes.find((n) => n.name === old.nodeName));
      if (!gate.ok) return gate.reason;
      try {
        await kube.deletePod(old.name, { gracePeriodSeconds: 0 }, this.signal);
      } catch (e) {
        if (!isKubeError(e, 'NOT_FOUND')) throw e;
      }
      this.log.info('old workload detached', { appId: app.uuid, pod: old.name, from: old.nodeName, gate: gate.reason });
      this.o.emit('app.failover', `${app.displayName}: old pod ${old.name} on ${old.nodeName ?? '?'} written off (${gate.reason})`, {
        appId: app.uuid,
        from: old.nodeName,
      });
    }
    return undefined;
  }

  /** A restart-counter increase recreates the pod: the node hosting it deletes it and the ReplicaSet makes a new one. */
  private async restartIfAsked(kube: KubeClient, app: AppConfig, obs: AppObservation, rt: AppRuntime): Promise<void> {
    if (app.restartCounter <= rt.restartCounter) {
      rt.restartCounter = app.restartCounter;
      return;
    }
    rt.restartCounter = app.restartCounter;
    if (!obs.localPod) return;
    try {
      await kube.deletePod(obs.localPod.name, {}, this.signal);
    } catch (e) {
      if (!isKubeError(e, 'NOT_FOUND')) throw e;
    }
    this.log.info('app restarted', { appId: app.uuid, pod: obs.localPod.name, restartCounter: app.restartCounter });
    this.o.emit('app.restarted', `${app.displayName}: pod ${obs.localPod.name} recreated (restart ${app.restartCounter})`, { appId: app.uuid });
  }

  /** Deletes the workload of an app that left the config, on the nodes that owned it; false when a delete failed. */
  private async removeWorkload(kube: KubeClient, r: Removal, view: PassView): Promise<boolean> {
    const { pods } = view;
    // The designated node (or the host) removes the workload. When the designated node is lost, a survivor must,
    // or the workload would outlive its config; a delete is idempotent, so several survivors doing it is harmless.
    if (!r.owner && designatedNodeReady(await view.nodes(), r.app.designatedNodeId)) return true;
    let done = true;
    const names = new Set([r.kubeName, ...ownerReplicaSets(pods.filter((p) => p.labels[LABEL_APP_UUID] === r.app.uuid))]);
    for (const name of names) {
      try {
        await kube.deleteReplicaSet(name, this.signal);
        this.log.info('app workload deleted', { appId: r.app.uuid, kubeName: name });
        this.o.emit('app.workload', `ReplicaSet ${name} deleted`, { appId: r.app.uuid, kubeName: name });
      } catch (e) {
        if (isKubeError(e, 'NOT_FOUND')) continue;
        if (isAbortError(e) || this.signal.aborted) throw e;
        this.log.warn('app workload not deleted; retrying next pass', { appId: r.app.uuid, kubeName: name, error: errorMessage(e) });
        done = false;
      }
    }
    return done;
  }

  /** The least advanced state among the app's volumes that are not created yet; undefined when all are. */
  private appStorageState(app: AppConfig): info.ZSwState | undefined {
    let worst: info.ZSwState | undefined;
    const inConfig = new Set(this.cfg?.volumes.map((v) => v.uuid));
    for (const ref of app.volumeRefs) {
      if (!inConfig.has(ref)) continue; // a reference to no volume: nothing to wait for
      // Not looked at by the storage pass yet: not created yet either.
      const state = this.volumeStatuses.get(ref)?.state ?? info.ZSwState.INITIAL;
      if (state === info.ZSwState.CREATED_VOLUME) continue;
      if (worst === undefined || state < worst) worst = state;
    }
    return worst;
  }

  // --- storage pass -------------------------------------------------------------------------------------

  private async storagePass(): Promise<void> {
    this.restartedSingle();
    const cfg = this.cfg;
    const devId = this.o.deviceUuid();
    if (!cfg || !devId) return;
    const now = this.o.clock.now();
    const trees = new Map<string, ContentTreeStatus>();
    for (const t of cfg.contentTrees) {
      if (!this.treeStarted.has(t.uuid)) this.treeStarted.set(t.uuid, now);
      const s = contentTreeStatus(t, { ownUuid: devId, startedAtMs: this.treeStarted.get(t.uuid)!, nowMs: now, downloadMs: this.o.clock.scaled(this.o.downloadMs ?? DEFAULT_DOWNLOAD_MS) });
      trees.set(t.uuid, s);
      if (s.local) await this.reportStorage(t.uuid, `${s.state}/${s.progress}`, () => contentTreeInfoMessage(devId, now, t.uuid, s));
      if (s.local && s.state === info.ZSwState.LOADED && this.treeStatuses.get(t.uuid)?.state !== info.ZSwState.LOADED) {
        this.log.info('content tree loaded', { contentTreeId: t.uuid, name: t.displayName });
        this.o.emit('contenttree.loaded', `${t.displayName} downloaded`, { contentTreeId: t.uuid });
      }
    }
    this.treeStatuses = trees;
    const kube = this.kube();
    if (kube) for (const name of this.pvcRemovals.splice(0)) if (!(await this.deletePvc(kube, name))) this.pvcRemovals.push(name);
    const vols = new Map<string, VolumeStatus>();
    let created = false;
    for (const v of cfg.volumes) {
      // A new config arrived while this pass waited: its pass (woken) decides, so a volume just removed is neither
      // re-created nor reported again.
      if (this.cfg !== cfg) return;
      const tree = trees.get(v.contentTreeId);
      let s = volumeStatus(v, { ownUuid: devId, tree, pvcCreated: this.pvcs.get(v.uuid) === volumePvcName(v) });
      if (s.state === info.ZSwState.CREATING_VOLUME && kube && (await this.createPvc(kube, v, s.pvc))) {
        const old = this.pvcs.get(v.uuid);
        if (old && old !== s.pvc) this.pvcRemovals.push(old); // a new generation replaces the old claim
        this.pvcs.set(v.uuid, s.pvc);
        s = volumeStatus(v, { ownUuid: devId, tree, pvcCreated: true });
      }
      vols.set(v.uuid, s);
      await this.reportStorage(v.uuid, `${s.state}/${s.progress}/${s.generation}`, () => volumeInfoMessage(devId, now, v.uuid, s));
      if (s.state === info.ZSwState.CREATED_VOLUME && this.volumeStatuses.get(v.uuid)?.state !== info.ZSwState.CREATED_VOLUME) {
        created = true;
        this.log.info('volume created', { volumeId: v.uuid, ...(s.designated ? { pvc: s.pvc } : { on: 'owner node' }) });
        this.o.emit('volume.created', `${v.displayName} created${s.designated ? ` (${s.pvc})` : ' on its owner node'}`, { volumeId: v.uuid });
      }
    }
    if (this.cfg !== cfg) return;
    this.volumeStatuses = vols;
    if (created) this.appWaker.wake();
  }

  /**
   * Creates the volume's PVC (the designated node, cluster.md §8): storage class `lh-sc-rep2` when a node carries
   * the tie-breaker label, else `longhorn`. An existing claim of that name counts as made (an agent restart).
   * False when the API failed (tried again next pass).
   */
  private async createPvc(kube: KubeClient, v: VolumeConfig, name: string): Promise<boolean> {
    try {
      const tieBreaker = (await kube.listNodes({ labelSelector: TIE_BREAKER_SELECTOR }, this.signal)).length > 0;
      await kube.createPvc(volumePvc(v, name, tieBreaker ? STORAGE_CLASS_TIE_BREAKER : STORAGE_CLASS), this.signal);
      this.log.info('volume PVC created', { volumeId: v.uuid, pvc: name });
      this.o.emit('volume.pvc', `PVC ${name} created`, { volumeId: v.uuid, pvc: name });
      return true;
    } catch (e) {
      if (isKubeError(e, 'CONFLICT')) return true;
      if (isAbortError(e) || this.signal.aborted) throw e;
      this.log.debug('volume PVC not created; retrying next pass', { volumeId: v.uuid, pvc: name, error: errorMessage(e) });
      return false;
    }
  }

  /** Deletes a PVC this node made; false when the API failed (kept for the next pass). */
  private async deletePvc(kube: KubeClient, name: string): Promise<boolean> {
    try {
      await kube.deletePvc(name, this.signal);
      this.log.info('volume PVC deleted', { pvc: name });
      this.o.emit('volume.pvc', `PVC ${name} deleted`, { pvc: name });
      return true;
    } catch (e) {
      if (isKubeError(e, 'NOT_FOUND')) return true;
      if (isAbortError(e) || this.signal.aborted) throw e;
      this.log.warn('volume PVC not deleted; retrying next pass', { pvc: name, error: errorMessage(e) });
      return false;
    }
  }

  private async reportStorage(uuid: string, digest: string, msg: () => info.IZInfoMsg): Promise<void> {
    if (this.storageDigests.get(uuid) === digest) return;
    this.storageDigests.set(uuid, digest);
    await this.o.publishInfo(uuid, msg());
  }
}

/** The app's ReplicaSet name; a counter that is not a non-negative integer counts as 0 (logged by nobody: parse keeps it). */
function safeKubeName(app: AppConfig): string {
  const n = Number.isInteger(app.purgeCounter) && app.purgeCounter >= 0 ? app.purgeCounter : 0;
  return appKubeNameWithPurge(app.displayName, app.uuid, n);
}

/** Names of the ReplicaSets owning `pods`. */
function ownerReplicaSets(pods: KubePodStatus[]): string[] {
  return [...new Set(pods.flatMap((p) => p.owners.filter((o) => o.kind === 'ReplicaSet').map((o) => o.name)))];
}

/**
 * ReplicaSets of earlier purge generations of `app`: those owning its pods named `<appKubeName>-<n>` with
 * n < the current counter, and the name this node applied before (a purge or a rename). Only lower counters are
 * taken from the pods, so a node still on an older config never deletes a newer generation.
 */
export function olderGenerations(app: AppConfig, kubeName: string, previousName: string, appPods: KubePodStatus[]): string[] {
  const base = `${appKubeName(app.displayName, app.uuid)}-`;
  const out = new Set<string>();
  for (const name of ownerReplicaSets(appPods)) {
    const n = name.startsWith(base) ? Number(name.slice(base.length)) : NaN;
    if (Number.isInteger(n) && n < app.purgeCounter) out.add(name);
  }
  if (previousName && previousName !== kubeName) out.add(previousName);
  out.delete(kubeName);
  return [...out].sort();
}

/** Whether a Ready node carries the designated node's device UUID (`node-uuid` label). */
function designatedNodeReady(nodes: KubeNodeStatus[], designatedNodeId: string): boolean {
  return nodes.some((n) => n.labels[LABEL_NODE_UUID] === designatedNodeId && n.ready === 'True');
}

/** Config item that enables the descheduler on boot when it contains `boot` (cluster.md §11). */
const DESCHEDULE_EVENTS_ITEM = 'kubernetes.vmi.deschedule.events';

function descheduleOnBoot(cfg: DeviceConfig): boolean {
  return (cfg.configItems.get(DESCHEDULE_EVENTS_ITEM) ?? '').split(/[,\s]+/).includes('boot');
}

/**
 * Pods to evict for failback: live pods of PREFERRED apps bound to a node other than their designated node while
 * that node (found by its `node-uuid` label) is Ready and schedulable. REQUIRED apps never moved; apps without a
 * designated node have no home.
 */
export function failbackEvictions(apps: AppConfig[], pods: KubePodStatus[], nodes: KubeNodeStatus[]): { appId: string; pod: string; home: string }[] {
  const out: { appId: string; pod: string; home: string }[] = [];
  for (const app of apps) {
    if (app.affinity !== 'preferred' || !app.designatedNodeId) continue;
    const home = nodes.find((n) => n.labels[LABEL_NODE_UUID] === app.designatedNodeId && n.ready === 'True' && n.schedulable);
    if (!home) continue;
    for (const p of pods) {
      if (p.labels[LABEL_APP_UUID] === app.uuid && !p.deletionTimestamp && p.nodeName && p.nodeName !== home.name) {
        out.push({ appId: app.uuid, pod: p.name, home: home.name });
      }
    }
  }
  return out;
}

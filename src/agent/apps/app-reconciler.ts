/**
 * The app reconciler (the cluster roles of EVE's zedmanager, domainmgr's kubevirt hypervisor and zedkube's app
 * loops; cluster.md §7.5, §9–§11): places each configured app as a ReplicaSet in `eve-kube-app`, watches where
 * its pod runs, fails over behind the partition-safety gate and reports ZInfoApp under EVE's reporting rules.
 *
 * Its app pass, every 10 s: list pods and nodes once, then per app — the designated node (and a node hosting the
 * pod) creates, scales, repairs the affinity of, or purges the ReplicaSet (workload-actions.ts); the node a
 * failed-over pod landed on writes the old pod off only when its node is lost (§10); the node hosting the pod
 * restarts it on a restart counter change; then the §7.5 gate decides whether this node reports the app.
 * Volumes and content trees are the volume reconciler's (volume-reconciler.ts, its own 2 s pass), which it owns
 * and asks only `volumeState()`; failback on boot is failback.ts; departure suppression departure.ts.
 */
import type { Clock, Logger } from '../../common/index.js';
import { errorMessage, isAbortError } from '../../common/index.js';
import { info } from '../../eve/index.js';
import type { KubeClient, KubeNodeStatus, KubePodStatus } from '../../k3s/index.js';
import type { AppConfig, DeviceConfig } from '../parse-config.js';
import { appInfo, appInfoDigest, appInfoMessage, appSwState, decideAppReport } from './app-report.js';
import { apiUnreachable, observeApp, type AppKubeStatus, type AppObservation } from './app-status.js';
import { applyDeparture, withoutRetained, type Retained } from './departure.js';
import { descheduleOnBoot, failbackOnBoot } from './failback.js';
import { runLoop, Waker } from './loop.js';
import { isDesignated, type ContentTreeStatus, type VolumeStatus } from './storage.js';
import { VolumeReconciler } from './volume-reconciler.js';
import { LABEL_APP_UUID } from './workload.js';
import { detachOldWorkload, ensureWorkload, removeWorkload, restartPod, safeKubeName, type ActionContext, type PassView, type Removal } from './workload-actions.js';

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
  /** What the workload was last made to match, and when (monotonic ms; spec: looked at every 10 s). */
  ensuredIntent: string;
  ensuredAtMs: number;
  restartCounter: number;
  lastDigest: string | undefined;
  status: AppStatus | undefined;
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
  private readonly volumes: VolumeReconciler;
  private readonly actions: ActionContext;
  /** Departure suppression (departure.ts): armed while the node leaves the cluster, until its single-node restart. */
  private departing = false;
  private retained: Retained = { apps: [], volumes: [], contentTrees: [] };
  private apiSeen = false;
  private bootFailbackDone = false;
  /** Durations below are on `clock.monotonic()` (the clock-skew fault moves only `now()`, for timestamps). */
  private lastApiOkMs: number;
  private fingerprint = '';
  private lastChangeMs = -Infinity;
  private readonly loops: Promise<void>;

  private constructor(private readonly o: AppReconcilerOptions) {
    this.log = o.logger.child({ component: 'agent.apps' });
    this.signal = o.signal ? AbortSignal.any([o.signal, this.stopCtl.signal]) : this.stopCtl.signal;
    this.lastApiOkMs = o.clock.monotonic();
    this.actions = { log: this.log, emit: o.emit, signal: this.signal };
    this.volumes = VolumeReconciler.create({
      kube: () => this.kube(),
      deviceUuid: o.deviceUuid,
      publishInfo: o.publishInfo,
      emit: o.emit,
      clock: o.clock,
      logger: o.logger,
      signal: this.signal,
      ...(o.downloadMs !== undefined ? { downloadMs: o.downloadMs } : {}),
      beforePass: () => this.restartedSingle(),
      onVolumeCreated: () => this.appWaker.wake(),
    });
    const appLoop = runLoop({
      name: 'app',
      pass: () => this.appPass(),
      intervalMs: () => (this.o.clock.monotonic() - this.lastChangeMs < this.o.clock.scaled(SETTLING_WINDOW_MS) ? SETTLING_LOOP_MS : APP_LOOP_MS),
      waker: this.appWaker,
      clock: o.clock,
      log: this.log,
      signal: this.signal,
    });
    this.loops = Promise.all([appLoop, this.volumes.done]).then(() => this.setState('stopped'));
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
      ...this.volumes.status(),
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
    const gone = (this.cfg?.apps ?? []).filter((a) => !apps.has(a.uuid));
    const removals = gone.map((a): Removal => {
      const rt = this.apps.get(a.uuid);
      this.apps.delete(a.uuid);
      return { app: a, kubeName: rt?.kubeName ?? safeKubeName(a), owner: !!rt && (rt.designated || !!rt.obs?.hostedHere) };
    });
    // The config is replaced before its removals are queued (and before anything is awaited): a pass that took a
    // removal and then ensured the same app from the config it replaced re-created a workload that another node
    // had just deleted, and nothing removed it again.
    this.cfg = cfg;
    this.removals.push(...removals);
    for (const a of gone) {
      this.log.info('app deleted from config', { appId: a.uuid, name: a.displayName });
      this.o.emit('app.deleted', `${a.displayName} deleted from the config`, { appId: a.uuid });
      if (devId) await this.o.publishInfo(a.uuid, appInfoMessage(devId, now, { AppID: a.uuid }));
    }
    await this.volumes.onConfig(cfg);
    this.appWaker.wake();
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
    this.cfg = withoutRetained(this.cfg, r);
    this.volumes.forget(r, this.cfg);
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
        this.lastApiOkMs = this.o.clock.monotonic();
        this.noteChanges(pods);
      } catch (e) {
        if (isAbortError(e) || this.signal.aborted) throw e;
        this.log.debug('pod list failed', { error: errorMessage(e) });
      }
    }
    const apiDown = !view && this.apiSeen && this.o.clock.monotonic() - this.lastApiOkMs >= this.o.clock.scaled(APP_API_DOWN_MS);
    if (kube && view) {
      // A removal that failed (API hiccup) stays queued for the next pass.
      for (const r of this.removals.splice(0)) if (!(await removeWorkload(this.actions, kube, r, view))) this.removals.push(r);
      if (!this.bootFailbackDone && descheduleOnBoot(cfg)) this.bootFailbackDone = await failbackOnBoot(this.actions, kube, cfg, nodeName, view);
    }
    for (const app of cfg.apps) {
      // A newer config arrived while this pass waited: the pass it woke decides (an app it removed is not ensured).
      if (this.cfg !== cfg) return;
      try {
        await this.appPassOne(app, { devId, nodeName, kube, view, apiDown });
      } catch (e) {
        if (isAbortError(e) || this.signal.aborted) throw e;
        this.log.warn('app reconcile failed', { appId: app.uuid, error: errorMessage(e) });
      }
    }
  }

  /** Remembers when the pods last changed (drives the settling interval). */
  private noteChanges(pods: KubePodStatus[]): void {
    const fp = JSON.stringify(pods.map((p) => [p.name, p.nodeName, p.phase, !!p.deletionTimestamp]).sort());
    if (fp !== this.fingerprint) {
      this.fingerprint = fp;
      this.lastChangeMs = this.o.clock.monotonic();
    }
  }

  private runtimeOf(app: AppConfig, kubeName: string, designated: boolean): AppRuntime {
    let rt = this.apps.get(app.uuid);
    if (!rt) {
      rt = { obs: undefined, kubeName, designated, workloadExists: false, ensuredIntent: '', ensuredAtMs: -Infinity, restartCounter: app.restartCounter, lastDigest: undefined, status: undefined };
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
      const due = intent !== rt.ensuredIntent || obs.kubeStatus === 'NotInCluster' || this.o.clock.monotonic() - rt.ensuredAtMs >= this.o.clock.scaled(APP_LOOP_MS);
      if ((designated || obs.hostedHere) && due) {
        rt.workloadExists = await ensureWorkload(this.actions, c.kube, app, { kubeName, previousName, designated, nodeName: c.nodeName, storageReady: storageState === undefined, obs, nodes: c.view.nodes });
        rt.ensuredIntent = intent;
        rt.ensuredAtMs = this.o.clock.monotonic();
      }
      if (obs.scheduledOnThisNode && app.affinity === 'preferred' && obs.terminatingElsewhere.length > 0) {
        waitingFor = await detachOldWorkload(this.actions, c.kube, app, obs, await c.view.nodes());
      }
      // A restart-counter increase recreates the pod: the node hosting it deletes it (once; the counter is taken first).
      const restart = app.restartCounter > rt.restartCounter;
      rt.restartCounter = app.restartCounter;
      if (restart && obs.localPod) await restartPod(this.actions, c.kube, app, obs.localPod.name);
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

  /** The least advanced state among the app's volumes that are not created yet; undefined when all are. */
  private appStorageState(app: AppConfig): info.ZSwState | undefined {
    let worst: info.ZSwState | undefined;
    for (const ref of app.volumeRefs) {
      // undefined: a reference to no volume of the config, nothing to wait for.
      const state = this.volumes.volumeState(ref);
      if (state === undefined || state === info.ZSwState.CREATED_VOLUME) continue;
      if (worst === undefined || state < worst) worst = state;
    }
    return worst;
  }
}

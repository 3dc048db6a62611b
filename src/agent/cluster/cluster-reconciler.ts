/**
 * The cluster reconciler (the roles of EVE's zedkube + kube-init, cluster.md §2–§7): from the parsed cluster block
 * it decides what the node should run (cluster-plan.ts: plain data, the token only as a digest), and converges to
 * it step by step (cluster-executor.ts): cluster IP on the cluster interface, status port, the bootstrap wait
 * (joiners), k3s with EVE's drop-ins, the monitor loops that report ZInfoClusterNode / ZInfoKubeCluster.
 *
 * Configs are handled in order, one at a time; a newer config aborts a transition that is still waiting (the join
 * wait) and the next plan starts from what was really applied. A failed step is retried with backoff. A block
 * that is invalid or cannot be decrypted changes nothing that runs; it is reported (Simulator choice §2.3) and
 * retried when the config or certs change.
 */
import path from 'node:path';
import type { Clock, Logger } from '../../common/index.js';
import { errorMessage, isAbortError } from '../../common/index.js';
import type { info } from '../../eve/index.js';
import {
  ClusterStatusServer,
  CLUSTER_STATUS_PORT,
  EVE_KUBE_APP_NAMESPACE,
  isControlPlaneEtcdNode,
  K3S_MAX_BACKOFF_MS,
  K3S_MIN_BACKOFF_MS,
  toK8sNodeName,
  waitForBootstrapServer,
} from '../../k3s/index.js';
import type { FaultSet } from '../faults.js';
import type { DeviceConfig, EncryptedValue } from '../parse-config.js';
import { applyClusterFault, isClusterFault } from './cluster-faults.js';
import { ClusterExecutor, type ClusterEffects } from './cluster-executor.js';
import { ClusterMonitor } from './cluster-monitor.js';
import {
  nothingApplied,
  wantedAfter,
  type ClusterAddress,
  type ClusterInput,
  type ClusterStep,
  type ClusterTarget,
  type ClusterWanted,
} from './cluster-plan.js';
import { unobserved, type ClusterRole, type ClusterStatus } from './cluster-status.js';
import type { ClusterToken } from './cluster-token.js';
import { clusterUpdateStatusInfo } from './kube-report.js';
import { K3sRuntime, type ClusterK3s, type K3sLaunch } from './k3s-runtime.js';
import { addClusterAddress, removeClusterAddress } from './network.js';

/** The cluster interface's addresses (iproute2 on the host; a fake in the model test). */
export interface ClusterNetwork {
  add(a: ClusterAddress): Promise<void>;
  remove(a: ClusterAddress): Promise<void>;
}

/** What a running status server offers the reconciler. */
export interface StatusServerHandle {
  stop(): Promise<void>;
}

export interface ClusterReconcilerOptions {
  stateDir: string;
  launch: K3sLaunch;
  /** Logical label → Linux interface (`--iface-map ethernet1=eth1`); identity when absent. */
  ifaceMap: Record<string, string>;
  /** Node IP of single-node k3s (each loopback-mode node needs its own). @default 127.0.0.1 */
  singleNodeIp: string;
  /** Port of the status server. @default 12346 */
  statusPort?: number;
  /** Render files and log network changes without applying them. */
  dryRun?: boolean;
  deviceUuid: () => string | undefined;
  /** The cluster token of an encrypted block (cluster-token.ts; cached there). */
  decryptToken: (value: EncryptedValue) => Promise<ClusterToken>;
  publishInfo: (key: string, msg: info.IZInfoMsg) => Promise<void>;
  emit: (kind: string, message: string, fields?: Record<string, unknown>) => void;
  faults: FaultSet;
  clock: Clock;
  logger: Logger;
  /** Test seams: the node's k3s, its network, the status server and the bootstrap wait. @default the real ones */
  k3s?: ClusterK3s;
  network?: ClusterNetwork;
  startStatusServer?: (ip: string, clusterId: string) => Promise<StatusServerHandle>;
  waitForBootstrap?: (joinServerIp: string, clusterId: string, signal: AbortSignal) => Promise<void>;
  /** Monitor loops (reports, labels, election) on the running k3s. @default true unless dryRun */
  monitor?: boolean;
}

/** The host's iproute2. */
const hostNetwork: ClusterNetwork = {
  add: async (a) => void (await addClusterAddress(a.ifname, a.ip, a.prefix)),
  remove: (a) => removeClusterAddress(a.ifname, a.ip),
};

/** What each step is called in the phase (status, events). */
const PHASE: Record<ClusterStep['kind'], string> = {
  'stop-monitor': 'stopping the monitor',
  leave: 'leaving the cluster',
  'stop-status-server': 'stopping the status server',
  'reset-k3s': 'resetting k3s',
  'remove-address': 'removing a stale cluster IP',
  'add-address': 'adding cluster IP',
  'start-status-server': 'starting the status server',
  'wait-bootstrap': 'waiting for the bootstrap server',
  'write-drop-ins': 'writing the k3s drop-ins',
  'start-k3s': 'starting k3s',
  'start-monitor': 'starting the monitor',
};

const roleOf = (w: ClusterWanted): ClusterRole => (w.kind === 'single' ? 'single' : w.target.role);

export class ClusterReconciler {
  private readonly log: Logger;
  private readonly k3s: ClusterK3s;
  private readonly network: ClusterNetwork;
  private chain: Promise<void> = Promise.resolve();
  private executor: ClusterExecutor | undefined;
  /** What the last usable config wants (kept while later blocks are rejected). */
  private wanted: ClusterWanted | undefined;
  /** The token of `wanted` (never in the plan: only its digest is). */
  private wantedToken = '';
  private lastConfig: DeviceConfig | undefined;
  private statusServer: StatusServerHandle | undefined;
  private monitor: ClusterMonitor | undefined;
  private transition: AbortController | undefined;
  private readonly stopCtl = new AbortController();
  private stopped: Promise<void> | undefined;
  private retry: { delayMs: number; pending: Promise<void> | undefined } = { delayMs: K3S_MIN_BACKOFF_MS, pending: undefined };
  private lastBadInput = '';
  private deviceName = '';
  /** The reconciler's own part of the status; the monitor adds what it observes. */
  private st: Omit<ClusterStatus, keyof ReturnType<typeof unobserved>> = {
    role: 'none',
    clusterId: '',
    clusterIp: '',
    nodeName: '',
    error: undefined,
    phase: 'idle',
    port: undefined,
  };

  constructor(private readonly o: ClusterReconcilerOptions) {
    this.log = o.logger.child({ component: 'agent.cluster' });
    this.k3s =
      o.k3s ??
      new K3sRuntime({
        launch: o.launch,
        dir: path.join(o.stateDir, 'k3s'),
        clock: o.clock,
        logger: o.logger.child({ component: 'k3s' }),
        ...(o.dryRun ? { dryRun: true } : {}),
      });
    this.network = o.network ?? hostNetwork;
    o.faults.onChange((kind, active) => void this.onFault(kind, active));
  }

  /** A snapshot of the cluster state. */
  status(): ClusterStatus {
    const seen = this.monitor?.observed ?? unobserved();
    return { ...this.st, ...seen, nodes: [...seen.nodes] };
  }

  /** The k3s runtime (kubeconfig path, process) for the demo and the admin API. */
  get runtime(): ClusterK3s {
    return this.k3s;
  }

  /** Queues the config; changes are applied one at a time, in order. */
  onConfig(cfg: DeviceConfig): Promise<void> {
    // A newer config aborts a transition that is still waiting (e.g. in the join handshake); the next plan starts
    // from what that transition really applied.
    this.transition?.abort();
    this.lastConfig = cfg;
    const run = (): Promise<void> => this.reconcile(cfg);
    this.chain = this.chain.then(run, run);
    return this.chain;
  }

  /**
   * Resolves once the queued configs are handled and no retry is pending: the node is where its last usable config
   * wants it, or has stopped trying (stopped). For tests and `--once`.
   */
  async settled(): Promise<void> {
    for (;;) {
      await this.chain;
      const pending = this.retry.pending;
      if (!pending) return;
      await pending;
    }
  }

  /** The steps still needed (empty once converged). */
  pendingSteps(): ClusterStep[] {
    return this.executor?.pending(this.wanted) ?? [];
  }

  /**
   * Stops the monitor first (the stats-leader lease is released while k3s still serves it), then the status server,
   * then, unless `leaveK3sRunning`, k3s and the cluster address (a k3s left running keeps its address). Idempotent.
   */
  stop(opts: { leaveK3sRunning?: boolean } = {}): Promise<void> {
    this.stopped ??= this.doStop(opts);
    return this.stopped;
  }

  private async doStop(opts: { leaveK3sRunning?: boolean }): Promise<void> {
    this.stopCtl.abort();
    this.transition?.abort();
    await this.chain.catch(() => undefined);
    await this.stopMonitor(); // ReleaseOnCancel: the lease goes while the API is still there
    await this.stopStatus();
    if (opts.leaveK3sRunning) return;
    await this.k3s.stopProcess();
    if (this.o.dryRun) return;
    for (const a of this.executor?.applied.addresses ?? []) {
      await this.network.remove(a).catch((e: unknown) => this.log.warn('cluster IP not removed', { error: errorMessage(e) }));
    }
  }

  private setPhase(phase: string): void {
    if (phase === this.st.phase) return;
    this.log.info('cluster phase', { from: this.st.phase, to: phase });
    this.o.emit('cluster.phase', phase, { from: this.st.phase, to: phase });
    this.st.phase = phase;
  }

  private fail(e: unknown): void {
    this.st.error = errorMessage(e);
    this.log.error('cluster reconcile failed', { error: this.st.error });
    this.o.emit('cluster.error', this.st.error);
  }

  /** What the newest config asks for, as plain data; a bad block is reported here. */
  private async input(cfg: DeviceConfig): Promise<ClusterInput> {
    const parse = cfg.cluster;
    if (parse.kind === 'absent') return { kind: 'absent', deviceName: this.deviceName };
    if (parse.kind === 'invalid') {
      await this.reportBadInput(`${parse.field}: ${parse.reason}`, '');
      return { kind: 'rejected' }; // changes nothing that runs (§2.3)
    }
    const c = parse.config;
    let token: ClusterToken;
    try {
      token = await this.o.decryptToken(c.encryptedToken);
    } catch (e) {
      await this.reportBadInput(`cluster.encrypted_cluster_token: cannot decrypt: ${errorMessage(e)}`, c.clusterId);
      return { kind: 'rejected' }; // retried with the next config (or cert change)
    }
    await this.clearBadInput(c.clusterId);
    this.wantedToken = token.token;
    const target: ClusterTarget = {
      clusterId: c.clusterId,
      clusterName: c.clusterName,
      label: c.clusterInterface,
      ifname: this.o.ifaceMap[c.clusterInterface] ?? c.clusterInterface,
      clusterIp: c.clusterIp,
      prefixLength: c.prefixLength,
      joinServerIp: c.joinServerIp,
      role: c.role,
      clusterType: c.clusterType,
      tieBreakerNodeId: c.tieBreakerNodeId,
      tokenDigest: token.digest,
    };
    return { kind: 'cluster', deviceName: this.deviceName, target };
  }

  private async reconcile(cfg: DeviceConfig): Promise<void> {
    if (this.stopCtl.signal.aborted) return;
    const transition = (this.transition = new AbortController());
    const signal = AbortSignal.any([transition.signal, this.stopCtl.signal]);
    try {
      this.deviceName = cfg.deviceName || this.o.deviceUuid() || 'edgesim';
      this.wanted = wantedAfter(this.wanted, await this.input(cfg));
      this.executor ??= new ClusterExecutor(this.effects(), nothingApplied(await this.k3s.dataOwner()), (step) =>
        this.setPhase(PHASE[step.kind]),
      );
      // Latest wins: a config already superseded only updates what is wanted (its block may be the last usable one).
      if (cfg !== this.lastConfig || this.executor.pending(this.wanted).length === 0) return;
      const w = this.wanted!;
      if (w.kind === 'cluster') {
        const t = w.target;
        this.o.emit('cluster.joining', `${t.role} of cluster ${t.clusterName || t.clusterId} at ${t.clusterIp}`, { clusterId: t.clusterId, role: t.role });
      }
      await this.executor.converge(this.wanted, signal);
      this.st.error = this.lastBadInput || undefined;
      this.retry.delayMs = K3S_MIN_BACKOFF_MS;
      this.setPhase(w.kind === 'single' ? 'single-node' : 'cluster member');
    } catch (e) {
      if (isAbortError(e) || signal.aborted) return;
      this.fail(e);
      this.scheduleRetry(cfg);
    }
  }

  /** A failed step is tried again after 5 s → 5 min (as the k3s supervisor backs off), unless a newer config came. */
  private scheduleRetry(cfg: DeviceConfig): void {
    const delay = this.retry.delayMs;
    this.retry.delayMs = Math.min(K3S_MAX_BACKOFF_MS, delay * 2);
    const pending = this.o.clock
      .sleep(delay, this.stopCtl.signal)
      .then(
        () => {
          if (this.lastConfig === cfg) void this.onConfig(cfg);
        },
        () => undefined,
      )
      .finally(() => {
        if (this.retry.pending === pending) this.retry.pending = undefined;
      });
    this.retry.pending = pending;
  }

  // --- the steps ----------------------------------------------------------------------------------------

  private effects(): ClusterEffects {
    const dry = !!this.o.dryRun;
    return {
      stopMonitor: () => this.stopMonitor(),
      leave: () => this.leave(),
      stopStatusServer: () => this.stopStatus(),
      resetK3s: async () => {
        await this.k3s.reset();
        this.st = { ...this.st, role: 'none', clusterId: '', clusterIp: '' };
      },
      removeAddress: async (a) => {
        if (dry) this.log.info('dry run: would remove address', { ifname: a.ifname, address: `${a.ip}/${a.prefix}` });
        else await this.network.remove(a);
        if (this.st.port?.address === `${a.ip}/${a.prefix}` && this.st.port.ifname === a.ifname) this.st.port = undefined;
      },
      addAddress: async (a) => {
        if (dry) this.log.info('dry run: would add address', { ifname: a.ifname, address: `${a.ip}/${a.prefix}` });
        else await this.network.add(a);
        const t = this.wanted?.kind === 'cluster' ? this.wanted.target : undefined;
        this.st.port = { ifname: a.ifname, label: t?.label ?? a.ifname, address: `${a.ip}/${a.prefix}` };
      },
      startStatusServer: (ip, clusterId) => this.startStatus(ip, clusterId),
      waitBootstrap: async (joinServerIp, clusterId, signal) => {
        if (dry) return;
        if (this.o.waitForBootstrap) return this.o.waitForBootstrap(joinServerIp, clusterId, signal);
        await waitForBootstrapServer({
          joinServerIp,
          clusterId,
          statusPort: this.o.statusPort ?? CLUSTER_STATUS_PORT,
          clock: this.o.clock,
          logger: this.log,
          signal,
        });
      },
      writeDropIns: (w) => this.writeDropIns(w),
      startK3s: async (data) => {
        const r = await this.k3s.startProcess();
        await this.k3s.setDataOwner(data);
        this.st.nodeName = r.nodeName;
      },
      startMonitor: (w) => Promise.resolve(this.startMonitor(w)),
    };
  }

  private async writeDropIns(w: ClusterWanted): Promise<void> {
    const uuid = this.o.deviceUuid() ?? '';
    if (w.kind === 'single') {
      await this.k3s.writeConfig({ deviceName: w.deviceName, deviceUuid: uuid, nodeIp: this.o.singleNodeIp });
      this.st = { ...this.st, role: 'single', clusterId: '', clusterIp: '', nodeName: toK8sNodeName(w.deviceName) };
      return;
    }
    const t = w.target;
    await this.k3s.writeConfig({
      deviceName: w.deviceName,
      deviceUuid: uuid,
      nodeIp: t.clusterIp,
      cluster: {
        clusterId: t.clusterId,
        clusterIp: t.clusterIp,
        joinServerIp: t.joinServerIp,
        token: this.wantedToken,
        clusterIfName: t.ifname,
        clusterType: t.clusterType,
        bootstrap: t.role === 'bootstrap',
        isWorkerNode: t.role === 'agent',
        agentMode: true,
        etcdInitialized: t.role === 'bootstrap' && (await this.k3s.etcdInitialized()),
      },
    });
    this.st = { ...this.st, role: t.role, clusterId: t.clusterId, clusterIp: t.clusterIp, nodeName: toK8sNodeName(w.deviceName) };
  }

  private async startStatus(ip: string, clusterId: string): Promise<void> {
    await this.stopStatus();
    if (this.o.dryRun || this.o.faults.has('status-server-down')) return;
    if (this.o.startStatusServer) {
      this.statusServer = await this.o.startStatusServer(ip, clusterId);
      return;
    }
    this.statusServer = await ClusterStatusServer.create({
      host: ip,
      port: this.o.statusPort ?? CLUSTER_STATUS_PORT,
      clusterId,
      isClusterMember: async (signal) => {
        const kube = this.k3s.kube();
        if (!kube || !this.st.nodeName) return false;
        return isControlPlaneEtcdNode((await kube.getNode(this.st.nodeName, signal)).labels);
      },
      clock: this.o.clock,
      logger: this.log,
    });
  }

  private async stopStatus(): Promise<void> {
    const s = this.statusServer;
    this.statusServer = undefined;
    await s?.stop();
  }

  /** Leaving (§5.5): cordon, delete own app pods, delete own Node, while the old membership's k3s still runs. */
  private async leave(): Promise<void> {
    this.o.emit('cluster.leaving', `leaving cluster ${this.st.clusterId}`);
    const kube = this.k3s.kube();
    const name = this.st.nodeName;
    if (!kube || !name) return;
    try {
      await kube.cordonNode(name, true);
      for (const p of await kube.listPods({ namespace: EVE_KUBE_APP_NAMESPACE, fieldSelector: `spec.nodeName=${name}` })) {
        await kube.deletePod(p.name, { gracePeriodSeconds: 0 }).catch(() => undefined);
      }
      await kube.deleteNode(name);
    } catch (e) {
      this.log.warn('could not drain and delete the node before leaving', { error: errorMessage(e) });
    }
  }

  // --- reporting ----------------------------------------------------------------------------------------

  private async reportBadInput(reason: string, clusterId: string): Promise<void> {
    this.st.error = reason;
    if (reason === this.lastBadInput) return;
    this.lastBadInput = reason;
    this.log.error('cluster config not applied', { reason });
    this.o.emit('cluster.error', reason);
    await this.publishUpdateStatus(clusterId, reason);
  }

  private async clearBadInput(clusterId: string): Promise<void> {
    if (!this.lastBadInput) return;
    this.lastBadInput = '';
    this.st.error = undefined;
    await this.publishUpdateStatus(clusterId, undefined);
  }

  /** The cluster-config error (or its clearing) under queue key `clusterconfig`. */
  private async publishUpdateStatus(clusterId: string, error: string | undefined): Promise<void> {
    const devId = this.o.deviceUuid();
    if (!devId) return;
    const msg = clusterUpdateStatusInfo({ devId, nodeName: toK8sNodeName(this.deviceName), clusterId, error, nowMs: this.o.clock.now() });
    await this.o.publishInfo('clusterconfig', msg);
  }

  // --- monitoring ---------------------------------------------------------------------------------------

  /** Starts the monitor loops of the mode just entered (own node status, label, election, leader reports). */
  private startMonitor(w: ClusterWanted): void {
    if (this.o.dryRun || this.o.monitor === false) return;
    this.monitor = ClusterMonitor.start(
      {
        kube: () => this.k3s.kube(),
        cluster: () => this.liveTarget(w),
        nodeName: this.st.nodeName,
        role: roleOf(w),
        k3sStarts: () => this.k3s.process?.restarts ?? 0,
        deviceUuid: this.o.deviceUuid,
        publishInfo: this.o.publishInfo,
        emit: this.o.emit,
        onError: (e) => this.fail(e),
        clock: this.o.clock,
        logger: this.log,
      },
      this.stopCtl.signal,
    );
  }

  /** The newest target of the cluster `w` is in (tie-breaker and name change without a restart of the monitor). */
  private liveTarget(w: ClusterWanted): ClusterTarget | undefined {
    if (w.kind !== 'cluster') return undefined;
    const now = this.wanted;
    return now?.kind === 'cluster' && now.target.clusterId === w.target.clusterId ? now.target : w.target;
  }

  /** Ends the monitor loops and waits for them (a held stats-leader lease is released on the way). */
  private async stopMonitor(): Promise<void> {
    const m = this.monitor;
    this.monitor = undefined;
    await m?.stop();
  }

  // --- faults -------------------------------------------------------------------------------------------

  private async onFault(kind: string, active: boolean): Promise<void> {
    if (!isClusterFault(kind)) return;
    const applied = this.executor?.applied;
    try {
      await applyClusterFault(kind, active, {
        k3s: this.k3s.process,
        clusterIfname: applied?.addresses[0]?.ifname,
        stopStatusServer: () => this.stopStatus(),
        startStatusServer: async () => {
          const s = this.executor?.applied.statusServer;
          if (s) await this.startStatus(s.ip, s.clusterId);
        },
        clear: (k) => this.o.faults.clear(k),
      });
      this.o.emit('fault', `${kind} ${active ? 'injected' : 'cleared'}`, { kind, active });
    } catch (e) {
      this.log.warn('fault could not be applied', { kind, error: errorMessage(e) });
    }
  }
}

/**
 * The cluster reconciler (the roles of EVE's zedkube + kube-init, cluster.md §2–§7): from the parsed cluster block
 * it decrypts the token, puts the cluster IP on the cluster interface, serves the status port, waits for the
 * bootstrap (joiners), runs k3s with EVE's drop-ins and reports ZInfoClusterNode / ZInfoKubeCluster.
 *
 * Every config change is handled in order, one at a time. A block that is invalid or cannot be decrypted changes
 * nothing that runs; it is reported (Simulator choice §2.3) and retried when the config or certs change.
 */
import path from 'node:path';
import { createHash } from 'node:crypto';
import type { Clock, Logger } from '../../common/index.js';
import { errorMessage, isAbortError, registerSecret } from '../../common/index.js';
import { info, timestampFromMs } from '../../eve/index.js';
import {
  ClusterStatusServer,
  CLUSTER_STATUS_PORT,
  JOIN_PROBE_TIMEOUT_MS,
  EVE_KUBE_APP_NAMESPACE,
  isControlPlaneEtcdNode,
  LABEL_NODE_UUID,
  LeaseLeaderElector,
  toK8sNodeName,
  waitForBootstrapServer,
  type KubeClient,
  type KubeNodeStatus,
} from '../../k3s/index.js';
import type { FaultSet } from '../faults.js';
import type { DeviceConfig, EdgeNodeClusterConfig, EncryptedValue } from '../parse-config.js';
import { kubeClusterInfo, kubeClusterKey, nodeStatusOf } from './kube-report.js';
import { K3sRuntime, type K3sLaunch } from './k3s-runtime.js';
import { addClusterAddress, removeClusterAddress, setLinkUp } from './network.js';

/** Intervals (spec ms), cluster.md §14. */
const NODE_CHECK_MS = 2_000; // own Node read at the kubelet's status frequency
const KUBE_STATS_MS = 30_000; // kubeStatsInterval: leader collects every 30 s
const API_DOWN_MS = 120_000; // 2 min of failed API calls → DOWN / APIUnreachable
const LABEL_TICK_MS = 15_000; // kube-init health tick re-applies node-uuid until verified

export type ClusterRole = 'none' | 'single' | 'bootstrap' | 'server' | 'agent';

/** What the reconciler reports about itself (admin API, demo). */
export interface ClusterStatus {
  role: ClusterRole;
  clusterId: string;
  clusterIp: string;
  nodeName: string;
  /** READY / NOTREADY / DOWN / '' (no cluster). */
  nodeStatus: string;
  isLeader: boolean;
  leader: string;
  /** Nodes of the last ZInfoKubeCluster this node built (leader) or saw. */
  nodes: Array<{ name: string; ready: boolean; internalIp: string; nodeId: string; schedulable: boolean }>;
  error: string | undefined;
  phase: string;
  /** The cluster port while in a cluster: Linux name, logical label and the cluster address with its prefix. */
  port?: { ifname: string; label: string; address: string } | undefined;
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
  decrypt: (value: EncryptedValue) => Promise<{ cluster_token: string }>;
  publishInfo: (key: string, msg: info.IZInfoMsg) => Promise<void>;
  emit: (kind: string, message: string, fields?: Record<string, unknown>) => void;
  faults: FaultSet;
  clock: Clock;
  logger: Logger;
}

interface Applied {
  cfg: EdgeNodeClusterConfig;
  ifname: string;
  tokenDigest: string;
}

export class ClusterReconciler {
  private readonly log: Logger;
  private readonly k3s: K3sRuntime;
  private chain: Promise<void> = Promise.resolve();
  private applied: Applied | undefined;
  private mode: 'none' | 'single' | 'cluster' = 'none';
  private deviceName = '';
  private statusServer: ClusterStatusServer | undefined;
  private monitor: AbortController | undefined;
  private transition: AbortController | undefined;
  private readonly stopCtl = new AbortController();
  private lastBadInput = '';
  private st: ClusterStatus = {
    role: 'none',
    clusterId: '',
    clusterIp: '',
    nodeName: '',
    nodeStatus: '',
    isLeader: false,
    leader: '',
    nodes: [],
    error: undefined,
    phase: 'idle',
    port: undefined,
  };

  constructor(private readonly o: ClusterReconcilerOptions) {
    this.log = o.logger.child({ component: 'agent.cluster' });
    this.k3s = new K3sRuntime({
      launch: o.launch,
      dir: path.join(o.stateDir, 'k3s'),
      clock: o.clock,
      logger: o.logger.child({ component: 'k3s' }),
      ...(o.dryRun ? { dryRun: true } : {}),
    });
    o.faults.onChange((kind, active) => void this.onFault(kind, active));
  }

  /** A snapshot of the cluster state. */
  status(): ClusterStatus {
    return { ...this.st, nodes: [...this.st.nodes] };
  }

  /** The k3s runtime (kubeconfig path, process) for the demo and the admin API. */
  get runtime(): K3sRuntime {
    return this.k3s;
  }

  /** Queues the config; changes are applied one at a time, in order. */
  onConfig(cfg: DeviceConfig): Promise<void> {
    // A newer config aborts a transition that is still waiting (e.g. in the join handshake).
    this.transition?.abort();
    const run = (): Promise<void> => this.reconcile(cfg).catch((e: unknown) => this.fail(e));
    this.chain = this.chain.then(run, run);
    return this.chain;
  }

  /** Stops monitors, the status server and k3s (unless `leaveK3sRunning`), removes the cluster address. */
  async stop(opts: { leaveK3sRunning?: boolean } = {}): Promise<void> {
    this.stopCtl.abort();
    this.transition?.abort();
    await this.chain.catch(() => undefined);
    this.monitor?.abort();
    await this.statusServer?.stop();
    this.statusServer = undefined;
    if (!opts.leaveK3sRunning) await this.k3s.stopProcess();
    if (this.applied && !this.o.dryRun && !opts.leaveK3sRunning) {
      await removeClusterAddress(this.applied.ifname, this.applied.cfg.clusterIp, this.applied.cfg.prefixLength).catch(() => undefined);
    }
  }

  private setPhase(phase: string): void {
    if (phase === this.st.phase) return;
    this.log.info('cluster phase', { from: this.st.phase, to: phase });
    this.o.emit('cluster.phase', phase, { from: this.st.phase, to: phase });
    this.st.phase = phase;
  }

  private fail(e: unknown): void {
    if (isAbortError(e)) return;
    this.st.error = errorMessage(e);
    this.log.error('cluster reconcile failed', { error: this.st.error });
    this.o.emit('cluster.error', this.st.error);
  }

  private async reconcile(cfg: DeviceConfig): Promise<void> {
    if (this.stopCtl.signal.aborted) return;
    this.deviceName = cfg.deviceName || this.o.deviceUuid() || 'edgesim';
    const parse = cfg.cluster;
    if (parse.kind === 'invalid') {
      await this.reportBadInput(`${parse.field}: ${parse.reason}`, '');
      return; // changes nothing that runs (§2.3)
    }
    if (parse.kind === 'absent') {
      if (this.mode === 'cluster') await this.leave();
      if (this.mode === 'none') await this.startSingle();
      return;
    }
    const want = parse.config;
    let token: string;
    try {
      token = (await this.o.decrypt(want.encryptedToken)).cluster_token;
      if (!token) throw new Error('the decrypted EncryptionBlock holds no cluster_token');
    } catch (e) {
      await this.reportBadInput(`cluster.encrypted_cluster_token: cannot decrypt: ${errorMessage(e)}`, want.clusterId);
      return; // keeps whatever runs; retried with the next config (or cert change)
    }
    registerSecret(token);
    await this.clearBadInput(want.clusterId);
    const ifname = this.o.ifaceMap[want.clusterInterface] ?? want.clusterInterface;
    const tokenDigest = createHash('sha256').update(token).digest('hex');
    const a = this.applied;
    if (
      a &&
      this.mode === 'cluster' &&
      a.cfg.clusterId === want.clusterId &&
      a.cfg.clusterIp === want.clusterIp &&
      a.cfg.joinServerIp === want.joinServerIp &&
      a.cfg.isWorkerNode === want.isWorkerNode &&
      a.tokenDigest === tokenDigest &&
      a.ifname === ifname
    ) {
      a.cfg = want; // tie-breaker and cosmetic fields
      return;
    }
    await this.enterCluster({ cfg: want, ifname, tokenDigest }, token);
  }

  /** EVE runs single-node k3s until a cluster block arrives (§4.4, §5.1). */
  private async startSingle(): Promise<void> {
    const uuid = this.o.deviceUuid() ?? '';
    this.setPhase('starting single-node k3s');
    const r = await this.k3s.start({ deviceName: this.deviceName, deviceUuid: uuid, nodeIp: this.o.singleNodeIp });
    this.mode = 'single';
    this.st = { ...this.st, role: 'single', clusterId: '', clusterIp: '', nodeName: r.nodeName, nodeStatus: '' };
    this.startMonitor(undefined, r.nodeName);
    this.setPhase('single-node');
  }

  /** Single → cluster (cluster.md §5.2), in order; any failure leaves the node as it was and is retried. */
  private async enterCluster(next: Applied, token: string): Promise<void> {
    const { cfg, ifname } = next;
    const uuid = this.o.deviceUuid() ?? '';
    const nodeName = toK8sNodeName(this.deviceName);
    const signal = (this.transition = new AbortController()).signal;
    const bootstrap = cfg.bootstrap;
    const role: ClusterRole = bootstrap ? 'bootstrap' : cfg.isWorkerNode ? 'agent' : 'server';
    this.o.emit('cluster.joining', `${role} of cluster ${cfg.clusterName || cfg.clusterId} at ${cfg.clusterIp}`, {
      clusterId: cfg.clusterId,
      role,
    });
    // 1. Cluster IP on the cluster interface (§3).
    this.setPhase('adding cluster IP');
    if (this.o.dryRun) this.log.info('dry run: would add address', { ifname, address: `${cfg.clusterIp}/${cfg.prefixLength}` });
    else await addClusterAddress(ifname, cfg.clusterIp, cfg.prefixLength);
    // 2. Status server on <cluster IP>:12346 (§6).
    await this.restartStatusServer(cfg);
    // 3. Stop the running k3s (single-node or previous cluster mode), §5.2 step 6.
    this.monitor?.abort();
    this.mode = 'cluster';
    this.applied = next;
    this.st = {
      ...this.st,
      role,
      clusterId: cfg.clusterId,
      clusterIp: cfg.clusterIp,
      nodeName,
      nodeStatus: '',
      error: undefined,
      port: { ifname, label: cfg.clusterInterface, address: `${cfg.clusterIp}/${cfg.prefixLength}` },
    };
    const firstJoin = !bootstrap && !(await this.k3s.etcdInitialized()) && this.k3s.running?.role !== role;
    if (this.k3s.running?.role === 'single') await this.k3s.reset();
    // 4. Joiners wait for the bootstrap on first join (§5.3).
    if (firstJoin && !this.o.dryRun) {
      this.setPhase('waiting for the bootstrap server');
      await waitForBootstrapServer({
        joinServerIp: cfg.joinServerIp,
        clusterId: cfg.clusterId,
        statusPort: this.o.statusPort ?? CLUSTER_STATUS_PORT,
        clusterStatusPresent: () => this.applied === next,
        // A probe's 2 s is a network timeout, not part of EVE's timeline: keep it real under --time-scale.
        timeoutMs: JOIN_PROBE_TIMEOUT_MS * this.o.clock.timeScale,
        clock: this.o.clock,
        logger: this.log,
        signal: AbortSignal.any([signal, this.stopCtl.signal]),
      });
    }
    // 5. Drop-ins and k3s in cluster mode.
    this.setPhase('starting k3s in cluster mode');
    const running = await this.k3s.start({
      deviceName: this.deviceName,
      deviceUuid: uuid,
      nodeIp: cfg.clusterIp,
      cluster: {
        clusterId: cfg.clusterId,
        clusterIp: cfg.clusterIp,
        joinServerIp: cfg.joinServerIp,
        token,
        clusterIfName: ifname,
        clusterType: cfg.clusterType,
        isWorkerNode: cfg.isWorkerNode,
        agentMode: true,
        etcdInitialized: bootstrap && (await this.k3s.etcdInitialized()),
      },
    });
    this.st.nodeName = running.nodeName;
    this.startMonitor(cfg, running.nodeName);
    this.setPhase('cluster member');
  }

  private async restartStatusServer(cfg: EdgeNodeClusterConfig): Promise<void> {
    await this.statusServer?.stop();
    this.statusServer = undefined;
    if (this.o.dryRun || this.o.faults.has('status-server-down')) return;
    this.statusServer = await ClusterStatusServer.create({
      host: cfg.clusterIp,
      port: this.o.statusPort ?? CLUSTER_STATUS_PORT,
      clusterId: cfg.clusterId,
      isClusterMember: async (signal) => {
        const kube = this.k3s.kube();
        if (!kube || !this.st.nodeName) return false;
        return isControlPlaneEtcdNode((await kube.getNode(this.st.nodeName, signal)).labels);
      },
      peerAddresses: () => Promise.resolve(this.st.nodes.map((n) => n.internalIp).filter((ip) => ip && ip !== cfg.clusterIp)),
      clock: this.o.clock,
      logger: this.log,
    });
  }

  /** Cluster → single (§5.5): cordon, delete own app pods, delete own Node; then a blank single-node k3s. */
  private async leave(): Promise<void> {
    const a = this.applied;
    this.setPhase('leaving the cluster');
    this.o.emit('cluster.leaving', `leaving cluster ${a?.cfg.clusterName ?? ''}`);
    const kube = this.k3s.kube();
    const name = this.st.nodeName;
    if (kube && name) {
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
    this.monitor?.abort();
    await this.statusServer?.stop();
    this.statusServer = undefined;
    await this.k3s.reset();
    if (a && !this.o.dryRun) await removeClusterAddress(a.ifname, a.cfg.clusterIp, a.cfg.prefixLength).catch(() => undefined);
    this.applied = undefined;
    this.mode = 'none';
    this.st = { ...this.st, role: 'none', clusterId: '', clusterIp: '', nodeStatus: '', isLeader: false, leader: '', nodes: [], port: undefined };
    await this.startSingle();
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

  /**
   * Simulator choice: EVE reports no cluster-config error; edgesim puts it in ZInfoKubeClusterUpdateStatus
   * (component K3S, status FAILED, ErrorInfo) under queue key `clusterconfig`, cleared with COMPLETED once a good
   * block is applied. The text names the field and the reason, never a secret.
   */
  private async publishUpdateStatus(clusterId: string, error: string | undefined): Promise<void> {
    const uuid = this.o.deviceUuid();
    if (!uuid) return;
    await this.o.publishInfo('clusterconfig', {
      ztype: info.ZInfoTypes.ZiKubeClusterUpdateStatus,
      devId: uuid,
      atTimeStamp: timestampFromMs(this.o.clock.now()),
      cluster_update_info: {
        current_node: toK8sNodeName(this.deviceName),
        component: info.KubeComp.KUBE_COMP_K3S,
        status: error ? info.KubeCompUpdateStatus.KUBE_COMP_UPDATE_STATUS_FAILED : info.KubeCompUpdateStatus.KUBE_COMP_UPDATE_STATUS_COMPLETED,
        ...(error
          ? { error: { description: error, severity: 3 /* SEVERITY_ERROR */, timestamp: timestampFromMs(this.o.clock.now()) } }
          : {}),
        cluster_id: clusterId,
      },
    });
  }

  /** Starts the per-mode loops: own node status, node label, leader election and (leader) cluster reports. */
  private startMonitor(cfg: EdgeNodeClusterConfig | undefined, nodeName: string): void {
    this.monitor?.abort();
    const ctl = (this.monitor = new AbortController());
    const signal = AbortSignal.any([ctl.signal, this.stopCtl.signal]);
    if (this.o.dryRun) return;
    void this.nodeLoop(cfg, nodeName, signal).catch((e: unknown) => this.fail(e));
    if (!cfg?.isWorkerNode) void this.electionLoop(cfg, nodeName, signal).catch((e: unknown) => this.fail(e));
  }

  /** The kube client once k3s wrote its kubeconfig; servers also make sure `eve-kube-app` exists. */
  private async kubeReady(signal: AbortSignal): Promise<KubeClient> {
    for (;;) {
      const k = this.k3s.kube();
      if (k) {
        if (this.st.role === 'agent') return k;
        try {
          await k.ensureNamespace(EVE_KUBE_APP_NAMESPACE, signal);
          return k;
        } catch (e) {
          if (isAbortError(e)) throw e;
        }
      }
      await this.o.clock.sleep(500, signal);
    }
  }

  /** Own node: label node-uuid (until verified), ZInfoClusterNode on change, DOWN after 2 min without the API. */
  private async nodeLoop(cfg: EdgeNodeClusterConfig | undefined, nodeName: string, signal: AbortSignal): Promise<void> {
    const kube = await this.kubeReady(signal);
    const uuid = this.o.deviceUuid() ?? '';
    let labelled = false;
    let lastLabelTry = 0;
    let lastOk = this.o.clock.now();
    let sent: info.ZInfoClusterNodeStatus | undefined;
    let tieBreakerDone = false;
    for (;;) {
      let status: info.ZInfoClusterNodeStatus | undefined;
      try {
        const node = await kube.getNode(nodeName, signal);
        lastOk = this.o.clock.now();
        if (!labelled && node.labels[LABEL_NODE_UUID] === uuid) labelled = true;
        if (!labelled && (lastLabelTry === 0 || this.o.clock.now() - lastLabelTry >= this.o.clock.scaled(LABEL_TICK_MS))) {
          lastLabelTry = this.o.clock.now();
          // Verified on the next read of the node; retried on the 15 s health tick while it does not show.
          await kube.labelNode(nodeName, { [LABEL_NODE_UUID]: uuid }, signal).catch(() => undefined);
        }
        status = nodeStatusOf(node);
      } catch (e) {
        if (isAbortError(e) || signal.aborted) return;
        if (this.o.clock.now() - lastOk >= this.o.clock.scaled(API_DOWN_MS)) {
          status = info.ZInfoClusterNodeStatus.Z_INFO_CLUSTER_NODE_STATUS_DOWN;
        } else if (/not ?found/i.test(errorMessage(e))) {
          status = info.ZInfoClusterNodeStatus.Z_INFO_CLUSTER_NODE_STATUS_NOTREADY;
        }
      }
      if (cfg?.tieBreakerNodeId && cfg.tieBreakerNodeId === uuid && !tieBreakerDone) {
        tieBreakerDone = await this.applyTieBreaker(kube, nodeName, signal).catch((e: unknown) => {
          if (isAbortError(e)) throw e;
          this.log.debug('tie-breaker not applied yet', { error: errorMessage(e) });
          return false;
        });
      }
      if (status !== undefined && status !== sent && cfg) {
        sent = status;
        const name = info.ZInfoClusterNodeStatus[status]?.replace('Z_INFO_CLUSTER_NODE_STATUS_', '') ?? String(status);
        this.st.nodeStatus = name;
        this.o.emit('cluster.node', `node ${nodeName} ${name}`, { status: name });
        const devId = this.o.deviceUuid();
        if (devId) {
          // Simulator choice §7.7: ztype ZiNop, queue key `clusternode`.
          await this.o.publishInfo('clusternode', {
            devId,
            atTimeStamp: timestampFromMs(this.o.clock.now()),
            cluster_node: { node_status: status },
          });
        }
      }
      await this.o.clock.sleep(NODE_CHECK_MS, signal);
    }
  }

  /**
   * Tie-breaker (cluster.md §12), run on the tie-breaker node itself once exactly 3 labelled nodes exist:
   * `tie-breaker-node=true` on itself and `false` on the other two, `tie-breaker-config-applied=1` on every node,
   * and itself cordoned (it stays so). Returns true when done.
   */
  private async applyTieBreaker(kube: KubeClient, nodeName: string, signal: AbortSignal): Promise<boolean> {
    const nodes = await kube.listNodes({}, signal);
    if (nodes.length !== 3 || nodes.some((n) => !n.nodeUuid)) return false;
    for (const n of nodes) {
      await kube.labelNode(n.name, { 'tie-breaker-node': n.name === nodeName ? 'true' : 'false' }, signal);
    }
    await kube.cordonNode(nodeName, true, signal);
    for (const n of nodes) await kube.labelNode(n.name, { 'tie-breaker-config-applied': '1' }, signal);
    this.o.emit('cluster.tiebreaker', `${nodeName} is the tie-breaker: labelled and cordoned`);
    return true;
  }

  /** Lease election for `eve-kube-stats-leader`; the leader collects every 30 s and reports on change (§7.1). */
  private async electionLoop(cfg: EdgeNodeClusterConfig | undefined, nodeName: string, signal: AbortSignal): Promise<void> {
    const kube = await this.kubeReady(signal);
    let leading: AbortController | undefined;
    const elector = new LeaseLeaderElector({
      client: kube,
      identity: nodeName,
      clock: this.o.clock,
      logger: this.log,
      onStartedLeading: () => {
        this.st.isLeader = true;
        this.o.emit('cluster.leader', `${nodeName} is the kube-stats leader`);
        leading = new AbortController();
        void this.leaderLoop(kube, cfg, AbortSignal.any([leading.signal, signal])).catch((e: unknown) => this.fail(e));
      },
      onStoppedLeading: () => {
        this.st.isLeader = false;
        leading?.abort();
      },
      onNewLeader: (id) => {
        this.st.leader = id;
      },
    });
    while (!signal.aborted) {
      await elector.run(signal);
      if (signal.aborted) break;
      await this.o.clock.sleep(15_000, signal).catch(() => undefined);
    }
    leading?.abort();
    this.st.isLeader = false;
  }

  private async leaderLoop(kube: KubeClient, cfg: EdgeNodeClusterConfig | undefined, signal: AbortSignal): Promise<void> {
    let lastKey = '';
    while (!signal.aborted) {
      try {
        const [nodes, pods] = await Promise.all([kube.listNodes({}, signal), kube.listPods({ namespace: EVE_KUBE_APP_NAMESPACE }, signal)]);
        const msg = kubeClusterInfo(nodes, pods, cfg?.clusterId);
        this.st.nodes = nodes.map(toStatusNode);
        const key = kubeClusterKey(msg);
        const devId = this.o.deviceUuid();
        if (key !== lastKey && devId) {
          lastKey = key;
          await this.o.publishInfo('kubeclusterinfo', {
            ztype: info.ZInfoTypes.ZiKubeCluster,
            devId,
            atTimeStamp: timestampFromMs(this.o.clock.now()),
            cluster_info: msg,
          });
          this.o.emit('cluster.report', `ZInfoKubeCluster with ${nodes.length} node(s)`, { nodes: nodes.length });
        }
      } catch (e) {
        if (isAbortError(e) || signal.aborted) return;
        this.log.warn('cluster stats collection failed', { error: errorMessage(e) });
      }
      await this.o.clock.sleep(this.collectIntervalMs(), signal).catch(() => undefined);
    }
  }

  /** 30 s as EVE; while nodes are still joining the view changes, so look again sooner (Simulator choice). */
  private collectIntervalMs(): number {
    const settling = this.st.nodes.length === 0 || this.st.nodes.some((n) => !n.ready);
    return settling ? NODE_CHECK_MS : KUBE_STATS_MS;
  }

  // --- faults -------------------------------------------------------------------------------------------

  private async onFault(kind: string, active: boolean): Promise<void> {
    try {
      const proc = this.k3s.process;
      switch (kind) {
        case 'k3s-killed':
          if (active) {
            proc?.kill('SIGKILL');
            this.o.faults.clear('k3s-killed'); // a one-shot: the supervisor restarts k3s
          }
          break;
        case 'k3s-stopped':
          if (active) await proc?.pause();
          else await proc?.resume();
          break;
        case 'heartbeats-paused':
          if (proc?.pid) process.kill(-proc.pid, active ? 'SIGSTOP' : 'SIGCONT');
          break;
        case 'status-server-down':
          if (active) {
            await this.statusServer?.stop();
            this.statusServer = undefined;
          } else if (this.applied) await this.restartStatusServer(this.applied.cfg);
          break;
        case 'cluster-interface-down':
          if (this.applied) await setLinkUp(this.applied.ifname, !active);
          break;
        default:
          return;
      }
      this.o.emit('fault', `${kind} ${active ? 'injected' : 'cleared'}`, { kind, active });
    } catch (e) {
      this.log.warn('fault could not be applied', { kind, error: errorMessage(e) });
    }
  }
}

function toStatusNode(n: KubeNodeStatus): ClusterStatus['nodes'][number] {
  return { name: n.name, ready: n.ready === 'True', internalIp: n.internalIp ?? '', nodeId: n.nodeUuid ?? '', schedulable: n.schedulable };
}

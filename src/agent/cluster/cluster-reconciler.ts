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
import type { info } from '../../eve/index.js';
import {
  ClusterStatusServer,
  CLUSTER_STATUS_PORT,
  EVE_KUBE_APP_NAMESPACE,
  isControlPlaneEtcdNode,
  toK8sNodeName,
  waitForBootstrapServer,
} from '../../k3s/index.js';
import type { FaultSet } from '../faults.js';
import type { DeviceConfig, EdgeNodeClusterConfig, EncryptedValue } from '../parse-config.js';
import { applyClusterFault, isClusterFault } from './cluster-faults.js';
import { ClusterMonitor } from './cluster-monitor.js';
import { unobserved, type ClusterRole, type ClusterStatus } from './cluster-status.js';
import { clusterUpdateStatusInfo } from './kube-report.js';
import { K3sRuntime, type K3sLaunch } from './k3s-runtime.js';
import { addClusterAddress, removeClusterAddress } from './network.js';

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
  private monitor: ClusterMonitor | undefined;
  private transition: AbortController | undefined;
  private readonly stopCtl = new AbortController();
  private lastBadInput = '';
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
    const seen = this.monitor?.observed ?? unobserved();
    return { ...this.st, ...seen, nodes: [...seen.nodes] };
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
    this.monitor?.stop();
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
    this.st = { ...this.st, role: 'single', clusterId: '', clusterIp: '', nodeName: r.nodeName };
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
    this.stopMonitor();
    this.mode = 'cluster';
    this.applied = next;
    this.st = {
      ...this.st,
      role,
      clusterId: cfg.clusterId,
      clusterIp: cfg.clusterIp,
      nodeName,
      error: undefined,
      port: { ifname, label: cfg.clusterInterface, address: `${cfg.clusterIp}/${cfg.prefixLength}` },
    };
    const firstJoin = !bootstrap && !(await this.k3s.etcdInitialized()) && this.k3s.running?.role !== role;
    if (this.k3s.running?.role === 'single') await this.k3s.reset();
    // 4. Joiners wait for the bootstrap on first join (§5.3).
    if (firstJoin && !this.o.dryRun) {
      this.setPhase('waiting for the bootstrap server');
      this.k3s.loadClientLibrary(); // idle time now, not while k3s starts
      await waitForBootstrapServer({
        joinServerIp: cfg.joinServerIp,
        clusterId: cfg.clusterId,
        statusPort: this.o.statusPort ?? CLUSTER_STATUS_PORT,
        clusterStatusPresent: () => this.applied === next,
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
      peerAddresses: () => Promise.resolve(this.status().nodes.map((n) => n.internalIp).filter((ip) => ip && ip !== cfg.clusterIp)),
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
    this.stopMonitor();
    await this.statusServer?.stop();
    this.statusServer = undefined;
    await this.k3s.reset();
    if (a && !this.o.dryRun) await removeClusterAddress(a.ifname, a.cfg.clusterIp, a.cfg.prefixLength).catch(() => undefined);
    this.applied = undefined;
    this.mode = 'none';
    this.st = { ...this.st, role: 'none', clusterId: '', clusterIp: '', port: undefined };
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

  /** The cluster-config error (or its clearing) under queue key `clusterconfig`. */
  private async publishUpdateStatus(clusterId: string, error: string | undefined): Promise<void> {
    const devId = this.o.deviceUuid();
    if (!devId) return;
    const msg = clusterUpdateStatusInfo({ devId, nodeName: toK8sNodeName(this.deviceName), clusterId, error, nowMs: this.o.clock.now() });
    await this.o.publishInfo('clusterconfig', msg);
  }

  // --- monitoring ---------------------------------------------------------------------------------------

  /** Starts the monitor loops of the mode just entered (own node status, label, election, leader reports). */
  private startMonitor(cfg: EdgeNodeClusterConfig | undefined, nodeName: string): void {
    this.stopMonitor();
    if (this.o.dryRun) return;
    this.monitor = ClusterMonitor.start(
      {
        kube: () => this.k3s.kube(),
        cfg,
        nodeName,
        role: this.st.role,
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

  private stopMonitor(): void {
    this.monitor?.stop();
    this.monitor = undefined;
  }

  // --- faults -------------------------------------------------------------------------------------------

  private async onFault(kind: string, active: boolean): Promise<void> {
    if (!isClusterFault(kind)) return;
    try {
      await applyClusterFault(kind, active, {
        k3s: this.k3s.process,
        clusterIfname: this.applied?.ifname,
        stopStatusServer: async () => {
          await this.statusServer?.stop();
          this.statusServer = undefined;
        },
        startStatusServer: async () => {
          if (this.applied) await this.restartStatusServer(this.applied.cfg);
        },
        clear: (k) => this.o.faults.clear(k),
      });
      this.o.emit('fault', `${kind} ${active ? 'injected' : 'cleared'}`, { kind, active });
    } catch (e) {
      this.log.warn('fault could not be applied', { kind, error: errorMessage(e) });
    }
  }
}

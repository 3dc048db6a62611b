/**
 * The loops that watch a running k3s (EVE's zedkube monitors, cluster.md §7, §12): the own Node's status
 * (ZInfoClusterNode on change, DOWN after 2 min without the API), the node-uuid label until verified, the
 * tie-breaker labels, the `eve-kube-stats-leader` Lease election and, on the leader, ZInfoKubeCluster on change.
 * One monitor runs per mode (single-node or one cluster membership); the reconciler stops it on every transition.
 */
import type { Clock, Logger } from '../../common/index.js';
import { errorMessage, isAbortError } from '../../common/index.js';
import { info, timestampFromMs } from '../../eve/index.js';
import { EVE_KUBE_APP_NAMESPACE, LABEL_NODE_UUID, LeaseLeaderElector, type KubeClient, type KubeNodeStatus } from '../../k3s/index.js';
import type { ClusterTarget } from './cluster-plan.js';
import { unobserved, type ClusterRole, type ClusterStatusNode, type ObservedClusterStatus } from './cluster-status.js';
import { kubeClusterInfo, kubeClusterKey, nodeStatusOf } from './kube-report.js';

/** Intervals (spec ms), cluster.md §14. */
const NODE_CHECK_MS = 2_000; // own Node read at the kubelet's status frequency
const KUBE_STATS_MS = 30_000; // kubeStatsInterval: leader collects every 30 s
const API_DOWN_MS = 120_000; // 2 min of failed API calls → DOWN / APIUnreachable
const LABEL_TICK_MS = 15_000; // kube-init health tick re-applies node-uuid until verified
const ELECTION_RETRY_MS = 15_000; // a lost election run is retried after this

/** What one read of the own Node came to: the node, or the error of a failed read. */
export type OwnNodeRead = { node: KubeNodeStatus } | { error: unknown };

/**
 * The own node's status after one read (§7.7): the read node's Ready condition; after `API_DOWN_MS` (spec) of
 * failed reads DOWN; a node the API does not know NOTREADY; any other failure undefined (the last status stands).
 * `sinceOkMs` and `downAfterMs` are real ms (the caller scales).
 */
export function ownNodeStatus(read: OwnNodeRead, sinceOkMs: number, downAfterMs: number): info.ZInfoClusterNodeStatus | undefined {
  if ('node' in read) return nodeStatusOf(read.node);
  if (sinceOkMs >= downAfterMs) return info.ZInfoClusterNodeStatus.Z_INFO_CLUSTER_NODE_STATUS_DOWN;
  if (/not ?found/i.test(errorMessage(read.error))) return info.ZInfoClusterNodeStatus.Z_INFO_CLUSTER_NODE_STATUS_NOTREADY;
  return undefined;
}

/**
 * Whether ZInfoClusterNode is sent: only in a cluster, with a known status, when it changed or k3s was restarted
 * since the last report (the controller hears READY again after a restart).
 */
export function reportOwnStatus(a: { inCluster: boolean; status: info.ZInfoClusterNodeStatus | undefined; sent: info.ZInfoClusterNodeStatus | undefined; starts: number; sentStarts: number }): boolean {
  return a.inCluster && a.status !== undefined && (a.status !== a.sent || a.starts !== a.sentStarts);
}

/**
 * The tie-breaker labels (cluster.md §12) once exactly 3 nodes exist and all carry their device UUID:
 * `tie-breaker-node` true on `self`, false on the other two; undefined while that is not so.
 */
export function tieBreakerLabels(nodes: Pick<KubeNodeStatus, 'name' | 'nodeUuid'>[], self: string): Map<string, string> | undefined {
  if (nodes.length !== 3 || nodes.some((n) => !n.nodeUuid) || !nodes.some((n) => n.name === self)) return undefined;
  return new Map(nodes.map((n) => [n.name, n.name === self ? 'true' : 'false']));
}

/**
 * The leader's collection interval: 30 s as EVE; while nodes are still joining (not Ready, or not yet labelled
 * with their device UUID) the view changes, so look again at the node-check rate (Simulator choice).
 */
export function collectIntervalMs(nodes: Pick<ClusterStatusNode, 'ready' | 'nodeId'>[]): number {
  const settling = nodes.length === 0 || nodes.some((n) => !n.ready || !n.nodeId);
  return settling ? NODE_CHECK_MS : KUBE_STATS_MS;
}

/** Options of {@link ClusterMonitor}. */
export interface ClusterMonitorOptions {
  /** The kube client once k3s wrote its kubeconfig, else undefined. */
  kube: () => KubeClient | undefined;
  /**
   * The cluster of this mode, read on every pass (a tie-breaker set later is seen without a restart); undefined in
   * single-node mode: no ZInfoClusterNode then, and the leader's ZInfoKubeCluster carries the nil cluster id with
   * the admissions of a node without cluster config (kube-report.ts `nodeAdmission`).
   */
  cluster: () => Pick<ClusterTarget, 'clusterId' | 'tieBreakerNodeId'> | undefined;
  nodeName: string;
  role: ClusterRole;
  /** How often k3s has been (re)started; after a restart the own status is reported again once read. */
  k3sStarts?: () => number;
  deviceUuid: () => string | undefined;
  publishInfo: (key: string, msg: info.IZInfoMsg) => Promise<void>;
  emit: (kind: string, message: string, fields?: Record<string, unknown>) => void;
  /** A loop failed for a reason other than being stopped. */
  onError: (e: unknown) => void;
  clock: Clock;
  logger: Logger;
}

/** The monitor loops of one mode. */
export class ClusterMonitor {
  /** What the loops saw last (read by the reconciler's status and the status server's peer list). */
  readonly observed: ObservedClusterStatus = unobserved();
  private readonly ctl = new AbortController();
  private readonly loops: Promise<void>[] = [];

  private constructor(private readonly o: ClusterMonitorOptions) {}

  /** Starts the own-node loop and, on servers, the leader election; both end with `stop()` or `signal`. */
  static start(o: ClusterMonitorOptions, signal: AbortSignal): ClusterMonitor {
    const m = new ClusterMonitor(o);
    const s = AbortSignal.any([m.ctl.signal, signal]);
    m.loops.push(m.nodeLoop(s).catch((e: unknown) => m.failed(e)));
    if (o.role !== 'agent') m.loops.push(m.electionLoop(s).catch((e: unknown) => m.failed(e)));
    return m;
  }

  /**
   * Ends every loop and resolves once they ended; a held stats-leader lease is released first (EVE elects with
   * ReleaseOnCancel), so stop the monitor before k3s. Idempotent.
   */
  async stop(): Promise<void> {
    this.ctl.abort();
    await Promise.all(this.loops);
  }

  private failed(e: unknown): void {
    if (!isAbortError(e)) this.o.onError(e);
  }

  /** The kube client once k3s wrote its kubeconfig; servers also make sure `eve-kube-app` exists. */
  private async kubeReady(signal: AbortSignal): Promise<KubeClient> {
    for (;;) {
      const k = this.o.kube();
      if (k) {
        if (this.o.role === 'agent') return k;
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
  private async nodeLoop(signal: AbortSignal): Promise<void> {
    const { nodeName, clock } = this.o;
    const kube = await this.kubeReady(signal);
    const uuid = this.o.deviceUuid() ?? '';
    let labelled = false;
    let lastLabelTry: number | undefined;
    let lastOk = clock.monotonic();
    let sent: info.ZInfoClusterNodeStatus | undefined;
    let sentStarts = this.o.k3sStarts?.() ?? 0;
    let tieBreakerDone = false;
    for (;;) {
      let read: OwnNodeRead;
      try {
        const node = await kube.getNode(nodeName, signal);
        lastOk = clock.monotonic();
        if (!labelled && node.labels[LABEL_NODE_UUID] === uuid) labelled = true;
        if (!labelled && (lastLabelTry === undefined || clock.monotonic() - lastLabelTry >= clock.scaled(LABEL_TICK_MS))) {
          lastLabelTry = clock.monotonic();
          // Verified on the next read of the node; retried on the 15 s health tick while it does not show.
          await kube.labelNode(nodeName, { [LABEL_NODE_UUID]: uuid }, signal).catch(() => undefined);
        }
        read = { node };
      } catch (e) {
        if (isAbortError(e) || signal.aborted) return;
        read = { error: e };
      }
      const status = ownNodeStatus(read, clock.monotonic() - lastOk, clock.scaled(API_DOWN_MS));
      const cluster = this.o.cluster();
      if (cluster?.tieBreakerNodeId && cluster.tieBreakerNodeId === uuid && !tieBreakerDone) {
        tieBreakerDone = await this.applyTieBreaker(kube, signal).catch((e: unknown) => {
          if (isAbortError(e)) throw e;
          this.o.logger.debug('tie-breaker not applied yet', { error: errorMessage(e) });
          return false;
        });
      }
      const starts = this.o.k3sStarts?.() ?? 0;
      if (status !== undefined && reportOwnStatus({ inCluster: !!cluster, status, sent, starts, sentStarts })) {
        sent = status;
        sentStarts = starts;
        await this.reportNodeStatus(status);
      }
      await clock.sleep(NODE_CHECK_MS, signal);
    }
  }

  private async reportNodeStatus(status: info.ZInfoClusterNodeStatus): Promise<void> {
    const name = info.ZInfoClusterNodeStatus[status]?.replace('Z_INFO_CLUSTER_NODE_STATUS_', '') ?? String(status);
    this.observed.nodeStatus = name;
    this.o.emit('cluster.node', `node ${this.o.nodeName} ${name}`, { status: name });
    const devId = this.o.deviceUuid();
    if (!devId) return;
    // Simulator choice §7.7: ztype ZiNop, queue key `clusternode`.
    await this.o.publishInfo('clusternode', {
      devId,
      atTimeStamp: timestampFromMs(this.o.clock.now()),
      cluster_node: { node_status: status },
    });
  }

  /**
   * Tie-breaker (cluster.md §12), run on the tie-breaker node itself once exactly 3 labelled nodes exist:
   * `tie-breaker-node=true` on itself and `false` on the other two, `tie-breaker-config-applied=1` on every node,
   * and itself cordoned (it stays so). Returns true when done.
   */
  private async applyTieBreaker(kube: KubeClient, signal: AbortSignal): Promise<boolean> {
    const { nodeName } = this.o;
    const nodes = await kube.listNodes({}, signal);
    const labels = tieBreakerLabels(nodes, nodeName);
    if (!labels) return false;
    for (const [name, value] of labels) await kube.labelNode(name, { 'tie-breaker-node': value }, signal);
    await kube.cordonNode(nodeName, true, signal);
    for (const n of nodes) await kube.labelNode(n.name, { 'tie-breaker-config-applied': '1' }, signal);
    this.o.emit('cluster.tiebreaker', `${nodeName} is the tie-breaker: labelled and cordoned`);
    return true;
  }

  /** Lease election for `eve-kube-stats-leader`; the leader collects every 30 s and reports on change (§7.1). */
  private async electionLoop(signal: AbortSignal): Promise<void> {
    const { nodeName } = this.o;
    const kube = await this.kubeReady(signal);
    let leading: AbortController | undefined;
    const elector = new LeaseLeaderElector({
      client: kube,
      identity: nodeName,
      clock: this.o.clock,
      logger: this.o.logger,
      onStartedLeading: () => {
        this.observed.isLeader = true;
        this.o.emit('cluster.leader', `${nodeName} is the kube-stats leader`);
        leading = new AbortController();
        void this.leaderLoop(kube, AbortSignal.any([leading.signal, signal])).catch((e: unknown) => this.failed(e));
      },
      onStoppedLeading: () => {
        this.observed.isLeader = false;
        leading?.abort();
      },
      onNewLeader: (id) => {
        this.observed.leader = id;
      },
    });
    while (!signal.aborted) {
      await elector.run(signal);
      if (signal.aborted) break;
      await this.o.clock.sleep(ELECTION_RETRY_MS, signal).catch(() => undefined);
    }
    leading?.abort();
    this.observed.isLeader = false;
  }

  private async leaderLoop(kube: KubeClient, signal: AbortSignal): Promise<void> {
    let lastKey = '';
    while (!signal.aborted) {
      try {
        const [nodes, pods] = await Promise.all([kube.listNodes({}, signal), kube.listPods({ namespace: EVE_KUBE_APP_NAMESPACE }, signal)]);
        const msg = kubeClusterInfo(nodes, pods, this.o.cluster()?.clusterId);
        this.observed.nodes = nodes.map(toStatusNode);
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
        this.o.logger.warn('cluster stats collection failed', { error: errorMessage(e) });
      }
      await this.o.clock.sleep(collectIntervalMs(this.observed.nodes), signal).catch(() => undefined);
    }
  }
}

function toStatusNode(n: KubeNodeStatus): ClusterStatusNode {
  return { name: n.name, ready: n.ready === 'True', internalIp: n.internalIp ?? '', nodeId: n.nodeUuid ?? '', schedulable: n.schedulable };
}

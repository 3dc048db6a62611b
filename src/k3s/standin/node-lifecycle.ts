/**
 * Node lifecycle controller (kube-controller-manager `nodelifecycle`, with the taint-based eviction manager and
 * the pod GC of pods bound to deleted nodes). A node whose kubelet has not posted status or renewed its Lease
 * for the grace period (40 s, cluster.md §10) gets every condition set to Unknown with the message
 * "Kubelet stopped posting node status." and the `node.kubernetes.io/unreachable` NoSchedule and NoExecute
 * taints; its pods are marked not Ready. Pods on a NoExecute-tainted node are deleted after their toleration
 * (`tolerationSeconds`, 15 s for EVE apps, cluster.md §9.2) — a graceful delete, so on a dead node they stay
 * Terminating. The taints go once the kubelet reports Ready again.
 */
import type { Clock, Logger } from '../../common/index.js';
import { errorMessage } from '../../common/index.js';
import { kubeTime, type ClusterSnapshot, type KubeApi } from './kube-api.js';
import { resourceOf } from './resources.js';
import { tolerates, type Taint, type Toleration } from './tolerations.js';

/** The taint keys the controller manages. */
export const UNREACHABLE_TAINT = 'node.kubernetes.io/unreachable';
export const NOT_READY_TAINT = 'node.kubernetes.io/not-ready';
/** The message EVE's partition-safety gate checks verbatim (cluster.md §10 step 2). */
export const NODE_STATUS_UNKNOWN_MESSAGE = 'Kubelet stopped posting node status.';

/** Options of {@link NodeLifecycleController}. */
export interface NodeLifecycleOptions {
  api: KubeApi;
  /** Spec ms without a heartbeat before the node turns Unknown. */
  graceMs: number;
  clock: Clock;
  logger: Logger;
}

/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-return, @typescript-eslint/no-unsafe-argument -- API objects are loosely typed JSON */

function heartbeat(node: any, lease: any): number {
  const ready = (node.status?.conditions ?? []).find((c: any) => c.type === 'Ready');
  const a = Date.parse(ready?.lastHeartbeatTime ?? '') || 0;
  const b = Date.parse(lease?.spec?.renewTime ?? '') || 0;
  return Math.max(a, b, Date.parse(node.metadata.creationTimestamp ?? '') || 0);
}

/** Marks lost nodes, taints and untaints them, evicts pods by taint, and removes pods of deleted nodes. */
export class NodeLifecycleController {
  private readonly log: Logger;
  /**
   * When this manager first saw each NoExecute taint (node/key → ms). Tolerations count from here, as kube's
   * NoExecuteTaintManager counts from when it observes the taint: `timeAdded` has whole-second precision, which
   * under a time scale would cut a scaled toleration short by up to a second.
   */
  private readonly taintSeen = new Map<string, number>();
  constructor(private readonly opts: NodeLifecycleOptions) {
    this.log = opts.logger.child({ component: 'k3s.standin.nodelifecycle' });
  }

  /** One monitor pass over every node (run every node-monitor-period). */
  async monitorNodes(): Promise<void> {
    const { api, clock } = this.opts;
    const nodesT = resourceOf('nodes');
    const { items: nodes } = await api.list(nodesT, undefined);
    const { items: leases } = await api.list(resourceOf('leases'), 'kube-node-lease');
    const now = clock.now();
    for (const node of nodes as any[]) {
      const name = node.metadata.name as string;
      const ready = (node.status?.conditions ?? []).find((c: any) => c.type === 'Ready');
      const hb = heartbeat(node, leases.find((l) => l.metadata.name === name));
      const taints: Taint[] = node.spec?.taints ?? [];
      try {
        if (now - hb > clock.scaled(this.opts.graceMs) && ready?.status !== 'Unknown') {
          const t = kubeTime(now);
          await api.patch(nodesT, undefined, name, 'merge', {
            status: {
              conditions: (node.status?.conditions ?? []).map((c: any) => ({
                ...c,
                status: 'Unknown',
                reason: 'NodeStatusUnknown',
                message: NODE_STATUS_UNKNOWN_MESSAGE,
                lastTransitionTime: t,
              })),
            },
          }, 'status');
          const kept = taints.filter((x) => x.key !== UNREACHABLE_TAINT && x.key !== NOT_READY_TAINT);
          await api.patch(nodesT, undefined, name, 'merge', {
            spec: { taints: [...kept, { key: UNREACHABLE_TAINT, effect: 'NoSchedule', timeAdded: t }, { key: UNREACHABLE_TAINT, effect: 'NoExecute', timeAdded: t }] },
          });
          this.log.info('node lost', { node: name, from: ready?.status ?? 'none', to: 'Unknown', silentMs: now - hb });
          await this.markPodsNotReady(name);
        } else if (ready?.status === 'True' && taints.some((x) => x.key === UNREACHABLE_TAINT || x.key === NOT_READY_TAINT)) {
          await api.patch(nodesT, undefined, name, 'merge', {
            spec: { taints: taints.filter((x) => x.key !== UNREACHABLE_TAINT && x.key !== NOT_READY_TAINT) },
          });
          this.log.info('node ready again, taints removed', { node: name });
        }
      } catch (e) {
        this.log.warn('node update failed', { node: name, error: errorMessage(e) });
      }
    }
  }

  private async markPodsNotReady(nodeName: string): Promise<void> {
    const podsT = resourceOf('pods');
    const { items } = await this.opts.api.list(podsT, undefined, { fields: [{ key: 'spec.nodeName', op: '=', values: [nodeName] }] });
    const t = kubeTime(this.opts.clock.now());
    for (const pod of items as any[]) {
      const conditions = (pod.status?.conditions ?? []).map((c: any) =>
        c.type === 'Ready' || c.type === 'ContainersReady' ? { ...c, status: 'False', lastTransitionTime: t } : c,
      );
      await this.opts.api
        .patch(podsT, pod.metadata.namespace, pod.metadata.name, 'merge', { status: { conditions } }, 'status')
        .catch(() => undefined);
    }
  }

  /**
   * Taint-based eviction and pod GC on one snapshot (run often: tolerations are counted in seconds). Returns when
   * it must run again with nothing changed: the earliest toleration end still ahead, `now` after a failed
   * eviction, Infinity when nothing is pending.
   */
  async evictPods(snap: ClusterSnapshot): Promise<number> {
    const { api, clock } = this.opts;
    const podsT = resourceOf('pods');
    const { nodes, pods } = snap;
    const byName = new Map(nodes.map((n) => [n.metadata.name!, n as any]));
    const now = clock.now();
    const seen = new Set<string>();
    for (const node of nodes as any[]) {
      for (const taint of (node.spec?.taints ?? []) as Taint[]) {
        if (taint.effect !== 'NoExecute') continue;
        const id = `${node.metadata.name as string}/${taint.key}`;
        seen.add(id);
        if (!this.taintSeen.has(id)) this.taintSeen.set(id, now);
      }
    }
    for (const id of this.taintSeen.keys()) if (!seen.has(id)) this.taintSeen.delete(id);
    let next = Infinity;
    for (const pod of pods as any[]) {
      const nodeName: string | undefined = pod.spec?.nodeName;
      if (!nodeName) continue;
      const ref = `${pod.metadata.namespace}/${pod.metadata.name}`;
      const node = byName.get(nodeName);
      if (!node) {
        // podgc: a pod bound to a node that no longer exists is force-deleted.
        await api.delete(podsT, pod.metadata.namespace, pod.metadata.name, { gracePeriodSeconds: 0 }).catch(() => undefined);
        this.log.info('pod of deleted node removed', { pod: ref, node: nodeName });
        continue;
      }
      if (pod.metadata.deletionTimestamp) continue;
      const noExecute: Taint[] = (node.spec?.taints ?? []).filter((x: Taint) => x.effect === 'NoExecute');
      if (noExecute.length === 0) continue;
      const tols: Toleration[] = pod.spec?.tolerations ?? [];
      let evictAt = -Infinity;
      let untolerated = false;
      let forever = true;
      let minSeconds = Infinity;
      for (const taint of noExecute) {
        const matching = tols.filter((x) => tolerates(x, taint));
        if (matching.length === 0) {
          untolerated = true;
          break;
        }
        const limited = matching.filter((x) => typeof x.tolerationSeconds === 'number');
        if (limited.length === matching.length) {
          forever = false;
          const secs = Math.max(0, Math.min(...limited.map((x) => x.tolerationSeconds!)));
          minSeconds = Math.min(minSeconds, secs);
          const added = this.taintSeen.get(`${nodeName}/${taint.key}`) ?? now;
          evictAt = Math.max(evictAt, added + clock.scaled(secs * 1000));
        }
      }
      if (!untolerated && forever) continue;
      if (!untolerated && now < evictAt) {
        next = Math.min(next, evictAt);
        continue;
      }
      try {
        await api.delete(podsT, pod.metadata.namespace, pod.metadata.name);
        this.log.info('pod evicted by NoExecute taint', { pod: ref, node: nodeName, tolerationSeconds: untolerated ? 0 : minSeconds });
      } catch (e) {
        this.log.warn('eviction failed', { pod: ref, error: errorMessage(e) });
        next = now;
      }
    }
    return next;
  }
}
/* eslint-enable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-return, @typescript-eslint/no-unsafe-argument */

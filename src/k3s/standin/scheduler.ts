/**
 * The scheduler: binds each unbound pod to a feasible node and records why a pod cannot be placed.
 * Filters: node Ready, not cordoned (unless the `node.kubernetes.io/unschedulable` taint is tolerated),
 * NoSchedule/NoExecute taints tolerated, `nodeSelector`, required node affinity. Score: the weights of the
 * matching preferred node-affinity terms (EVE uses `kubernetes.io/hostname` with weight 100, cluster.md §9.2),
 * then the fewest pods (spreading), then the name.
 */
import type { Clock, Logger } from '../../common/index.js';
import { errorMessage } from '../../common/index.js';
import { kubeTime, type ClusterSnapshot, type KubeApi } from './kube-api.js';
import { resourceOf } from './resources.js';
import { matchNodeSelectorTerm, type NodeSelectorTerm } from './selectors.js';
import { toleratesAll, type Taint, type Toleration } from './tolerations.js';

/** Options of {@link Scheduler}. */
export interface SchedulerOptions {
  api: KubeApi;
  clock: Clock;
  logger: Logger;
}

/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-argument -- API objects are loosely typed JSON */

/** Why a node was filtered out, in the words of the real scheduler's summary. */
function rejectReason(pod: any, node: any): string | undefined {
  const labels: Record<string, string> = node.metadata.labels ?? {};
  const name: string = node.metadata.name;
  const tols: Toleration[] = pod.spec?.tolerations ?? [];
  const ready = (node.status?.conditions ?? []).find((c: any) => c.type === 'Ready');
  if (ready?.status !== 'True') return "node(s) had untolerated taint {node.kubernetes.io/not-ready: }";
  if (node.spec?.unschedulable && !toleratesAll(tols, [{ key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' }], ['NoSchedule'])) {
    return 'node(s) were unschedulable';
  }
  const taints: Taint[] = node.spec?.taints ?? [];
  if (!toleratesAll(tols, taints, ['NoSchedule', 'NoExecute'])) {
    const t = taints.find((x) => (x.effect === 'NoSchedule' || x.effect === 'NoExecute') && !toleratesAll(tols, [x], [x.effect]));
    return `node(s) had untolerated taint {${t?.key ?? ''}: ${t?.value ?? ''}}`;
  }
  for (const [k, v] of Object.entries((pod.spec?.nodeSelector ?? {}) as Record<string, string>)) {
    if (labels[k] !== v) return "node(s) didn't match Pod's node affinity/selector";
  }
  const terms: NodeSelectorTerm[] | undefined = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  if (terms && terms.length > 0 && !terms.some((t) => matchNodeSelectorTerm(t, name, labels))) {
    return "node(s) didn't match Pod's node affinity/selector";
  }
  return undefined;
}

function score(pod: any, node: any): number {
  const prefs: { weight: number; preference: NodeSelectorTerm }[] = pod.spec?.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? [];
  return prefs.reduce((s, p) => s + (matchNodeSelectorTerm(p.preference, node.metadata.name, node.metadata.labels ?? {}) ? p.weight : 0), 0);
}

/** Places pending pods on nodes. */
export class Scheduler {
  private readonly log: Logger;
  constructor(private readonly opts: SchedulerOptions) {
    this.log = opts.logger.child({ component: 'k3s.standin.scheduler' });
  }

  /** One scheduling pass over every unbound pod of the snapshot; false when a binding failed (retry it). */
  async schedule(snap: ClusterSnapshot): Promise<boolean> {
    const { api, clock } = this.opts;
    const podsT = resourceOf('pods');
    const { pods, nodes } = snap;
    const pending = (pods as any[]).filter((p) => !p.spec?.nodeName && !p.metadata.deletionTimestamp && (p.spec?.schedulerName ?? 'default-scheduler') === 'default-scheduler');
    if (pending.length === 0) return true;
    let bound = true;
    const load = new Map<string, number>();
    for (const p of pods as any[]) if (p.spec?.nodeName) load.set(p.spec.nodeName, (load.get(p.spec.nodeName) ?? 0) + 1);
    for (const pod of pending) {
      const ref = `${pod.metadata.namespace}/${pod.metadata.name}`;
      const reasons = new Map<string, number>();
      const feasible = (nodes as any[]).filter((n) => {
        const why = rejectReason(pod, n);
        if (why) reasons.set(why, (reasons.get(why) ?? 0) + 1);
        return why === undefined;
      });
      try {
        if (feasible.length === 0) {
          const message = `0/${nodes.length} nodes are available: ${[...reasons].map(([r, n]) => `${n} ${r}`).sort().join(', ')}. preemption: not eligible due to preemptionPolicy=Never.`;
          const cond = (pod.status?.conditions ?? []).find((c: any) => c.type === 'PodScheduled');
          if (cond?.message !== message) {
            await api.patch(podsT, pod.metadata.namespace, pod.metadata.name, 'merge', {
              status: { conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message, lastProbeTime: null, lastTransitionTime: kubeTime(clock.now()) }] },
            }, 'status');
            this.log.info('pod unschedulable', { pod: ref, message });
          }
          continue;
        }
        feasible.sort((a, b) => score(pod, b) - score(pod, a) || (load.get(a.metadata.name) ?? 0) - (load.get(b.metadata.name) ?? 0) || String(a.metadata.name).localeCompare(b.metadata.name));
        const target = feasible[0].metadata.name as string;
        await api.patch(podsT, pod.metadata.namespace, pod.metadata.name, 'merge', { spec: { nodeName: target } });
        await api.patch(podsT, pod.metadata.namespace, pod.metadata.name, 'merge', {
          status: { conditions: [{ type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: kubeTime(clock.now()) }] },
        }, 'status');
        load.set(target, (load.get(target) ?? 0) + 1);
        this.log.info('pod bound', { pod: ref, node: target, score: score(pod, feasible[0]) });
      } catch (e) {
        bound = false;
        this.log.debug('binding failed', { pod: ref, error: errorMessage(e) });
      }
    }
    return bound;
  }
}
/* eslint-enable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-argument */

/**
 * The ReplicaSet controller: keeps `spec.replicas` active pods (not terminating, not finished) per ReplicaSet,
 * creating them from the template (`<rs name>-<5 chars>`, controller ownerReference) and deleting the surplus
 * (unbound first, then not running, then newest), and writes the status counts. Also the garbage collector's
 * part for pods: a pod whose controlling ReplicaSet is gone is deleted (background propagation).
 */
import type { Clock, Logger } from '../../common/index.js';
import { errorMessage } from '../../common/index.js';
import type { ClusterSnapshot, KubeApi } from './kube-api.js';
import { resourceOf } from './resources.js';
import { labelSelectorRequirements, matchLabels } from './selectors.js';

/** Options of {@link ReplicaSetController}. */
export interface ReplicaSetControllerOptions {
  api: KubeApi;
  clock: Clock;
  logger: Logger;
}

/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-return, @typescript-eslint/no-unsafe-argument -- API objects are loosely typed JSON */

function isReady(pod: any): boolean {
  return pod.status?.phase === 'Running' && (pod.status?.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True');
}

function controllerOf(pod: any): { kind: string; uid: string } | undefined {
  return (pod.metadata.ownerReferences ?? []).find((r: any) => r.controller);
}

/** Reconciles every ReplicaSet. */
export class ReplicaSetController {
  private readonly log: Logger;
  constructor(private readonly opts: ReplicaSetControllerOptions) {
    this.log = opts.logger.child({ component: 'k3s.standin.replicaset' });
  }

  /** One pass over every ReplicaSet and orphaned pod, with the pods of the snapshot; false when a sync failed. */
  async reconcile(snap: ClusterSnapshot): Promise<boolean> {
    const { api } = this.opts;
    const rsT = resourceOf('replicasets');
    const podsT = resourceOf('pods');
    const { items: rss } = await api.list(rsT, undefined);
    const pods = snap.pods;
    const uids = new Set(rss.map((r) => r.metadata.uid));
    for (const pod of pods as any[]) {
      const owner = controllerOf(pod);
      if (owner?.kind === 'ReplicaSet' && !uids.has(owner.uid) && !pod.metadata.deletionTimestamp) {
        await api.delete(podsT, pod.metadata.namespace, pod.metadata.name).catch(() => undefined);
        this.log.info('orphaned pod deleted', { pod: `${pod.metadata.namespace}/${pod.metadata.name}` });
      }
    }
    let synced = true;
    for (const rs of rss as any[]) {
      try {
        await this.reconcileOne(rs, pods as any[]);
      } catch (e) {
        synced = false;
        this.log.debug('replicaset sync failed', { rs: `${rs.metadata.namespace}/${rs.metadata.name}`, error: errorMessage(e) });
      }
    }
    return synced;
  }

  private async reconcileOne(rs: any, pods: any[]): Promise<void> {
    const { api } = this.opts;
    const podsT = resourceOf('pods');
    const ns: string = rs.metadata.namespace;
    const ref = `${ns}/${rs.metadata.name}`;
    const sel = labelSelectorRequirements(rs.spec.selector);
    const owned = pods.filter((p) => p.metadata.namespace === ns && controllerOf(p)?.uid === rs.metadata.uid);
    const active = owned.filter((p) => !p.metadata.deletionTimestamp && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed');
    const want: number = rs.spec.replicas ?? 1;
    if (active.length < want && !rs.metadata.deletionTimestamp) {
      for (let i = active.length; i < want; i++) {
        const tpl = rs.spec.template ?? {};
        const pod = await api.create(podsT, ns, {
          metadata: {
            generateName: `${rs.metadata.name}-`,
            labels: { ...(tpl.metadata?.labels ?? {}) },
            annotations: { ...(tpl.metadata?.annotations ?? {}) },
            ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: rs.metadata.name, uid: rs.metadata.uid, controller: true, blockOwnerDeletion: true }],
          },
          spec: structuredClone(tpl.spec ?? {}),
        });
        active.push(pod);
        this.log.info('pod created', { rs: ref, pod: pod.metadata.name });
      }
    } else if (active.length > want) {
      const rank = (p: any): number => (!p.spec?.nodeName ? 0 : p.status?.phase !== 'Running' ? 1 : 2);
      const surplus = [...active]
        .sort((a, b) => rank(a) - rank(b) || String(b.metadata.creationTimestamp).localeCompare(String(a.metadata.creationTimestamp)))
        .slice(0, active.length - want);
      for (const p of surplus) {
        await api.delete(podsT, ns, p.metadata.name).catch(() => undefined);
        active.splice(active.indexOf(p), 1);
        this.log.info('surplus pod deleted', { rs: ref, pod: p.metadata.name });
      }
    }
    const ready = active.filter(isReady).length;
    const status = {
      replicas: active.length,
      fullyLabeledReplicas: active.filter((p) => matchLabels(sel, p.metadata.labels)).length,
      readyReplicas: ready,
      availableReplicas: ready,
      observedGeneration: rs.metadata.generation ?? 1,
    };
    const cur = rs.status ?? {};
    if (Object.entries(status).some(([k, v]) => (cur[k] ?? 0) !== v)) {
      await api.patch(resourceOf('replicasets'), ns, rs.metadata.name, 'merge', { status }, 'status');
    }
  }
}
/* eslint-enable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-return, @typescript-eslint/no-unsafe-argument */

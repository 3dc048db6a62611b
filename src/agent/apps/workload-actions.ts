/**
 * What the app reconciler does to the cluster for one app (cluster.md §9, §10): create, scale, repair and purge
 * its ReplicaSet, write off the old pod of a failover behind the partition-safety gate, recreate the pod on a
 * restart, delete the workload of an app that left the config. Each action logs and emits what it changed; the
 * reconciler decides when to call which.
 */
import type { V1ReplicaSet } from '@kubernetes/client-node';
import type { Logger } from '../../common/index.js';
import { errorMessage, isAbortError } from '../../common/index.js';
import { appKubeName, appKubeNameWithPurge, isKubeError, LABEL_NODE_UUID, type KubeClient, type KubeNodeStatus, type KubePodStatus } from '../../k3s/index.js';
import type { AppConfig } from '../parse-config.js';
import { partitionSafe, type AppObservation } from './app-status.js';
import { appReplicaSet, LABEL_APP_UUID, workloadUpdate } from './workload.js';

/** What an action needs besides the kube client: where to log and emit, and the stop signal. */
export interface ActionContext {
  log: Logger;
  /** Agent event stream (`app.*`). */
  emit: (kind: string, message: string, fields?: Record<string, unknown>) => void;
  signal: AbortSignal;
}

/** One pass's view of the cluster: the pods of `eve-kube-app`, and the nodes on demand. */
export interface PassView {
  pods: KubePodStatus[];
  nodes: () => Promise<KubeNodeStatus[]>;
}

/** An app that left the config and whose workload this node removes (when it owned it). */
export interface Removal {
  app: AppConfig;
  kubeName: string;
  owner: boolean;
}

/** The app's ReplicaSet name; a counter that is not a non-negative integer counts as 0 (logged by nobody: parse keeps it). */
export function safeKubeName(app: AppConfig): string {
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

/**
 * Creates, scales, repairs and purges the app's ReplicaSet; returns whether it exists now. The designated node
 * creates it (once its volumes exist); a node hosting a pod of the app (any purge generation) creates a missing
 * one (after a purge) only while the designated node is not Ready, so a live designated node stays the creator
 * and the affinity target (§9.1). `AlreadyExists` from a second creator is ignored. Only the designated node
 * repairs the affinity (§9.2).
 */
export async function ensureWorkload(
  c: ActionContext,
  kube: KubeClient,
  app: AppConfig,
  w: { kubeName: string; previousName: string; designated: boolean; nodeName: string; storageReady: boolean; obs: AppObservation; nodes: () => Promise<KubeNodeStatus[]> },
): Promise<boolean> {
  let rs: V1ReplicaSet | undefined;
  let exists: boolean;
  try {
    rs = await kube.getReplicaSet(w.kubeName, c.signal);
  } catch (e) {
    if (!isKubeError(e, 'NOT_FOUND')) throw e;
  }
  if (!rs) {
    if (!app.activate || !w.storageReady) return false;
    if (!w.designated && designatedNodeReady(await w.nodes(), app.designatedNodeId)) return false;
    try {
      await kube.createReplicaSet(appReplicaSet({ app, kubeName: w.kubeName, nodeName: w.nodeName, replicas: 1 }), c.signal);
      c.log.info('app workload created', { appId: app.uuid, kubeName: w.kubeName, affinity: app.affinity, node: w.nodeName });
      c.emit('app.workload', `ReplicaSet ${w.kubeName} created (${app.affinity} on ${w.nodeName})`, { appId: app.uuid, kubeName: w.kubeName });
    } catch (e) {
      if (!isKubeError(e, 'CONFLICT')) throw e;
    }
    exists = true;
  } else {
    exists = true;
    const upd = workloadUpdate(rs, {
      replicas: app.activate ? 1 : 0,
      ...(w.designated ? { repairAffinityTo: { nodeName: w.nodeName, affinity: app.affinity } } : {}),
    });
    if (upd) {
      try {
        await kube.replaceReplicaSet(upd.rs, c.signal);
        c.log.info('app workload updated', { appId: app.uuid, kubeName: w.kubeName, changes: upd.changes });
        c.emit('app.workload', `ReplicaSet ${w.kubeName}: ${upd.changes.join(', ')}`, { appId: app.uuid, kubeName: w.kubeName });
      } catch (e) {
        if (!isKubeError(e, 'CONFLICT')) throw e; // someone else wrote it: look again next pass
      }
    }
  }
  for (const old of olderGenerations(app, w.kubeName, w.previousName, w.obs.appPods)) {
    try {
      await kube.deleteReplicaSet(old, c.signal);
      c.log.info('app workload of an older purge generation deleted', { appId: app.uuid, kubeName: old });
      c.emit('app.purged', `ReplicaSet ${old} deleted, ${w.kubeName} replaces it`, { appId: app.uuid, old, kubeName: w.kubeName });
    } catch (e) {
      if (!isKubeError(e, 'NOT_FOUND')) throw e;
    }
  }
  return exists;
}

/**
 * `DetachOldWorkload` (cluster.md §10): the app's new pod is scheduled here while the old one is still
 * terminating on another node. The old pod is force-deleted only when its node passes the partition-safety
 * gate; otherwise the takeover waits (returns why).
 */
export async function detachOldWorkload(c: ActionContext, kube: KubeClient, app: AppConfig, obs: AppObservation, nodes: KubeNodeStatus[]): Promise<string | undefined> {
  for (const old of obs.terminatingElsewhere) {
    const gate = partitionSafe(nodes.find((n) => n.name === old.nodeName));
    if (!gate.ok) return gate.reason;
    try {
      await kube.deletePod(old.name, { gracePeriodSeconds: 0 }, c.signal);
    } catch (e) {
      if (!isKubeError(e, 'NOT_FOUND')) throw e;
    }
    c.log.info('old workload detached', { appId: app.uuid, pod: old.name, from: old.nodeName, gate: gate.reason });
    c.emit('app.failover', `${app.displayName}: old pod ${old.name} on ${old.nodeName ?? '?'} written off (${gate.reason})`, {
      appId: app.uuid,
      from: old.nodeName,
    });
  }
  return undefined;
}

/** Recreates the app's pod on this node (a restart-counter increase): deleted here, the ReplicaSet makes a new one. */
export async function restartPod(c: ActionContext, kube: KubeClient, app: AppConfig, pod: string): Promise<void> {
  try {
    await kube.deletePod(pod, {}, c.signal);
  } catch (e) {
    if (!isKubeError(e, 'NOT_FOUND')) throw e;
  }
  c.log.info('app restarted', { appId: app.uuid, pod, restartCounter: app.restartCounter });
  c.emit('app.restarted', `${app.displayName}: pod ${pod} recreated (restart ${app.restartCounter})`, { appId: app.uuid });
}

/** Deletes the workload of an app that left the config, on the nodes that owned it; false when a delete failed. */
export async function removeWorkload(c: ActionContext, kube: KubeClient, r: Removal, view: PassView): Promise<boolean> {
  // The designated node (or the host) removes the workload. When the designated node is lost, a survivor must,
  // or the workload would outlive its config; a delete is idempotent, so several survivors doing it is harmless.
  if (!r.owner && designatedNodeReady(await view.nodes(), r.app.designatedNodeId)) return true;
  let done = true;
  const names = new Set([r.kubeName, ...ownerReplicaSets(view.pods.filter((p) => p.labels[LABEL_APP_UUID] === r.app.uuid))]);
  for (const name of names) {
    try {
      await kube.deleteReplicaSet(name, c.signal);
      c.log.info('app workload deleted', { appId: r.app.uuid, kubeName: name });
      c.emit('app.workload', `ReplicaSet ${name} deleted`, { appId: r.app.uuid, kubeName: name });
    } catch (e) {
      if (isKubeError(e, 'NOT_FOUND')) continue;
      if (isAbortError(e) || c.signal.aborted) throw e;
      c.log.warn('app workload not deleted; retrying next pass', { appId: r.app.uuid, kubeName: name, error: errorMessage(e) });
      done = false;
    }
  }
  return done;
}

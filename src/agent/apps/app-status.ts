/**
 * Per-node app status from the pods of `eve-kube-app` (lf-edge/eve: pkg/pillar/cmd/zedkube/applogs.go
 * `checkAppsStatus`; cluster.md §9.3) and the partition-safety gate of a failover (kubeapi.go `DetachOldWorkload`
 * step 2; cluster.md §10). Pure functions of what the API returned.
 */
import type { KubeNodeStatus, KubePodStatus } from '../../k3s/index.js';

/** `AppKubeStatus` (cluster.md §9.3); `Unknown` until the first successful pod list (cold start). */
export type AppKubeStatus = 'Unknown' | 'Running' | 'NotRunning' | 'NotInCluster' | 'APIUnreachable';

/** What one node sees of one app. */
export interface AppObservation {
  kubeStatus: AppKubeStatus;
  /** A live pod of the app is bound to this node (Pending-but-bound included). */
  scheduledOnThisNode: boolean;
  /** The live pod bound to this node, if any. */
  localPod?: KubePodStatus;
  /** Terminating pods of the current workload bound to other nodes: the old workload of a failover. */
  terminatingElsewhere: KubePodStatus[];
  /** Every pod (live or terminating) of the app, whatever its purge name. */
  appPods: KubePodStatus[];
  /** A live pod of the app, of any purge generation, is bound to this node (it then acts on purge and delete). */
  hostedHere: boolean;
}

/**
 * Reduces the namespace's pods to one app's status on `nodeName`. Pods of the current workload are those named
 * `<kubeName>-…` (terminating ones ignored for the status, as EVE); `appUuidLabel` finds older purge generations.
 */
export function observeApp(
  pods: KubePodStatus[],
  q: { kubeName: string; appUuid: string; nodeName: string; appUuidLabel: string },
): AppObservation {
  const mine = pods.filter((p) => p.name.startsWith(`${q.kubeName}-`));
  const live = mine.filter((p) => !p.deletionTimestamp);
  const localPod = live.find((p) => p.nodeName === q.nodeName);
  const appPods = pods.filter((p) => p.labels[q.appUuidLabel] === q.appUuid || mine.includes(p));
  const kubeStatus: AppKubeStatus = live.length === 0 ? 'NotInCluster' : live.some((p) => p.phase === 'Running') ? 'Running' : 'NotRunning';
  return {
    kubeStatus,
    scheduledOnThisNode: localPod !== undefined,
    ...(localPod ? { localPod } : {}),
    terminatingElsewhere: mine.filter((p) => p.deletionTimestamp && p.nodeName && p.nodeName !== q.nodeName),
    appPods,
    hostedHere: appPods.some((p) => !p.deletionTimestamp && p.nodeName === q.nodeName),
  };
}

/** The status of every app while the API has failed for 2 min: not scheduled here, so the node falls silent. */
export function apiUnreachable(): AppObservation {
  return { kubeStatus: 'APIUnreachable', scheduledOnThisNode: false, terminatingElsewhere: [], appPods: [], hostedHere: false };
}

/** Ready-condition message the control plane sets on a node whose kubelet went silent (node lifecycle controller). */
export const NODE_LOST_MESSAGE = 'Kubelet stopped posting node status.';

/**
 * Partition-safety gate (`DetachOldWorkload` step 2): the old host may be written off only when its Ready
 * condition is not `True` **and** its message is exactly {@link NODE_LOST_MESSAGE}. A node that is merely
 * NotReady (kubelet alive, reporting a problem) keeps its workload: taking over would risk a split brain.
 */
export function partitionSafe(node: KubeNodeStatus | undefined): { ok: boolean; reason: string } {
  if (!node) return { ok: false, reason: 'old node not found (its pods are garbage-collected)' };
  if (node.ready === 'True') return { ok: false, reason: `node ${node.name} is Ready` };
  if (node.readyMessage !== NODE_LOST_MESSAGE) {
    return { ok: false, reason: `node ${node.name} is ${node.ready} with message "${node.readyMessage ?? ''}", not lost` };
  }
  return { ok: true, reason: `node ${node.name} lost: ${NODE_LOST_MESSAGE}` };
}

/**
 * Apps, volumes and content trees on an EVE-k cluster (cluster.md §7.5, §7.6, §8–§11):
 *
 * - `app-reconciler.ts`    — the per-node loops: workload placement, failover takeover, reports.
 * - `app-status.ts`        — per-node app status from the pods; the partition-safety gate.
 * - `app-report.ts`        — the ZInfoApp reporting gate, state mapping and message.
 * - `workload.ts`          — the app ReplicaSet (affinity, tolerations) and its repair.
 * - `storage.ts`           — volume and content-tree states and their info messages.
 * - `failover-timeline.ts` — records a failover as data (demo, bench, e2e).
 * - `departure.ts`         — departure suppression while the node leaves the cluster.
 */
export {
  AppReconciler,
  APP_LOOP_MS,
  APP_API_DOWN_MS,
  DEFAULT_DOWNLOAD_MS,
  olderGenerations,
  failbackEvictions,
  type AppClusterView,
  type AppReconcilerOptions,
  type AppReconcilerState,
  type AppStatus,
  type AppsStatus,
} from './app-reconciler.js';
export { observeApp, apiUnreachable, partitionSafe, NODE_LOST_MESSAGE, type AppKubeStatus, type AppObservation } from './app-status.js';
export { decideAppReport, appSwState, appInfo, appInfoMessage, appInfoDigest, type AppReportInput, type AppReportDecision, type AppStateInput, type AppInfoFields } from './app-report.js';
export { appReplicaSet, appAffinity, appTolerations, affinityMatches, workloadUpdate, LABEL_APP_UUID, LABEL_APP_KUBE_NAME, APP_TOLERATION_SECONDS, PREFERRED_AFFINITY_WEIGHT, SIM_APP_IMAGE, type AppWorkloadInput } from './workload.js';
export { isDesignated, contentTreeStatus, volumeStatus, volumePvc, volumePvcName, STORAGE_CLASS, STORAGE_CLASS_TIE_BREAKER, volumeInfoMessage, contentTreeInfoMessage, type ContentTreeStatus, type VolumeStatus } from './storage.js';
export { recordFailoverTimeline, type FailoverTimeline, type FailoverTimelineOptions } from './failover-timeline.js';

/**
 * Apps, volumes and content trees on an EVE-k cluster (cluster.md §7.5, §7.6, §8–§11):
 *
 * - `app-reconciler.ts`    — the app loop: workload placement, failover takeover, ZInfoApp reports.
 * - `volume-reconciler.ts` — the storage loop: content trees, volumes and their PVCs; `volumeState()`.
 * - `workload-actions.ts`  — what the app loop does to an app's ReplicaSet and pods.
 * - `failback.ts`          — failback on boot (the descheduler).
 * - `app-status.ts`        — per-node app status from the pods; the partition-safety gate.
 * - `app-report.ts`        — the ZInfoApp reporting gate, state mapping and message.
 * - `workload.ts`          — the app ReplicaSet (affinity, tolerations) and its repair.
 * - `storage.ts`           — volume and content-tree states and their info messages.
 * - `departure.ts`         — departure suppression while the node leaves the cluster.
 * - `loop.ts`              — the pass-and-nap loop both reconcilers run.
 */
export { AppReconciler, type AppStatus } from './app-reconciler.js';
export { NODE_LOST_MESSAGE } from './app-status.js';
export { LABEL_APP_UUID } from './workload.js';

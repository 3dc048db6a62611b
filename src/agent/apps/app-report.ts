/**
 * ZInfoApp for cluster apps: who reports (lf-edge/eve: pkg/pillar/cmd/zedmanager/zedmanager.go
 * `publishAppInstanceStatus`, zedagent/handlemetrics.go `PublishAppInfoToZedCloud`; cluster.md §7.5), which
 * `ZSwState` and `cluster_app_running`, and the wire message. Pure.
 */
import { info, timestampFromMs } from '../../eve/index.js';
import type { AppKubeStatus } from './app-status.js';

/** What the reporting gate looks at. */
export interface AppReportInput {
  /** The app left the config. */
  deleted: boolean;
  /** `designated_node_id` empty or this node's UUID. */
  designated: boolean;
  kubeStatus: AppKubeStatus;
  scheduledOnThisNode: boolean;
}

/** `status`: send the full ZInfoApp; `delete`: send the UUID-only ZInfoApp; `silent`: send nothing. */
export type AppReportDecision = 'status' | 'delete' | 'silent';

/**
 * The §7.5 gate. Every node sends the delete; a node sends status only while the app's pod is scheduled on it
 * (Pending-but-bound included), or when it is the designated node and no pod exists anywhere (`NotInCluster`),
 * or — before the first per-node status (`Unknown`) — when it is the designated node. `APIUnreachable` forces
 * "not scheduled here", so an isolated node falls silent; a REQUIRED app whose designated node is down
 * (pod Pending and unbound) is reported by nobody.
 */
export function decideAppReport(i: AppReportInput): AppReportDecision {
  if (i.deleted) return 'delete';
  if (i.kubeStatus === 'APIUnreachable') return 'silent';
  if (i.scheduledOnThisNode) return 'status';
  if (i.designated && (i.kubeStatus === 'NotInCluster' || i.kubeStatus === 'Unknown')) return 'status';
  return 'silent';
}

/** What the state mapping looks at, on the reporting node. */
export interface AppStateInput {
  /** Config `activate`. */
  activate: boolean;
  kubeStatus: AppKubeStatus;
  /** Phase of this node's pod, when one is bound here. */
  localPodPhase?: string;
  /** State of the app's volumes on this node while they are not created yet (designated node); undefined = ready. */
  storageState?: info.ZSwState;
  /** A failover is waiting for the partition-safety gate (the old pod still holds the app). */
  waitingForDetach: boolean;
}

/**
 * The `ZSwState` of the app on this node. Kube states as EVE maps VMI phases (cluster.md §7.5): no pod yet or
 * waiting for the old host to be written off → `PENDING` (23); pod bound here but not running → `SCHEDULING`
 * (24); running here → `RUNNING`. Volumes still being prepared give their own state (e.g. `DOWNLOAD_STARTED`);
 * a deactivated app is `HALTING` while its pod lives here, then `HALTED`.
 */
export function appSwState(i: AppStateInput): info.ZSwState {
  const S = info.ZSwState;
  if (!i.activate) return i.localPodPhase ? S.HALTING : S.HALTED;
  if (i.storageState !== undefined) return i.storageState;
  if (i.localPodPhase === undefined) return S.PENDING;
  if (i.waitingForDetach) return S.PENDING;
  return i.localPodPhase === 'Running' ? S.RUNNING : S.SCHEDULING;
}

/** Fields of a full ZInfoApp. */
export interface AppInfoFields {
  uuid: string;
  version: string;
  displayName: string;
  state: info.ZSwState;
  /** `AppInstanceStatus.Activated` on this node. */
  clusterAppRunning: boolean;
  volumeRefs: string[];
  /** Pod start on this node, epoch ms. */
  bootTimeMs?: number;
  /** A condition the operator should see (e.g. a failover held by the partition-safety gate). */
  error?: { description: string; severity: info.Severity; retryCondition?: string; timeMs: number };
}

/** `ainfo` of a full report (eve-api.md §10). */
export function appInfo(f: AppInfoFields): info.IZInfoApp {
  return {
    AppID: f.uuid,
    appVersion: f.version,
    AppName: f.displayName,
    state: f.state,
    volumeRefs: [...f.volumeRefs],
    cluster_app_running: f.clusterAppRunning,
    ...(f.bootTimeMs !== undefined ? { bootTime: timestampFromMs(f.bootTimeMs) } : {}),
    ...(f.error
      ? {
          appErr: [
            {
              description: f.error.description,
              severity: f.error.severity,
              timestamp: timestampFromMs(f.error.timeMs),
              ...(f.error.retryCondition ? { retry_condition: f.error.retryCondition } : {}),
            },
          ],
        }
      : {}),
  };
}

/** Wraps `ainfo` in a ZInfoMsg (`ZiApp`); a delete carries only `AppID`, so `cluster_app_running` is false. */
export function appInfoMessage(devId: string, nowMs: number, ainfo: info.IZInfoApp): info.IZInfoMsg {
  return { ztype: info.ZInfoTypes.ZiApp, devId, atTimeStamp: timestampFromMs(nowMs), ainfo };
}

/** Comparable content of a report (timestamps of the message and of an error left out): send on change only. */
export function appInfoDigest(ainfo: info.IZInfoApp): string {
  return JSON.stringify({ ...ainfo, appErr: ainfo.appErr?.map((e) => ({ ...e, timestamp: null })) });
}

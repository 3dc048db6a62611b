/**
 * Volumes and content trees in a cluster (cluster.md §7.6, §8): which node prepares what, the states it goes
 * through and the ZInfoVolume / ZInfoContentTree it sends. Pure; the reconciler keeps the start times.
 *
 * - A content tree is local when it is designated to this node (id empty or own UUID) or in `CONTAINER` format;
 *   only a local tree is "downloaded" (simulated: progress over a configurable duration) and reported. A
 *   non-local tree is `LOADED` at once and never reported (`ContentTreeConfig.IsLocal`, handlecontent.go).
 * - The designated node of a volume creates it — EVE's PVC `<volume UUID>-pvc-<generation>` in `eve-kube-app`,
 *   filled from the content — once its content tree is loaded; the volume is `CREATED_VOLUME` once the PVC exists
 *   (`CREATING_VOLUME` until then). Every other node sets `CREATED_VOLUME` at once ("created on owner node").
 *   Every node reports every volume (`VolumeConfig.IsReplicated`, handlevolume.go).
 */
import type { V1PersistentVolumeClaim } from '@kubernetes/client-node';
import { pvcName } from '../../k3s/index.js';
import { info, timestampFromMs } from '../../eve/index.js';
import type { ContentTreeConfig, VolumeConfig } from '../parse-config.js';

/** Is `designatedNodeId` this node? Empty makes every node designated (cluster.md §8). */
export function isDesignated(designatedNodeId: string, ownUuid: string): boolean {
  return designatedNodeId === '' || designatedNodeId === ownUuid.toLowerCase();
}

/** A content tree's state on this node. */
export interface ContentTreeStatus {
  uuid: string;
  displayName: string;
  local: boolean;
  state: info.ZSwState;
  /** 0–100. */
  progress: number;
}

/**
 * State of `tree` at `nowMs` when its download started at `startedAtMs` and takes `downloadMs` (real ms; both times
 * on the monotonic clock, so a wall-clock step does not finish or restart a download).
 */
export function contentTreeStatus(
  tree: ContentTreeConfig,
  p: { ownUuid: string; startedAtMs: number; nowMs: number; downloadMs: number },
): ContentTreeStatus {
  const local = tree.isContainer || isDesignated(tree.designatedNodeId, p.ownUuid);
  const base = { uuid: tree.uuid, displayName: tree.displayName, local };
  if (!local) return { ...base, state: info.ZSwState.LOADED, progress: 100 };
  const elapsed = Math.max(0, p.nowMs - p.startedAtMs);
  if (elapsed >= p.downloadMs) return { ...base, state: info.ZSwState.LOADED, progress: 100 };
  return { ...base, state: info.ZSwState.DOWNLOAD_STARTED, progress: Math.floor((elapsed / p.downloadMs) * 100) };
}

/** A volume's state on this node. */
export interface VolumeStatus {
  uuid: string;
  displayName: string;
  designated: boolean;
  state: info.ZSwState;
  progress: number;
  generation: number;
  /** The PVC EVE's designated node creates; `pvcCreated`: this node made it (or found it made). */
  pvc: string;
  pvcCreated: boolean;
}

/**
 * State of `vol` on this node: non-designated → `CREATED_VOLUME`; designated → the state and progress of its
 * content tree until that is loaded, then `CREATING_VOLUME` until its PVC exists (`pvcCreated`), then
 * `CREATED_VOLUME`. `tree` is undefined for a blank volume or a tree not in the config.
 */
export function volumeStatus(vol: VolumeConfig, p: { ownUuid: string; tree: ContentTreeStatus | undefined; pvcCreated: boolean }): VolumeStatus {
  const designated = isDesignated(vol.designatedNodeId, p.ownUuid);
  const base = {
    uuid: vol.uuid,
    displayName: vol.displayName,
    designated,
    generation: vol.generationCount,
    pvc: volumePvcName(vol),
    pvcCreated: designated && p.pvcCreated,
  };
  if (designated && p.tree && p.tree.state !== info.ZSwState.LOADED) return { ...base, state: p.tree.state, progress: p.tree.progress };
  if (designated && !p.pvcCreated) return { ...base, state: info.ZSwState.CREATING_VOLUME, progress: 0 };
  return { ...base, state: info.ZSwState.CREATED_VOLUME, progress: 100 };
}

/** The PVC name of a volume's current generation (a generation that is not a non-negative integer counts as 0). */
export function volumePvcName(vol: VolumeConfig): string {
  return pvcName(vol.uuid, Math.max(0, Math.trunc(vol.generationCount)));
}

/** Longhorn storage classes: 3 replicas, or 2 when a node is the tie-breaker (cluster.md §8, §12). */
export const STORAGE_CLASS = 'longhorn';
export const STORAGE_CLASS_TIE_BREAKER = 'lh-sc-rep2';

/**
 * The PVC of a volume as EVE's `kubeapi.NewPVCDefinition` makes it: block mode, ReadWriteOnce, the volume's
 * maximum size, in the client's namespace (`eve-kube-app`).
 */
export function volumePvc(vol: VolumeConfig, name: string, storageClass: string): V1PersistentVolumeClaim {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name },
    spec: {
      storageClassName: storageClass,
      accessModes: ['ReadWriteOnce'],
      volumeMode: 'Block',
      resources: { requests: { storage: String(Math.max(0, Math.trunc(vol.maxSizeBytes))) } },
    },
  };
}

/** ZInfoMsg(`ZiVolume`) for a volume; `undefined` status → the delete message (only `uuid`). */
export function volumeInfoMessage(devId: string, nowMs: number, uuid: string, s: VolumeStatus | undefined): info.IZInfoMsg {
  const vinfo: info.IZInfoVolume = s
    ? { uuid, displayName: s.displayName, state: s.state, progressPercentage: s.progress, generation_count: s.generation }
    : { uuid };
  return { ztype: info.ZInfoTypes.ZiVolume, devId, atTimeStamp: timestampFromMs(nowMs), vinfo };
}

/** ZInfoMsg(`ZiContentTree`) for a local tree; `undefined` status → the delete message (only `uuid`). */
export function contentTreeInfoMessage(devId: string, nowMs: number, uuid: string, s: ContentTreeStatus | undefined): info.IZInfoMsg {
  const cinfo: info.IZInfoContentTree = s
    ? { uuid, displayName: s.displayName, state: s.state, progressPercentage: s.progress }
    : { uuid };
  return { ztype: info.ZInfoTypes.ZiContentTree, devId, atTimeStamp: timestampFromMs(nowMs), cinfo };
}

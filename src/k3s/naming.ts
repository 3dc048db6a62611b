/**
 * EVE's Kubernetes naming rules as pure functions: node names, app workload names, PVC names.
 * Every node derives the same names from the same config, which is what lets nodes find each other's objects
 * (cluster.md §4.5, §8, §9.1).
 */

/** Longest app kube name, uuid prefix included (`KubeAppNameMaxLen`, lf-edge/eve: pkg/pillar/base/kubevirt.go). */
export const KUBE_APP_NAME_MAX_LEN = 32;
/** Characters of the app UUID appended to the app kube name (`KubeAppNameUUIDSuffixLen`). */
export const KUBE_APP_NAME_UUID_SUFFIX_LEN = 5;
/** Longest sanitized display-name part: 32 − 1 (dash) − 5 (uuid prefix) = 26. */
export const KUBE_APP_DISPLAY_NAME_MAX_LEN = KUBE_APP_NAME_MAX_LEN - 1 - KUBE_APP_NAME_UUID_SUFFIX_LEN;

/**
 * Node name of a device: `device_name` lower-cased with `_` replaced by `-`
 * (lf-edge/eve: pkg/kube/kube-init/state/util.go `ToK8sName`; zedkube uses the same derivation; cluster.md §4.5).
 * Nothing else is changed, exactly as EVE: a name with other characters stays invalid for Kubernetes.
 */
export function toK8sNodeName(deviceName: string): string {
  return deviceName.toLowerCase().split('_').join('-');
}

/**
 * Display name → DNS-1123 fragment: `_` → `-`, characters outside `[a-zA-Z0-9-.]` dropped, runs of `.`/`-`
 * collapsed to one `-`, lower-cased (lf-edge/eve: pkg/pillar/base/kubevirt.go `SanitizeKubeName`).
 */
export function sanitizeKubeName(displayName: string): string {
  return displayName
    .split('_')
    .join('-')
    .replace(/[^a-zA-Z0-9.-]/g, '')
    .replace(/[.-]+/g, '-')
    .toLowerCase();
}

/**
 * App kube name without purge counter: `<sanitized display name, ≤ 26 chars>-<first 5 chars of the app UUID>`
 * (`GetAppKubeName`). The UUID is lower-cased, as EVE prints UUIDs.
 */
export function appKubeName(displayName: string, appUuid: string): string {
  const base = sanitizeKubeName(displayName).slice(0, KUBE_APP_DISPLAY_NAME_MAX_LEN);
  return `${base}-${appUuid.toLowerCase().slice(0, KUBE_APP_NAME_UUID_SUFFIX_LEN)}`;
}

/**
 * Name of the app's ReplicaSet / VMIRS: `<appKubeName>-<purge counter>`, where the counter is the controller's
 * purge counter plus the local one (`GetAppKubeNameWithPurge`; cluster.md §9.1).
 * @throws RangeError when `purgeCounter` is not a non-negative integer
 */
export function appKubeNameWithPurge(displayName: string, appUuid: string, purgeCounter: number): string {
  if (!Number.isInteger(purgeCounter) || purgeCounter < 0) {
    throw new RangeError(`purgeCounter must be a non-negative integer, got ${purgeCounter}`);
  }
  return `${appKubeName(displayName, appUuid)}-${purgeCounter}`;
}

/**
 * PVC of a volume on the designated node: `<volume UUID>-pvc-<generation>`, where the generation is the
 * controller's generation counter plus the local one (cluster.md §8).
 * @throws RangeError when `generation` is not a non-negative integer
 */
export function pvcName(volumeUuid: string, generation: number): string {
  if (!Number.isInteger(generation) || generation < 0) {
    throw new RangeError(`generation must be a non-negative integer, got ${generation}`);
  }
  return `${volumeUuid.toLowerCase()}-pvc-${generation}`;
}

/** `KubeVolumeInfo.volume_id` of a PVC: the PVC name without a `-pvc-0` suffix (cluster.md §7.2). */
export function volumeIdFromPvcName(pvc: string): string {
  return pvc.endsWith('-pvc-0') ? pvc.slice(0, -'-pvc-0'.length) : pvc;
}

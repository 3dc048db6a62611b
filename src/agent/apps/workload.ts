/**
 * The app workload as Kubernetes objects (cluster.md §9.1, §9.2): a ReplicaSet in `eve-kube-app` with one replica,
 * hostname affinity to the creating node (PREFERRED weight 100 or REQUIRED) and EVE's 15 s unreachable/not-ready
 * NoExecute tolerations. Pure builders and comparisons; the reconciler does the API calls.
 *
 * EVE runs VMs and containers-in-VM as KubeVirt VMIRS and native containers as ReplicaSets
 * (lf-edge/eve: pkg/pillar/hypervisor/kubevirt.go); the simulator runs every app as a ReplicaSet of one pod.
 */
import type { V1Affinity, V1NodeSelectorTerm, V1ReplicaSet, V1Toleration } from '@kubernetes/client-node';
import type { AppConfig } from '../parse-config.js';

/** Pod and ReplicaSet label carrying the app UUID (how every node finds an app's pods, whatever its purge name). */
export const LABEL_APP_UUID = 'app-uuid';
/** Label carrying the ReplicaSet name, so two purge generations never select each other's pods. */
const LABEL_APP_KUBE_NAME = 'app-kube-name';
/** `tolerateSec` of lf-edge/eve: pkg/pillar/hypervisor/kubevirt.go (k8s default 300 s), cluster.md §9.2. */
export const APP_TOLERATION_SECONDS = 15;
/** Weight of the PREFERRED hostname term (`SetKubeAffinity`). */
export const PREFERRED_AFFINITY_WEIGHT = 100;
/** Node label the affinity term matches. */
const HOSTNAME_LABEL = 'kubernetes.io/hostname';
/** Image of the simulated app container (nothing is pulled: the stand-in's kubelet only pretends to run it). */
export const SIM_APP_IMAGE = 'edgesim/app:sim';

/** Node affinity pinning the app to `nodeName`: preferred (weight 100) or required (cluster.md §9.2). */
export function appAffinity(nodeName: string, affinity: AppConfig['affinity']): V1Affinity {
  const term = { matchExpressions: [{ key: HOSTNAME_LABEL, operator: 'In', values: [nodeName] }] };
  return affinity === 'required'
    ? { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [term] } } }
    : { nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: PREFERRED_AFFINITY_WEIGHT, preference: term }] } };
}

/** The two NoExecute tolerations every app pod carries (`setKubeToleration`). */
export function appTolerations(): V1Toleration[] {
  return ['node.kubernetes.io/unreachable', 'node.kubernetes.io/not-ready'].map((key) => ({
    key,
    operator: 'Exists',
    effect: 'NoExecute',
    tolerationSeconds: APP_TOLERATION_SECONDS,
  }));
}

/** What {@link appReplicaSet} needs. */
export interface AppWorkloadInput {
  app: AppConfig;
  /** `appKubeNameWithPurge(...)`. */
  kubeName: string;
  /** k8s name of the creating node (the affinity target). */
  nodeName: string;
  /** 1 while activated, 0 when the app is deactivated. */
  replicas: number;
}

/** Builds the app's ReplicaSet (namespace left to the client, which is bound to `eve-kube-app`). */
export function appReplicaSet(i: AppWorkloadInput): V1ReplicaSet {
  const labels = { [LABEL_APP_UUID]: i.app.uuid, [LABEL_APP_KUBE_NAME]: i.kubeName };
  const limits: Record<string, string> = {};
  if (i.app.cpus > 0) limits.cpu = String(i.app.cpus);
  if (i.app.memoryKb > 0) limits.memory = `${i.app.memoryKb}Ki`;
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name: i.kubeName, labels: { ...labels } },
    spec: {
      replicas: i.replicas,
      selector: { matchLabels: { ...labels } },
      template: {
        // Evictable by the descheduler on boot (cluster.md §11), as EVE marks its VMIRS templates.
        metadata: { labels: { ...labels }, annotations: { 'descheduler.alpha.kubernetes.io/evict': 'true' } },
        spec: {
          containers: [{ name: 'app', image: SIM_APP_IMAGE, ...(Object.keys(limits).length ? { resources: { limits } } : {}) }],
          affinity: appAffinity(i.nodeName, i.app.affinity),
          tolerations: appTolerations(),
        },
      },
    },
  };
}

/**
 * True when the ReplicaSet's template pins the app to `nodeName` with the configured kind of affinity: exactly one
 * hostname term `In [nodeName]` (weight 100 when preferred) and nothing of the other kind. Compared by meaning,
 * not by JSON, since an object read back from the API carries extra empty fields.
 */
export function affinityMatches(rs: V1ReplicaSet, nodeName: string, affinity: AppConfig['affinity']): boolean {
  const na = rs.spec?.template?.spec?.affinity?.nodeAffinity;
  const pinned = (terms: V1NodeSelectorTerm[] | undefined): boolean => {
    if (terms?.length !== 1 || terms[0].matchFields?.length || terms[0].matchExpressions?.length !== 1) return false;
    const e = terms[0].matchExpressions[0];
    return e.key === HOSTNAME_LABEL && e.operator === 'In' && e.values?.length === 1 && e.values[0] === nodeName;
  };
  const preferred = na?.preferredDuringSchedulingIgnoredDuringExecution ?? [];
  const required = na?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  if (affinity === 'required') return preferred.length === 0 && pinned(required);
  return !required?.length && preferred.length === 1 && preferred[0].weight === PREFERRED_AFFINITY_WEIGHT && pinned([preferred[0].preference]);
}

/**
 * What the designated node changes on an existing ReplicaSet: the replica count (activate/deactivate) and the
 * template affinity (repair, `reconcileVMIRSAffinity`); running pods are untouched. Undefined when nothing differs.
 */
export function workloadUpdate(
  rs: V1ReplicaSet,
  want: { replicas: number; repairAffinityTo?: { nodeName: string; affinity: AppConfig['affinity'] } },
): { rs: V1ReplicaSet; changes: string[] } | undefined {
  const changes: string[] = [];
  const next = structuredClone(rs);
  next.spec ??= { selector: {} };
  if ((rs.spec?.replicas ?? 1) !== want.replicas) {
    next.spec.replicas = want.replicas;
    changes.push(`replicas ${rs.spec?.replicas ?? 1} → ${want.replicas}`);
  }
  const r = want.repairAffinityTo;
  if (r && !affinityMatches(rs, r.nodeName, r.affinity)) {
    next.spec.template ??= {};
    next.spec.template.spec ??= { containers: [] };
    next.spec.template.spec.affinity = appAffinity(r.nodeName, r.affinity);
    changes.push(`affinity → ${r.affinity} ${r.nodeName}`);
  }
  return changes.length ? { rs: next, changes } : undefined;
}

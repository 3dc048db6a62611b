/**
 * The Kubernetes resources the stand-in serves, with the identity the discovery documents announce
 * (group, version, plural, kind, scope, short names) and where their objects live in etcd.
 */

/** One served resource type. */
export interface ResourceType {
  /** API group, '' for the core group. */
  group: string;
  version: string;
  /** Plural name used in URLs and etcd keys. */
  resource: string;
  kind: string;
  namespaced: boolean;
  shortNames: string[];
  /** Subresources served besides the main resource. */
  subresources: ('status' | 'binding')[];
}

/** Everything served (issue 4 deliverable 3). */
export const RESOURCES: readonly ResourceType[] = [
  { group: '', version: 'v1', resource: 'namespaces', kind: 'Namespace', namespaced: false, shortNames: ['ns'], subresources: ['status'] },
  { group: '', version: 'v1', resource: 'nodes', kind: 'Node', namespaced: false, shortNames: ['no'], subresources: ['status'] },
  { group: '', version: 'v1', resource: 'pods', kind: 'Pod', namespaced: true, shortNames: ['po'], subresources: ['status', 'binding'] },
  { group: '', version: 'v1', resource: 'events', kind: 'Event', namespaced: true, shortNames: ['ev'], subresources: [] },
  // The app volumes' claims (cluster.md §8): made by the volume's designated node in `eve-kube-app`.
  { group: '', version: 'v1', resource: 'persistentvolumeclaims', kind: 'PersistentVolumeClaim', namespaced: true, shortNames: ['pvc'], subresources: ['status'] },
  { group: 'apps', version: 'v1', resource: 'replicasets', kind: 'ReplicaSet', namespaced: true, shortNames: ['rs'], subresources: ['status'] },
  { group: 'coordination.k8s.io', version: 'v1', resource: 'leases', kind: 'Lease', namespaced: true, shortNames: [], subresources: [] },
];

/** `apiVersion` of a type: `v1` or `<group>/<version>`. */
export function apiVersionOf(t: ResourceType): string {
  return t.group === '' ? t.version : `${t.group}/${t.version}`;
}

/** Finds a type by group, version and plural. */
export function findResource(group: string, version: string, resource: string): ResourceType | undefined {
  return RESOURCES.find((r) => r.group === group && r.version === version && r.resource === resource);
}

/** The resource type of a core or apps kind, for code that builds objects (controllers, kubelet). */
export function resourceOf(resource: string): ResourceType {
  const t = RESOURCES.find((r) => r.resource === resource);
  if (!t) throw new Error(`resource ${resource} is not served`);
  return t;
}

/** etcd key prefix of a type, optionally within one namespace; always ends in '/'. */
export function keyPrefix(t: ResourceType, namespace?: string): string {
  return t.namespaced && namespace !== undefined ? `/registry/${t.resource}/${namespace}/` : `/registry/${t.resource}/`;
}

/** etcd key of one object. */
export function objectKey(t: ResourceType, namespace: string | undefined, name: string): string {
  return t.namespaced ? `/registry/${t.resource}/${namespace ?? 'default'}/${name}` : `/registry/${t.resource}/${name}`;
}

/** The API groups besides core, as `/apis` lists them. */
export function apiGroups(): { name: string; versions: string[] }[] {
  const out = new Map<string, Set<string>>();
  for (const r of RESOURCES) {
    if (r.group === '') continue;
    if (!out.has(r.group)) out.set(r.group, new Set());
    out.get(r.group)!.add(r.version);
  }
  return [...out].map(([name, v]) => ({ name, versions: [...v] }));
}

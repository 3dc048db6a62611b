/**
 * Server-side `meta.k8s.io/v1 Table` output, which kubectl asks for on `get`. Columns follow the real API
 * server's printers (kubernetes: pkg/printers/internalversion/printers.go) so the output looks as users know it;
 * priority-1 columns are the ones `-o wide` adds.
 */
import type { KubeObject } from './object-store.js';
import type { ResourceType } from './resources.js';

interface Column {
  name: string;
  type: 'string' | 'integer' | 'date';
  format?: string;
  priority: number;
  description: string;
}

type Cell = string | number;

/** What the client asked to embed per row (`includeObject`). @default 'Metadata' */
export type IncludeObject = 'None' | 'Metadata' | 'Object';

/** kubectl's short age: 45s, 3m20s, 2h5m, 4d (k8s.io/apimachinery/pkg/util/duration HumanDuration). */
export function humanDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60 * 2) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return s % 60 === 0 ? `${m}m` : `${m}m${s % 60}s`;
  if (m < 60 * 3) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 8) return m % 60 === 0 ? `${h}h` : `${h}h${m % 60}m`;
  if (h < 48) return `${h}h`;
  const d = Math.floor(h / 24);
  if (h < 24 * 8) return h % 24 === 0 ? `${d}d` : `${d}d${h % 24}h`;
  if (d < 365 * 2) return `${d}d`;
  return `${Math.floor(d / 365)}y`;
}

const col = (name: string, type: Column['type'], priority: number, description: string, format?: string): Column =>
  format ? { name, type, format, priority, description } : { name, type, priority, description };

const NAME = col('Name', 'string', 0, 'Name must be unique within a namespace.', 'name');
const AGE = col('Age', 'string', 0, 'CreationTimestamp is a timestamp representing the server time when this object was created.');

/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-return, @typescript-eslint/no-unsafe-argument -- the printers read loosely typed API objects */
function age(obj: KubeObject, now: number): string {
  const t = obj.metadata.creationTimestamp;
  return t ? humanDuration(now - Date.parse(t)) : '<unknown>';
}

function nodeRow(o: any, now: number): Cell[] {
  const labels: Record<string, string> = o.metadata.labels ?? {};
  const roles = Object.keys(labels)
    .filter((k) => k.startsWith('node-role.kubernetes.io/'))
    .map((k) => k.slice('node-role.kubernetes.io/'.length))
    .concat(labels['kubernetes.io/role'] ? [labels['kubernetes.io/role']] : [])
    .sort();
  const ready = (o.status?.conditions ?? []).find((c: any) => c.type === 'Ready');
  let status = ready ? (ready.status === 'True' ? 'Ready' : ready.status === 'False' ? 'NotReady' : 'Unknown') : 'Unknown';
  if (o.spec?.unschedulable) status += ',SchedulingDisabled';
  const addr = (t: string): string => (o.status?.addresses ?? []).find((a: any) => a.type === t)?.address ?? '<none>';
  const info = o.status?.nodeInfo ?? {};
  return [
    o.metadata.name, status, roles.length ? [...new Set(roles)].join(',') : '<none>', age(o, now),
    info.kubeletVersion ?? '', addr('InternalIP'), addr('ExternalIP'), info.osImage ?? '<unknown>',
    info.kernelVersion ?? '<unknown>', info.containerRuntimeVersion ?? '<unknown>',
  ];
}

function podRow(o: any, now: number): Cell[] {
  const statuses: any[] = o.status?.containerStatuses ?? [];
  const total = (o.spec?.containers ?? []).length;
  const ready = statuses.filter((c) => c.ready).length;
  const restarts = statuses.reduce((n, c) => n + (c.restartCount ?? 0), 0);
  let reason: string = o.status?.reason ?? o.status?.phase ?? 'Unknown';
  const waiting = statuses.find((c) => c.state?.waiting?.reason)?.state.waiting.reason;
  if (waiting && reason === 'Pending') reason = waiting;
  if (o.metadata.deletionTimestamp) reason = o.status?.reason === 'NodeLost' ? 'Unknown' : 'Terminating';
  return [
    o.metadata.name, `${ready}/${total}`, reason, restarts, age(o, now), o.status?.podIP ?? '<none>',
    o.spec?.nodeName || '<none>', o.status?.nominatedNodeName ?? '<none>', '<none>',
  ];
}

const PRINTERS: Record<string, { columns: Column[]; row: (o: any, now: number) => Cell[] }> = {
  nodes: {
    columns: [
      NAME, col('Status', 'string', 0, 'The status of the node'), col('Roles', 'string', 0, 'The roles of the node'), AGE,
      col('Version', 'string', 0, 'Kubelet Version reported by the node.'),
      col('Internal-IP', 'string', 1, 'List of internal IPs for the node.'),
      col('External-IP', 'string', 1, 'List of external IPs for the node.'),
      col('OS-Image', 'string', 1, 'OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).'),
      col('Kernel-Version', 'string', 1, "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64)."),
      col('Container-Runtime', 'string', 1, 'ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).'),
    ],
    row: nodeRow,
  },
  pods: {
    columns: [
      NAME, col('Ready', 'string', 0, 'The aggregate readiness state of this pod for accepting traffic.'),
      col('Status', 'string', 0, 'The aggregate status of the containers in this pod.'),
      col('Restarts', 'string', 0, 'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.'),
      AGE, col('IP', 'string', 1, 'IP address allocated to the pod.'),
      col('Node', 'string', 1, 'Name of the Node this pod is assigned to.'),
      col('Nominated Node', 'string', 1, 'Name of the node where the pod is nominated to run.'),
      col('Readiness Gates', 'string', 1, 'The readiness gates of the pod.'),
    ],
    row: podRow,
  },
  replicasets: {
    columns: [
      NAME, col('Desired', 'integer', 0, 'Number of desired pods.'), col('Current', 'integer', 0, 'Number of actual replicas.'),
      col('Ready', 'integer', 0, 'Number of ready replicas.'), AGE,
    ],
    row: (o, now) => [o.metadata.name, o.spec?.replicas ?? 1, o.status?.replicas ?? 0, o.status?.readyReplicas ?? 0, age(o, now)],
  },
  namespaces: {
    columns: [NAME, col('Status', 'string', 0, 'The status of the namespace'), AGE],
    row: (o, now) => [o.metadata.name, o.status?.phase ?? 'Active', age(o, now)],
  },
  leases: {
    columns: [NAME, col('Holder', 'string', 0, 'The holder of the lease.'), AGE],
    row: (o, now) => [o.metadata.name, o.spec?.holderIdentity ?? '', age(o, now)],
  },
  events: {
    columns: [
      col('Last Seen', 'string', 0, 'Time since the last occurrence.'), col('Type', 'string', 0, 'Event type.'),
      col('Reason', 'string', 0, 'Short reason.'), col('Object', 'string', 0, 'The object this event is about.'),
      col('Message', 'string', 0, 'Human readable description.'),
    ],
    row: (o, now) => [
      o.lastTimestamp ? humanDuration(now - Date.parse(o.lastTimestamp)) : age(o, now), o.type ?? '', o.reason ?? '',
      `${String(o.involvedObject?.kind ?? '').toLowerCase()}/${o.involvedObject?.name ?? ''}`, o.message ?? '',
    ],
  },
};
/* eslint-enable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-return, @typescript-eslint/no-unsafe-argument */

/** Builds the Table for `items` of type `t` (one object for a get, many for a list). */
export function toTable(
  t: ResourceType,
  items: KubeObject[],
  opts: { now: number; resourceVersion?: string; includeObject?: IncludeObject },
): Record<string, unknown> {
  const printer = PRINTERS[t.resource] ?? { columns: [NAME, AGE], row: (o: KubeObject, now: number) => [o.metadata.name ?? '', age(o, now)] };
  const include = opts.includeObject ?? 'Metadata';
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: opts.resourceVersion ? { resourceVersion: opts.resourceVersion } : {},
    columnDefinitions: printer.columns.map((c) => ({ ...c })),
    rows: items.map((o) => ({
      cells: printer.row(o, opts.now),
      object:
        include === 'Object'
          ? o
          : include === 'Metadata'
            ? { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata }
            : null,
    })),
  };
}

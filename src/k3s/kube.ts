/**
 * The agent's Kubernetes API calls: nodes (label, annotate, cordon, delete, read as plain {@link KubeNodeStatus}),
 * pods (as plain {@link KubePodStatus}), app ReplicaSets and PVCs in `eve-kube-app`, and Leases for leader election
 * (see lease-election.ts) — plain REST over the shared {@link KubeHttpClient} (kube-http.ts says why not
 * @kubernetes/client-node, whose types the objects keep).
 *
 * Every call has EVE's 30 s per-call timeout (zedkube/kubeservice.go, kubeapi/kubeapi.go; cluster.md §14) and
 * takes an optional AbortSignal; failures become a {@link KubeError} with a fixed `kind`.
 */
import type { V1Lease, V1Node, V1NodeList, V1Pod, V1PodList, V1PersistentVolumeClaim, V1ReplicaSet } from '@kubernetes/client-node';
import { existsSync } from 'node:fs';
import { errorMessage, type Clock, type Logger } from '../common/index.js';
import { KubeHttpClient, isDeadlineError, isKubeHttpError, type KubeTransport } from './kube-http.js';
import { KubeconfigError, readKubeconfig, type KubeEndpoint } from './kubeconfig.js';

/** Namespace of every EVE app workload, PVC and the kube-stats lease (cluster.md §9.1, §7.1). */
export const EVE_KUBE_APP_NAMESPACE = 'eve-kube-app';
/** Per-API-call timeout (30 s). */
export const KUBE_CALL_TIMEOUT_MS = 30_000;
/** Shortest real per-call timeout under a large time scale, so loopback calls of a fast-running demo still fit. */
const MIN_REAL_CALL_TIMEOUT_MS = 1_000;
/** Label mapping a k8s node to its EVE device (cluster.md §4.5). */
export const LABEL_NODE_UUID = 'node-uuid';
/** Prefix of role labels (`node-role.kubernetes.io/<role>`). */
const ROLE_PREFIX = 'node-role.kubernetes.io/';

/** What failed, as the agent branches on it. `UNREACHABLE` covers refused, reset, timeouts, 502–504 and no kubeconfig. */
export type KubeErrorKind = 'UNREACHABLE' | 'NOT_FOUND' | 'CONFLICT' | 'FORBIDDEN' | 'OTHER';

/** A failed Kubernetes call: kind, HTTP status (when one came back), the `Status.reason`, the operation and object. */
export class KubeError extends Error {
  override readonly name = 'KubeError';
  constructor(
    readonly kind: KubeErrorKind,
    message: string,
    readonly context: { op: string; target?: string; status?: number; reason?: string },
  ) {
    super(message);
  }
  /** HTTP status, when the server answered. */
  get status(): number | undefined {
    return this.context.status;
  }
}

/** Type guard for {@link KubeError}, optionally of one kind. */
export function isKubeError(e: unknown, kind?: KubeErrorKind): e is KubeError {
  return e instanceof KubeError && (kind === undefined || e.kind === kind);
}

/** A Node reduced to what EVE reads from it (kubestatscollect.go `getKubeNodeInfo`, clusterstatus.go). */
export interface KubeNodeStatus {
  name: string;
  /** Ready condition status; `Unknown` also when the node has no Ready condition (see `readyConditionPresent`). */
  ready: 'True' | 'False' | 'Unknown';
  readyConditionPresent: boolean;
  readyReason?: string;
  /** E.g. "Kubelet stopped posting node status." once the node is lost (the failover gate, §10). */
  readyMessage?: string;
  /** Ready condition's last transition, RFC 3339. */
  lastTransition?: string;
  internalIp?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /** Roles from `node-role.kubernetes.io/<role>` labels, sorted (`control-plane`, `etcd`, `master`…). */
  roles: string[];
  /** `!spec.unschedulable`. */
  schedulable: boolean;
  taints: { key: string; value?: string; effect: string }[];
  /** RFC 3339. */
  creationTimestamp?: string;
  kubeletVersion?: string;
  /** The `node-uuid` label (device UUID), when set. */
  nodeUuid?: string;
}

/** A Pod reduced to what EVE reads from it (applogs.go `checkAppsStatus`, kubestatscollect.go). */
export interface KubePodStatus {
  name: string;
  namespace: string;
  /** `spec.nodeName`: set once bound, also while Pending. */
  nodeName?: string;
  /** `status.phase` (Pending, Running, Succeeded, Failed, Unknown). */
  phase: string;
  podIp?: string;
  labels: Record<string, string>;
  /** Owner kinds and names (ReplicaSet, VirtualMachineInstance…). */
  owners: { kind: string; name: string }[];
  /** Sum of container restart counts. */
  restartCount: number;
  /** Latest container termination, RFC 3339. */
  lastTerminationTime?: string;
  /** RFC 3339. */
  creationTimestamp?: string;
  /** Set when the pod is terminating, RFC 3339. */
  deletionTimestamp?: string;
}

/** Selectors of {@link KubeClient.listPods}. */
export interface PodQuery {
  /** @default 'eve-kube-app' */
  namespace?: string;
  labelSelector?: string;
  /** E.g. `spec.nodeName=edge-dev1`. */
  fieldSelector?: string;
}

/** Options of the {@link KubeClient} factories. */
export interface KubeClientOptions {
  logger: Logger;
  clock: Clock;
  /** Spec ms per call (scaled by the clock, but never below 1 s of real time). @default 30000 */
  callTimeoutMs?: number;
  /** Namespace of ReplicaSets and default of pod lists. @default 'eve-kube-app' */
  namespace?: string;
}

/** RFC 3339 of a client-node time (a Date once deserialized; a string in hand-built objects). */
const iso = (d: Date | string | undefined): string | undefined => (d ? new Date(d).toISOString() : undefined);

/** Converts a client-node `V1Node` into a {@link KubeNodeStatus}. */
export function toKubeNodeStatus(n: V1Node): KubeNodeStatus {
  const labels = { ...(n.metadata?.labels ?? {}) };
  const ready = n.status?.conditions?.find((c) => c.type === 'Ready');
  const status = ready?.status === 'True' || ready?.status === 'False' ? ready.status : 'Unknown';
  const internalIp = n.status?.addresses?.find((a) => a.type === 'InternalIP')?.address;
  const created = iso(n.metadata?.creationTimestamp);
  const transition = iso(ready?.lastTransitionTime);
  const version = n.status?.nodeInfo?.kubeletVersion;
  return {
    name: n.metadata?.name ?? '',
    ready: status,
    readyConditionPresent: ready !== undefined,
    ...(ready?.reason !== undefined ? { readyReason: ready.reason } : {}),
    ...(ready?.message !== undefined ? { readyMessage: ready.message } : {}),
    ...(transition ? { lastTransition: transition } : {}),
    ...(internalIp ? { internalIp } : {}),
    labels,
    annotations: { ...(n.metadata?.annotations ?? {}) },
    roles: Object.keys(labels)
      .filter((k) => k.startsWith(ROLE_PREFIX))
      .map((k) => k.slice(ROLE_PREFIX.length))
      .sort(),
    schedulable: n.spec?.unschedulable !== true,
    taints: (n.spec?.taints ?? []).map((t) => ({ key: t.key, effect: t.effect, ...(t.value ? { value: t.value } : {}) })),
    ...(created ? { creationTimestamp: created } : {}),
    ...(version ? { kubeletVersion: version } : {}),
    ...(labels[LABEL_NODE_UUID] ? { nodeUuid: labels[LABEL_NODE_UUID] } : {}),
  };
}

/** Converts a client-node `V1Pod` into a {@link KubePodStatus}. */
export function toKubePodStatus(p: V1Pod): KubePodStatus {
  const containers = p.status?.containerStatuses ?? [];
  let last: Date | undefined;
  for (const c of containers) {
    const t = c.lastState?.terminated?.finishedAt ?? c.state?.terminated?.finishedAt;
    if (t && (!last || t > last)) last = t;
  }
  const created = iso(p.metadata?.creationTimestamp);
  const deleted = iso(p.metadata?.deletionTimestamp);
  const lastTermination = iso(last);
  return {
    name: p.metadata?.name ?? '',
    namespace: p.metadata?.namespace ?? '',
    ...(p.spec?.nodeName ? { nodeName: p.spec.nodeName } : {}),
    phase: p.status?.phase ?? 'Unknown',
    ...(p.status?.podIP ? { podIp: p.status.podIP } : {}),
    labels: { ...(p.metadata?.labels ?? {}) },
    owners: (p.metadata?.ownerReferences ?? []).map((o) => ({ kind: o.kind, name: o.name })),
    restartCount: containers.reduce((sum, c) => sum + c.restartCount, 0),
    ...(lastTermination ? { lastTerminationTime: lastTermination } : {}),
    ...(created ? { creationTimestamp: created } : {}),
    ...(deleted ? { deletionTimestamp: deleted } : {}),
  };
}

const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN']);

/** Maps whatever a call threw to a {@link KubeError}. */
export function toKubeError(op: string, target: string | undefined, e: unknown): KubeError {
  const ctx = { op, ...(target ? { target } : {}) };
  const where = target ? `${op} ${target}` : op;
  if (isKubeHttpError(e) && e.code > 0) {
    const status = e.code;
    const reason = e.reason;
    const kind: KubeErrorKind =
      status === 404
        ? 'NOT_FOUND'
        : status === 409
          ? 'CONFLICT'
          : status === 401 || status === 403
            ? 'FORBIDDEN'
            : status === 502 || status === 503 || status === 504
              ? 'UNREACHABLE'
              : 'OTHER';
    return new KubeError(kind, `kube: ${where}: HTTP ${status}${reason ? ` ${reason}` : ''}`, {
      ...ctx,
      status,
      ...(reason ? { reason } : {}),
    });
  }
  for (let cur: unknown = e, depth = 0; cur && depth < 4; depth++) {
    const code = (cur as { code?: unknown }).code;
    if (typeof code === 'string' && UNREACHABLE_CODES.has(code)) {
      return new KubeError('UNREACHABLE', `kube: ${where}: ${code}`, ctx);
    }
    cur = (cur as { cause?: unknown }).cause;
  }
  return new KubeError('OTHER', `kube: ${where}: ${errorMessage(e)}`, ctx);
}

/** Fields that client-node's types declare as `Date` (times of metadata, conditions, containers and leases). */
const DATE_FIELDS = new Set([
  'creationTimestamp',
  'deletionTimestamp',
  'lastTransitionTime',
  'lastHeartbeatTime',
  'lastProbeTime',
  'lastUpdateTime',
  'startTime',
  'startedAt',
  'finishedAt',
  'acquireTime',
  'renewTime',
]);
const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/;

/** Answers' timestamps become Dates, as the object types say (in place, at any depth). */
export function reviveDates(value: unknown): unknown {
  if (Array.isArray(value)) {
    for (const x of value) if (x !== null && typeof x === 'object') reviveDates(x);
  } else if (value !== null && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    for (const k of Object.keys(o)) {
      const x = o[k];
      if (x !== null && typeof x === 'object') reviveDates(x);
      else if (typeof x === 'string' && DATE_FIELDS.has(k) && RFC3339.test(x)) o[k] = new Date(x);
    }
  }
  return value;
}

/**
 * Dates go out as RFC 3339 with microseconds: a Lease's `renewTime`/`acquireTime` are MicroTime, which the API
 * server parses with exactly six fraction digits; plain Time fields accept the fraction too.
 */
function microTime(this: unknown, key: string, value: unknown): unknown {
  const raw = (this as Record<string, unknown>)[key];
  return raw instanceof Date ? raw.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z') : value;
}

const MERGE_PATCH = 'application/merge-patch+json';
const enc = encodeURIComponent;

/** `?a=b&…` of the defined entries. */
function query(q: Record<string, string | number | undefined>): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) if (v !== undefined && v !== '') p.set(k, String(v));
  const s = p.toString();
  return s ? `?${s}` : '';
}

/** The agent's Kubernetes client. Stateless apart from its kept-alive connections; {@link KubeClient.close} ends them. */
export class KubeClient {
  readonly #http: KubeHttpClient;
  readonly #log: Logger;
  readonly #clock: Clock;
  readonly #timeoutMs: number;
  readonly #ns: string;
  readonly #inProcess: boolean;

  private constructor(endpoint: KubeEndpoint, opts: KubeClientOptions, transport?: KubeTransport) {
    this.#log = opts.logger.child({ component: 'k3s.kube' });
    this.#clock = opts.clock;
    this.#timeoutMs = opts.callTimeoutMs ?? KUBE_CALL_TIMEOUT_MS;
    this.#ns = opts.namespace ?? EVE_KUBE_APP_NAMESPACE;
    this.#inProcess = transport !== undefined;
    this.#http = new KubeHttpClient({
      baseUrl: endpoint.server,
      ...(endpoint.caPem ? { caPem: endpoint.caPem } : {}),
      ...(endpoint.certPem && endpoint.keyPem ? { certPem: endpoint.certPem, keyPem: endpoint.keyPem } : {}),
      ...(endpoint.token ? { authorization: `Bearer ${endpoint.token}` } : {}),
      // The deadline is #call's; the transport's own is only a backstop behind it.
      timeoutMs: this.#timeoutMs * 2,
      minRealTimeoutMs: MIN_REAL_CALL_TIMEOUT_MS * 2,
      clock: opts.clock,
      revive: reviveDates,
      replacer: microTime,
      ...(transport ? { transport } : {}),
    });
  }

  /**
   * A client whose requests go through `transport` (an API server in this process) instead of HTTPS; `endpoint`
   * names the server in errors and carries the credential, as a kubeconfig would.
   */
  static overTransport(transport: KubeTransport, endpoint: KubeEndpoint, opts: KubeClientOptions): KubeClient {
    return new KubeClient(endpoint, opts, transport);
  }

  /**
   * Loads a kubeconfig file (k3s writes `<data-dir>/…/k3s.yaml` or `write-kubeconfig`); `server` replaces the URL
   * in it (a forwarder's local end).
   * @throws KubeError `UNREACHABLE` when the file does not exist yet (k3s not up), `OTHER` when it is unusable
   */
  static fromKubeconfigFile(file: string, opts: KubeClientOptions, override: { server?: string } = {}): KubeClient {
    if (!existsSync(file)) {
      throw new KubeError('UNREACHABLE', `kube: kubeconfig ${file} does not exist (k3s not started yet?)`, {
        op: 'loadKubeconfig',
        target: file,
      });
    }
    let endpoint: KubeEndpoint;
    try {
      endpoint = readKubeconfig(file);
    } catch (e) {
      const message = e instanceof KubeconfigError ? e.message : `kubeconfig ${file}: ${errorMessage(e)}`;
      throw new KubeError('OTHER', `kube: ${message}`, { op: 'loadKubeconfig', target: file });
    }
    return new KubeClient(override.server ? { ...endpoint, server: override.server } : endpoint, opts);
  }

  /** Namespace of ReplicaSets and the default of pod lists. */
  get namespace(): string {
    return this.#ns;
  }

  /** Closes the kept-alive connections. The client stays usable (a later call connects again). */
  close(): void {
    this.#http.close();
  }

  async #call<T>(
    op: string,
    target: string | undefined,
    signal: AbortSignal | undefined,
    req: { method: string; path: string; body?: unknown; contentType?: string },
  ): Promise<T> {
    const ms = Math.max(MIN_REAL_CALL_TIMEOUT_MS, this.#clock.scaled(this.#timeoutMs));
    // In process the transport makes the deadline only if the request waits (a fleet makes thousands a second).
    const deadline = this.#inProcess ? undefined : AbortSignal.timeout(ms);
    const combined = signal && deadline ? AbortSignal.any([signal, deadline]) : (deadline ?? signal);
    try {
      return await this.#http.request<T>(req.method, req.path, req.body, req.contentType, combined, this.#inProcess ? ms : undefined);
    } catch (e) {
      if (signal?.aborted) throw signal.reason;
      const err = (deadline ? deadline.aborted : isDeadlineError(e))
        ? new KubeError('UNREACHABLE', `kube: ${op}${target ? ` ${target}` : ''}: no answer within ${this.#timeoutMs} ms`, {
            op,
            ...(target ? { target } : {}),
          })
        : toKubeError(op, target, e);
      this.#log.debug('kube call failed', { op, target, kind: err.kind, status: err.status, error: err.message });
      throw err;
    }
  }

  /** Reads one node. @throws KubeError (`NOT_FOUND` when missing) */
  async getNode(name: string, signal?: AbortSignal): Promise<KubeNodeStatus> {
    return toKubeNodeStatus(await this.#call<V1Node>('getNode', name, signal, { method: 'GET', path: `/api/v1/nodes/${enc(name)}` }));
  }

  /** Lists all nodes (or those matching `labelSelector`). */
  async listNodes(opts: { labelSelector?: string } = {}, signal?: AbortSignal): Promise<KubeNodeStatus[]> {
    const list = await this.#call<V1NodeList>('listNodes', undefined, signal, {
      method: 'GET',
      path: `/api/v1/nodes${query({ labelSelector: opts.labelSelector })}`,
    });
    return list.items.map(toKubeNodeStatus);
  }

  /** Merge-patches a node; a `null` value removes that key. */
  async #patchNode(op: string, name: string, body: unknown, signal?: AbortSignal): Promise<KubeNodeStatus> {
    const n = await this.#call<V1Node>(op, name, signal, { method: 'PATCH', path: `/api/v1/nodes/${enc(name)}`, body, contentType: MERGE_PATCH });
    return toKubeNodeStatus(n);
  }

  /** Sets (or with `null` removes) node labels, e.g. `{ 'node-uuid': <device UUID> }` (cluster.md §4.5). */
  labelNode(name: string, labels: Record<string, string | null>, signal?: AbortSignal): Promise<KubeNodeStatus> {
    return this.#patchNode('labelNode', name, { metadata: { labels } }, signal);
  }

  /** Sets (or with `null` removes) node annotations, e.g. Longhorn's `node.longhorn.io/default-disks-config`. */
  annotateNode(name: string, annotations: Record<string, string | null>, signal?: AbortSignal): Promise<KubeNodeStatus> {
    return this.#patchNode('annotateNode', name, { metadata: { annotations } }, signal);
  }

  /** Cordons (`spec.unschedulable = true`) or, with `cordon = false`, uncordons a node. */
  cordonNode(name: string, cordon = true, signal?: AbortSignal): Promise<KubeNodeStatus> {
    return this.#patchNode(cordon ? 'cordonNode' : 'uncordonNode', name, { spec: { unschedulable: cordon } }, signal);
  }

  /** Deletes a node object (leaving a cluster, stale-master pruning). @throws KubeError `NOT_FOUND` when already gone */
  async deleteNode(name: string, signal?: AbortSignal): Promise<void> {
    await this.#call('deleteNode', name, signal, { method: 'DELETE', path: `/api/v1/nodes/${enc(name)}` });
  }

  /** Lists pods by namespace and label/field selectors. */
  async listPods(q: PodQuery = {}, signal?: AbortSignal): Promise<KubePodStatus[]> {
    const namespace = q.namespace ?? this.#ns;
    const list = await this.#call<V1PodList>('listPods', namespace, signal, {
      method: 'GET',
      path: `/api/v1/namespaces/${enc(namespace)}/pods${query({ labelSelector: q.labelSelector, fieldSelector: q.fieldSelector })}`,
    });
    return list.items.map(toKubePodStatus);
  }

  /** Creates a namespace unless it exists (EVE's kube setup creates `eve-kube-app`; the agent plays that part). */
  async ensureNamespace(name: string, signal?: AbortSignal): Promise<void> {
    try {
      await this.#call('createNamespace', name, signal, {
        method: 'POST',
        path: '/api/v1/namespaces',
        body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name } },
      });
    } catch (e) {
      if (!isKubeError(e, 'CONFLICT')) throw e;
    }
  }

  /** Deletes a pod (`gracePeriodSeconds` 0 forces it, as DetachOldWorkload does). @throws KubeError `NOT_FOUND` */
  async deletePod(name: string, opts: { namespace?: string; gracePeriodSeconds?: number } = {}, signal?: AbortSignal): Promise<void> {
    const namespace = opts.namespace ?? this.#ns;
    await this.#call('deletePod', name, signal, {
      method: 'DELETE',
      path: `/api/v1/namespaces/${enc(namespace)}/pods/${enc(name)}${query({ gracePeriodSeconds: opts.gracePeriodSeconds })}`,
    });
  }

  #replicaSets(name?: string): string {
    return `/apis/apps/v1/namespaces/${enc(this.#ns)}/replicasets${name === undefined ? '' : `/${enc(name)}`}`;
  }

  /** Reads an app ReplicaSet. @throws KubeError `NOT_FOUND` */
  getReplicaSet(name: string, signal?: AbortSignal): Promise<V1ReplicaSet> {
    return this.#call('getReplicaSet', name, signal, { method: 'GET', path: this.#replicaSets(name) });
  }

  /** Creates an app ReplicaSet. @throws KubeError `CONFLICT` (reason `AlreadyExists`) when another node made it first */
  createReplicaSet(rs: V1ReplicaSet, signal?: AbortSignal): Promise<V1ReplicaSet> {
    return this.#call('createReplicaSet', rs.metadata?.name, signal, {
      method: 'POST',
      path: this.#replicaSets(),
      body: { apiVersion: 'apps/v1', kind: 'ReplicaSet', ...rs },
    });
  }

  /** Replaces an app ReplicaSet (send the `resourceVersion` read). @throws KubeError `CONFLICT` on a stale version */
  replaceReplicaSet(rs: V1ReplicaSet, signal?: AbortSignal): Promise<V1ReplicaSet> {
    const name = rs.metadata?.name ?? '';
    return this.#call('replaceReplicaSet', name, signal, {
      method: 'PUT',
      path: this.#replicaSets(name),
      body: { apiVersion: 'apps/v1', kind: 'ReplicaSet', ...rs },
    });
  }

  /** Deletes an app ReplicaSet with foreground propagation (its pods go first). @throws KubeError `NOT_FOUND` */
  async deleteReplicaSet(name: string, signal?: AbortSignal): Promise<void> {
    await this.#call('deleteReplicaSet', name, signal, {
      method: 'DELETE',
      path: `${this.#replicaSets(name)}${query({ propagationPolicy: 'Foreground' })}`,
    });
  }

  #pvcs(name?: string): string {
    return `/api/v1/namespaces/${enc(this.#ns)}/persistentvolumeclaims${name === undefined ? '' : `/${enc(name)}`}`;
  }

  /** Reads a PersistentVolumeClaim of the app namespace. @throws KubeError `NOT_FOUND` */
  getPvc(name: string, signal?: AbortSignal): Promise<V1PersistentVolumeClaim> {
    return this.#call('getPvc', name, signal, { method: 'GET', path: this.#pvcs(name) });
  }

  /** Creates a PersistentVolumeClaim in the app namespace. @throws KubeError `CONFLICT` when it exists */
  createPvc(pvc: V1PersistentVolumeClaim, signal?: AbortSignal): Promise<V1PersistentVolumeClaim> {
    return this.#call('createPvc', pvc.metadata?.name, signal, {
      method: 'POST',
      path: this.#pvcs(),
      body: { apiVersion: 'v1', kind: 'PersistentVolumeClaim', ...pvc },
    });
  }

  /** Deletes a PersistentVolumeClaim of the app namespace. @throws KubeError `NOT_FOUND` when already gone */
  async deletePvc(name: string, signal?: AbortSignal): Promise<void> {
    await this.#call('deletePvc', name, signal, { method: 'DELETE', path: this.#pvcs(name) });
  }

  #leases(namespace: string, name?: string): string {
    return `/apis/coordination.k8s.io/v1/namespaces/${enc(namespace)}/leases${name === undefined ? '' : `/${enc(name)}`}`;
  }

  /** Reads a Lease. @throws KubeError `NOT_FOUND` */
  getLease(namespace: string, name: string, signal?: AbortSignal): Promise<V1Lease> {
    return this.#call('getLease', `${namespace}/${name}`, signal, { method: 'GET', path: this.#leases(namespace, name) });
  }

  /** Creates a Lease. @throws KubeError `CONFLICT` when it exists */
  createLease(lease: V1Lease, signal?: AbortSignal): Promise<V1Lease> {
    const namespace = lease.metadata?.namespace ?? this.#ns;
    return this.#call('createLease', `${namespace}/${lease.metadata?.name}`, signal, {
      method: 'POST',
      path: this.#leases(namespace),
      body: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', ...lease },
    });
  }

  /** Replaces a Lease (optimistic: carries the `resourceVersion` read). @throws KubeError `CONFLICT` when stale */
  replaceLease(lease: V1Lease, signal?: AbortSignal): Promise<V1Lease> {
    const namespace = lease.metadata?.namespace ?? this.#ns;
    const name = lease.metadata?.name ?? '';
    return this.#call('replaceLease', `${namespace}/${name}`, signal, {
      method: 'PUT',
      path: this.#leases(namespace, name),
      body: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', ...lease },
    });
  }
}

/**
 * Small Kubernetes API helpers for the agent over @kubernetes/client-node v2 (object-parameter API): nodes
 * (label, annotate, cordon, delete, read as plain {@link KubeNodeStatus}), pods (as plain {@link KubePodStatus}),
 * app ReplicaSets in `eve-kube-app`, and Leases for leader election (see lease-election.ts).
 *
 * Every call has EVE's 30 s per-call timeout (zedkube/kubeservice.go, kubeapi/kubeapi.go; cluster.md §14) and
 * takes an optional AbortSignal; failures become a {@link KubeError} with a fixed `kind`.
 */
import type {
  AppsV1Api,
  CoordinationV1Api,
  CoreV1Api,
  ConfigurationOptions,
  KubeConfig,
  ObservableMiddleware,
  RequestContext,
  ResponseContext,
  V1Lease,
  V1Node,
  V1Pod,
  V1PersistentVolumeClaim,
  V1ReplicaSet,
} from '@kubernetes/client-node';
import type * as KubeLibraryModule from '@kubernetes/client-node';
import { existsSync } from 'node:fs';
import https from 'node:https';
import { errorMessage, type Clock, type Logger } from '../common/index.js';

type KubeLibrary = typeof KubeLibraryModule;
let library: KubeLibrary | undefined;

/**
 * Loads @kubernetes/client-node. Importing it costs about a second of CPU, and a node needs it only once k3s
 * runs, so it is loaded then (or by whoever makes the first {@link KubeClient}), not at process start.
 */
export async function loadKubeLibrary(): Promise<void> {
  library ??= await import('@kubernetes/client-node');
}

/** Whether {@link loadKubeLibrary} has finished (then the synchronous factories can be used). */
export function kubeLibraryLoaded(): boolean {
  return library !== undefined;
}

function k8s(): KubeLibrary {
  if (!library) throw new KubeError('OTHER', 'kube: @kubernetes/client-node not loaded: await loadKubeLibrary() first', { op: 'loadKubeLibrary' });
  return library;
}

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

/** Status `reason` from an ApiException body (a JSON `Status` as text), if any. */
function statusReason(body: unknown): string | undefined {
  try {
    const o = (typeof body === 'string' ? JSON.parse(body) : body) as { reason?: unknown } | undefined;
    return typeof o?.reason === 'string' ? o.reason : undefined;
  } catch {
    return undefined;
  }
}

const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_CLOSED']);

/** Maps whatever a client-node call threw to a {@link KubeError}. */
export function toKubeError(op: string, target: string | undefined, e: unknown): KubeError {
  const ctx = { op, ...(target ? { target } : {}) };
  const where = target ? `${op} ${target}` : op;
  // Without the library loaded no client call can have run, so nothing can be an ApiException.
  if (library && e instanceof library.ApiException) {
    const status = e.code;
    const reason = statusReason(e.body);
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
  if (e instanceof TypeError && e.message === 'fetch failed') {
    return new KubeError('UNREACHABLE', `kube: ${where}: ${errorMessage((e as { cause?: unknown }).cause ?? e)}`, ctx);
  }
  return new KubeError('OTHER', `kube: ${where}: ${errorMessage(e)}`, ctx);
}

/**
 * Per-call middleware: sets the request's abort signal, the shared keep-alive connection agent and, for patches,
 * the content type.
 */
function callOptions(signal: AbortSignal, reuse: (req: RequestContext) => void, contentType?: string): ConfigurationOptions<ObservableMiddleware> {
  const mw: ObservableMiddleware = {
    pre: (req: RequestContext) => {
      req.setSignal(signal);
      reuse(req);
      if (contentType) req.setHeaderParam('Content-Type', contentType);
      return new (k8s().Observable)(Promise.resolve(req));
    },
    post: (res: ResponseContext) => new (k8s().Observable)(Promise.resolve(res)),
  };
  return { middleware: [mw], middlewareMergeStrategy: 'append' };
}

/** The agent's Kubernetes client. Stateless apart from the loaded kubeconfig; no lifecycle to stop. */
export class KubeClient {
  /** The loaded kubeconfig (for APIs this class does not wrap). */
  readonly kubeConfig: KubeConfig;
  readonly #core: CoreV1Api;
  readonly #apps: AppsV1Api;
  readonly #coord: CoordinationV1Api;
  readonly #log: Logger;
  readonly #clock: Clock;
  readonly #timeoutMs: number;
  readonly #ns: string;
  /** Kept-alive connections for every call (see {@link KubeClient.close}). */
  #agent: https.Agent | undefined;

  private constructor(kc: KubeConfig, opts: KubeClientOptions) {
    const lib = k8s();
    this.kubeConfig = kc;
    this.#core = kc.makeApiClient(lib.CoreV1Api);
    this.#apps = kc.makeApiClient(lib.AppsV1Api);
    this.#coord = kc.makeApiClient(lib.CoordinationV1Api);
    this.#log = opts.logger.child({ component: 'k3s.kube' });
    this.#clock = opts.clock;
    this.#timeoutMs = opts.callTimeoutMs ?? KUBE_CALL_TIMEOUT_MS;
    this.#ns = opts.namespace ?? EVE_KUBE_APP_NAMESPACE;
  }

  /**
   * Loads a kubeconfig file (k3s writes `<data-dir>/…/k3s.yaml` or `write-kubeconfig`). Needs
   * {@link loadKubeLibrary} to have finished.
   * @throws KubeError `UNREACHABLE` when the file does not exist yet (k3s not up), `OTHER` when it is unusable or
   *   the library is not loaded
   */
  static fromKubeconfigFile(file: string, opts: KubeClientOptions): KubeClient {
    if (!existsSync(file)) {
      throw new KubeError('UNREACHABLE', `kube: kubeconfig ${file} does not exist (k3s not started yet?)`, {
        op: 'loadKubeconfig',
        target: file,
      });
    }
    const kc = new (k8s().KubeConfig)();
    try {
      kc.loadFromFile(file);
    } catch (e) {
      throw new KubeError('OTHER', `kube: kubeconfig ${file}: ${errorMessage(e)}`, { op: 'loadKubeconfig', target: file });
    }
    if (!kc.getCurrentCluster()) {
      throw new KubeError('OTHER', `kube: kubeconfig ${file}: no current cluster`, { op: 'loadKubeconfig', target: file });
    }
    return new KubeClient(kc, opts);
  }

  /** Wraps an already loaded KubeConfig. */
  static fromKubeConfig(kc: KubeConfig, opts: KubeClientOptions): KubeClient {
    return new KubeClient(kc, opts);
  }

  /** Namespace of ReplicaSets and the default of pod lists. */
  get namespace(): string {
    return this.#ns;
  }

  /** Closes the kept-alive connections. The client stays usable (a later call connects again). */
  close(): void {
    this.#agent?.destroy();
    this.#agent = undefined;
  }

  /**
   * client-node gives every request a new https.Agent, i.e. a TLS handshake per call; the agent's monitors call
   * several times a second under --time-scale. One keep-alive agent with the same TLS options serves them all.
   */
  readonly #reuseConnection = (req: RequestContext): void => {
    const perRequest = req.getAgent();
    if (!(perRequest instanceof https.Agent)) return;
    this.#agent ??= new https.Agent({ ...perRequest.options, keepAlive: true });
    req.setAgent(this.#agent);
  };

  async #call<T>(
    op: string,
    target: string | undefined,
    signal: AbortSignal | undefined,
    fn: (o: ConfigurationOptions<ObservableMiddleware>) => Promise<T>,
    contentType?: string,
  ): Promise<T> {
    const deadline = AbortSignal.timeout(Math.max(MIN_REAL_CALL_TIMEOUT_MS, this.#clock.scaled(this.#timeoutMs)));
    const combined = signal ? AbortSignal.any([signal, deadline]) : deadline;
    try {
      return await fn(callOptions(combined, this.#reuseConnection, contentType));
    } catch (e) {
      if (signal?.aborted) throw signal.reason;
      const err = deadline.aborted
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
    return toKubeNodeStatus(await this.#call('getNode', name, signal, (o) => this.#core.readNode({ name }, o)));
  }

  /** Lists all nodes (or those matching `labelSelector`). */
  async listNodes(opts: { labelSelector?: string } = {}, signal?: AbortSignal): Promise<KubeNodeStatus[]> {
    const list = await this.#call('listNodes', undefined, signal, (o) =>
      this.#core.listNode(opts.labelSelector ? { labelSelector: opts.labelSelector } : {}, o),
    );
    return list.items.map(toKubeNodeStatus);
  }

  /** Merge-patches node metadata; a `null` value removes that key. */
  async #patchNodeMeta(
    op: string,
    name: string,
    meta: { labels?: Record<string, string | null>; annotations?: Record<string, string | null> },
    signal?: AbortSignal,
  ): Promise<KubeNodeStatus> {
    const n = await this.#call(
      op,
      name,
      signal,
      (o) => this.#core.patchNode({ name, body: { metadata: meta } }, o),
      k8s().PatchStrategy.MergePatch,
    );
    return toKubeNodeStatus(n);
  }

  /** Sets (or with `null` removes) node labels, e.g. `{ 'node-uuid': <device UUID> }` (cluster.md §4.5). */
  labelNode(name: string, labels: Record<string, string | null>, signal?: AbortSignal): Promise<KubeNodeStatus> {
    return this.#patchNodeMeta('labelNode', name, { labels }, signal);
  }

  /** Sets (or with `null` removes) node annotations, e.g. Longhorn's `node.longhorn.io/default-disks-config`. */
  annotateNode(name: string, annotations: Record<string, string | null>, signal?: AbortSignal): Promise<KubeNodeStatus> {
    return this.#patchNodeMeta('annotateNode', name, { annotations }, signal);
  }

  /** Cordons (`spec.unschedulable = true`) or, with `cordon = false`, uncordons a node. */
  async cordonNode(name: string, cordon = true, signal?: AbortSignal): Promise<KubeNodeStatus> {
    const n = await this.#call(
      cordon ? 'cordonNode' : 'uncordonNode',
      name,
      signal,
      (o) => this.#core.patchNode({ name, body: { spec: { unschedulable: cordon } } }, o),
      k8s().PatchStrategy.MergePatch,
    );
    return toKubeNodeStatus(n);
  }

  /** Deletes a node object (leaving a cluster, stale-master pruning). @throws KubeError `NOT_FOUND` when already gone */
  async deleteNode(name: string, signal?: AbortSignal): Promise<void> {
    await this.#call('deleteNode', name, signal, (o) => this.#core.deleteNode({ name }, o));
  }

  /** Lists pods by namespace and label/field selectors. */
  async listPods(q: PodQuery = {}, signal?: AbortSignal): Promise<KubePodStatus[]> {
    const namespace = q.namespace ?? this.#ns;
    const list = await this.#call('listPods', namespace, signal, (o) =>
      this.#core.listNamespacedPod(
        {
          namespace,
          ...(q.labelSelector ? { labelSelector: q.labelSelector } : {}),
          ...(q.fieldSelector ? { fieldSelector: q.fieldSelector } : {}),
        },
        o,
      ),
    );
    return list.items.map(toKubePodStatus);
  }

  /** Creates a namespace unless it exists (EVE's kube setup creates `eve-kube-app`; the agent plays that part). */
  async ensureNamespace(name: string, signal?: AbortSignal): Promise<void> {
    try {
      await this.#call('createNamespace', name, signal, (o) => this.#core.createNamespace({ body: { metadata: { name } } }, o));
    } catch (e) {
      if (!isKubeError(e, 'CONFLICT')) throw e;
    }
  }

  /** Deletes a pod (`gracePeriodSeconds` 0 forces it, as DetachOldWorkload does). @throws KubeError `NOT_FOUND` */
  async deletePod(name: string, opts: { namespace?: string; gracePeriodSeconds?: number } = {}, signal?: AbortSignal): Promise<void> {
    const namespace = opts.namespace ?? this.#ns;
    await this.#call('deletePod', name, signal, (o) =>
      this.#core.deleteNamespacedPod(
        { name, namespace, ...(opts.gracePeriodSeconds !== undefined ? { gracePeriodSeconds: opts.gracePeriodSeconds } : {}) },
        o,
      ),
    );
  }

  /** Reads an app ReplicaSet. @throws KubeError `NOT_FOUND` */
  getReplicaSet(name: string, signal?: AbortSignal): Promise<V1ReplicaSet> {
    return this.#call('getReplicaSet', name, signal, (o) =>
      this.#apps.readNamespacedReplicaSet({ name, namespace: this.#ns }, o),
    );
  }

  /** Creates an app ReplicaSet. @throws KubeError `CONFLICT` (reason `AlreadyExists`) when another node made it first */
  createReplicaSet(rs: V1ReplicaSet, signal?: AbortSignal): Promise<V1ReplicaSet> {
    return this.#call('createReplicaSet', rs.metadata?.name, signal, (o) =>
      this.#apps.createNamespacedReplicaSet({ namespace: this.#ns, body: rs }, o),
    );
  }

  /** Replaces an app ReplicaSet (send the `resourceVersion` read). @throws KubeError `CONFLICT` on a stale version */
  replaceReplicaSet(rs: V1ReplicaSet, signal?: AbortSignal): Promise<V1ReplicaSet> {
    const name = rs.metadata?.name ?? '';
    return this.#call('replaceReplicaSet', name, signal, (o) =>
      this.#apps.replaceNamespacedReplicaSet({ name, namespace: this.#ns, body: rs }, o),
    );
  }

  /** Deletes an app ReplicaSet with foreground propagation (its pods go first). @throws KubeError `NOT_FOUND` */
  async deleteReplicaSet(name: string, signal?: AbortSignal): Promise<void> {
    await this.#call('deleteReplicaSet', name, signal, (o) =>
      this.#apps.deleteNamespacedReplicaSet({ name, namespace: this.#ns, propagationPolicy: 'Foreground' }, o),
    );
  }

  /** Reads a PersistentVolumeClaim of the app namespace. @throws KubeError `NOT_FOUND` */
  getPvc(name: string, signal?: AbortSignal): Promise<V1PersistentVolumeClaim> {
    return this.#call('getPvc', name, signal, (o) => this.#core.readNamespacedPersistentVolumeClaim({ name, namespace: this.#ns }, o));
  }

  /** Creates a PersistentVolumeClaim in the app namespace. @throws KubeError `CONFLICT` when it exists */
  createPvc(pvc: V1PersistentVolumeClaim, signal?: AbortSignal): Promise<V1PersistentVolumeClaim> {
    return this.#call('createPvc', pvc.metadata?.name, signal, (o) =>
      this.#core.createNamespacedPersistentVolumeClaim({ namespace: this.#ns, body: pvc }, o),
    );
  }

  /** Deletes a PersistentVolumeClaim of the app namespace. @throws KubeError `NOT_FOUND` when already gone */
  async deletePvc(name: string, signal?: AbortSignal): Promise<void> {
    await this.#call('deletePvc', name, signal, (o) => this.#core.deleteNamespacedPersistentVolumeClaim({ name, namespace: this.#ns }, o));
  }

  /** Reads a Lease. @throws KubeError `NOT_FOUND` */
  getLease(namespace: string, name: string, signal?: AbortSignal): Promise<V1Lease> {
    return this.#call('getLease', `${namespace}/${name}`, signal, (o) =>
      this.#coord.readNamespacedLease({ name, namespace }, o),
    );
  }

  /** Creates a Lease. @throws KubeError `CONFLICT` when it exists */
  createLease(lease: V1Lease, signal?: AbortSignal): Promise<V1Lease> {
    const namespace = lease.metadata?.namespace ?? this.#ns;
    return this.#call('createLease', `${namespace}/${lease.metadata?.name}`, signal, (o) =>
      this.#coord.createNamespacedLease({ namespace, body: lease }, o),
    );
  }

  /** Replaces a Lease (optimistic: carries the `resourceVersion` read). @throws KubeError `CONFLICT` when stale */
  replaceLease(lease: V1Lease, signal?: AbortSignal): Promise<V1Lease> {
    const namespace = lease.metadata?.namespace ?? this.#ns;
    const name = lease.metadata?.name ?? '';
    return this.#call('replaceLease', `${namespace}/${name}`, signal, (o) =>
      this.#coord.replaceNamespacedLease({ name, namespace, body: lease }, o),
    );
  }
}

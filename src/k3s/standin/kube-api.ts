/**
 * The semantics of the Kubernetes API on the etcd store, shared by the HTTP server and the in-process
 * controllers: object defaults (uid, creationTimestamp, generateName, generation, pod defaults), validation
 * (422), optimistic concurrency on resourceVersion (409), the status subresource, merge/JSON patch, graceful
 * pod deletion, finalizers, and watches that start from a resourceVersion (410 when compacted).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Clock, Logger } from '../../common/index.js';
import { ApiError } from './errors.js';
import { applyPatch, type PatchType } from './patch.js';
import { RESOURCES, apiVersionOf, keyPrefix, objectKey, resourceOf, type ResourceType } from './resources.js';
import { labelSelectorRequirements, matchFields, matchLabels, type LabelSelector, type Requirement } from './selectors.js';
import type { KubeObject, ObjectStore } from './object-store.js';

/** Filters of list and watch. */
export interface ListFilter {
  labels?: Requirement[];
  fields?: Requirement[];
}

/** Options of a delete (meta/v1 DeleteOptions). */
export interface DeleteOptions {
  gracePeriodSeconds?: number;
  preconditions?: { uid?: string; resourceVersion?: string };
}

/** A watch event as sent on the wire. */
export interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'ERROR';
  object: Record<string, unknown>;
}

/** RFC 3339 with whole seconds, as Kubernetes writes timestamps. */
export function kubeTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const RANDOM_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789'; // k8s.io/apimachinery/pkg/util/rand

/** Five characters as generateName appends them. */
export function randomSuffix(n = 5): string {
  const bytes = randomBytes(n);
  return [...bytes].map((b) => RANDOM_ALPHABET[b % RANDOM_ALPHABET.length]).join('');
}

/** Nodes and pods read once per controller pass, shared by the controllers of that pass. */
export interface ClusterSnapshot {
  nodes: KubeObject[];
  pods: KubeObject[];
}

/** Namespaces k3s creates on a new cluster. */
export const SYSTEM_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-return, @typescript-eslint/no-unsafe-argument -- API objects are loosely typed JSON */

/** Kubernetes API semantics over an {@link ObjectStore} (etcd or memory). */
export class KubeApi {
  private readonly log: Logger;
  constructor(
    readonly store: ObjectStore,
    private readonly clock: Clock,
    logger: Logger,
  ) {
    this.log = logger.child({ component: 'k3s.standin.api' });
  }

  /**
   * Creates the namespaces k3s always has (default, kube-system, kube-public, kube-node-lease), as every
   * kube-apiserver does at start (its system-namespaces controller). True once all exist.
   */
  async ensureSystemNamespaces(): Promise<boolean> {
    const t = resourceOf('namespaces');
    for (const name of SYSTEM_NAMESPACES) {
      try {
        await this.create(t, undefined, { metadata: { name } });
      } catch (e) {
        if (!(e instanceof ApiError && e.reason === 'AlreadyExists')) return false;
      }
    }
    return true;
  }

  private now(): string {
    return kubeTime(this.clock.now());
  }

  private details(t: ResourceType, name?: string): { name?: string; group: string; kind: string } {
    const d: { name?: string; group: string; kind: string } = { group: t.group, kind: t.resource };
    if (name !== undefined) d.name = name;
    return d;
  }

  private notFound(t: ResourceType, name: string): ApiError {
    const what = t.group ? `${t.resource}.${t.group}` : t.resource;
    return new ApiError('NotFound', `${what} "${name}" not found`, this.details(t, name));
  }

  private rethrow(e: unknown, t: ResourceType, name: string): never {
    if (e instanceof ApiError && e.reason === 'NotFound') throw this.notFound(t, name);
    if (e instanceof ApiError && e.reason === 'AlreadyExists') {
      const what = t.group ? `${t.resource}.${t.group}` : t.resource;
      throw new ApiError('AlreadyExists', `${what} "${name}" already exists`, this.details(t, name));
    }
    if (e instanceof ApiError && e.reason === 'Conflict') {
      const what = t.group ? `${t.resource}.${t.group}` : t.resource;
      throw new ApiError('Conflict', `Operation cannot be fulfilled on ${what} "${name}": ${e.message}`, this.details(t, name));
    }
    throw e;
  }

  /** Reads one object. */
  async get(t: ResourceType, ns: string | undefined, name: string): Promise<KubeObject> {
    try {
      return this.typed(t, await this.store.get(objectKey(t, ns, name)));
    } catch (e) {
      this.rethrow(e, t, name);
    }
  }

  /** Lists objects of `t` (in `ns`, or all namespaces) matching `filter`. */
  async list(t: ResourceType, ns: string | undefined, filter: ListFilter = {}): Promise<{ items: KubeObject[]; revision: string }> {
    const { items, revision } = await this.store.list(keyPrefix(t, ns));
    return { items: items.filter((o) => this.matches(o, filter)).map((o) => this.typed(t, o)), revision };
  }

  private matches(o: KubeObject, f: ListFilter): boolean {
    return matchLabels(f.labels ?? [], o.metadata.labels) && matchFields(f.fields ?? [], o);
  }

  private typed(t: ResourceType, o: KubeObject): KubeObject {
    o.apiVersion = apiVersionOf(t);
    o.kind = t.kind;
    return o;
  }

  /** Creates an object; fills metadata and type defaults and validates it. */
  async create(t: ResourceType, ns: string | undefined, body: unknown): Promise<KubeObject> {
    const obj = this.checkBody(t, body);
    const meta = obj.metadata;
    if (t.namespaced) {
      const target = ns ?? meta.namespace ?? 'default';
      if (meta.namespace !== undefined && meta.namespace !== target) {
        throw new ApiError('BadRequest', 'the namespace of the provided object does not match the namespace sent on the request');
      }
      meta.namespace = target;
      if (t.resource !== 'events' && !(await this.store.find(objectKey(resourceOf('namespaces'), undefined, target)))) {
        throw new ApiError('NotFound', `namespaces "${target}" not found`, { name: target, kind: 'namespaces' });
      }
    } else delete meta.namespace;
    if (!meta.name && meta.generateName) meta.name = meta.generateName + randomSuffix();
    this.validateName(t, meta.name);
    meta.uid = randomUUID();
    meta.creationTimestamp = this.now();
    meta.generation = 1;
    delete meta.resourceVersion;
    delete meta.deletionTimestamp;
    this.defaults(t, obj);
    this.validate(t, obj);
    try {
      return this.typed(t, await this.store.create(objectKey(t, meta.namespace, meta.name!), obj));
    } catch (e) {
      this.rethrow(e, t, meta.name!);
    }
  }

  /**
   * Replaces an object (`subresource` 'status' replaces only the status). A resourceVersion in the body must match
   * the stored one; without it the update is unconditional. Returns the stored object.
   */
  async update(t: ResourceType, ns: string | undefined, name: string, body: unknown, subresource?: 'status'): Promise<KubeObject> {
    const obj = this.checkBody(t, body);
    if (obj.metadata.name !== undefined && obj.metadata.name !== name) {
      throw new ApiError('BadRequest', `the name of the object (${obj.metadata.name}) does not match the name on the URL (${name})`);
    }
    const current = await this.get(t, ns, name);
    const rv = obj.metadata.resourceVersion;
    if (rv !== undefined && rv !== '' && rv !== current.metadata.resourceVersion) {
      this.rethrow(new ApiError('Conflict', 'the object has been modified; please apply your changes to the latest version and try again'), t, name);
    }
    return this.write(t, current, obj, subresource);
  }

  /** Applies a patch, retrying on concurrent writes as the API server does (unless the patch pins a resourceVersion). */
  async patch(t: ResourceType, ns: string | undefined, name: string, type: PatchType, patch: unknown, subresource?: 'status'): Promise<KubeObject> {
    const pinned = typeof (patch as any)?.metadata?.resourceVersion === 'string';
    for (let attempt = 0; ; attempt++) {
      const current = await this.get(t, ns, name);
      // applyPatch leaves `current` (a fresh read) as it is and makes a new document from it and the patch: no
      // copy needed.
      const obj = this.checkBody(t, applyPatch(type, current, patch), false);
      if (!pinned) obj.metadata.resourceVersion = current.metadata.resourceVersion!;
      else if (obj.metadata.resourceVersion !== current.metadata.resourceVersion) {
        this.rethrow(new ApiError('Conflict', 'the object has been modified; please apply your changes to the latest version and try again'), t, name);
      }
      try {
        return await this.write(t, current, obj, subresource);
      } catch (e) {
        if (pinned || attempt >= 5 || !(e instanceof ApiError && e.reason === 'Conflict')) throw e;
      }
    }
  }

  private async write(t: ResourceType, current: KubeObject, obj: KubeObject, subresource?: 'status'): Promise<KubeObject> {
    const name = current.metadata.name!;
    let next: KubeObject;
    if (subresource === 'status') {
      next = { ...current, status: obj.status };
    } else {
      next = { ...obj };
      if (t.subresources.includes('status') && t.resource !== 'namespaces') next.status = current.status;
      // Immutable or server-owned metadata stays as stored.
      next.metadata = {
        ...obj.metadata,
        name,
        uid: current.metadata.uid!,
        creationTimestamp: current.metadata.creationTimestamp!,
        generation: current.metadata.generation ?? 1,
      };
      if (t.namespaced) next.metadata.namespace = current.metadata.namespace!;
      else delete next.metadata.namespace;
      if (current.metadata.deletionTimestamp) next.metadata.deletionTimestamp = current.metadata.deletionTimestamp;
      else delete next.metadata.deletionTimestamp;
      if (JSON.stringify((obj as any).spec) !== JSON.stringify((current as any).spec)) {
        next.metadata.generation = (current.metadata.generation ?? 1) + 1;
      }
      if (t.resource === 'pods') this.checkPodUpdate(current, next);
      this.validate(t, next);
    }
    const key = objectKey(t, current.metadata.namespace, name);
    try {
      // A terminating object whose last finalizer went away is removed (apiserver: finalizers done → delete).
      if (next.metadata.deletionTimestamp && (next.metadata.finalizers ?? []).length === 0 && t.resource !== 'pods') {
        return this.typed(t, await this.store.remove(key, current.metadata.resourceVersion!));
      }
      return this.typed(t, await this.store.update(key, next, current.metadata.resourceVersion!));
    } catch (e) {
      this.rethrow(e, t, name);
    }
  }

  private checkPodUpdate(current: any, next: any): void {
    // Pod spec is immutable except a few fields; the binding (nodeName) can only be set once.
    const cur = current.spec ?? {};
    const nxt = next.spec ?? {};
    if (cur.nodeName && nxt.nodeName !== cur.nodeName) {
      throw new ApiError('Invalid', `Pod "${current.metadata.name}" is invalid: spec.nodeName: Forbidden: pod updates may not change fields other than \`spec.containers[*].image\`, \`spec.activeDeadlineSeconds\`, \`spec.tolerations\` (only additions to existing tolerations)`);
    }
    if (JSON.stringify(cur.containers?.map((c: any) => c.name)) !== JSON.stringify(nxt.containers?.map((c: any) => c.name))) {
      throw new ApiError('Invalid', `Pod "${current.metadata.name}" is invalid: spec: Forbidden: pod updates may not change fields other than \`spec.containers[*].image\``);
    }
  }

  /**
   * Deletes an object. Pods bound to a node are deleted gracefully: they get a deletionTimestamp and stay until
   * their kubelet confirms (a force delete with gracePeriodSeconds 0 removes them at once). Objects with
   * finalizers are only marked. Returns the object as last stored.
   */
  async delete(t: ResourceType, ns: string | undefined, name: string, opts: DeleteOptions = {}): Promise<KubeObject> {
    const current = await this.get(t, ns, name);
    const pre = opts.preconditions;
    if ((pre?.uid && pre.uid !== current.metadata.uid) || (pre?.resourceVersion && pre.resourceVersion !== current.metadata.resourceVersion)) {
      this.rethrow(new ApiError('Conflict', 'the precondition for the delete does not hold'), t, name);
    }
    const key = objectKey(t, current.metadata.namespace, name);
    const pod = current as any;
    const graceful =
      t.resource === 'pods' && pod.spec?.nodeName && opts.gracePeriodSeconds !== 0 && !(pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed');
    const finalizers = (current.metadata.finalizers ?? []).length > 0;
    try {
      if (graceful || finalizers) {
        if (current.metadata.deletionTimestamp && !finalizers) return current;
        const grace = opts.gracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30;
        const next = structuredClone(current);
        next.metadata.deletionTimestamp ??= kubeTime(this.clock.now() + grace * 1000);
        next.metadata.deletionGracePeriodSeconds ??= grace;
        return this.typed(t, await this.store.update(key, next, current.metadata.resourceVersion!));
      }
      const removed = this.typed(t, await this.store.remove(key, current.metadata.resourceVersion!));
      if (t.resource === 'namespaces') await this.purgeNamespace(name);
      return removed;
    } catch (e) {
      this.rethrow(e, t, name);
    }
  }

  private async purgeNamespace(ns: string): Promise<void> {
    for (const t of RESOURCES.filter((r) => r.namespaced)) {
      const { items } = await this.store.list(keyPrefix(t, ns));
      for (const o of items) {
        await this.store.remove(objectKey(t, ns, o.metadata.name!), o.metadata.resourceVersion!).catch(() => undefined);
      }
    }
    this.log.info('namespace purged', { namespace: ns });
  }

  /**
   * Streams watch events to `emit` until `signal` aborts or the watch fails (an ERROR event is emitted then).
   * Without a resourceVersion (or "0") the current objects come first as ADDED, as the API server does.
   * An object that stops (starts) matching the filter is sent as DELETED (ADDED).
   */
  async watch(
    t: ResourceType,
    ns: string | undefined,
    filter: ListFilter,
    resourceVersion: string | undefined,
    emit: (ev: WatchEvent) => void,
    signal: AbortSignal,
  ): Promise<void> {
    let from: bigint;
    if (resourceVersion === undefined || resourceVersion === '' || resourceVersion === '0') {
      const { items, revision } = await this.list(t, ns, filter);
      for (const o of items) emit({ type: 'ADDED', object: o });
      from = BigInt(revision) + 1n;
    } else {
      if (!/^\d+$/.test(resourceVersion)) throw new ApiError('BadRequest', `invalid resource version "${resourceVersion}"`);
      await this.store.checkRevision(resourceVersion);
      from = BigInt(resourceVersion) + 1n;
    }
    if (signal.aborted) return;
    await new Promise<void>((resolve) => {
      let cancel: (() => Promise<void>) | undefined;
      const finish = (): void => {
        signal.removeEventListener('abort', finish);
        void cancel?.();
        resolve();
      };
      signal.addEventListener('abort', finish);
      this.store
        .watch(
          keyPrefix(t, ns),
          from.toString(),
          (ev) => {
            const now = this.matches(ev.object, filter);
            const before = ev.previous !== undefined && this.matches(ev.previous, filter);
            const obj = this.typed(t, ev.object) as unknown as Record<string, unknown>;
            if (ev.type === 'delete') {
              if (before) emit({ type: 'DELETED', object: obj });
            } else if (now) emit({ type: before ? 'MODIFIED' : 'ADDED', object: obj });
            else if (before) emit({ type: 'DELETED', object: obj });
          },
          (err) => {
            emit({ type: 'ERROR', object: err.status() });
            finish();
          },
        )
        .then(
          (c) => {
            cancel = c;
            if (signal.aborted) void c();
          },
          (e: unknown) => {
            emit({ type: 'ERROR', object: e instanceof ApiError ? e.status() : new ApiError('InternalError', String(e)).status() });
            finish();
          },
        );
    });
  }

  /** `body` as an object of `t` (a copy unless `copy` is false: the caller's object is then changed). */
  private checkBody(t: ResourceType, body: unknown, copy = true): KubeObject {
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      throw new ApiError('BadRequest', `the body of the request is not a ${t.kind} object`);
    }
    const obj = (copy ? structuredClone(body) : body) as KubeObject;
    if (obj.kind !== undefined && obj.kind !== t.kind) {
      throw new ApiError('BadRequest', `the kind "${String(obj.kind)}" does not match ${t.kind}`);
    }
    if (obj.metadata === undefined || obj.metadata === null || typeof obj.metadata !== 'object') obj.metadata = {};
    obj.apiVersion = apiVersionOf(t);
    obj.kind = t.kind;
    return obj;
  }

  private validateName(t: ResourceType, name: string | undefined): void {
    if (!name) throw new ApiError('Invalid', `${t.kind} is invalid: metadata.name: Required value: name or generateName is required`, this.details(t));
    const re = t.resource === 'namespaces' ? DNS1123_LABEL : DNS1123_SUBDOMAIN;
    if (name.length > 253 || !re.test(name)) {
      throw new ApiError(
        'Invalid',
        `${t.kind} "${name}" is invalid: metadata.name: Invalid value: "${name}": a lowercase RFC 1123 ${t.resource === 'namespaces' ? 'label' : 'subdomain'} must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character`,
        this.details(t, name),
      );
    }
  }

  private defaults(t: ResourceType, obj: any): void {
    switch (t.resource) {
      case 'pods': {
        obj.spec ??= {};
        obj.spec.restartPolicy ??= 'Always';
        obj.spec.terminationGracePeriodSeconds ??= 30;
        obj.spec.schedulerName ??= 'default-scheduler';
        obj.spec.tolerations ??= [];
        // DefaultTolerationSeconds admission plugin: not-ready and unreachable, NoExecute, 300 s.
        for (const key of ['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable']) {
          if (!obj.spec.tolerations.some((x: any) => x.key === key && (x.effect === 'NoExecute' || !x.effect))) {
            obj.spec.tolerations.push({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 });
          }
        }
        obj.status = { phase: 'Pending', qosClass: 'BestEffort' };
        break;
      }
      case 'namespaces':
        obj.spec = { finalizers: ['kubernetes'] };
        obj.status = { phase: 'Active' };
        obj.metadata.labels = { ...obj.metadata.labels, 'kubernetes.io/metadata.name': obj.metadata.name };
        break;
      case 'replicasets':
        obj.spec ??= {};
        obj.spec.replicas ??= 1;
        obj.status = { replicas: 0 };
        break;
      case 'persistentvolumeclaims':
        // No provisioner or PV controller here (Longhorn's would bind the claim): a claim is Bound at once, with
        // the capacity and access modes it asked for.
        obj.spec ??= {};
        obj.spec.volumeMode ??= 'Filesystem';
        obj.status = { phase: 'Bound', accessModes: obj.spec.accessModes ?? [], capacity: obj.spec.resources?.requests ?? {} };
        break;
      default:
        break;
    }
  }

  private validate(t: ResourceType, obj: any): void {
    const name = obj.metadata.name as string;
    const invalid = (field: string, why: string): never => {
      throw new ApiError('Invalid', `${t.kind} "${name}" is invalid: ${field}: ${why}`, this.details(t, name));
    };
    if (t.resource === 'pods' && (!Array.isArray(obj.spec?.containers) || obj.spec.containers.length === 0)) {
      invalid('spec.containers', 'Required value');
    }
    if (t.resource === 'replicasets') {
      const sel = obj.spec?.selector as LabelSelector | undefined;
      if (!sel || (Object.keys(sel.matchLabels ?? {}).length === 0 && (sel.matchExpressions ?? []).length === 0)) {
        invalid('spec.selector', 'Required value');
      }
      if (!matchLabels(labelSelectorRequirements(sel), obj.spec?.template?.metadata?.labels)) {
        invalid('spec.template.metadata.labels', 'Invalid value: `selector` does not match template `labels`');
      }
      if (typeof obj.spec.replicas !== 'number' || obj.spec.replicas < 0) invalid('spec.replicas', 'must be greater than or equal to 0');
    }
    if (t.resource === 'leases' && obj.spec?.leaseDurationSeconds !== undefined && !(obj.spec.leaseDurationSeconds > 0)) {
      invalid('spec.leaseDurationSeconds', 'must be greater than 0');
    }
  }
}
/* eslint-enable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-return, @typescript-eslint/no-unsafe-argument */

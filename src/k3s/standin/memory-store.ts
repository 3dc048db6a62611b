/**
 * The {@link ObjectStore} in memory, for the in-process clusters of a fleet: one per cluster, with etcd's
 * semantics as the API server sees them. Every write takes the next value of the cluster's revision counter, which
 * becomes the object's resourceVersion; a write naming another revision is a 409 Conflict; values are kept as JSON
 * text, so every read is a copy (as over the wire); watches replay the retained history from their start
 * revision and then follow every change in order, delivered asynchronously as etcd's are. History older than the
 * last `historyLimit` changes is compacted: a watch or check from before it is 410 Expired.
 * While `available()` is false (no quorum of the cluster's servers) every call is a 503, as a member without quorum
 * answers.
 */
import { ApiError } from './errors.js';
import { findObject, type KubeObject, type ObjectStore, type StoreEvent } from './object-store.js';

/** Options of {@link MemoryStore}. */
export interface MemoryStoreOptions {
  /** Whether the datastore has quorum now. @default always */
  available?: () => boolean;
  /**
   * Changes kept for watches that start in the past (etcd keeps ~5 min of them; memory is the limit here: a thousand
   * clusters share a process, and each kept node status post is ~1.5 KB). A formed three-node cluster changes ~1.5
   * times a second (its status posts), so 64 changes are ~40 s; the in-process watchers start from a read just made
   * (the change feed) or from none (the kubelet's pod watch). @default 64
   */
  historyLimit?: number;
}

interface Entry {
  /** JSON of the object without its resourceVersion. */
  value: string;
  modRevision: number;
}

interface Change {
  type: 'put' | 'delete';
  key: string;
  value: string;
  previous: string | undefined;
  previousRevision: number;
  revision: number;
}

interface Watcher {
  prefix: string;
  onEvent: (ev: StoreEvent) => void;
  queue: Change[];
  scheduled: boolean;
  cancelled: boolean;
}

const CONFLICT = 'the object has been modified; please apply your changes to the latest version and try again';

function encode(obj: KubeObject): string {
  const meta = { ...obj.metadata };
  delete meta.resourceVersion;
  return JSON.stringify({ ...obj, metadata: meta });
}

function decode(value: string, revision: number): KubeObject {
  const obj = JSON.parse(value) as KubeObject;
  obj.metadata.resourceVersion = String(revision);
  return obj;
}

/**
 * The event of one change for one watcher: its objects are decoded when first read (a copy per watcher, as each
 * etcd watch decodes its own), so a watcher that only looks at the text, or at nothing, decodes nothing.
 */
class ChangeEvent implements StoreEvent {
  readonly type: 'put' | 'delete';
  readonly key: string;
  readonly revision: string;
  readonly value: string;
  readonly previousValue: string | undefined;
  #object: KubeObject | undefined;
  #previous: KubeObject | undefined;

  constructor(private readonly change: Change) {
    this.type = change.type;
    this.key = change.key;
    this.revision = String(change.revision);
    this.value = change.value;
    this.previousValue = change.previous;
  }

  get object(): KubeObject {
    return (this.#object ??= decode(this.change.value, this.change.revision));
  }

  get previous(): KubeObject | undefined {
    const c = this.change;
    return c.previous === undefined ? undefined : (this.#previous ??= decode(c.previous, c.previousRevision));
  }
}

/** Kubernetes-shaped storage in memory (one cluster's etcd). */
export class MemoryStore implements ObjectStore {
  private readonly data = new Map<string, Entry>();
  private revision = 1;
  private readonly history: Change[] = [];
  /** Revisions up to this one are compacted. */
  private compacted = 0;
  private readonly watchers = new Set<Watcher>();
  private readonly available: () => boolean;
  private readonly historyLimit: number;

  constructor(opts: MemoryStoreOptions = {}) {
    this.available = opts.available ?? (() => true);
    this.historyLimit = opts.historyLimit ?? 64;
  }

  private guard(): void {
    if (!this.available()) throw new ApiError('ServiceUnavailable', 'datastore unavailable (no quorum of the cluster\'s servers)');
  }

  get(key: string): Promise<KubeObject> {
    return this.run(() => {
      const e = this.data.get(key);
      if (!e) throw new ApiError('NotFound', 'not found');
      return decode(e.value, e.modRevision);
    });
  }

  find(key: string): Promise<KubeObject | undefined> {
    return findObject(this, key);
  }

  list(prefix: string): Promise<{ items: KubeObject[]; revision: string }> {
    return this.run(() => {
      const keys = [...this.data.keys()].filter((k) => k.startsWith(prefix)).sort();
      return { items: keys.map((k) => decode(this.data.get(k)!.value, this.data.get(k)!.modRevision)), revision: String(this.revision) };
    });
  }

  create(key: string, obj: KubeObject): Promise<KubeObject> {
    return this.run(() => {
      if (this.data.has(key)) throw new ApiError('AlreadyExists', 'already exists');
      const rev = this.put(key, encode(obj));
      return { ...obj, metadata: { ...obj.metadata, resourceVersion: String(rev) } };
    });
  }

  update(key: string, obj: KubeObject, expected: string): Promise<KubeObject> {
    return this.run(() => {
      this.expect(key, expected);
      const rev = this.put(key, encode(obj));
      return { ...obj, metadata: { ...obj.metadata, resourceVersion: String(rev) } };
    });
  }

  remove(key: string, expected: string): Promise<KubeObject> {
    return this.run(() => {
      const e = this.expect(key, expected);
      this.data.delete(key);
      const rev = ++this.revision;
      this.record({ type: 'delete', key, value: e.value, previous: e.value, previousRevision: e.modRevision, revision: rev });
      return decode(e.value, rev);
    });
  }

  checkRevision(revision: string): Promise<void> {
    return this.run(() => {
      if (Number(revision) <= this.compacted) throw new ApiError('Expired', `too old resource version: ${revision}`);
    });
  }

  watch(prefix: string, fromRevision: string, onEvent: (ev: StoreEvent) => void, onEnd: (err: ApiError) => void): Promise<() => Promise<void>> {
    return this.run(() => {
      const from = Number(fromRevision);
      if (from <= this.compacted) {
        // etcd fails the watch itself (not the create) when the start revision is compacted.
        queueMicrotask(() => onEnd(new ApiError('Expired', `too old resource version: ${fromRevision}`)));
        return () => Promise.resolve();
      }
      const w: Watcher = { prefix, onEvent, queue: [], scheduled: false, cancelled: false };
      for (const c of this.history) if (c.revision >= from && c.key.startsWith(prefix)) w.queue.push(c);
      this.watchers.add(w);
      this.flushLater(w);
      return () => {
        w.cancelled = true;
        this.watchers.delete(w);
        return Promise.resolve();
      };
    });
  }

  healthy(): Promise<boolean> {
    return Promise.resolve(this.available());
  }

  /** Ends every watch (without an error: the cluster is gone). Idempotent. */
  close(): void {
    for (const w of this.watchers) w.cancelled = true;
    this.watchers.clear();
  }

  private run<T>(fn: () => T): Promise<T> {
    try {
      this.guard();
      return Promise.resolve(fn());
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
  }

  private expect(key: string, expected: string): Entry {
    const e = this.data.get(key);
    if (!e) throw new ApiError('NotFound', 'not found');
    if (String(e.modRevision) !== expected) throw new ApiError('Conflict', CONFLICT);
    return e;
  }

  private put(key: string, value: string): number {
    const prev = this.data.get(key);
    const rev = ++this.revision;
    this.data.set(key, { value, modRevision: rev });
    this.record({ type: 'put', key, value, previous: prev?.value, previousRevision: prev?.modRevision ?? 0, revision: rev });
    return rev;
  }

  private record(c: Change): void {
    this.history.push(c);
    if (this.history.length > this.historyLimit) this.compacted = this.history.shift()!.revision;
    for (const w of this.watchers) {
      if (!c.key.startsWith(w.prefix)) continue;
      w.queue.push(c);
      this.flushLater(w);
    }
  }

  private flushLater(w: Watcher): void {
    if (w.scheduled || w.queue.length === 0) return;
    w.scheduled = true;
    setImmediate(() => {
      w.scheduled = false;
      const batch = w.queue.splice(0);
      for (const c of batch) {
        if (w.cancelled) return;
        w.onEvent(new ChangeEvent(c));
      }
    });
  }
}

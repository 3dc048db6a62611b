/**
 * Kubernetes object storage on etcd, laid out as the real API server does it: `/registry/<resource>/<ns>/<name>`
 * (cluster-scoped: `/registry/<resource>/<name>`), the JSON object as value, `metadata.resourceVersion` = the
 * key's etcd mod_revision, a list's resourceVersion = the response header revision. Writes are etcd transactions
 * that compare the revision, so a stale resourceVersion is a 409 Conflict. Every call is a linearizable etcd
 * request with a short deadline: a member without quorum answers 503 instead of stale data.
 */
import { Etcd3, type IOptions, type IKeyValue } from 'etcd3';
import type { Clock, Logger } from '../../common/index.js';
import { errorMessage } from '../../common/index.js';
import { ApiError } from './errors.js';
import { findObject, type KubeObject, type ObjectStore, type StoreEvent } from './object-store.js';

/** Options of {@link KubeStore.create}. */
export interface KubeStoreOptions {
  /** etcd client URLs; the API server of a node uses only its own member, as k3s does. */
  endpoints: string[];
  /** Deadline of every etcd request, real ms (etcd's own timing is not scaled). @default 3000 */
  requestTimeoutMs?: number;
  clock: Clock;
  logger: Logger;
}

// etcd3's defaults retry three times and open a circuit breaker for 5 s; the API server wants each request to
// fail fast with 503 and recover at once, so both policies are pass-through.
const passThrough = {
  // async: etcd3 expects a synchronous throw inside `fn` to become a rejection.
  execute: async <T>(fn: (ctx: { signal: AbortSignal }) => PromiseLike<T> | T, signal?: AbortSignal): Promise<T> =>
    fn({ signal: signal ?? new AbortController().signal }),
};

/** Decodes an etcd key-value into an object with its resourceVersion. */
function decode(kv: IKeyValue, revision?: string): KubeObject {
  const obj = JSON.parse(kv.value.toString('utf8')) as KubeObject;
  obj.metadata.resourceVersion = revision ?? kv.mod_revision;
  return obj;
}

function encode(obj: KubeObject): Buffer {
  // resourceVersion is the etcd revision, never stored in the value.
  const meta = { ...obj.metadata };
  delete meta.resourceVersion;
  return Buffer.from(JSON.stringify({ ...obj, metadata: meta }));
}

function prefixEnd(prefix: string): Buffer {
  const b = Buffer.from(prefix);
  b[b.length - 1] = b[b.length - 1] + 1;
  return b;
}

/** Kubernetes-shaped storage on one etcd client. */
export class KubeStore implements ObjectStore {
  private constructor(
    readonly client: Etcd3,
    private readonly clock: Clock,
    private readonly timeoutMs: number,
    private readonly log: Logger,
  ) {}

  /** Connects (lazily, as gRPC does) to `endpoints`. */
  static create(opts: KubeStoreOptions): KubeStore {
    const options: IOptions = {
      hosts: opts.endpoints,
      dialTimeout: 2_000,
      // The member is local and starts together with this process: gRPC's default first reconnect backoff (1 s)
      // after the connection refused before etcd listens would be most of a server's start-up.
      grpcOptions: { 'grpc.initial_reconnect_backoff_ms': 50, 'grpc.max_reconnect_backoff_ms': 1_000 },
      faultHandling: { host: () => passThrough as never, global: passThrough as never },
    };
    return new KubeStore(new Etcd3(options), opts.clock, opts.requestTimeoutMs ?? 3_000, opts.logger.child({ component: 'k3s.standin.store' }));
  }

  private call() {
    return { deadline: this.clock.now() + this.timeoutMs };
  }

  private async guard<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      if (e instanceof ApiError) throw e;
      this.log.debug('etcd request failed', { what, error: errorMessage(e) });
      throw new ApiError('ServiceUnavailable', `datastore unavailable (etcd: ${errorMessage(e)}); no quorum or member down`);
    }
  }

  /** Reads one object; NotFound when absent. */
  async get(key: string): Promise<KubeObject> {
    const res = await this.guard('get', () => this.client.kv.range({ key: Buffer.from(key) }, this.call()));
    const kv = res.kvs[0];
    if (!kv) throw new ApiError('NotFound', 'not found');
    return decode(kv);
  }

  /** Reads one object or undefined. */
  find(key: string): Promise<KubeObject | undefined> {
    return findObject(this, key);
  }

  /** Lists every object under `prefix` (which ends in '/'), with the store revision of the read. */
  async list(prefix: string): Promise<{ items: KubeObject[]; revision: string }> {
    const res = await this.guard('list', () =>
      this.client.kv.range({ key: Buffer.from(prefix), range_end: prefixEnd(prefix) }, this.call()),
    );
    return { items: res.kvs.map((kv) => decode(kv)), revision: res.header.revision };
  }

  /** Creates `key`; AlreadyExists when it is taken. Returns the stored object with its resourceVersion. */
  async create(key: string, obj: KubeObject): Promise<KubeObject> {
    const res = await this.guard('create', () =>
      this.client.kv.txn(
        {
          compare: [{ key: Buffer.from(key), target: 'Create', result: 'Equal', create_revision: 0 }],
          success: [{ request_put: { key: Buffer.from(key), value: encode(obj) } }],
        },
        this.call(),
      ),
    );
    if (!res.succeeded) throw new ApiError('AlreadyExists', 'already exists');
    return { ...obj, metadata: { ...obj.metadata, resourceVersion: res.header.revision } };
  }

  /**
   * Replaces `key` if its mod_revision is still `expected`: NotFound when the key is gone, Conflict when it
   * changed in between.
   */
  async update(key: string, obj: KubeObject, expected: string): Promise<KubeObject> {
    const res = await this.guard('update', () =>
      this.client.kv.txn(
        {
          compare: [{ key: Buffer.from(key), target: 'Mod', result: 'Equal', mod_revision: expected }],
          success: [{ request_put: { key: Buffer.from(key), value: encode(obj) } }],
          failure: [{ request_range: { key: Buffer.from(key) } }],
        },
        this.call(),
      ),
    );
    if (!res.succeeded) {
      const current = res.responses[0]?.response_range.kvs[0];
      if (!current) throw new ApiError('NotFound', 'not found');
      throw new ApiError(
        'Conflict',
        'the object has been modified; please apply your changes to the latest version and try again',
      );
    }
    return { ...obj, metadata: { ...obj.metadata, resourceVersion: res.header.revision } };
  }

  /** Deletes `key` if its mod_revision is still `expected`; returns the deleted object. */
  async remove(key: string, expected: string): Promise<KubeObject> {
    const res = await this.guard('delete', () =>
      this.client.kv.txn(
        {
          compare: [{ key: Buffer.from(key), target: 'Mod', result: 'Equal', mod_revision: expected }],
          success: [{ request_delete_range: { key: Buffer.from(key), prev_kv: true } }],
          failure: [{ request_range: { key: Buffer.from(key) } }],
        },
        this.call(),
      ),
    );
    if (!res.succeeded) {
      if (!res.responses[0]?.response_range.kvs[0]) throw new ApiError('NotFound', 'not found');
      throw new ApiError('Conflict', 'the object has been modified; please apply your changes to the latest version and try again');
    }
    const prev = res.responses[0]?.response_delete_range.prev_kvs[0];
    if (!prev) throw new ApiError('NotFound', 'not found');
    return decode(prev, res.header.revision);
  }

  /** Fails with 410 Expired when `revision` is older than etcd's compaction point. */
  async checkRevision(revision: string): Promise<void> {
    try {
      await this.client.kv.range({ key: Buffer.from('/registry/'), revision, limit: 1 }, this.call());
    } catch (e) {
      if (/compacted/.test(errorMessage(e))) {
        throw new ApiError('Expired', `too old resource version: ${revision}`);
      }
      throw new ApiError('ServiceUnavailable', `datastore unavailable (etcd: ${errorMessage(e)})`);
    }
  }

  /**
   * Watches `prefix` from `fromRevision` (inclusive) and calls `onEvent` for each change, in order. `onEnd` is
   * called once if the watch fails (compaction, member gone). Returns a function that cancels the watch.
   */
  async watch(
    prefix: string,
    fromRevision: string,
    onEvent: (ev: StoreEvent) => void,
    onEnd: (err: ApiError) => void,
  ): Promise<() => Promise<void>> {
    const watcher = await this.guard('watch', () =>
      this.client.watch().prefix(prefix).withPreviousKV().startRevision(fromRevision).create(),
    );
    let ended = false;
    watcher.on('data', (res) => {
      for (const ev of res.events) {
        const key = ev.kv.key.toString('utf8');
        const revision = ev.kv.mod_revision;
        const previous = ev.prev_kv ? decode(ev.prev_kv) : undefined;
        if (ev.type === 'Delete') {
          if (!previous) continue;
          const text = ev.prev_kv.value.toString('utf8');
          onEvent({ type: 'delete', key, object: { ...previous, metadata: { ...previous.metadata, resourceVersion: revision } }, previous, revision, value: text, previousValue: text });
        } else {
          onEvent({
            type: 'put', key, object: decode(ev.kv), ...(previous ? { previous } : {}), revision,
            value: ev.kv.value.toString('utf8'), ...(ev.prev_kv ? { previousValue: ev.prev_kv.value.toString('utf8') } : {}),
          });
        }
      }
    });
    watcher.on('error', (e: unknown) => {
      if (ended) return;
      ended = true;
      const msg = errorMessage(e);
      this.log.debug('watch ended', { prefix, fromRevision, error: msg });
      const unavailable = new ApiError('ServiceUnavailable', `watch ended: ${msg}`);
      if (/compacted/.test(msg)) {
        onEnd(new ApiError('Expired', `too old resource version: ${fromRevision}`));
        return;
      }
      // etcd cancels a watch whose start revision is compacted without saying so in the reason (etcd3 reports
      // "Watcher canceled: "): ask whether the revision is still there.
      this.checkRevision(fromRevision).then(
        () => onEnd(unavailable),
        (err: unknown) => onEnd(err instanceof ApiError && err.reason === 'Expired' ? err : unavailable),
      );
    });
    return async () => {
      ended = true;
      await watcher.cancel().catch(() => undefined);
    };
  }

  /** True when a linearizable read succeeds within the deadline (the member is in a quorum). */
  async healthy(): Promise<boolean> {
    try {
      await this.client.kv.range({ key: Buffer.from('health') }, this.call());
      return true;
    } catch {
      return false;
    }
  }

  /** Closes the client. Idempotent. */
  close(): void {
    this.client.close();
  }
}

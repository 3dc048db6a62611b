/**
 * What the API semantics (kube-api.ts) need of a datastore: etcd's key space as the real API server lays it out,
 * with a revision per write. Two implementations: {@link ./store.ts KubeStore} on etcd (a stand-in process) and
 * {@link ./memory-store.ts MemoryStore} in memory (the in-process clusters of a fleet). Both give the same
 * answers: `resourceVersion` = the revision of the write, a stale revision is a 409 Conflict, watches deliver
 * every change in order from a start revision, and an unavailable store is a 503.
 */
import { ApiError } from './errors.js';

/** A stored Kubernetes object (JSON). */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  [field: string]: unknown;
}

/** The metadata fields the stand-in reads. */
export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  ownerReferences?: { apiVersion: string; kind: string; name: string; uid: string; controller?: boolean }[];
  [field: string]: unknown;
}

/** One change seen by a watch. */
export interface StoreEvent {
  type: 'put' | 'delete';
  key: string;
  /** The object after the change (for a delete: the last state, with the delete's revision). */
  object: KubeObject;
  /** The object before the change, when there was one. */
  previous?: KubeObject | undefined;
  revision: string;
  /** The object's stored JSON text (without its resourceVersion, which is the revision), as both stores keep it. */
  value: string;
  /** The stored JSON text of `previous`, when there was one. */
  previousValue?: string | undefined;
}

/** Kubernetes-shaped storage: the operations {@link ./kube-api.ts KubeApi} uses. */
export interface ObjectStore {
  /** Reads one object; NotFound when absent. */
  get(key: string): Promise<KubeObject>;
  /** Reads one object or undefined. */
  find(key: string): Promise<KubeObject | undefined>;
  /** Lists every object under `prefix` (which ends in '/'), with the store revision of the read. */
  list(prefix: string): Promise<{ items: KubeObject[]; revision: string }>;
  /** Creates `key`; AlreadyExists when it is taken. Returns the stored object with its resourceVersion. */
  create(key: string, obj: KubeObject): Promise<KubeObject>;
  /** Replaces `key` if its revision is still `expected`: NotFound when gone, Conflict when changed in between. */
  update(key: string, obj: KubeObject, expected: string): Promise<KubeObject>;
  /** Deletes `key` if its revision is still `expected`; returns the deleted object. */
  remove(key: string, expected: string): Promise<KubeObject>;
  /** Fails with 410 Expired when `revision` is older than the compaction point. */
  checkRevision(revision: string): Promise<void>;
  /**
   * Watches `prefix` from `fromRevision` (inclusive) and calls `onEvent` for each change, in order. `onEnd` is
   * called once if the watch fails. Returns a function that cancels the watch.
   */
  watch(prefix: string, fromRevision: string, onEvent: (ev: StoreEvent) => void, onEnd: (err: ApiError) => void): Promise<() => Promise<void>>;
  /** True when the store answers reads now (etcd: the member is in a quorum). */
  healthy(): Promise<boolean>;
  /** Releases the store. Idempotent. */
  close(): void;
}

/** Reads one object of `store`, or undefined when it is not there (every ObjectStore's `find`). */
export async function findObject(store: Pick<ObjectStore, 'get'>, key: string): Promise<KubeObject | undefined> {
  try {
    return await store.get(key);
  } catch (e) {
    if (e instanceof ApiError && e.reason === 'NotFound') return undefined;
    throw e;
  }
}

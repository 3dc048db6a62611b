/** The info queue's item and its persisted form: shared by the queue and the stores that keep its slots. */
/** 0 = attest, 1 = app, 2 = hardware, 3 = other (PRIORITY in info-queue.ts). */
export type QueuePriority = 0 | 1 | 2 | 3;

/** One queued request. `action` is the API action (`info`, `attest`, …); `payload` the inner message bytes. */
export interface QueueItem {
  key: string;
  action: string;
  priority: QueuePriority;
  payload: Uint8Array;
  /** Dropped on the first failure instead of retried. Nothing sets it yet. */
  discardOnFailure?: boolean;
}

/** A queued item as persisted: its order and retry state. */
export interface StoredSlot extends QueueItem {
  seq: number;
  enqueuedAt: number;
  attempts: number;
  delayMs: number;
}


/**
 * What tells the controller-manager's pods pass that its input changed: a store watch on nodes and pods, as
 * kube-controller-manager's informers are. The pass then runs only when something it reads changed or a deadline
 * it computed comes due, instead of listing every node and pod twice a second (the cost of a formed cluster
 * in a fleet of a thousand). A kubelet's periodic status post (every 2 s on EVE) that only moves heartbeat times
 * is not a change the pass can act on.
 */
import type { ObjectStore, StoreEvent } from './object-store.js';

/** Every condition's lastHeartbeatTime in a node's stored JSON text (a string value's own quotes are escaped, so it cannot match). */
const HEARTBEAT = /"lastHeartbeatTime":"[^"]*"/g;

/**
 * Whether a node change can change what the pods pass decides (taints, readiness, labels, its existence): false
 * only for an update that moved nothing but heartbeat times. Judged on the stored JSON texts (which hold no
 * resourceVersion), so a heartbeat costs no decode: it comes 1.5 times a second per three-node cluster. Pure.
 */
export function nodeChangeMatters(previous: string | undefined, next: string | undefined): boolean {
  if (previous === undefined || next === undefined) return true;
  return previous.replace(HEARTBEAT, '') !== next.replace(HEARTBEAT, '');
}

/** What {@link passDue} decides on. */
export interface PassState {
  /** A change the pass reads happened since its last run started (or its last run failed). */
  changed: boolean;
  /** The change feed is watching (else nothing tells of changes: poll). */
  watching: boolean;
  /** Spec ms now, and when the last run's earliest deadline (e.g. a toleration's end) comes due. */
  now: number;
  dueAt: number;
}

/** Whether the pods pass runs at this tick. Pure. */
export function passDue(s: PassState): boolean {
  return s.changed || !s.watching || s.now >= s.dueAt;
}

/** One watched prefix and which of its changes count (by the stored texts before and after). */
export interface FeedPrefix {
  prefix: string;
  matters?: (previous: string | undefined, next: string | undefined) => boolean;
}

/**
 * Watches prefixes of a store and raises `changed` on every change that matters. `follow(revision)` (after each
 * read of the pass's input) starts the watches from that read when they are not running; a failed watch (quorum
 * lost, compacted) marks a change and stops until the next `follow`, so the pass falls back to reading.
 */
export class ChangeFeed {
  changed = true;
  private cancels: (() => Promise<void>)[] | undefined;
  private starting = false;
  private closed = false;

  constructor(
    private readonly store: ObjectStore,
    private readonly prefixes: FeedPrefix[],
  ) {}

  /** True while every prefix is watched. */
  get watching(): boolean {
    return this.cancels !== undefined;
  }

  /** Starts the watches after a read at `revision` (its changes are already seen), unless they run. */
  async follow(revision: string): Promise<void> {
    if (this.cancels || this.starting || this.closed) return;
    this.starting = true;
    const cancels: (() => Promise<void>)[] = [];
    let failed = false;
    const fail = (): void => {
      if (failed) return;
      failed = true;
      this.changed = true;
      if (this.cancels === cancels) this.cancels = undefined;
      for (const c of cancels) void c();
    };
    try {
      const from = String(BigInt(revision) + 1n);
      for (const p of this.prefixes) {
        cancels.push(
          await this.store.watch(
            p.prefix,
            from,
            (ev: StoreEvent) => {
              if (!p.matters || ev.type === 'delete' || p.matters(ev.previousValue, ev.value)) this.changed = true;
            },
            fail,
          ),
        );
      }
      if (this.closed || failed) {
        for (const c of cancels) void c();
        return;
      }
      this.cancels = cancels;
    } catch {
      fail();
    } finally {
      this.starting = false;
    }
  }

  /** Ends the watches. Idempotent. */
  close(): void {
    this.closed = true;
    for (const c of this.cancels ?? []) void c();
    this.cancels = undefined;
  }
}

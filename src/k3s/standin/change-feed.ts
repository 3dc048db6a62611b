/**
 * What tells the controller-manager's pods pass that its input changed: a store watch on nodes and pods, as
 * kube-controller-manager's informers are. The pass then runs only when something it reads changed or a deadline
 * it computed comes due, instead of listing every node and pod twice a second (the cost of a formed cluster
 * in a fleet of a thousand). A kubelet's periodic status post (every 2 s on EVE) that only moves heartbeat times
 * is not a change the pass can act on.
 */
import type { KubeObject, ObjectStore } from './object-store.js';

/** The node without what a heartbeat moves: its resourceVersion and every condition's lastHeartbeatTime. */
function withoutHeartbeat(node: KubeObject): string {
  const status = node.status as { conditions?: Record<string, unknown>[] } | undefined;
  const conditions = (status?.conditions ?? []).map((c) => ({ ...c, lastHeartbeatTime: undefined }));
  return JSON.stringify({ ...node, metadata: { ...node.metadata, resourceVersion: undefined }, status: { ...status, conditions } });
}

/**
 * Whether a node change can change what the pods pass decides (taints, readiness, labels, its existence): false
 * only for an update that moved nothing but heartbeat times. Pure.
 */
export function nodeChangeMatters(previous: KubeObject | undefined, next: KubeObject | undefined): boolean {
  if (!previous || !next) return true;
  return withoutHeartbeat(previous) !== withoutHeartbeat(next);
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

/** One watched prefix and which of its changes count. */
export interface FeedPrefix {
  prefix: string;
  matters?: (previous: KubeObject | undefined, next: KubeObject | undefined) => boolean;
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
            (ev) => {
              if (!p.matters || ev.type === 'delete' || p.matters(ev.previous, ev.object)) this.changed = true;
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

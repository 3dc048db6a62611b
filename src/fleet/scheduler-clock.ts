/**
 * The fleet's one clock: every sleep and repeating timer of every device is an entry in one min-heap of deadlines,
 * served by a single Node timer armed for the earliest one (kwok's one cron for all nodes,
 * kubernetes-sigs/kwok: pkg/kwok/controllers/node_lease_controller.go). Ten thousand devices with five loops each
 * are 50,000 heap entries, not 50,000 `setTimeout`s. It implements the Clock interface, so DeviceCore runs on it
 * unchanged; `--time-scale` divides every spec duration as the process clock does.
 */
import type { Clock } from '../common/index.js';

interface Entry {
  /** Real deadline (performance.now() ms). */
  at: number;
  /** Insertion order: equal deadlines fire first-in first-out. */
  seq: number;
  fire: () => void;
  /** Set when the wait was aborted or the timer cancelled; dropped when it reaches the top. */
  dead: boolean;
}

/** A binary min-heap of entries ordered by (at, seq). */
class DeadlineHeap {
  private readonly items: Entry[] = [];

  get size(): number {
    return this.items.length;
  }

  peek(): Entry | undefined {
    return this.items[0];
  }

  /** Drops the dead entries and restores the heap order (Floyd's bottom-up build, O(n)). */
  compact(): void {
    const a = this.items;
    let n = 0;
    for (const e of a) if (!e.dead) a[n++] = e;
    a.length = n;
    for (let i = (n >> 1) - 1; i >= 0; i--) this.siftDown(i);
  }

  push(e: Entry): void {
    const a = this.items;
    a.push(e);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(a[i], a[p])) break;
      [a[i], a[p]] = [a[p], a[i]];
      i = p;
    }
  }

  pop(): Entry | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last) {
      a[0] = last;
      this.siftDown(0);
    }
    return top;
  }

  private siftDown(start: number): void {
    const a = this.items;
    let i = start;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < a.length && before(a[l], a[m])) m = l;
      if (r < a.length && before(a[r], a[m])) m = r;
      if (m === i) break;
      [a[i], a[m]] = [a[m], a[i]];
      i = m;
    }
  }
}

const before = (x: Entry, y: Entry): boolean => x.at < y.at || (x.at === y.at && x.seq < y.seq);

/** What the scheduler has to do, for the live view and the benchmark. */
export interface SchedulerStats {
  /** Entries in the heap (cancelled ones included until they reach the top). */
  pending: number;
  /** Entries fired since creation. */
  fired: number;
  /** Largest lateness seen in the last `stats()` period, in real ms (an overloaded event loop shows here). */
  maxLateMs: number;
}

/** A Clock whose timers all share one heap and one Node timer. */
export class SchedulerClock implements Clock {
  readonly timeScale: number;
  private readonly heap = new DeadlineHeap();
  private seq = 0;
  private timer: NodeJS.Timeout | undefined;
  private armedAt = Infinity;
  private fired = 0;
  private maxLateMs = 0;
  /** Cancelled entries still in the heap. */
  private dead = 0;

  /** `timeScale` divides every spec duration (1 = real time). */
  constructor(timeScale = 1) {
    if (!(timeScale > 0) || !Number.isFinite(timeScale)) throw new RangeError(`time scale must be a positive number, got ${timeScale}`);
    this.timeScale = timeScale;
  }

  // Own properties, not prototype methods: decorators such as the clock-skew fault's `skewedClock` copy a clock
  // with object spread, which keeps own properties only.
  readonly now = (): number => Date.now();

  readonly monotonic = (): number => performance.now();

  readonly scaled = (ms: number): number => Math.max(0, ms / this.timeScale);

  readonly specMs = (realMs: number): number => realMs * this.timeScale;

  readonly sleep = (ms: number, signal?: AbortSignal): Promise<void> => this.sleepReal(this.scaled(ms), signal);

  readonly every = (ms: number, fn: () => void): (() => void) => this.everyReal(this.scaled(ms), fn);

  readonly sleepReal = (ms: number, signal?: AbortSignal): Promise<void> => {
    if (signal?.aborted) return Promise.reject(abortError(signal));
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        entry.dead = true;
        reject(abortError(signal!));
      };
      const entry = this.schedule(ms, () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      });
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  };

  readonly everyReal = (ms: number, fn: () => void): (() => void) => {
    const period = Math.max(1, ms);
    let entry: Entry;
    const tick = (): void => {
      entry = this.schedule(period, tick);
      fn();
    };
    entry = this.schedule(period, tick);
    return () => {
      entry.dead = true;
    };
  };

  /**
   * One-shot timer of `ms` real milliseconds; returns its cancel function. Request deadlines use it: thousands a
   * second, nearly all cancelled long before they are due, so a cancel releases `fire` (and what it holds) at once
   * and the heap sheds its dead entries when they outnumber the live ones.
   */
  readonly afterReal = (ms: number, fire: () => void): (() => void) => {
    const entry = this.schedule(ms, fire);
    return () => {
      if (entry.dead || entry.fire === noop) return;
      entry.dead = true;
      entry.fire = noop;
      if (++this.dead > 1024 && this.dead * 2 > this.heap.size) {
        this.heap.compact();
        this.dead = 0;
      }
    };
  };

  /** Heap size, fired count and the worst lateness since the previous call. */
  stats(): SchedulerStats {
    const s = { pending: this.heap.size, fired: this.fired, maxLateMs: this.maxLateMs };
    this.maxLateMs = 0;
    return s;
  }

  private schedule(ms: number, fire: () => void): Entry {
    const entry: Entry = { at: performance.now() + Math.max(0, ms), seq: this.seq++, fire, dead: false };
    this.heap.push(entry);
    if (entry.at < this.armedAt) this.arm(entry.at);
    return entry;
  }

  /** (Re)arms the one Node timer for `at`. Unref'd: as with the process clock, waiting keeps nothing alive. */
  private arm(at: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.armedAt = at;
    this.timer = setTimeout(() => this.run(), Math.max(0, at - performance.now()));
    this.timer.unref();
  }

  /** Fires every entry that is due, then re-arms for the next live one. */
  private run(): void {
    this.timer = undefined;
    this.armedAt = Infinity;
    const now = performance.now();
    try {
      for (let top = this.heap.peek(); top && top.at <= now; top = this.heap.peek()) {
        this.heap.pop();
        if (top.dead) {
          if (top.fire === noop) this.dead = Math.max(0, this.dead - 1);
          continue;
        }
        const fire = top.fire;
        top.fire = noop; // a cancel after firing is a no-op and releases nothing twice
        this.fired++;
        this.maxLateMs = Math.max(this.maxLateMs, now - top.at);
        fire();
      }
    } finally {
      // Re-armed even when a callback threw: one bad timer must not stop every device's.
      this.rearm();
    }
  }

  private rearm(): void {
    let next = this.heap.peek();
    while (next?.dead) {
      if (next.fire === noop) this.dead = Math.max(0, this.dead - 1);
      this.heap.pop();
      next = this.heap.peek();
    }
    if (next && next.at < this.armedAt) this.arm(next.at);
  }
}

const noop = (): void => undefined;

function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error && reason.name === 'AbortError' ? reason : new DOMException('The operation was aborted', 'AbortError');
}

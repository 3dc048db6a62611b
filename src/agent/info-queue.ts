/**
 * The deferred send queue for info messages, persisted to disk.
 *
 * Contract (eve-api.md §11; lf-edge/eve: pkg/pillar/controllerconn/deferred.go):
 * - one slot per object key; a new payload for a key replaces the queued one (retry state is kept only when the
 *   bytes are identical) and triggers an immediate pass;
 * - a pass sends in priority order (EVE's: attest, then ZiApp, then ZiHardware, then the rest; edgesim queues only
 *   ZiApp and the rest, attest is sent directly) and stops at the first
 *   request that gets no HTTP answer; the pass timer then backs off 1 min → 15 min (doubling, ±30 s noise);
 * - 401/403/407/408/429/5xx keep the item, move it behind its peers and delay it 1 min doubling to 15 min;
 *   other 4xx drop it; discard-on-failure items are dropped on any failure.
 * Beyond EVE (which keeps the queue in memory and re-asserts state after a restart), edgesim persists every slot
 * (files under `<state>/queue/`, or the fleet's state store) so that nothing is lost across a restart either.
 */
import type { Clock, Logger } from '../common/index.js';
import { errorMessage, isAbortError } from '../common/index.js';
import { fileQueueStore, type QueueStore } from './device-store.js';
import type { QueueItem, StoredSlot } from './queue-slot.js';

export type { QueueItem } from './queue-slot.js';

/** Send priority, lower first (zedagent.go getDeferredPriorityFunctions). */
export const PRIORITY = { attest: 0, app: 1, hardware: 2, other: 3 } as const;

/** What happened to one send attempt. */
export type SendOutcome = 'sent' | 'retry' | 'drop' | 'unreachable';

interface Slot extends StoredSlot {
  /**
   * Not before this `clock.monotonic()` reading (a per-item delay is a duration: the clock-skew fault must not end
   * or stretch it). Not persisted: a restart retries at once.
   */
  notBefore: number;
}

export interface InfoQueueOptions {
  /** Where slots persist; or `dir`, a folder of files (created 0700). */
  store?: QueueStore;
  dir?: string;
  /** Sends one item and classifies the answer. */
  send: (item: QueueItem, signal: AbortSignal) => Promise<SendOutcome>;
  clock: Clock;
  logger: Logger;
  /** Random source for the pass-timer noise (tests pin it). @default Math.random */
  random?: () => number;
}

const MINUTE = 60_000;
const PASS_MIN_MS = MINUTE; // deferred.go UpdateExpTicker(1m, 15m, noise)
const PASS_MAX_MS = 15 * MINUTE;
const PASS_NOISE_MS = 30_000;
const ITEM_MIN_MS = MINUTE;
const ITEM_MAX_MS = 15 * MINUTE;
/** Why a wait ends early. One shared reason: `abort()` without one builds a DOMException (and its stack) per call. */
const WOKEN = new DOMException('queue woken', 'AbortError');

/** The persisted, per-key latest-wins send queue. */
export class InfoQueue {
  private readonly slots = new Map<string, Slot>();
  private seq = 0;
  private passBackoffMs = 0;
  private wake = new AbortController();
  private readonly stopCtl = new AbortController();
  private loop: Promise<void> | undefined;
  private writes = Promise.resolve();

  private constructor(
    private readonly opts: InfoQueueOptions,
    private readonly store: QueueStore,
  ) {}

  /** Opens the store and loads the slots a previous run left behind. */
  static async create(opts: InfoQueueOptions): Promise<InfoQueue> {
    const store = opts.store ?? (opts.dir ? fileQueueStore(opts.dir, opts.logger) : undefined);
    if (!store) throw new Error('InfoQueue: give a store or a dir');
    const q = new InfoQueue(opts, store);
    for (const stored of await store.load()) {
      q.slots.set(stored.key, { ...stored, notBefore: 0 });
      q.seq = Math.max(q.seq, stored.seq + 1);
    }
    if (q.slots.size) opts.logger.info('restored queued items', { count: q.slots.size });
    return q;
  }

  /** Number of queued items. */
  get depth(): number {
    return this.slots.size;
  }

  /** Age in ms of the oldest queued item (0 when empty). */
  oldestAgeMs(): number {
    let oldest = Infinity;
    for (const s of this.slots.values()) oldest = Math.min(oldest, s.enqueuedAt);
    return oldest === Infinity ? 0 : this.opts.clock.now() - oldest;
  }

  /** Keys currently queued, in send order. */
  keys(): string[] {
    return this.ordered().map((s) => s.key);
  }

  /** Queues (or replaces) the item for its key, persists it, and triggers a pass. */
  async enqueue(item: QueueItem): Promise<void> {
    const prev = this.slots.get(item.key);
    const same = prev && Buffer.compare(Buffer.from(prev.payload), Buffer.from(item.payload)) === 0;
    const slot: Slot = {
      ...item,
      seq: this.seq++,
      enqueuedAt: this.opts.clock.now(),
      attempts: same ? prev.attempts : 0,
      delayMs: same ? prev.delayMs : 0,
      notBefore: same ? prev.notBefore : 0,
    };
    this.slots.set(item.key, slot);
    await this.persist(slot);
    this.kick();
  }

  /** Starts an immediate pass (new item, or connectivity is back). Per-item delays still apply. */
  kick(): void {
    this.passBackoffMs = 0;
    this.wake.abort(WOKEN);
  }

  /** Runs the send loop until stop(). */
  start(): void {
    this.loop ??= this.runLoop();
  }

  /** Stops the loop and waits for pending disk writes (idempotent). */
  async stop(): Promise<void> {
    this.stopCtl.abort();
    this.wake.abort(WOKEN);
    await this.loop;
    await this.writes;
  }

  /** One pass over the queue; exported for tests and `--once`. Returns false when the controller was unreachable. */
  async pass(): Promise<boolean> {
    const now = this.opts.clock.monotonic();
    for (const slot of this.ordered()) {
      if (this.stopCtl.signal.aborted) return true;
      if (slot.notBefore > now) continue;
      let outcome: SendOutcome;
      try {
        outcome = await this.opts.send(slot, this.stopCtl.signal);
      } catch (e) {
        if (isAbortError(e)) return true;
        this.opts.logger.warn('send failed', { key: slot.key, error: errorMessage(e) });
        outcome = 'unreachable';
      }
      const current = this.slots.get(slot.key);
      const replaced = current !== slot;
      if (outcome === 'sent' || outcome === 'drop' || slot.discardOnFailure) {
        if (outcome === 'drop') this.opts.logger.error('controller refused queued item; dropped', { key: slot.key });
        if (!replaced) await this.remove(slot.key);
        if (outcome === 'unreachable') return false;
        continue;
      }
      if (outcome === 'unreachable') return false;
      // retry: keep, move behind its peers, per-item delay 1 min doubling to 15 min.
      if (!replaced) {
        slot.attempts++;
        slot.delayMs = Math.min(ITEM_MAX_MS, slot.delayMs ? slot.delayMs * 2 : ITEM_MIN_MS);
        slot.notBefore = this.opts.clock.monotonic() + this.opts.clock.scaled(slot.delayMs);
        slot.seq = this.seq++;
        if (slot.attempts % 20 === 0) this.opts.logger.warn('item refused repeatedly', { key: slot.key, attempts: slot.attempts });
        await this.persist(slot);
      }
    }
    return true;
  }

  private ordered(): Slot[] {
    return [...this.slots.values()].sort((a, b) => a.priority - b.priority || a.seq - b.seq);
  }

  private async runLoop(): Promise<void> {
    const { clock, logger } = this.opts;
    const random = this.opts.random ?? Math.random;
    while (!this.stopCtl.signal.aborted) {
      this.wake = new AbortController();
      const reachable = await this.pass();
      if (this.stopCtl.signal.aborted) break;
      let waitMs: number;
      if (!reachable) {
        this.passBackoffMs = Math.min(PASS_MAX_MS, this.passBackoffMs ? this.passBackoffMs * 2 : PASS_MIN_MS);
        waitMs = Math.max(0, this.passBackoffMs + (random() * 2 - 1) * PASS_NOISE_MS);
        logger.debug('controller unreachable; queue backs off', { waitMs, depth: this.depth });
      } else {
        // Next per-item deadline, else the minimum pass interval.
        const next = Math.min(...[...this.slots.values()].map((s) => s.notBefore));
        waitMs = Number.isFinite(next) && this.slots.size ? Math.max(0, clock.specMs(next - clock.monotonic())) : PASS_MAX_MS;
      }
      if (this.wake.signal.aborted) continue;
      try {
        // stop() aborts `wake` too: one signal per wait, not an AbortSignal.any tied to the long-lived stop signal.
        await clock.sleep(waitMs, this.wake.signal);
      } catch (e) {
        if (!isAbortError(e)) throw e;
      }
    }
  }

  private async persist(slot: Slot): Promise<void> {
    const stored: StoredSlot = {
      key: slot.key,
      action: slot.action,
      priority: slot.priority,
      payload: slot.payload,
      ...(slot.discardOnFailure ? { discardOnFailure: true } : {}),
      seq: slot.seq,
      enqueuedAt: slot.enqueuedAt,
      attempts: slot.attempts,
      delayMs: slot.delayMs,
    };
    const write = async (): Promise<void> => {
      if (this.slots.get(slot.key) !== slot) return; // superseded before it reached the disk
      await this.store.put(stored);
    };
    this.writes = this.writes.then(write, write);
    await this.writes;
  }

  private async remove(key: string): Promise<void> {
    this.slots.delete(key);
    const del = async (): Promise<void> => {
      if (!this.slots.has(key)) await this.store.remove(key);
    };
    this.writes = this.writes.then(del, del);
    await this.writes;
  }
}

/**
 * The loop both app-side reconcilers run: a pass, then a nap on the clock that a config change cuts short.
 * A failed pass is logged and retried at the next tick; an abort (the agent's stop) ends the loop.
 */
import type { Clock, Logger } from '../../common/index.js';
import { errorMessage, isAbortError } from '../../common/index.js';

/** Wakes a sleeping loop early (a config change). */
export class Waker {
  private ctl = new AbortController();
  wake(): void {
    this.ctl.abort();
  }
  async nap(clock: Clock, ms: number, stop: AbortSignal): Promise<void> {
    if (stop.aborted) return;
    const ctl = this.ctl;
    // `stop` wakes the nap too: a listener, not AbortSignal.any (costly at a fleet's thousands of naps a second).
    const onStop = (): void => ctl.abort();
    stop.addEventListener('abort', onStop, { once: true });
    try {
      await clock.sleep(ms, ctl.signal).catch(() => undefined);
    } finally {
      stop.removeEventListener('abort', onStop);
    }
    if (ctl.signal.aborted) this.ctl = new AbortController();
  }
}

/** Runs `pass` every `intervalMs()` spec ms (or sooner when woken) until `signal` aborts. */
export async function runLoop(o: {
  name: string;
  pass: () => Promise<void>;
  intervalMs: () => number;
  waker: Waker;
  clock: Clock;
  log: Logger;
  signal: AbortSignal;
}): Promise<void> {
  while (!o.signal.aborted) {
    try {
      await o.pass();
    } catch (e) {
      if (isAbortError(e) || o.signal.aborted) break;
      o.log.warn(`${o.name} pass failed`, { error: errorMessage(e) });
    }
    await o.waker.nap(o.clock, o.intervalMs(), o.signal);
  }
}

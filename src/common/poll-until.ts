/**
 * The one poll loop: asks `probe` until it gives a value (anything but undefined or false), or fails naming what
 * it waited for and the probe's last error. The deadline is real time (a caller waiting on a scaled clock passes
 * a scaled timeout); the pause between probes is the caller's sleep, so it honours the clock and its signal.
 */
import { errorMessage } from './errors.js';

/** Options of {@link pollUntil}. */
export interface PollOptions {
  /** What is awaited, for the timeout error: "every node onboarded". */
  what: string;
  /** Real ms until it gives up. */
  timeoutMs: number;
  /** Pause between probes (e.g. `(s) => clock.sleepReal(250, s)`); it rejects on abort. */
  pause: (signal?: AbortSignal) => Promise<void>;
  /** Stops the loop: the pause rejects, and an aborted signal ends it before the next probe. */
  signal?: AbortSignal;
  /** Sees every error the probe throws (they are retried). */
  onProbeError?: (e: unknown) => void;
}

/** Resolves with the first value `probe` returns; rejects after `timeoutMs` with "timed out after … waiting for …". */
export async function pollUntil<T>(probe: () => Promise<T | undefined | false> | T | undefined | false, o: PollOptions): Promise<T> {
  const deadline = performance.now() + o.timeoutMs;
  let last: unknown;
  for (;;) {
    o.signal?.throwIfAborted();
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      if (o.signal?.aborted) throw e;
      last = e;
      o.onProbeError?.(e);
    }
    if (performance.now() > deadline) {
      throw new Error(`timed out after ${Math.round(o.timeoutMs)} ms waiting for ${o.what}${last !== undefined ? ` (last error: ${errorMessage(last)})` : ''}`);
    }
    await o.pause(o.signal);
  }
}

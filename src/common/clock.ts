/**
 * The one clock of a process. Every timer in edgesim goes through a Clock so that `--time-scale K`
 * divides every wait (heartbeats, grace periods, poll intervals) by K, and tests can run spec timelines fast.
 */
import { setTimeout as sleepTimer } from 'node:timers/promises';

export interface Clock {
  /** Wall-clock milliseconds since the epoch (not scaled: timestamps stay real). */
  now(): number;
  /** Waits `ms` spec milliseconds (divided by the time scale). Rejects with AbortError when `signal` fires. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /** Converts spec milliseconds into real milliseconds under this clock's time scale. */
  scaled(ms: number): number;
  /** Repeating timer in spec milliseconds; returns a cancel function. The timer never keeps the process alive. */
  every(ms: number, fn: () => void): () => void;
  /** The divisor applied to every duration (1 = real time). */
  readonly timeScale: number;
}

/** A real-time clock whose durations are divided by `timeScale` (default 1). */
export function createClock(timeScale = 1): Clock {
  if (!(timeScale > 0) || !Number.isFinite(timeScale)) {
    throw new RangeError(`time scale must be a positive number, got ${timeScale}`);
  }
  const scaled = (ms: number): number => Math.max(0, ms / timeScale);
  return {
    timeScale,
    now: () => Date.now(),
    scaled,
    sleep: (ms, signal) => sleepTimer(scaled(ms), undefined, signal ? { signal, ref: false } : { ref: false }),
    every(ms, fn) {
      const t = setInterval(fn, Math.max(1, scaled(ms)));
      t.unref();
      return () => clearInterval(t);
    },
  };
}

/** Uniform random wait in [lo·T, hi·T], as EVE draws its poll intervals (eve-api.md §13). */
export function jitter(intervalMs: number, lo: number, hi: number, random: () => number = Math.random): number {
  return intervalMs * (lo + (hi - lo) * random());
}

/**
 * The one clock of a process. Every timer in edgesim goes through a Clock so that `--time-scale K`
 * divides every wait (heartbeats, grace periods, poll intervals) by K, and tests can run spec timelines fast.
 */
import { setTimeout as sleepTimer } from 'node:timers/promises';

export interface Clock {
  /** Wall-clock milliseconds since the epoch (not scaled: timestamps stay real). For timestamps, not durations. */
  now(): number;
  /**
   * Real milliseconds since an arbitrary origin, never stepped (the clock-skew fault and wall-clock changes leave it
   * alone): measure durations with it (`monotonic() - start >= scaled(ms)`), never with `now()`.
   */
  monotonic(): number;
  /** Waits `ms` spec milliseconds (divided by the time scale). Rejects with AbortError when `signal` fires. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /** Converts spec milliseconds into real milliseconds under this clock's time scale. */
  scaled(ms: number): number;
  /** Converts real milliseconds (a measured duration) into spec milliseconds: the inverse of `scaled`. */
  specMs(realMs: number): number;
  /** Repeating timer in spec milliseconds; returns a cancel function. The timer never keeps the process alive. */
  every(ms: number, fn: () => void): () => void;
  /**
   * Waits `ms` real milliseconds whatever the time scale: for what runs on someone else's clock (a client's
   * `timeoutSeconds`, a datastore's readiness poll). Rejects with AbortError when `signal` fires.
   */
  sleepReal(ms: number, signal?: AbortSignal): Promise<void>;
  /** Repeating timer in real milliseconds (systemd's watchdog); returns a cancel function; never keeps the process alive. */
  everyReal(ms: number, fn: () => void): () => void;
  /** The divisor applied to every duration (1 = real time). */
  readonly timeScale: number;
}

/** A real-time clock whose durations are divided by `timeScale` (default 1). */
export function createClock(timeScale = 1): Clock {
  if (!(timeScale > 0) || !Number.isFinite(timeScale)) {
    throw new RangeError(`time scale must be a positive number, got ${timeScale}`);
  }
  const scaled = (ms: number): number => Math.max(0, ms / timeScale);
  const sleepReal = (ms: number, signal?: AbortSignal): Promise<void> =>
    sleepTimer(Math.max(0, ms), undefined, signal ? { signal, ref: false } : { ref: false });
  const everyReal = (ms: number, fn: () => void): (() => void) => {
    const t = setInterval(fn, Math.max(1, ms));
    t.unref();
    return () => clearInterval(t);
  };
  return {
    timeScale,
    now: () => Date.now(),
    monotonic: () => performance.now(),
    scaled,
    specMs: (realMs) => realMs * timeScale,
    sleep: (ms, signal) => sleepReal(scaled(ms), signal),
    every: (ms, fn) => everyReal(scaled(ms), fn),
    sleepReal,
    everyReal,
  };
}

/** Uniform random wait in [lo·T, hi·T], as EVE draws its poll intervals (eve-api.md §13). */
export function jitter(intervalMs: number, lo: number, hi: number, random: () => number = Math.random): number {
  return intervalMs * (lo + (hi - lo) * random());
}

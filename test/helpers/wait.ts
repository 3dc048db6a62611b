/** Polling helper for integration tests: waits until `probe` returns a value, or fails naming what it waited for. */
import { setTimeout as sleep } from 'node:timers/promises';
import { pollUntil } from '../../src/common/index.js';

export function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 20_000,
  intervalMs = 100,
): Promise<T> {
  return pollUntil(probe, { what, timeoutMs, pause: () => sleep(intervalMs) });
}

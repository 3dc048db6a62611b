/** Durations as operators type them (`--duration 30s`), in ms. */
import { AdminError } from './errors.js';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

/**
 * Parses `500ms`, `30s`, `2m`, `1h`, `1.5s`, or a bare number of seconds (`30`) into ms.
 * `flag` names the option in the error (e.g. `--duration`).
 */
export function parseDuration(text: string, flag: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(text);
  if (!m) throw new AdminError('INVALID_ARGUMENT', `${flag} "${text}": expected a duration such as 500ms, 30s, 2m or 1h`, { field: flag });
  const ms = Number(m[1]) * UNIT_MS[m[2] ?? 's'];
  if (!(ms > 0)) throw new AdminError('INVALID_ARGUMENT', `${flag} "${text}": must be longer than 0`, { field: flag });
  return Math.round(ms);
}

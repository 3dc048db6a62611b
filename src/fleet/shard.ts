/**
 * Which devices a fleet process simulates: `--count` devices in total, split into `n` shards of consecutive
 * indexes (sizes differ by at most one), serial = prefix + (start + index). Shards never overlap and together
 * cover the whole range, so n pods of an Indexed Job simulate one fleet.
 */

/** Shard `index` of `count` (0-based). */
export interface Shard {
  index: number;
  count: number;
}

/** Parses `i/n` (0 ≤ i < n); the error names the flag. */
export function parseShard(text: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  if (!m) throw new Error(`--shard "${text}": expected i/n, e.g. 0/4`);
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (count < 1) throw new Error(`--shard "${text}": n must be at least 1`);
  if (index >= count) throw new Error(`--shard "${text}": i must be below n (0-based)`);
  return { index, count };
}

/** The half-open index range [from, to) of `shard` among `total` devices. */
export function shardRange(total: number, shard: Shard): { from: number; to: number } {
  const at = (i: number): number => Math.floor((i * total) / shard.count);
  return { from: at(shard.index), to: at(shard.index + 1) };
}

/** The serials of a shard: prefix + (start + i) for i in its range. */
export function shardSerials(o: { total: number; shard: Shard; prefix: string; start: number }): string[] {
  const { from, to } = shardRange(o.total, o.shard);
  const out: string[] = [];
  for (let i = from; i < to; i++) out.push(`${o.prefix}${o.start + i}`);
  return out;
}

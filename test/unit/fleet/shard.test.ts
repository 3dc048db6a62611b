/** Shards: `i/n` parsing and disjoint, covering serial ranges. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseShard, shardRange, shardSerials } from '../../../src/fleet/shard.js';

void describe('shards', () => {
  void it('parses i/n and names the flag in errors', () => {
    assert.deepEqual(parseShard('2/10'), { index: 2, count: 10 });
    for (const [bad, why] of [['3/3', /below n/], ['1/0', /at least 1/], ['a/b', /expected i\/n/], ['-1/2', /expected i\/n/]] as const) {
      assert.throws(() => parseShard(bad), (e: Error) => e.message.startsWith(`--shard "${bad}"`) && why.test(e.message));
    }
  });

  void it('splits any count into disjoint ranges that cover it, sizes within one', () => {
    for (const [total, n] of [[41, 2], [100_000, 7], [3, 5], [1, 1], [10, 10]]) {
      let next = 0;
      const sizes: number[] = [];
      for (let i = 0; i < n; i++) {
        const r = shardRange(total, { index: i, count: n });
        assert.equal(r.from, next, `shard ${i}/${n} of ${total} starts where the previous ended`);
        next = r.to;
        sizes.push(r.to - r.from);
      }
      assert.equal(next, total);
      assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1);
    }
  });

  void it('names serials prefix + (start + index)', () => {
    assert.deepEqual(shardSerials({ total: 5, shard: { index: 1, count: 2 }, prefix: 'sim-', start: 100 }), ['sim-102', 'sim-103', 'sim-104']);
  });
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pollUntil } from '../../../src/common/index.js';

const pause = (): Promise<void> => new Promise((r) => setImmediate(r));

test('pollUntil: the first value that is not undefined or false; probe errors are retried and named on timeout', async () => {
  let n = 0;
  const seen: unknown[] = [];
  const v = await pollUntil(
    () => {
      n++;
      if (n === 1) throw new Error('not yet');
      return n === 2 ? false : n === 3 ? undefined : n;
    },
    { what: 'x', timeoutMs: 5_000, pause, onProbeError: (e) => seen.push(e) },
  );
  assert.equal(v, 4);
  assert.equal(seen.length, 1);
  await assert.rejects(
    pollUntil(() => Promise.reject(new Error('api down')), { what: 'the node Ready', timeoutMs: 20, pause }),
    /^Error: timed out after 20 ms waiting for the node Ready \(last error: api down\)$/,
  );
  const ctl = new AbortController();
  ctl.abort();
  await assert.rejects(pollUntil(() => 1, { what: 'y', timeoutMs: 1_000, pause, signal: ctl.signal }), { name: 'AbortError' });
});

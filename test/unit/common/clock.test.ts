/** The process clock: spec durations divided by the time scale, real ones left alone. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createClock } from '../../../src/common/index.js';

// Clock timers never keep a process alive (by design); a referenced timer holds the test's event loop open.
async function held<T>(fn: () => Promise<T>): Promise<T> {
  const hold = setInterval(() => undefined, 1_000);
  try {
    return await fn();
  } finally {
    clearInterval(hold);
  }
}

test('scaled and specMs are inverse; a bad time scale is refused with its value', () => {
  const c = createClock(10);
  assert.equal(c.scaled(2_000), 200);
  assert.equal(c.specMs(200), 2_000);
  assert.equal(c.specMs(c.scaled(1234)), 1234);
  assert.throws(() => createClock(0), /time scale must be a positive number, got 0/);
  assert.throws(() => createClock(Number.NaN), /got NaN/);
});

test('sleep divides by the time scale, sleepReal does not', () => held(async () => {
  const c = createClock(100);
  let t = performance.now();
  await c.sleep(5_000); // 50 ms real
  const scaled = performance.now() - t;
  t = performance.now();
  await c.sleepReal(120);
  const real = performance.now() - t;
  // 50 ms when scaled, 5 s when not: wide bounds, as a loaded machine delays timers.
  assert.ok(scaled >= 45 && scaled < 2_000, `sleep(5000) at scale 100 took ${scaled.toFixed(0)} ms`);
  assert.ok(real >= 115, `sleepReal(120) took ${real.toFixed(0)} ms`);
}));

test('sleepReal rejects with AbortError when its signal fires', () => held(async () => {
  const ac = new AbortController();
  const p = createClock(10).sleepReal(60_000, ac.signal);
  ac.abort();
  await assert.rejects(p, { name: 'AbortError' });
}));

test('everyReal ticks in real milliseconds under a large time scale; cancel stops it', () => held(async () => {
  const c = createClock(1_000);
  let ticks = 0;
  const t0 = performance.now();
  const cancel = c.everyReal(40, () => ticks++);
  await c.sleepReal(150);
  cancel();
  const elapsed = performance.now() - t0;
  const seen = ticks;
  await c.sleepReal(100);
  // every(40) at scale 1000 ticks every millisecond (its floor); everyReal at most once per 40 ms of what passed.
  assert.ok(seen >= 1 && seen <= Math.floor(elapsed / 40), `ticks: ${seen} in ${elapsed.toFixed(0)} ms`);
  assert.equal(ticks, seen, 'no tick after cancel');
}));

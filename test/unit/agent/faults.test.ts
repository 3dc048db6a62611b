/** The clock-skew fault moves the wall clock only: durations measured with `monotonic()` do not jump. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FaultSet, skewedClock } from '../../../src/agent/faults.js';
import { createClock } from '../../../src/common/index.js';

test('clock-skew shifts now() but not monotonic()', () => {
  const base = createClock(1);
  const faults = new FaultSet(base);
  const clock = skewedClock(base, faults);
  const wall0 = clock.now();
  const mono0 = clock.monotonic();
  faults.inject('clock-skew', { value: 3_600_000 });
  assert.ok(clock.now() - wall0 >= 3_600_000, 'timestamps carry the skew');
  assert.ok(clock.monotonic() - mono0 < 1_000, 'a duration across the injection does not see the hour');
  faults.clear('clock-skew');
  assert.ok(clock.now() - wall0 < 1_000);
});

test('monotonic() advances with real time', async () => {
  const clock = createClock(1000);
  const t0 = clock.monotonic();
  await new Promise((r) => setTimeout(r, 20));
  assert.ok(clock.monotonic() - t0 >= 15, 'real milliseconds, not scaled');
});

/** The scheduler clock: one heap of deadlines fires sleeps and repeating timers in deadline order, honours aborts. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SchedulerClock } from '../../../src/fleet/scheduler-clock.js';
import { skewedClock, FaultSet } from '../../../src/agent/index.js';

void describe('SchedulerClock', () => {
  // The clock's one timer is unref'd (waiting keeps nothing alive, as with the process clock): hold the loop open.
  let keepAlive: NodeJS.Timeout;
  before(() => {
    keepAlive = setInterval(() => undefined, 60_000);
  });
  after(() => clearInterval(keepAlive));

  void it('fires sleeps in deadline order, whatever the order they were scheduled in', async () => {
    const clock = new SchedulerClock(1);
    const order: number[] = [];
    await Promise.all([30, 10, 20, 0, 10].map((ms, i) => clock.sleepReal(ms).then(() => order.push(i))));
    assert.deepEqual(order, [3, 1, 4, 2, 0]);
  });

  void it('divides spec durations by the time scale', async () => {
    const clock = new SchedulerClock(100);
    const t0 = performance.now();
    await clock.sleep(2_000); // 20 ms real
    const took = performance.now() - t0;
    assert.ok(took >= 19 && took < 1_000, `took ${took} ms`);
    assert.equal(clock.scaled(1_000), 10);
    assert.equal(clock.specMs(10), 1_000);
  });

  void it('rejects an aborted sleep with AbortError and never fires it', async () => {
    const clock = new SchedulerClock(1);
    const ctl = new AbortController();
    let fired = false;
    const p = clock.sleepReal(20, ctl.signal).then(() => (fired = true));
    ctl.abort();
    await assert.rejects(p, { name: 'AbortError' });
    await assert.rejects(clock.sleepReal(5, ctl.signal), { name: 'AbortError' });
    await clock.sleepReal(30);
    assert.equal(fired, false);
  });

  void it('repeats `every` until cancelled, and 10,000 sleepers share one timer', async () => {
    const clock = new SchedulerClock(1);
    let ticks = 0;
    const cancel = clock.everyReal(5, () => ticks++);
    await clock.sleepReal(60);
    cancel();
    const at = ticks;
    assert.ok(at >= 3, `ticked ${at} times`);
    await clock.sleepReal(30);
    assert.equal(ticks, at, 'ticked after cancel');
    const many = Array.from({ length: 10_000 }, (_, i) => clock.sleepReal(i % 50));
    assert.ok(clock.stats().pending >= 10_000);
    await Promise.all(many);
  });

  void it('keeps working behind the clock-skew decorator (object spread)', async () => {
    const clock = new SchedulerClock(1);
    const faults = new FaultSet(clock);
    faults.inject('clock-skew', { value: 60_000 });
    const skewed = skewedClock(clock, faults);
    assert.ok(skewed.now() - clock.now() >= 59_000);
    await skewed.sleep(1);
    assert.equal(skewed.timeScale, 1);
  });

  void it('afterReal fires once when due; a cancelled one never fires, and mass cancels leave the order intact', async () => {
    const clock = new SchedulerClock(1);
    const fired: string[] = [];
    const cancelA = clock.afterReal(10, () => fired.push('a'));
    clock.afterReal(20, () => fired.push('b'));
    const cancelC = clock.afterReal(5, () => fired.push('c'));
    cancelC();
    // Request deadlines: thousands armed and cancelled long before they are due; the heap sheds them.
    for (let i = 0; i < 5_000; i++) clock.afterReal(60_000 + i, () => fired.push('deadline'))();
    assert.ok(clock.stats().pending < 1_100, `dead entries were dropped: ${clock.stats().pending} pending`);
    await clock.sleepReal(40);
    cancelA(); // after it fired: nothing happens
    assert.deepEqual(fired, ['a', 'b']);
  });
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { InfoQueue, PRIORITY, type QueueItem, type SendOutcome } from '../../../src/agent/info-queue.js';
import { FaultSet, skewedClock } from '../../../src/agent/faults.js';
import { createClock, silentLogger } from '../../../src/common/index.js';

const clock = createClock(1);
const item = (key: string, text: string, priority: QueueItem['priority'] = PRIORITY.other): QueueItem => ({
  key,
  action: 'info',
  priority,
  payload: Buffer.from(text),
});

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'edgesim-queue-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('latest payload per key wins, and slots survive a restart', () =>
  withDir(async (dir) => {
    let online = false;
    const sent: string[] = [];
    const send = async (i: QueueItem): Promise<SendOutcome> => {
      if (!online) return 'unreachable';
      sent.push(`${i.key}=${Buffer.from(i.payload).toString()}`);
      return 'sent';
    };
    const q1 = await InfoQueue.create({ dir, send, clock, logger: silentLogger });
    for (const v of ['1', '2', '3']) await q1.enqueue(item('dev', v));
    await q1.enqueue(item('app', 'a'));
    assert.equal(await q1.pass(), false, 'pass reports the controller unreachable');
    assert.equal(q1.depth, 2);
    await q1.stop();

    online = true;
    const q2 = await InfoQueue.create({ dir, send, clock, logger: silentLogger });
    assert.deepEqual(q2.keys(), ['dev', 'app'], 'restored in enqueue order');
    assert.equal(await q2.pass(), true);
    assert.deepEqual(sent, ['dev=3', 'app=a']);
    assert.equal(q2.depth, 0);
    await q2.stop();
    const q3 = await InfoQueue.create({ dir, send, clock, logger: silentLogger });
    assert.equal(q3.depth, 0, 'sent items are gone from disk');
  }));

test('priority order, drop on refusal, retry keeps the item behind its peers', () =>
  withDir(async (dir) => {
    const outcomes: Record<string, SendOutcome> = { a: 'retry', b: 'drop', c: 'sent', att: 'sent' };
    const order: string[] = [];
    const q = await InfoQueue.create({
      dir,
      clock,
      logger: silentLogger,
      send: async (i) => {
        order.push(i.key);
        return outcomes[i.key];
      },
    });
    await q.enqueue(item('a', 'x'));
    await q.enqueue(item('b', 'x'));
    await q.enqueue(item('c', 'x'));
    await q.enqueue(item('att', 'x', PRIORITY.attest));
    await q.pass();
    assert.deepEqual(order, ['att', 'a', 'b', 'c']);
    assert.deepEqual(q.keys(), ['a'], 'only the retried item stays');
    order.length = 0;
    await q.pass();
    assert.deepEqual(order, [], 'a retried item waits for its per-item delay');
    await q.stop();
  }));

test('discard-on-failure items are dropped on any failure', () =>
  withDir(async (dir) => {
    const q = await InfoQueue.create({ dir, clock, logger: silentLogger, send: async () => 'retry' });
    await q.enqueue({ ...item('attest:cert', 'x', PRIORITY.attest), discardOnFailure: true });
    await q.pass();
    assert.equal(q.depth, 0);
    await q.stop();
  }));

test('a retried item keeps its per-item delay when the clock-skew fault steps the wall clock forward', () =>
  withDir(async (dir) => {
    const faults = new FaultSet(clock);
    const sent: string[] = [];
    const q = await InfoQueue.create({
      dir,
      clock: skewedClock(clock, faults),
      logger: silentLogger,
      send: async (i) => {
        sent.push(i.key);
        return 'retry';
      },
    });
    await q.enqueue(item('a', 'x'));
    await q.pass();
    assert.deepEqual(sent, ['a'], 'first try, refused: 1 min delay');
    faults.inject('clock-skew', { value: 3_600_000 });
    await q.pass();
    assert.deepEqual(sent, ['a'], 'an hour of skew is not an hour waited');
    await q.stop();
  }));

/** The fleet's state file: group-committed writes are visible once their promises resolve and survive a reopen. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { silentLogger } from '../../../src/common/index.js';
import { FleetStateStore } from '../../../src/fleet/state-store.js';

test('writes of one turn share a transaction, resolve once committed, and a reopened file has them', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'edgesim-state-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'fleet.db');
  const store = await FleetStateStore.open(file, silentLogger);
  assert.equal((await stat(file)).mode & 0o777, 0o600);
  const writes = [];
  for (let i = 0; i < 50; i++) {
    const serial = `s-${i}`;
    writes.push(store.deviceStore(serial).writeUuid(`uuid-${i}`), store.softKeyStorage(serial).writeKey('device', `key-${i}`));
  }
  // Nothing is committed before the turn ends: another connection sees no row yet.
  const other = new Database(file, { readonly: true });
  t.after(() => other.close());
  const count = (): number => (other.prepare('SELECT count(*) AS n FROM device').get() as { n: number }).n;
  assert.equal(count(), 0);
  await Promise.all(writes);
  assert.equal(count(), 50);
  assert.equal(store.uuidOf('s-7'), 'uuid-7');
  assert.deepEqual(await store.softKeyStorage('s-7').readKey('device'), Buffer.from('key-7'));
  // Queue slots are put and removed; a key is never replaced.
  const q = store.deviceStore('s-1').queue;
  const slot = { key: 'a', action: 'info', priority: 3 as const, payload: Buffer.from('x'), seq: 1, enqueuedAt: 0, attempts: 0, delayMs: 0 };
  await Promise.all([q.put(slot), store.softKeyStorage('s-1').writeKey('device', 'other')]);
  assert.deepEqual((await q.load()).map((x) => x.key), ['a']);
  await q.remove('a');
  assert.deepEqual(await q.load(), []);
  assert.deepEqual(await store.softKeyStorage('s-1').readKey('device'), Buffer.from('key-1'));
  const last = store.deviceStore('s-2').writeUuid('uuid-2b');
  store.close(); // flushes what is pending
  await last;
  const again = await FleetStateStore.open(file, silentLogger);
  t.after(() => again.close());
  assert.equal(again.counts().onboarded, 50);
  assert.equal(again.uuidOf('s-2'), 'uuid-2b');
  // A write after close is refused, not lost silently.
  await assert.rejects(store.deviceStore('s-3').writeUuid('late'), /closed/);
});

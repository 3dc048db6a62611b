/**
 * The datastore contract the stand-in's API semantics rely on, run against both implementations: the etcd-backed
 * KubeStore (a real etcd on loopback) and the in-memory MemoryStore of the in-process clusters. Same table, same
 * answers: resourceVersions from one revision counter, 409 on a stale revision, 404 on a missing key, ordered
 * watches that replay from a start revision with the previous object, 410 once compacted, copies on every read.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createClock, silentLogger } from '../../../src/common/index.js';
import { isApiError } from '../../../src/k3s/standin/errors.js';
import { EtcdMember } from '../../../src/k3s/standin/etcd-member.js';
import { waitEtcdReady } from '../../../src/k3s/standin/etcd-membership.js';
import { MemoryStore } from '../../../src/k3s/standin/memory-store.js';
import type { KubeObject, ObjectStore, StoreEvent } from '../../../src/k3s/standin/object-store.js';
import { KubeStore } from '../../../src/k3s/standin/store.js';

const clock = createClock(1);
const obj = (name: string, data: string): KubeObject => ({ metadata: { name }, data });

async function reason(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (e) {
    return isApiError(e) ? e.reason : `not an ApiError: ${String(e)}`;
  }
}

function collect(store: ObjectStore, prefix: string, from: string): { events: StoreEvent[]; ended: string[]; cancel: Promise<() => Promise<void>> } {
  const events: StoreEvent[] = [];
  const ended: string[] = [];
  const cancel = store.watch(prefix, from, (ev) => events.push(ev), (err) => ended.push(err.reason));
  return { events, ended, cancel };
}

/** Waits for a condition, up to 15 s: a bound for a loaded machine, not a latency assertion. */
async function until(what: string, check: () => boolean): Promise<void> {
  for (let i = 0; i < 1_500 && !check(); i++) await sleep(10);
  assert.ok(check(), what);
}

/** The contract; `compactAll` makes every revision so far unusable for watches. */
async function contract(store: ObjectStore, compactAll: () => Promise<void>): Promise<void> {
  const a = await store.create('/registry/things/a', obj('a', '1'));
  const rvA = a.metadata.resourceVersion!;
  assert.match(rvA, /^\d+$/, 'resourceVersion is a revision');
  assert.equal(await reason(store.create('/registry/things/a', obj('a', 'x'))), 'AlreadyExists');

  const w = collect(store, '/registry/things/', String(Number(rvA) + 1));
  await w.cancel;
  const a2 = await store.update('/registry/things/a', obj('a', '2'), rvA);
  assert.ok(Number(a2.metadata.resourceVersion) > Number(rvA), 'the revision grows');
  assert.equal(await reason(store.update('/registry/things/a', obj('a', '3'), rvA)), 'Conflict', 'stale revision');
  assert.equal(await reason(store.update('/registry/things/zz', obj('zz', '3'), rvA)), 'NotFound');
  const b = await store.create('/registry/things/b', obj('b', '1'));
  await store.create('/registry/other/c', obj('c', '1'));
  assert.equal(await reason(store.remove('/registry/things/b', rvA)), 'Conflict', 'stale delete');
  const gone = await store.remove('/registry/things/b', b.metadata.resourceVersion!);
  assert.equal(gone.data, '1', 'the deleted object comes back');

  a2.data = 'mutated';
  const got = await store.get('/registry/things/a');
  assert.deepEqual([got.data, got.metadata.resourceVersion], ['2', a2.metadata.resourceVersion]);
  got.data = 'mutated';
  assert.equal((await store.get('/registry/things/a')).data, '2', 'reads are copies');
  assert.equal(await reason(store.get('/registry/things/b')), 'NotFound');
  assert.equal(await store.find('/registry/things/b'), undefined);

  const list = await store.list('/registry/things/');
  assert.deepEqual(list.items.map((o) => o.metadata.name), ['a'], 'only the prefix');
  assert.ok(Number(list.revision) >= Number(gone.metadata.resourceVersion), 'list revision is current');

  // The watch from rvA+1 saw exactly the changes under its prefix, in order, with the previous object.
  await until('watch events', () => w.events.length >= 3);
  assert.deepEqual(w.events.map((e) => [e.type, e.object.metadata.name, e.object.data, e.previous?.data]), [
    ['put', 'a', '2', '1'],
    ['put', 'b', '1', undefined],
    ['delete', 'b', '1', '1'],
  ]);
  assert.deepEqual(w.events.map((e) => e.revision), [a2.metadata.resourceVersion, b.metadata.resourceVersion, gone.metadata.resourceVersion]);
  // The stored texts come along (what a watcher may compare without decoding), without the resourceVersion.
  const data = (text: string | undefined): unknown => (text === undefined ? undefined : (JSON.parse(text) as KubeObject).data);
  assert.deepEqual(w.events.map((e) => [data(e.value), data(e.previousValue)]), [['2', '1'], ['1', undefined], ['1', '1']]);
  assert.ok(w.events.every((e) => !e.value.includes('resourceVersion') && !e.previousValue?.includes('resourceVersion')), 'texts without resourceVersion');
  await (await w.cancel)();

  // A watch started in the past replays; once compacted it is 410 Expired, as is a check of the revision.
  const replay = collect(store, '/registry/things/', rvA);
  await until('replay', () => replay.events.length >= 4);
  assert.equal(replay.events[0].object.data, '1');
  await (await replay.cancel)();
  await compactAll();
  assert.equal(await reason(store.checkRevision(rvA)), 'Expired');
  const late = collect(store, '/registry/things/', rvA);
  await until('expired watch', () => late.ended.length > 0);
  assert.deepEqual(late.ended, ['Expired']);
  assert.equal(await store.healthy(), true);
}

test('MemoryStore keeps the datastore contract', async () => {
  let quorum = true;
  const store = new MemoryStore({ historyLimit: 8, available: () => quorum });
  await contract(store, async () => {
    for (let i = 0; i < 9; i++) await store.create(`/registry/filler/f${i}`, obj(`f${i}`, ''));
  });
  quorum = false;
  assert.equal(await reason(store.get('/registry/things/a')), 'ServiceUnavailable', 'no quorum: 503');
  assert.equal(await store.healthy(), false);
  store.close();
});

test('KubeStore on etcd keeps the same contract', async (t) => {
  // The clock's timers (etcd readiness polls) do not hold the process open.
  const keepAlive = setInterval(() => undefined, 1_000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inproc-store-'));
  const member = await EtcdMember.create({
    name: 'contract',
    ip: '127.0.0.1',
    clientPort: 22379,
    peerPort: 22380,
    dataDir: path.join(dir, 'etcd'),
    clusterState: 'new',
    clusterToken: 'inproc-contract',
    logFile: path.join(dir, 'etcd.log'),
    clock,
    logger: silentLogger,
  });
  const store = KubeStore.create({ endpoints: ['http://127.0.0.1:22379'], clock, logger: silentLogger });
  t.after(async () => {
    clearInterval(keepAlive);
    store.close();
    await member.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  await waitEtcdReady({ client: store.client, exited: member.exit, logFile: path.join(dir, 'etcd.log'), clock, logger: silentLogger });
  await contract(store, async () => {
    const rev = (await store.list('/registry/')).revision;
    await store.client.kv.compact({ revision: rev, physical: true });
  });
});

/** The no-info-lost check (InfoLedger), table-tested, and the identity both sides compute for one info message. */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { serializeStoredSlot } from '../../../src/agent/index.js';
import { ControllerApi } from '../../../src/agent/controller-api.js';
import { decode, info, infoIdentity, infoIdentityOfJson, infoJson } from '../../../src/eve/index.js';
import { InfoLedger, queuedInfos, type ProducedInfo } from '../../../src/scenario/info-ledger.js';

const p = (objectKey: string, fingerprint: string, madeAt: number): ProducedInfo => ({ queueKey: objectKey, objectKey, fingerprint, madeAt });
const stored = (x: ProducedInfo): { objectKey: string; fingerprint: string; madeAt: number } => ({ objectKey: x.objectKey, fingerprint: x.fingerprint, madeAt: x.madeAt });

const A1 = p('cluster_node', 'a1', 100);
const A2 = p('cluster_node', 'a2', 200);
const A3 = p('cluster_node', 'a3', 300);
const B1 = p('ainfo:app-b', 'b1', 150);

// [name, produced (in order), stored, expected lost fingerprints]
const rows: Array<[string, ProducedInfo[], ProducedInfo[], string[]]> = [
  ['nothing produced', [], [A1], []],
  ['the produced info stored', [A1], [A1], []],
  ['a planted loss: produced, never stored', [A1], [], ['a1']],
  ['the newest stored, an older one replaced unsent (latest-wins)', [A1, A2], [A2], []],
  ['only the older one stored: the newest lost', [A1, A2], [A1], ['a2']],
  ['a newer one of the same object stored (produced unseen, after a restart)', [A2], [A3], []],
  ['an info of another object does not count', [A1], [B1], ['a1']],
  ['each object on its own', [A1, B1], [A1], ['b1']],
];
for (const [name, produced, have, expected] of rows) {
  test(`no-info-lost: ${name}`, () => {
    const l = new InfoLedger(1);
    for (const x of produced) l.produce(0, x);
    for (const x of have) l.store(0, stored(x));
    assert.deepEqual(l.lost([0]).map((x) => x.info.fingerprint), expected);
  });
}

test('no-info-lost: only the nodes asked about are checked (a node down at the end cannot deliver)', () => {
  const l = new InfoLedger(2);
  l.produce(1, A1);
  assert.deepEqual(l.lost([0]), []);
  assert.equal(l.lost([0, 1]).length, 1);
});

test('no-info-lost: a queue read replaces only an older produced info', () => {
  const l = new InfoLedger(1);
  l.produce(0, A2);
  l.produce(0, A1, true);
  l.store(0, stored(A2));
  assert.deepEqual(l.lost([0]), []);
  l.produce(0, A3, true);
  assert.deepEqual(l.lost([0]).map((x) => x.info.fingerprint), ['a3']);
});

const msg = (status: info.ZInfoClusterNodeStatus, seconds: number): info.IZInfoMsg => ({
  ztype: info.ZInfoTypes.ZiNop,
  devId: '11111111-2222-4333-8444-555555555555',
  atTimeStamp: { seconds, nanos: 250_000_000 },
  cluster_node: { node_status: status },
});

test('info identity: the sender (payload) and the controller (stored JSON, after a JSON round trip) agree', () => {
  const payload = ControllerApi.encodeInfo(msg(1, 1_700_000_000));
  const json = JSON.parse(JSON.stringify(infoJson(decode(info.ZInfoMsg, payload)))) as Record<string, unknown>;
  const a = infoIdentity(payload);
  assert.deepEqual(infoIdentityOfJson(json), a);
  assert.equal(a.madeAt, 1_700_000_000_250);
  assert.notEqual(infoIdentity(ControllerApi.encodeInfo(msg(2, 1_700_000_000))).fingerprint, a.fingerprint, 'content differs');
  const app = infoIdentityOfJson({ ztype: 'ZiApp', ainfo: { AppID: 'u-1', state: 'RUNNING' } });
  assert.equal(app.objectKey, 'ainfo:u-1');
});

test('queuedInfos: the info items of a stopped agent queue folder, others and unreadable files skipped', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'edgesim-ledger-'));
  try {
    const payload = ControllerApi.encodeInfo(msg(1, 1_700_000_000));
    const slot = { key: 'clusternode', action: 'info', priority: 3 as const, payload, seq: 1, enqueuedAt: 0, attempts: 0, delayMs: 0 };
    await writeFile(path.join(dir, 'a.json'), serializeStoredSlot(slot));
    await writeFile(path.join(dir, 'b.json'), serializeStoredSlot({ ...slot, key: 'x', action: 'attest' }));
    await writeFile(path.join(dir, 'c.json'), '{not json');
    const got = await queuedInfos(dir);
    assert.deepEqual(got, [{ queueKey: 'clusternode', ...infoIdentity(payload) }]);
    assert.deepEqual(await queuedInfos(path.join(dir, 'missing')), []);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

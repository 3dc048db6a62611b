import { describe, it, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { ControllerStore, type InfoRecord } from '../../../src/controller/store.js';
import type { Clock } from '../../../src/common/index.js';

/** A manual clock: the store only reads now(). */
function manualClock(start = 1_700_000_000_000): Clock & { t: number } {
  const c = {
    t: start,
    timeScale: 1,
    now: () => c.t,
    monotonic: () => c.t,
    scaled: (ms: number) => ms,
    specMs: (ms: number) => ms,
    sleep: () => Promise.resolve(),
    every: () => () => {},
    sleepReal: () => Promise.resolve(),
    everyReal: () => () => {},
  };
  return c;
}

void describe('ControllerStore', () => {
  let store: ControllerStore;
  let clock: ReturnType<typeof manualClock>;
  beforeEach(() => {
    clock = manualClock();
    store = ControllerStore.open({ file: ':memory:', clock });
  });
  afterEach(() => store.close());

  void it('checks onboarding like Adam: unknown cert, unknown serial, wildcard, used serial', () => {
    assert.equal(store.onboardCheck('aa', 'S1'), 'unknown-cert');
    store.addOnboard('aa', 'PEM', ['S1']);
    assert.equal(store.onboardCheck('aa', 'S2'), 'unknown-serial');
    assert.equal(store.onboardCheck('aa', 'S1'), 'ok');
    store.addDevice({ uuid: 'u1', serial: 'S1', onboardHashHex: 'aa', certPem: 'C', certHashHex: 'c1' });
    assert.equal(store.onboardCheck('aa', 'S1'), 'used');
    store.addOnboard('aa', 'PEM', ['*']);
    assert.equal(store.onboardCheck('aa', 'S2'), 'ok');
    assert.deepEqual(store.listOnboard(), [{ certHashHex: 'aa', certPem: 'PEM', serials: ['*', 'S1'] }]);
  });

  void it('finds devices by uuid, cert hash, name and serial', () => {
    store.addDevice({ uuid: 'u1', serial: 'S1', onboardHashHex: null, certPem: 'C', certHashHex: 'c1' });
    store.addDevice({ uuid: 'u2', serial: 'S2', onboardHashHex: null, certPem: 'C2', certHashHex: 'c2' });
    assert.equal(store.getDeviceByCertHash('c2')?.uuid, 'u2');
    assert.equal(store.findDevice('S1')?.uuid, 'u1');
    store.setConfig('u2', 'edge-node-2', () => ({ config: Buffer.from([1]), configHash: 'h' }));
    assert.equal(store.findDevice('edge-node-2')?.uuid, 'u2');
    assert.equal(store.findDevice('nope'), undefined);
    assert.throws(() => store.addDevice({ uuid: 'u3', serial: 'S3', onboardHashHex: null, certPem: 'C', certHashHex: 'c1' }));
  });

  void it('answers the sender of a cert hash from memory once found; a miss is not remembered', () => {
    assert.equal(store.deviceSender('c1'), undefined);
    store.addDevice({ uuid: 'u1', serial: 'S1', onboardHashHex: null, certPem: 'PEM1', certHashHex: 'c1' });
    // Registered after a miss: found (a cached miss would refuse a freshly registered device).
    const s = store.deviceSender('c1');
    assert.deepEqual(s, { uuid: 'u1', certPem: Buffer.from('PEM1') });
    // The same object each time: its parsed key is cached by object.
    assert.equal(store.deviceSender('c1'), s);
    assert.equal(store.deviceSender('c2'), undefined);
  });

  void it('creates the integrity token once and keeps it', () => {
    store.addDevice({ uuid: 'u1', serial: 'S1', onboardHashHex: null, certPem: 'C', certHashHex: 'c1' });
    assert.equal(store.ensureIntegrityToken('u1', () => 'first'), 'first');
    assert.equal(store.ensureIntegrityToken('u1', () => 'second'), 'first');
    assert.throws(() => store.ensureIntegrityToken('nope', () => 'x'), /device nope not found/);
  });

  void it('bumps the config version on each set and deletes configs', () => {
    store.addDevice({ uuid: 'u1', serial: 'S1', onboardHashHex: null, certPem: 'C', certHashHex: 'c1' });
    const seen: number[] = [];
    store.setConfig('u1', null, (v) => (seen.push(v), { config: Buffer.from([v]), configHash: `h${v}` }));
    const r = store.setConfig('u1', null, (v) => (seen.push(v), { config: Buffer.from([v]), configHash: `h${v}` }));
    assert.deepEqual(seen, [1, 2]);
    assert.equal(r.version, 2);
    assert.deepEqual(store.getConfig('u1')?.config, Buffer.from([2]));
    assert.equal(store.deleteConfig('u1'), true);
    assert.equal(store.getConfig('u1'), undefined);
    // A config set after a delete continues the count: versions never go back (the agents' rollback guard).
    assert.equal(store.setConfig('u1', null, (v) => ({ config: Buffer.from([v]), configHash: `h${v}` })).version, 3);
  });

  void it('appends info, emits it, and filters by seq, time and type', () => {
    const emitted: InfoRecord[] = [];
    store.on('info', (r) => emitted.push(r));
    store.addInfo('u1', 'ZiDevice', { a: 1 });
    clock.t += 1000;
    store.addInfo('u1', 'ZiApp', { b: 2 });
    store.addInfo('u2', 'ZiApp', { c: 3 });
    assert.equal(emitted.length, 3);
    assert.deepEqual(store.listInfo('u1').map((r) => r.json), [{ a: 1 }, { b: 2 }]);
    assert.deepEqual(store.listInfo('u1', { sinceMs: clock.t }).map((r) => r.ztype), ['ZiApp']);
    assert.deepEqual(store.listInfo('u1', { sinceSeq: emitted[0].seq }).map((r) => r.ztype), ['ZiApp']);
    assert.deepEqual(store.listInfo('u1', { ztypes: ['ZiDevice'] }).map((r) => r.ztype), ['ZiDevice']);
  });

  void it('keeps a cluster token across updates', () => {
    const a = store.upsertCluster('c1', 'one', { x: 1 }, () => 'tok-1');
    const b = store.upsertCluster('c1', 'one', { x: 2 }, () => 'tok-2');
    assert.equal(a.token, 'tok-1');
    assert.equal(b.token, 'tok-1');
    assert.deepEqual(store.listClusters().map((c) => c.spec), [{ x: 2 }]);
  });

  void it('queued infos, metrics and last-seen commit together at the end of the turn; promises settle after the commit', async () => {
    store.addDevice({ uuid: 'u1', serial: 'S1', onboardHashHex: null, certPem: 'C', certHashHex: 'c1' });
    const emitted: number[] = [];
    store.on('info', (r) => emitted.push(r.seq));
    const a = store.queueInfo('u1', 'ZiDevice', { n: 1 });
    const b = store.queueInfo('u1', 'ZiApp', { n: 2 });
    const m = store.queueMetrics('u1', { cpu: 3 });
    store.noteSeen('u1');
    // Nothing is visible (or acknowledged) before the batch commits.
    assert.deepEqual(store.listInfo('u1'), []);
    assert.equal(store.getMetrics('u1'), undefined);
    assert.equal(store.getDevice('u1')?.lastSeenAt, null);
    const [ra, rb] = await Promise.all([a, b, m]);
    assert.ok(rb.seq > ra.seq);
    assert.deepEqual(emitted, [ra.seq, rb.seq]);
    assert.deepEqual(store.listInfo('u1').map((r) => r.json), [{ n: 1 }, { n: 2 }]);
    assert.deepEqual(store.getMetrics('u1')?.json, { cpu: 3 });
    assert.equal(store.getDevice('u1')?.lastSeenAt, clock.t);
    // A full queue commits at once, without waiting for the turn to end.
    const small = ControllerStore.open({ file: ':memory:', clock, maxBatch: 2 });
    const first = small.queueInfo('u9', 'ZiDevice', {});
    void small.queueInfo('u9', 'ZiDevice', {});
    assert.equal(small.listInfo('u9').length, 2);
    await first;
    small.close();
  });

  void it('commits a last-seen time alone within seenFlushMs, not at the end of the turn; with any earlier commit; on close', async () => {
    const s = ControllerStore.open({ file: ':memory:', clock, seenFlushMs: 50 });
    s.addDevice({ uuid: 'u1', serial: 'S1', onboardHashHex: null, certPem: 'C', certHashHex: 'c1' });
    s.noteSeen('u1');
    await new Promise((r) => setImmediate(r));
    assert.equal(s.getDevice('u1')?.lastSeenAt, null, 'a last-seen time alone waits for the timer');
    await new Promise((r) => setTimeout(r, 120));
    assert.equal(s.getDevice('u1')?.lastSeenAt, clock.t);
    // A write queued meanwhile takes it along at the end of the turn.
    clock.t += 1;
    s.noteSeen('u1');
    await s.setNonce('u1', 'abcdef012345');
    assert.equal(s.getDevice('u1')?.lastSeenAt, clock.t);
    // close() commits what is pending.
    clock.t += 1;
    s.noteSeen('u1');
    s.close();
    assert.throws(() => ControllerStore.open({ file: ':memory:', clock, seenFlushMs: 0 }), /seenFlushMs must be a positive integer, got 0/);
    const dir = await mkdtemp(path.join(os.tmpdir(), 'edgesim-store-seen-'));
    try {
      const file = path.join(dir, 'c.db');
      const a = ControllerStore.open({ file, clock });
      a.addDevice({ uuid: 'u1', serial: 'S1', onboardHashHex: null, certPem: 'C', certHashHex: 'c1' });
      a.noteSeen('u1');
      a.close();
      const b = ControllerStore.open({ file, clock });
      assert.equal(b.getDevice('u1')?.lastSeenAt, clock.t);
      b.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  void it('attest state (nonce, certs) commits with the next batch: invisible before, visible once the promise resolves', async () => {
    store.addDevice({ uuid: 'u1', serial: 'S1', onboardHashHex: null, certPem: 'C', certHashHex: 'c1' });
    const certs = [{ type: 11, hashAlgo: 1, certHashHex: 'aa', certB64: 'AA==' }];
    const n = store.setNonce('u1', 'abcdef012345');
    const c = store.setAttestCerts('u1', certs);
    assert.equal(store.getDevice('u1')?.nonce, null);
    await Promise.all([n, c]);
    assert.equal(store.getDevice('u1')?.nonce, 'abcdef012345');
    assert.deepEqual(store.getDevice('u1')?.attestCerts, certs);
  });

  void it('addDevice answers the row as stored (not read back) and knows the new sender at once', () => {
    const added = store.addDevice({ uuid: 'u1', serial: 'S1', onboardHashHex: 'aa', certPem: 'C', certHashHex: 'c1' });
    assert.deepEqual(added, store.getDevice('u1'));
    assert.deepEqual(store.deviceSender('c1'), { uuid: 'u1', certPem: Buffer.from('C') });
    // A refused insert (same cert) remembers nothing new.
    assert.throws(() => store.addDevice({ uuid: 'u2', serial: 'S2', onboardHashHex: null, certPem: 'D', certHashHex: 'c1' }));
    assert.equal(store.deviceSender('c1')?.uuid, 'u1');
    assert.equal(store.getDevice('u2'), undefined);
  });

  void it('keeps encoded infos as bytes and renders them when read: lists, latest, the device page, events on access', async () => {
    const rendered: string[] = [];
    const render = (b: Buffer): unknown => (rendered.push(b.toString()), JSON.parse(b.toString()) as unknown);
    const enc = ControllerStore.open({ file: ':memory:', clock, renderInfo: render });
    enc.addDevice({ uuid: 'u1', serial: 'S1', onboardHashHex: null, certPem: 'C', certHashHex: 'c1' });
    const events: InfoRecord[] = [];
    enc.on('info', (r) => events.push(r));
    enc.addInfo('u1', 'ZiApp', { app: 1 });
    const bytes = Buffer.from(JSON.stringify({ dinfo: { platform: 'edgesim', machineArch: 'x86_64' } }));
    const rec = await enc.queueEncodedInfo('u1', 'ZiDevice', bytes);
    // Nothing rendered to store it or to announce it: only when someone reads the JSON.
    assert.deepEqual(rendered, []);
    assert.equal(events.length, 2);
    assert.deepEqual(rec.json, { dinfo: { platform: 'edgesim', machineArch: 'x86_64' } });
    assert.deepEqual(JSON.parse(JSON.stringify(events[1])), { seq: rec.seq, deviceUuid: 'u1', receivedAt: clock.t, ztype: 'ZiDevice', json: rec.json });
    assert.equal(rendered.length, 1, 'rendered once per record');
    const row = (enc as unknown as { db: Database.Database }).db.prepare('SELECT json, pb FROM info WHERE seq = ?').get(rec.seq) as { json: string; pb: Buffer };
    assert.deepEqual([row.json, row.pb], ['', bytes], 'stored as received, no JSON text');
    assert.deepEqual(enc.listInfo('u1').map((r) => r.json), [{ app: 1 }, rec.json]);
    assert.deepEqual(enc.listInfo('u1', { ztypes: ['ZiApp'] }).map((r) => r.json), [{ app: 1 }]);
    assert.deepEqual(enc.latestInfos('u1').map((r) => r.ztype), ['ZiApp', 'ZiDevice']);
    const page = enc.listDevicePage({ search: '', limit: 5, offset: 0, now: clock.t, unreachableMs: 60_000 });
    assert.equal(page.rows[0].model, 'edgesim x86_64');
    enc.close();
    // A store that cannot render refuses to keep what it could not read back.
    assert.throws(() => store.queueEncodedInfo('u1', 'ZiDevice', bytes), /without renderInfo/);
  });

  void it('a queued write whose commit fails is refused, not acknowledged', async () => {
    const p = store.queueInfo('u1', 'ZiDevice', { big: 10n });
    await assert.rejects(p, /BigInt/);
    const q = store.queueInfo('u1', 'ZiDevice', {});
    store.close();
    // close() commits what is queued.
    await q;
    await assert.rejects(store.queueInfo('u1', 'ZiDevice', {}), /not open/);
  });

  void it('bounds the info history per device and keeps the latest of every type', async () => {
    const s2 = ControllerStore.open({ file: ':memory:', clock, infoHistory: 16 });
    s2.addInfo('u1', 'ZiApp', { app: 'old' });
    s2.addInfo('u2', 'ZiDevice', { other: true });
    let most = 0;
    for (let i = 0; i < 100; i++) {
      await s2.queueInfo('u1', 'ZiDevice', { i });
      most = Math.max(most, s2.listInfo('u1').length);
    }
    const kept = s2.listInfo('u1');
    // 16 newest ZiDevice (trimmed every ⌈16/8⌉ = 2 rows, so never more than 16 + 1) plus the only ZiApp.
    assert.ok(most <= 16 + 1 + 1, `log held ${most} rows`);
    assert.deepEqual(kept[0].json, { app: 'old' });
    assert.deepEqual(
      kept.slice(1).map((r) => (r.json as { i: number }).i),
      Array.from({ length: kept.length - 1 }, (_, k) => 100 - (kept.length - 1) + k),
    );
    assert.ok(kept.length - 1 >= 16);
    assert.equal(s2.listInfo('u2').length, 1, 'other devices untouched');
    s2.close();
    assert.throws(() => ControllerStore.open({ file: ':memory:', clock, infoHistory: 0 }), /infoHistory must be a positive integer/);
  });
});

void describe('ControllerStore migrations', () => {
  void it('upgrades a database of the previous version: latest-by-type filled, history trimmed on the next write', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'edgesim-store-'));
    try {
      const file = path.join(dir, 'controller.db');
      // The schema before user_version 1: an unbounded info table, no info_latest, no device indexes.
      const old = new Database(file);
      old.exec(`CREATE TABLE info (seq INTEGER PRIMARY KEY AUTOINCREMENT, device_uuid TEXT NOT NULL,
                  received_at INTEGER NOT NULL, ztype TEXT NOT NULL, json TEXT NOT NULL);
                CREATE INDEX info_device ON info(device_uuid, seq);`);
      const ins = old.prepare('INSERT INTO info (device_uuid, received_at, ztype, json) VALUES (?, 1, ?, ?)');
      ins.run('u1', 'ZiApp', '{"app":1}');
      for (let i = 0; i < 50; i++) ins.run('u1', 'ZiDevice', JSON.stringify({ i }));
      old.close();

      const clock = manualClock();
      const s = ControllerStore.open({ file, clock, infoHistory: 8 });
      assert.equal(s.listInfo('u1').length, 51, 'nothing dropped by the upgrade itself');
      await s.queueInfo('u1', 'ZiDevice', { i: 50 });
      assert.deepEqual(
        s.listInfo('u1').map((r) => r.json),
        [{ app: 1 }, ...Array.from({ length: 8 }, (_, k) => ({ i: 43 + k }))],
      );
      s.close();
      const db = new Database(file, { readonly: true });
      assert.equal(db.pragma('user_version', { simple: true }), 3);
      assert.ok((db.pragma('table_info(info)') as { name: string }[]).some((c) => c.name === 'pb'), 'info.pb added');
      const indexes = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'device'").all() as { name: string }[]).map((r) => r.name);
      assert.ok(indexes.includes('device_onboard_serial'), indexes.join());
      db.close();
      // Opening again runs no migration twice.
      ControllerStore.open({ file, clock }).close();
      // Durability: 'process' is synchronous=NORMAL (1), 'power' is FULL (2, an fsync per commit).
      for (const [durability, level] of [['process', 1], ['power', 2]] as const) {
        const st = ControllerStore.open({ file, clock, durability });
        assert.equal((st as unknown as { db: Database.Database }).db.pragma('synchronous', { simple: true }), level);
        st.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

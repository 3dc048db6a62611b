import { describe, it, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
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

  void it('creates the integrity token once and keeps it', () => {
    store.addDevice({ uuid: 'u1', serial: 'S1', onboardHashHex: null, certPem: 'C', certHashHex: 'c1' });
    assert.equal(store.ensureIntegrityToken('u1', () => 'first'), 'first');
    assert.equal(store.ensureIntegrityToken('u1', () => 'second'), 'first');
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
});

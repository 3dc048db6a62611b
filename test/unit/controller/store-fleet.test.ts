/**
 * The store's fleet queries (dashboard and `controller devices --summary/--search/--limit/--offset`) on a seeded
 * store of 10,000 devices: phase of each device (table), counts by phase and last-seen age, paging in
 * registration order, search with LIKE wildcards taken literally, latest info per type.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ControllerStore, LAST_SEEN_BUCKETS_MS } from '../../../src/controller/store.js';
import type { Clock } from '../../../src/common/index.js';

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

const N = 10_000;
const UNREACHABLE = 180_000;
const uuid = (i: number): string => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;

/** What device i is seeded as: [state, last seen ms ago or null]. Cycles through the table. */
const SEED: readonly [state: 'registered' | 'nonce' | 'certs' | 'attested', seenAgo: number | null, phase: string][] = [
  ['registered', null, 'onboarding'],
  ['nonce', 5_000, 'attesting'],
  ['certs', 20_000, 'attesting'],
  ['attested', 1_000, 'running'],
  ['attested', 50_000, 'running'],
  ['attested', 200_000, 'unreachable'], // silent past the threshold: unreachable whatever it reached
  ['registered', 4_000_000, 'unreachable'],
  ['attested', null, 'running'], // attested without a recorded request (pre-upgrade rows)
];

void describe('ControllerStore fleet queries (10,000 devices)', () => {
  const clock = manualClock();
  let store: ControllerStore;
  const now = clock.t + 10_000_000;

  before(async () => {
    store = ControllerStore.open({ file: ':memory:', clock });
    for (let i = 0; i < N; i++) {
      clock.t += 1; // registration order = index order
      const [state, seenAgo] = SEED[i % SEED.length];
      const u = uuid(i);
      store.addDevice({ uuid: u, serial: `SIM-${String(i).padStart(5, '0')}`, onboardHashHex: null, certPem: 'PEM', certHashHex: `h${i}` });
      if (state === 'nonce') await store.setNonce(u, 'abcdef012345');
      if (state === 'certs') await store.setAttestCerts(u, [{ type: 12, hashAlgo: 1, certHashHex: 'aa', certB64: 'AA==' }]);
      if (state === 'attested') store.ensureIntegrityToken(u, () => 'f'.repeat(128));
      if (seenAgo !== null) {
        const t = clock.t;
        clock.t = now - seenAgo;
        store.touchDevice(u);
        clock.t = t;
      }
    }
  });
  after(() => store.close());

  void it('phase of each seeded kind (table)', () => {
    for (const [k, [state, seenAgo, phase]] of SEED.entries()) {
      const row = store.listDevicePage({ search: uuid(k), limit: 1, offset: 0, now, unreachableMs: UNREACHABLE }).rows[0];
      assert.equal(row.phase, phase, `${state}, seen ${seenAgo} ms ago`);
    }
  });

  void it('counts by phase and by last-seen age add up to the fleet', () => {
    const c = store.fleetCounts(now, UNREACHABLE);
    const per = N / SEED.length;
    assert.equal(c.total, N);
    assert.equal(store.deviceCount(), N, 'the cheap count (dashboard rates) agrees');
    assert.deepEqual(c.phases, { onboarding: per, attesting: 2 * per, running: 3 * per, unreachable: 2 * per });
    // Buckets: <10 s, <30 s, <1 min, <5 min, <15 min, <1 h, older, never.
    assert.equal(c.lastSeen.length, LAST_SEEN_BUCKETS_MS.length + 2);
    assert.deepEqual(c.lastSeen, [2 * per, per, per, per, 0, 0, per, 2 * per]);
  });

  void it('pages in registration order and reports the total', () => {
    const p1 = store.listDevicePage({ limit: 50, offset: 0, now, unreachableMs: UNREACHABLE });
    const p3 = store.listDevicePage({ limit: 50, offset: 100, now, unreachableMs: UNREACHABLE });
    const last = store.listDevicePage({ limit: 50, offset: N - 20, now, unreachableMs: UNREACHABLE });
    assert.equal(p1.total, N);
    assert.deepEqual(p1.rows.map((r) => r.serial).slice(0, 2), ['SIM-00000', 'SIM-00001']);
    assert.equal(p3.rows[0].serial, 'SIM-00100');
    assert.equal(last.rows.length, 20);
    assert.equal(last.rows.at(-1)!.serial, 'SIM-09999');
  });

  void it('searches serial, UUID and name case-insensitively; % and _ are literal', () => {
    const s = (search: string): { total: number; serials: string[] } => {
      const p = store.listDevicePage({ search, limit: 500, offset: 0, now, unreachableMs: UNREACHABLE });
      return { total: p.total, serials: p.rows.map((r) => r.serial) };
    };
    assert.equal(s('sim-0999').total, 10);
    assert.deepEqual(s('000000009999').serials, ['SIM-09999']);
    assert.equal(s('%').total, 0, '% is not a wildcard');
    assert.equal(s('SIM_0').total, 0, '_ is not a wildcard');
    assert.equal(s('  ').total, N, 'blank = no filter');
    store.setConfig(uuid(7), 'edge-node-7', () => ({ config: Buffer.from('x'), configHash: 'h' }));
    const named = store.listDevicePage({ search: 'EDGE-NODE', limit: 5, offset: 0, now, unreachableMs: UNREACHABLE });
    assert.deepEqual(named.rows.map((r) => [r.uuid, r.name, r.configVersion]), [[uuid(7), 'edge-node-7', 1]]);
  });

  void it('latest info per type and the last info of a row', () => {
    const u = uuid(3);
    clock.t = now - 3_000;
    store.addInfo(u, 'ZiDevice', { n: 1 });
    store.addInfo(u, 'ZiNop', { cluster_node: { node_status: 'Z_INFO_CLUSTER_NODE_STATUS_READY' } });
    clock.t = now - 1_000;
    store.addInfo(u, 'ZiDevice', { n: 2, dinfo: { platform: 'edgesim', machineArch: 'x86_64' } });
    const latest = store.latestInfos(u);
    assert.deepEqual(latest.map((r) => [r.ztype, r.json]), [
      ['ZiNop', { cluster_node: { node_status: 'Z_INFO_CLUSTER_NODE_STATUS_READY' } }],
      ['ZiDevice', { n: 2, dinfo: { platform: 'edgesim', machineArch: 'x86_64' } }],
    ]);
    const row = store.listDevicePage({ search: u, limit: 1, offset: 0, now, unreachableMs: UNREACHABLE }).rows[0];
    assert.deepEqual([row.lastInfoType, row.lastInfoAt, row.model], ['ZiDevice', now - 1_000, 'edgesim x86_64']);
    assert.equal(store.listDevicePage({ search: uuid(4), limit: 1, offset: 0, now, unreachableMs: UNREACHABLE }).rows[0].model, null);
    assert.deepEqual(store.latestInfos(uuid(4)), []);
  });
});

/** Expectations and invariants over what the controller received, as tables of reports. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { allReady, checkExpectation, concurrentLeaders, doubleReporters, Observation, staleAddresses, type NodeFacts } from '../../../src/scenario/observe.js';

const U = ['u1', 'u2', 'u3'];
const facts = (over: Partial<NodeFacts>[] = []): NodeFacts[] =>
  U.map((uuid, i) => ({ uuid, clusterIp: `10.0.0.${i + 2}`, down: false, freshSinceMs: 0, ...over[i] }));
const status = (v: string): Record<string, unknown> => ({ cluster_node: { node_status: `Z_INFO_CLUSTER_NODE_STATUS_${v}` } });
const kube = (ready: boolean[]): Record<string, unknown> => ({
  cluster_info: { nodes: U.map((u, i) => ({ node_id: u, conditions: [{ type: 'KUBE_NODE_CONDITION_TYPE_READY', set: ready[i] }] })) },
});
const app = (id: string, running: boolean): Record<string, unknown> => ({ ainfo: { AppID: id, state: running ? 'RUNNING' : 'HALTED', cluster_app_running: running } });
const dev = (addrs: string[]): Record<string, unknown> => ({ dinfo: { systemAdapter: { status: [{ ports: addrs.length ? [{ name: 'ethernet1', IPAddrs: addrs }] : [] }] } } });

function formed(): Observation {
  const o = new Observation(3);
  for (let i = 0; i < 3; i++) o.ingest(i, status('READY'), 100);
  o.ingest(0, kube([true, true, true]), 110);
  return o;
}

test('all-ready: every node READY and the newest leader view lists all Ready', () => {
  const o = formed();
  assert.equal(allReady(o, facts()).held, true);
  o.ingest(0, kube([true, false, true]), 120);
  assert.match(allReady(o, facts()).seen, /not Ready in the leader's view: dev2/);
});

test('all-ready: a restarted node needs a report since its restart (its old READY is stale)', () => {
  const o = formed();
  const f = facts([{}, { freshSinceMs: 200 }]);
  const r = allReady(o, f);
  assert.equal(r.held, false);
  assert.match(r.seen, /dev2 \(no report since its restart\)/);
  o.ingest(1, status('READY'), 210);
  // The leader sends only on change: dev2 back before it was ever NotReady leaves the newest view (110) right.
  assert.equal(allReady(o, f).held, true, 'READY since the restart and the newest view lists all Ready');
  o.ingest(0, kube([true, false, true]), 220);
  assert.match(allReady(o, f).seen, /not Ready in the leader's view: dev2/, 'a newer view with dev2 NotReady counts');
  o.ingest(0, kube([true, true, true]), 230);
  assert.equal(allReady(o, f).held, true);
  const leaderRestarted = facts([{ freshSinceMs: 240 }, { freshSinceMs: 200 }]);
  o.ingest(0, status('READY'), 250);
  assert.match(allReady(o, leaderRestarted).seen, /not Ready in the leader's view: dev1, dev2, dev3/, "a restarted leader's views before its restart do not count");
});

test('all-ready: a killed node fails it; a node turned single is not a member', () => {
  assert.match(allReady(formed(), facts([{}, {}, { down: true }])).seen, /dev3 \(down\)/);
  assert.equal(allReady(formed(), facts([{}, {}, { clusterIp: undefined }])).held, true);
});

test('node-status: a report since the step counts even when a later one differs; else the latest', () => {
  const o = formed();
  o.ingest(2, status('NOTREADY'), 300);
  o.ingest(2, status('READY'), 310);
  const e = { kind: 'node-status', node: 2, status: 'NOTREADY', withinMs: 1 } as const;
  assert.equal(checkExpectation(e, o, facts(), 250, (n) => n).held, true);
  assert.equal(checkExpectation(e, o, facts(), 305, (n) => n).held, false);
});

test('leader-sees: only views received since the step, from a live node', () => {
  const o = formed();
  const e = { kind: 'leader-sees', node: 1, ready: false, withinMs: 1 } as const;
  assert.equal(checkExpectation(e, o, facts(), 200, (n) => n).held, false);
  o.ingest(0, kube([true, false, true]), 300);
  assert.equal(checkExpectation(e, o, facts(), 200, (n) => n).held, true);
  assert.equal(checkExpectation(e, o, facts([{ down: true }]), 200, (n) => n).held, false, 'a dead leader says nothing new');
});

test('app-running: exactly one live reporter, on / not on a node; stale reports of a killed node do not count', () => {
  const o = formed();
  const e = (x: { on?: number; notOn?: number }) => ({ kind: 'app-running', app: 'A', withinMs: 1, ...x }) as const;
  o.ingest(1, app('A', true), 400);
  assert.equal(checkExpectation(e({ on: 1 }), o, facts(), 0, (n) => n).held, true);
  assert.equal(checkExpectation(e({ notOn: 1 }), o, facts(), 0, (n) => n).held, false);
  o.ingest(0, app('A', true), 500);
  const both = checkExpectation(e({}), o, facts(), 0, (n) => n);
  assert.equal(both.held, false);
  assert.equal(both.seen, 'running on dev1, dev2');
  assert.deepEqual(doubleReporters(o, facts(), new Map([['web', 'A']])), ['app web reported running by dev1 and dev2']);
  assert.equal(checkExpectation(e({ notOn: 1 }), o, facts([{}, { down: true }]), 0, (n) => n).held, true);
  assert.deepEqual(doubleReporters(o, facts([{}, { freshSinceMs: 450 }]), new Map([['web', 'A']])), [], 'dev2 restarted since its report');
});

test('cluster-address and no-stale-cluster-address', () => {
  const o = formed();
  o.ingest(2, dev(['10.0.0.4/24']), 100);
  const present = { kind: 'cluster-address', node: 2, present: true, withinMs: 1 } as const;
  assert.equal(checkExpectation(present, o, facts(), 0, (n) => n).held, true);
  assert.deepEqual(staleAddresses(o, facts()), []);
  const single = facts([{}, {}, { clusterIp: undefined, freshSinceMs: 50 }]);
  assert.deepEqual(staleAddresses(o, single), ['dev3 reports cluster address 10.0.0.4/24 (assigned: none)']);
  o.ingest(2, dev([]), 200);
  assert.equal(checkExpectation({ kind: 'cluster-address', node: 2, present: false, withinMs: 1 }, o, single, 0, (n) => n).held, true);
  assert.deepEqual(staleAddresses(o, single), []);
});

test('one-leader: alternating ZInfoKubeCluster senders are two leaders; a handover, a late delivery or a single node are not', () => {
  const leader = (o: Observation, i: number, at: number, cluster = 'c1', made = at): void =>
    o.ingest(i, { cluster_info: { cluster_id: cluster, nodes: [{ node_id: U[i], conditions: [{ set: true }] }] } }, at, 'ethernet1', made);
  const cases: Array<[string, Array<[number, number, string?, number?]>, Partial<NodeFacts>[], string[]]> = [
    ['one leader all along', [[0, 100], [0, 130], [0, 160]], [], []],
    ['handover dev1 → dev2', [[0, 100], [0, 130], [1, 140], [1, 170]], [], []],
    ['one late delivery from the old leader', [[0, 100], [1, 140], [0, 150]], [], []],
    ['a killed leader restarted: its queued report, made before the new leader began, arrives later', [[0, 100], [1, 140], [0, 150, 'c1', 120], [1, 170]], [], []],
    ['the same with a report made after the new leader began', [[0, 100], [1, 140], [0, 150, 'c1', 145], [1, 170]], [], ['dev1 and dev2 both report ZInfoKubeCluster as leader']],
    ['dev1 and dev2 both keep reporting', [[0, 100], [1, 110], [0, 130], [1, 140]], [], ['dev1 and dev2 both report ZInfoKubeCluster as leader']],
    ['the same, but dev1 was killed since', [[0, 100], [1, 110], [0, 130], [1, 140]], [{ down: true }], []],
    ['the same, but before the window', [[0, 10], [1, 11], [0, 13], [1, 14]], [], []],
    ['single nodes report the nil UUID', [[0, 100, '00000000-0000-0000-0000-000000000000'], [1, 110, '00000000-0000-0000-0000-000000000000'], [0, 130, '00000000-0000-0000-0000-000000000000'], [1, 140, '00000000-0000-0000-0000-000000000000']], [], []],
  ];
  for (const [what, reports, over, want] of cases) {
    const o = new Observation(3);
    for (const [i, at, cluster, made] of reports) leader(o, i, at, cluster, made);
    assert.deepEqual(concurrentLeaders(o, facts(over), 200, 120), want, what);
  }
});

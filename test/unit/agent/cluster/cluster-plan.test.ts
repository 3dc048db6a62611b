/**
 * The cluster transition planner, one row per transition of issue 11: the exact steps, walked to the end the way
 * the executor runs them (first step, record, plan again), and the applied state they end in.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  afterStep,
  configKey,
  membershipKey,
  monitorKey,
  nothingApplied,
  planCluster,
  wantedAfter,
  type ClusterApplied,
  type ClusterStep,
  type ClusterTarget,
  type ClusterWanted,
} from '../../../../src/agent/cluster/cluster-plan.js';

const CLUSTER = '5b2b5e1c-8a46-4c5f-9a57-7f3c1c2e0d11';
const OTHER = '7c3c6f2d-9b57-4d6a-8b68-8a4d2d3f1e22';
const target = (over: Partial<ClusterTarget> = {}): ClusterTarget => ({
  clusterId: CLUSTER,
  clusterName: 'c1',
  label: 'ethernet1',
  ifname: 'eth1',
  clusterIp: '10.244.244.3',
  prefixLength: 24,
  joinServerIp: '10.244.244.2',
  role: 'server',
  clusterType: 2,
  tieBreakerNodeId: '',
  tokenDigest: 'd1',
  ...over,
});
const cluster = (over: Partial<ClusterTarget> = {}): ClusterWanted => ({ kind: 'cluster', deviceName: 'dev', target: target(over) });
const bootstrap = (over: Partial<ClusterTarget> = {}): ClusterWanted => cluster({ clusterIp: '10.244.244.2', role: 'bootstrap', ...over });
const single: ClusterWanted = { kind: 'single', deviceName: 'dev' };

/** Runs the plan as the executor does; returns the steps taken and the final state. */
function walk(a: ClusterApplied, w: ClusterWanted | undefined): { steps: ClusterStep[]; applied: ClusterApplied } {
  const steps: ClusterStep[] = [];
  let cur = a;
  for (;;) {
    const [step] = planCluster(cur, w);
    if (!step) return { steps, applied: cur };
    assert.ok(steps.length < 20, `no convergence: ${steps.map((s) => s.kind).join(', ')}`);
    steps.push(step);
    cur = afterStep(cur, step);
  }
}

/** The state a node is in once `w` is fully applied. */
const settled = (w: ClusterWanted, from: ClusterApplied = nothingApplied()): ClusterApplied => walk(from, w).applied;

/** A step's kind, with the address it touches. */
const show = (s: ClusterStep): string =>
  s.kind === 'add-address' || s.kind === 'remove-address' ? `${s.kind} ${s.address.ifname} ${s.address.ip}/${s.address.prefix}` : s.kind;

function assertWorld(a: ClusterApplied, w: ClusterWanted): void {
  if (w.kind === 'cluster') {
    const t = w.target;
    assert.deepEqual(a.addresses, [{ ifname: t.ifname, ip: t.clusterIp, prefix: t.prefixLength }], 'exactly the cluster address');
    assert.deepEqual(a.statusServer, { ip: t.clusterIp, clusterId: t.clusterId }, 'status server on the cluster IP');
  } else {
    assert.deepEqual(a.addresses, [], 'no cluster address in single-node mode');
    assert.equal(a.statusServer, undefined, 'no status server in single-node mode');
  }
  assert.equal(a.data, membershipKey(w));
  assert.equal(a.k3s, configKey(w), 'k3s runs with the drop-ins of the wanted config');
  assert.equal(a.dropIns, configKey(w));
  assert.equal(a.monitor, monitorKey(w));
  assert.deepEqual(planCluster(a, w), [], 'nothing left to do');
}

const rows: { name: string; from: () => ClusterApplied; to: ClusterWanted; steps: string[] }[] = [
  {
    name: 'none → bootstrap',
    from: () => nothingApplied(),
    to: bootstrap(),
    steps: ['add-address eth1 10.244.244.2/24', 'start-status-server', 'write-drop-ins', 'start-k3s', 'start-monitor'],
  },
  {
    name: 'none → joiner (waits for the bootstrap)',
    from: () => nothingApplied(),
    to: cluster(),
    steps: ['add-address eth1 10.244.244.3/24', 'start-status-server', 'wait-bootstrap', 'write-drop-ins', 'start-k3s', 'start-monitor'],
  },
  {
    name: 'none → single-node',
    from: () => nothingApplied(),
    to: single,
    steps: ['write-drop-ins', 'start-k3s', 'start-monitor'],
  },
  {
    name: 'single-node → joiner (blank k3s first, §5.2)',
    from: () => settled(single),
    to: cluster(),
    steps: ['stop-monitor', 'reset-k3s', 'add-address eth1 10.244.244.3/24', 'start-status-server', 'wait-bootstrap', 'write-drop-ins', 'start-k3s', 'start-monitor'],
  },
  {
    name: 'joiner → bootstrap (join server renumbered to this node)',
    from: () => settled(cluster()),
    to: cluster({ joinServerIp: '10.244.244.3', role: 'bootstrap' }),
    steps: ['stop-monitor', 'leave', 'reset-k3s', 'write-drop-ins', 'start-k3s', 'start-monitor'],
  },
  {
    name: 'server → worker',
    from: () => settled(cluster()),
    to: cluster({ role: 'agent' }),
    steps: ['stop-monitor', 'leave', 'reset-k3s', 'wait-bootstrap', 'write-drop-ins', 'start-k3s', 'start-monitor'],
  },
  {
    name: 'worker → server',
    from: () => settled(cluster({ role: 'agent' })),
    to: cluster(),
    steps: ['stop-monitor', 'leave', 'reset-k3s', 'wait-bootstrap', 'write-drop-ins', 'start-k3s', 'start-monitor'],
  },
  {
    name: 'cluster IP change: leave, old address removed, rejoin at the new one',
    from: () => settled(cluster()),
    to: cluster({ clusterIp: '10.244.244.9' }),
    steps: [
      'stop-monitor',
      'leave',
      'stop-status-server',
      'reset-k3s',
      'remove-address eth1 10.244.244.3/24',
      'add-address eth1 10.244.244.9/24',
      'start-status-server',
      'wait-bootstrap',
      'write-drop-ins',
      'start-k3s',
      'start-monitor',
    ],
  },
  {
    name: 'prefix change: the address is replaced with the prefix it was added with',
    from: () => settled(cluster()),
    to: cluster({ prefixLength: 16 }),
    steps: ['stop-status-server', 'remove-address eth1 10.244.244.3/24', 'add-address eth1 10.244.244.3/16', 'start-status-server'],
  },
  {
    name: 'interface change: address moves, flannel-iface rewritten',
    from: () => settled(cluster()),
    to: cluster({ ifname: 'eth2', label: 'ethernet2' }),
    steps: [
      'stop-monitor',
      'stop-status-server',
      'remove-address eth1 10.244.244.3/24',
      'add-address eth2 10.244.244.3/24',
      'start-status-server',
      'write-drop-ins',
      'start-k3s',
      'start-monitor',
    ],
  },
  {
    name: 'token change: drop-ins rewritten, k3s restarted, nothing else',
    from: () => settled(cluster()),
    to: cluster({ tokenDigest: 'd2' }),
    steps: ['stop-monitor', 'write-drop-ins', 'start-k3s', 'start-monitor'],
  },
  {
    name: 'join server change of a joined node: new server URL, no new wait',
    from: () => settled(cluster()),
    to: cluster({ joinServerIp: '10.244.244.4' }),
    steps: ['stop-monitor', 'write-drop-ins', 'start-k3s', 'start-monitor'],
  },
  {
    name: 'another cluster: leave, rejoin the new one',
    from: () => settled(cluster()),
    to: cluster({ clusterId: OTHER }),
    steps: ['stop-monitor', 'leave', 'stop-status-server', 'reset-k3s', 'start-status-server', 'wait-bootstrap', 'write-drop-ins', 'start-k3s', 'start-monitor'],
  },
  {
    name: 'cluster → none (back to single-node, §5.5)',
    from: () => settled(cluster()),
    to: single,
    steps: ['stop-monitor', 'leave', 'stop-status-server', 'reset-k3s', 'remove-address eth1 10.244.244.3/24', 'write-drop-ins', 'start-k3s', 'start-monitor'],
  },
  {
    name: 'cluster → none → cluster: rejoins from blank',
    from: () => settled(single, settled(cluster())),
    to: cluster(),
    steps: ['stop-monitor', 'reset-k3s', 'add-address eth1 10.244.244.3/24', 'start-status-server', 'wait-bootstrap', 'write-drop-ins', 'start-k3s', 'start-monitor'],
  },
  {
    name: 'tie-breaker set: only the monitor restarts',
    from: () => settled(cluster()),
    to: cluster({ tieBreakerNodeId: '11111111-2222-4333-8444-555555555555' }),
    steps: ['stop-monitor', 'start-monitor'],
  },
  {
    name: 'agent restart with its cluster data: no wait, no reset',
    from: () => nothingApplied(membershipKey(cluster())),
    to: cluster(),
    steps: ['add-address eth1 10.244.244.3/24', 'start-status-server', 'write-drop-ins', 'start-k3s', 'start-monitor'],
  },
  {
    name: 'agent restart with another cluster’s data and no k3s running: reset without a drain',
    from: () => nothingApplied(membershipKey(cluster({ clusterId: OTHER }))),
    to: cluster(),
    steps: ['reset-k3s', 'add-address eth1 10.244.244.3/24', 'start-status-server', 'wait-bootstrap', 'write-drop-ins', 'start-k3s', 'start-monitor'],
  },
  {
    name: 'a newer config during the join wait (the wait was aborted, nothing recorded): the wait again',
    from: () => afterStep(afterStep(nothingApplied(), planCluster(nothingApplied(), cluster())[0]), planCluster(nothingApplied(), cluster())[1]),
    to: cluster(),
    steps: ['wait-bootstrap', 'write-drop-ins', 'start-k3s', 'start-monitor'],
  },
  {
    name: 'a newer config with a new IP during the join wait: the half-applied old address goes',
    from: () => walk(nothingApplied(), cluster()).steps.slice(0, 2).reduce(afterStep, nothingApplied()),
    to: cluster({ clusterIp: '10.244.244.9' }),
    steps: [
      'stop-status-server',
      'remove-address eth1 10.244.244.3/24',
      'add-address eth1 10.244.244.9/24',
      'start-status-server',
      'wait-bootstrap',
      'write-drop-ins',
      'start-k3s',
      'start-monitor',
    ],
  },
  {
    name: 'a join wait that failed: retried from the wait',
    from: () => walk(nothingApplied(), cluster()).steps.slice(0, 2).reduce(afterStep, nothingApplied()),
    to: cluster(),
    steps: ['wait-bootstrap', 'write-drop-ins', 'start-k3s', 'start-monitor'],
  },
  {
    name: 'a failed k3s start after the wait: started again without a new wait',
    from: () => walk(nothingApplied(), cluster()).steps.slice(0, 4).reduce(afterStep, nothingApplied()),
    to: cluster(),
    steps: ['start-k3s', 'start-monitor'],
  },
  {
    name: 'a leave that was interrupted before the reset: the reset still comes',
    from: () => walk(settled(cluster()), single).steps.slice(0, 2).reduce(afterStep, settled(cluster())),
    to: cluster(),
    steps: ['reset-k3s', 'wait-bootstrap', 'write-drop-ins', 'start-k3s', 'start-monitor'],
  },
];

describe('planCluster: every transition', () => {
  for (const row of rows) {
    it(row.name, () => {
      const { steps, applied } = walk(row.from(), row.to);
      assert.deepEqual(steps.map(show), row.steps);
      assertWorld(applied, row.to);
    });
  }

  it('the first plan equals the walked steps (the order does not depend on re-planning)', () => {
    for (const row of rows) assert.deepEqual(planCluster(row.from(), row.to).map(show), row.steps, row.name);
  });

  it('an applied state plans nothing', () => {
    for (const w of [single, cluster(), bootstrap(), cluster({ role: 'agent' })]) assert.deepEqual(planCluster(settled(w), w), []);
  });
});

describe('wantedAfter: invalid or undecryptable blocks change nothing', () => {
  const states: { name: string; last: ClusterWanted | undefined; applied: ClusterApplied }[] = [
    { name: 'fresh', last: undefined, applied: nothingApplied() },
    { name: 'single-node', last: single, applied: settled(single) },
    { name: 'bootstrap', last: bootstrap(), applied: settled(bootstrap()) },
    { name: 'joiner', last: cluster(), applied: settled(cluster()) },
    { name: 'worker', last: cluster({ role: 'agent' }), applied: settled(cluster({ role: 'agent' })) },
    {
      name: 'joiner waiting for the bootstrap',
      last: cluster(),
      applied: walk(nothingApplied(), cluster()).steps.slice(0, 2).reduce(afterStep, nothingApplied()),
    },
  ];
  for (const s of states) {
    it(`rejected in state ${s.name}: the last usable intent stays and its plan is unchanged`, () => {
      const w = wantedAfter(s.last, { kind: 'rejected' });
      assert.equal(w, s.last);
      assert.deepEqual(planCluster(s.applied, w), planCluster(s.applied, s.last));
      if (!s.last) assert.deepEqual(planCluster(s.applied, w), [], 'before any usable config nothing runs');
    });
  }

  it('absent is single-node; a usable block is its target', () => {
    assert.deepEqual(wantedAfter(cluster(), { kind: 'absent', deviceName: 'dev' }), single);
    assert.deepEqual(wantedAfter(single, { kind: 'cluster', deviceName: 'dev', target: target() }), cluster());
  });
});

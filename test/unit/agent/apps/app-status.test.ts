/** Per-node app status from pods (cluster.md §9.3) and the partition-safety gate (§10 step 2). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NODE_LOST_MESSAGE, observeApp, partitionSafe } from '../../../../src/agent/apps/app-status.js';
import type { KubeNodeStatus, KubePodStatus } from '../../../../src/k3s/index.js';

const pod = (name: string, over: Partial<KubePodStatus> = {}): KubePodStatus => ({
  name,
  namespace: 'eve-kube-app',
  phase: 'Running',
  labels: { 'app-uuid': 'u1' },
  owners: [{ kind: 'ReplicaSet', name: name.replace(/-[a-z0-9]{5}$/, '') }],
  restartCount: 0,
  ...over,
});
const q = { kubeName: 'web-u1abc-0', appUuid: 'u1', nodeName: 'edge-dev2', appUuidLabel: 'app-uuid' };

test('observeApp: running here, elsewhere, bound-pending, none; terminating pods ignored', () => {
  const here = observeApp([pod('web-u1abc-0-aaaaa', { nodeName: 'edge-dev2' })], q);
  assert.deepEqual([here.kubeStatus, here.scheduledOnThisNode, here.hostedHere], ['Running', true, true]);
  const there = observeApp([pod('web-u1abc-0-aaaaa', { nodeName: 'edge-dev1' })], q);
  assert.deepEqual([there.kubeStatus, there.scheduledOnThisNode, there.hostedHere], ['Running', false, false]);
  const bound = observeApp([pod('web-u1abc-0-aaaaa', { nodeName: 'edge-dev2', phase: 'Pending' })], q);
  assert.deepEqual([bound.kubeStatus, bound.scheduledOnThisNode], ['NotRunning', true]);
  const unbound = observeApp([pod('web-u1abc-0-aaaaa', { phase: 'Pending' })], q);
  assert.deepEqual([unbound.kubeStatus, unbound.scheduledOnThisNode], ['NotRunning', false]);
  assert.equal(observeApp([], q).kubeStatus, 'NotInCluster');
  const dying = observeApp([pod('web-u1abc-0-aaaaa', { nodeName: 'edge-dev2', deletionTimestamp: '2026-01-01T00:00:00Z' })], q);
  assert.deepEqual([dying.kubeStatus, dying.scheduledOnThisNode], ['NotInCluster', false]);
});

test('observeApp: the old pod of a failover is "terminating elsewhere"; other generations only count as hosted', () => {
  const o = observeApp(
    [
      pod('web-u1abc-0-old11', { nodeName: 'edge-dev1', deletionTimestamp: '2026-01-01T00:00:00Z' }),
      pod('web-u1abc-0-new22', { nodeName: 'edge-dev2' }),
      pod('web-u1abc-10-zzzzz', { nodeName: 'edge-dev3' }),
      pod('other-x9-0-bbbbb', { nodeName: 'edge-dev2', labels: { 'app-uuid': 'u2' } }),
    ],
    q,
  );
  assert.deepEqual(o.terminatingElsewhere.map((p) => p.name), ['web-u1abc-0-old11']);
  assert.equal(o.localPod?.name, 'web-u1abc-0-new22');
  assert.deepEqual(o.appPods.map((p) => p.name).sort(), ['web-u1abc-0-new22', 'web-u1abc-0-old11', 'web-u1abc-10-zzzzz']);
  const purged = observeApp([pod('web-u1abc-0-aaaaa', { nodeName: 'edge-dev2' })], { ...q, kubeName: 'web-u1abc-1' });
  assert.deepEqual([purged.kubeStatus, purged.scheduledOnThisNode, purged.hostedHere], ['NotInCluster', false, true]);
});

const node = (over: Partial<KubeNodeStatus>): KubeNodeStatus => ({
  name: 'edge-dev1',
  ready: 'True',
  readyConditionPresent: true,
  labels: {},
  annotations: {},
  roles: [],
  schedulable: true,
  taints: [],
  ...over,
});

test('partitionSafe: only a node whose kubelet stopped posting is written off (no split brain on NotReady)', () => {
  assert.equal(partitionSafe(node({ ready: 'Unknown', readyMessage: NODE_LOST_MESSAGE })).ok, true);
  assert.equal(partitionSafe(node({ ready: 'False', readyMessage: NODE_LOST_MESSAGE })).ok, true);
  assert.equal(partitionSafe(node({ ready: 'True', readyMessage: 'kubelet is posting ready status' })).ok, false);
  const notReady = partitionSafe(node({ ready: 'False', readyMessage: 'container runtime network not ready' }));
  assert.equal(notReady.ok, false);
  assert.match(notReady.reason, /not lost/);
  assert.equal(partitionSafe(node({ ready: 'Unknown', readyMessage: 'Kubelet stopped posting node status' })).ok, false, 'exact text, full stop included');
  assert.equal(partitionSafe(undefined).ok, false);
});

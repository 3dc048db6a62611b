/** The app ReplicaSet (cluster.md §9.1, §9.2): affinity, tolerations, repair and scaling. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { affinityMatches, appReplicaSet, workloadUpdate } from '../../../../src/agent/apps/workload.js';
import { failbackEvictions } from '../../../../src/agent/apps/failback.js';
import { olderGenerations } from '../../../../src/agent/apps/workload-actions.js';
import type { AppConfig } from '../../../../src/agent/index.js';
import type { KubePodStatus } from '../../../../src/k3s/index.js';

const app: AppConfig = {
  uuid: 'a1f0c3d2-5b4e-4a69-8c7d-0e1f2a3b4c01',
  version: '1',
  displayName: 'web',
  activate: true,
  designatedNodeId: '',
  affinity: 'preferred',
  purgeCounter: 2,
  restartCounter: 0,
  volumeRefs: [],
  cpus: 1,
  memoryKb: 262144,
};

test('appReplicaSet: 1 replica, labels, preferred hostname affinity weight 100, 15 s NoExecute tolerations', () => {
  const rs = appReplicaSet({ app, kubeName: 'web-a1f0c-2', nodeName: 'edge-dev1', replicas: 1 });
  assert.equal(rs.metadata?.name, 'web-a1f0c-2');
  assert.equal(rs.spec?.replicas, 1);
  assert.deepEqual(rs.spec?.selector.matchLabels, { 'app-uuid': app.uuid, 'app-kube-name': 'web-a1f0c-2' });
  assert.deepEqual(rs.spec?.template?.metadata?.labels, rs.spec?.selector.matchLabels);
  const spec = rs.spec?.template?.spec;
  assert.deepEqual(spec?.affinity, {
    nodeAffinity: {
      preferredDuringSchedulingIgnoredDuringExecution: [
        { weight: 100, preference: { matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['edge-dev1'] }] } },
      ],
    },
  });
  assert.deepEqual(spec?.tolerations, [
    { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 15 },
    { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 15 },
  ]);
  assert.deepEqual(spec?.containers[0]?.resources?.limits, { cpu: '1', memory: '262144Ki' });
});

test('REQUIRED affinity is requiredDuringScheduling on the hostname', () => {
  const rs = appReplicaSet({ app: { ...app, affinity: 'required' }, kubeName: 'web-a1f0c-2', nodeName: 'edge-dev2', replicas: 1 });
  assert.deepEqual(rs.spec?.template?.spec?.affinity?.nodeAffinity, {
    requiredDuringSchedulingIgnoredDuringExecution: {
      nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['edge-dev2'] }] }],
    },
  });
  assert.ok(affinityMatches(rs, 'edge-dev2', 'required'));
  assert.ok(!affinityMatches(rs, 'edge-dev2', 'preferred'));
  assert.ok(!affinityMatches(rs, 'edge-dev1', 'required'));
});

test('affinityMatches compares by meaning (an object read back from the API has extra empty fields)', () => {
  const rs = appReplicaSet({ app, kubeName: 'web-a1f0c-2', nodeName: 'edge-dev1', replicas: 1 });
  const readBack = structuredClone(rs);
  const term = readBack.spec!.template!.spec!.affinity!.nodeAffinity!.preferredDuringSchedulingIgnoredDuringExecution![0].preference;
  Object.assign(term, { matchFields: undefined });
  Object.assign(term.matchExpressions![0], { extra: undefined });
  assert.ok(affinityMatches(readBack, 'edge-dev1', 'preferred'));
  assert.ok(!affinityMatches(readBack, 'edge-dev3', 'preferred'));
});

test('workloadUpdate: repairs the affinity to the designated node and scales; nothing when it matches', () => {
  const rs = appReplicaSet({ app, kubeName: 'web-a1f0c-2', nodeName: 'edge-dev3', replicas: 1 });
  assert.equal(workloadUpdate(rs, { replicas: 1 }), undefined, 'a non-designated node never repairs');
  const repair = workloadUpdate(rs, { replicas: 1, repairAffinityTo: { nodeName: 'edge-dev1', affinity: 'preferred' } });
  assert.deepEqual(repair?.changes, ['affinity → preferred edge-dev1']);
  assert.ok(affinityMatches(repair.rs, 'edge-dev1', 'preferred'));
  assert.ok(affinityMatches(rs, 'edge-dev3', 'preferred'), 'the input is not modified');
  assert.equal(workloadUpdate(repair.rs, { replicas: 1, repairAffinityTo: { nodeName: 'edge-dev1', affinity: 'preferred' } }), undefined);
  const off = workloadUpdate(rs, { replicas: 0 });
  assert.deepEqual(off?.changes, ['replicas 1 → 0']);
  assert.equal(off?.rs.spec?.replicas, 0);
});

test('olderGenerations: lower purge counters and the previously applied name, never a newer generation', () => {
  const p = (rs: string): KubePodStatus => ({ name: `${rs}-abcde`, namespace: 'eve-kube-app', phase: 'Running', labels: { 'app-uuid': app.uuid }, owners: [{ kind: 'ReplicaSet', name: rs }], restartCount: 0 });
  assert.deepEqual(olderGenerations(app, 'web-a1f0c-2', 'web-a1f0c-1', [p('web-a1f0c-0'), p('web-a1f0c-2'), p('web-a1f0c-3')]), ['web-a1f0c-0', 'web-a1f0c-1']);
  assert.deepEqual(olderGenerations(app, 'web-a1f0c-2', 'web-a1f0c-2', []), []);
  assert.deepEqual(olderGenerations({ ...app, displayName: 'www' }, 'www-a1f0c-2', 'web-a1f0c-2', []), ['web-a1f0c-2'], 'a rename drops the old name');
});

test('failbackEvictions: only PREFERRED apps away from a Ready, schedulable designated node', () => {
  const dev1 = 'd1000000-0000-4000-8000-000000000001';
  const n = (name: string, uuid: string, ready: 'True' | 'Unknown' = 'True', schedulable = true) => ({
    name, ready, readyConditionPresent: true, labels: { 'node-uuid': uuid }, annotations: {}, roles: [], schedulable, taints: [],
  });
  const pod = (name: string, appUuid: string, nodeName: string, extra: Partial<KubePodStatus> = {}): KubePodStatus => ({
    name, namespace: 'eve-kube-app', phase: 'Running', nodeName, labels: { 'app-uuid': appUuid }, owners: [], restartCount: 0, ...extra,
  });
  const pref = { ...app, designatedNodeId: dev1 };
  const req = { ...app, uuid: 'r', affinity: 'required' as const, designatedNodeId: dev1 };
  const pods = [pod('p-away', app.uuid, 'edge-dev3'), pod('p-dying', app.uuid, 'edge-dev2', { deletionTimestamp: 'x' }), pod('r-away', 'r', 'edge-dev3')];
  assert.deepEqual(failbackEvictions([pref, req], pods, [n('edge-dev1', dev1), n('edge-dev3', 'x')]), [{ appId: app.uuid, pod: 'p-away', home: 'edge-dev1' }]);
  assert.deepEqual(failbackEvictions([pref], pods, [n('edge-dev1', dev1, 'Unknown')]), [], 'home not Ready');
  assert.deepEqual(failbackEvictions([pref], pods, [n('edge-dev1', dev1, 'True', false)]), [], 'home cordoned');
  assert.deepEqual(failbackEvictions([pref], [pod('p-home', app.uuid, 'edge-dev1')], [n('edge-dev1', dev1)]), [], 'already home');
});

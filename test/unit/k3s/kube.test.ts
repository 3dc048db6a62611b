/**
 * kube.ts over @kubernetes/client-node against a tiny real HTTP server serving fixed Kubernetes JSON
 * (fake-kube-api.ts) — the k3s stand-in had not landed when this was written; the same calls should be pointed
 * at it once it has. Covers the plain status mapping, patches, ReplicaSet CRUD, error kinds and the timeout.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createClock, isAbortError } from '../../../src/common/index.js';
import { KubeClient, isKubeError, toKubeNodeStatus, toKubePodStatus } from '../../../src/k3s/index.js';
import { reviveDates } from '../../../src/k3s/kube.js';
import { captureLogger } from './capture-logger.js';
import { startFakeKubeApi, type FakeKubeApi } from './fake-kube-api.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'edgesim-kube-'));
let api: FakeKubeApi;
let kube: KubeClient;

const node = (name: string, ready: 'True' | 'False' | 'Unknown', extra: Record<string, unknown> = {}) => ({
  apiVersion: 'v1',
  kind: 'Node',
  metadata: {
    name,
    uid: `uid-${name}`,
    resourceVersion: '1',
    creationTimestamp: '2026-08-20T09:00:00Z',
    labels: {
      'kubernetes.io/hostname': name,
      'node-role.kubernetes.io/control-plane': 'true',
      'node-role.kubernetes.io/etcd': 'true',
      'node-uuid': '9a1c1e8e-3f7e-4c55-8f0e-2a7b9d6c4e10',
    },
  },
  spec: { taints: [{ key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' }] },
  status: {
    conditions: [
      { type: 'MemoryPressure', status: 'False' },
      {
        type: 'Ready',
        status: ready,
        reason: ready === 'Unknown' ? 'NodeStatusUnknown' : 'KubeletReady',
        message: ready === 'Unknown' ? 'Kubelet stopped posting node status.' : 'kubelet is posting ready status',
        lastTransitionTime: '2026-08-20T09:01:02Z',
      },
    ],
    addresses: [
      { type: 'InternalIP', address: '10.244.244.2' },
      { type: 'Hostname', address: name },
    ],
    nodeInfo: { kubeletVersion: 'v1.34.1+k3s1' },
  },
  ...extra,
});

before(async () => {
  api = await startFakeKubeApi('127.0.33.1', tmp);
  kube = KubeClient.fromKubeconfigFile(api.kubeconfig, { logger: captureLogger(), clock: createClock(100) });
});
after(async () => {
  await api.close();
  rmSync(tmp, { recursive: true, force: true });
});

void describe('status mapping', () => {
  void it('maps a lost node as EVE reads it', () => {
    const s = toKubeNodeStatus(node('edge-dev1', 'Unknown') as never);
    assert.deepEqual(s, {
      name: 'edge-dev1',
      ready: 'Unknown',
      readyConditionPresent: true,
      readyReason: 'NodeStatusUnknown',
      readyMessage: 'Kubelet stopped posting node status.',
      lastTransition: '2026-08-20T09:01:02.000Z',
      internalIp: '10.244.244.2',
      labels: {
        'kubernetes.io/hostname': 'edge-dev1',
        'node-role.kubernetes.io/control-plane': 'true',
        'node-role.kubernetes.io/etcd': 'true',
        'node-uuid': '9a1c1e8e-3f7e-4c55-8f0e-2a7b9d6c4e10',
      },
      annotations: {},
      roles: ['control-plane', 'etcd'],
      schedulable: true,
      taints: [{ key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' }],
      creationTimestamp: '2026-08-20T09:00:00.000Z',
      kubeletVersion: 'v1.34.1+k3s1',
      nodeUuid: '9a1c1e8e-3f7e-4c55-8f0e-2a7b9d6c4e10',
    });
  });

  void it('a node without conditions is Unknown, a cordoned one not schedulable', () => {
    const s = toKubeNodeStatus({ metadata: { name: 'n' }, spec: { unschedulable: true } });
    assert.equal(s.ready, 'Unknown');
    assert.equal(s.readyConditionPresent, false);
    assert.equal(s.schedulable, false);
    assert.deepEqual(s.roles, []);
  });

  void it('sums container restarts and takes the latest termination', () => {
    const p = toKubePodStatus({
      metadata: { name: 'app-0e7a9-0-abcde', namespace: 'eve-kube-app', ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'app-0e7a9-0', uid: 'u' }] },
      spec: { containers: [], nodeName: 'edge-dev2' },
      status: {
        phase: 'Running',
        podIP: '10.42.1.7',
        containerStatuses: [
          { name: 'a', image: 'x', imageID: '', ready: true, restartCount: 2, lastState: { terminated: { exitCode: 1, finishedAt: new Date('2026-08-20T09:05:00Z') } } },
          { name: 'b', image: 'x', imageID: '', ready: true, restartCount: 1, lastState: { terminated: { exitCode: 1, finishedAt: new Date('2026-08-20T09:07:00Z') } } },
        ],
      },
    });
    assert.equal(p.restartCount, 3);
    assert.equal(p.lastTerminationTime, '2026-08-20T09:07:00.000Z');
    assert.equal(p.nodeName, 'edge-dev2');
    assert.deepEqual(p.owners, [{ kind: 'ReplicaSet', name: 'app-0e7a9-0' }]);
  });
});

void describe('KubeClient', () => {
  void it('reads, labels, annotates, cordons and deletes nodes', async () => {
    api.nodes.set('edge-dev1', node('edge-dev1', 'True'));
    api.nodes.set('edge-dev2', node('edge-dev2', 'False'));
    assert.deepEqual(
      (await kube.listNodes()).map((n) => [n.name, n.ready]),
      [
        ['edge-dev1', 'True'],
        ['edge-dev2', 'False'],
      ],
    );
    const got = await kube.getNode('edge-dev1');
    assert.equal(got.internalIp, '10.244.244.2');
    let n = await kube.labelNode('edge-dev1', { 'tie-breaker-node': 'false', 'node-uuid': null });
    assert.equal(n.labels['tie-breaker-node'], 'false');
    assert.equal(n.nodeUuid, undefined);
    const patch = api.requests.at(-1)!;
    assert.equal(patch.method, 'PATCH');
    assert.equal(patch.contentType, 'application/merge-patch+json');
    n = await kube.annotateNode('edge-dev1', { 'node.longhorn.io/default-disks-config': '[]' });
    assert.equal(n.annotations['node.longhorn.io/default-disks-config'], '[]');
    assert.equal((await kube.cordonNode('edge-dev1')).schedulable, false);
    assert.equal((await kube.cordonNode('edge-dev1', false)).schedulable, true);
    await kube.deleteNode('edge-dev2');
    await assert.rejects(kube.getNode('edge-dev2'), (e) => isKubeError(e, 'NOT_FOUND') && e.status === 404);
    await assert.rejects(kube.deleteNode('edge-dev2'), (e) => isKubeError(e, 'NOT_FOUND'));
  });

  void it('lists pods with label and field selectors', async () => {
    api.pods.push(
      { metadata: { name: 'a-1', namespace: 'eve-kube-app', labels: { app: 'a' } }, spec: { nodeName: 'edge-dev1' }, status: { phase: 'Running' } },
      { metadata: { name: 'a-2', namespace: 'eve-kube-app', labels: { app: 'a' } }, spec: { nodeName: 'edge-dev2' }, status: { phase: 'Pending' } },
      { metadata: { name: 'sys', namespace: 'kube-system', labels: { app: 'a' } }, spec: { nodeName: 'edge-dev1' }, status: { phase: 'Running' } },
    );
    assert.deepEqual(
      (await kube.listPods()).map((p) => p.name),
      ['a-1', 'a-2'],
    );
    const pods = await kube.listPods({ labelSelector: 'app=a', fieldSelector: 'spec.nodeName=edge-dev2' });
    assert.deepEqual(
      pods.map((p) => [p.name, p.phase, p.nodeName]),
      [['a-2', 'Pending', 'edge-dev2']],
    );
    const q = api.requests.at(-1)!.query;
    assert.equal(q.get('labelSelector'), 'app=a');
    assert.equal(q.get('fieldSelector'), 'spec.nodeName=edge-dev2');
    assert.equal((await kube.listPods({ namespace: 'kube-system' }))[0].name, 'sys');
  });

  void it('creates, reads, replaces and deletes ReplicaSets in eve-kube-app, with conflicts', async () => {
    const rs = {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: { name: 'nginx-0e7a9-0', namespace: 'eve-kube-app' },
      spec: { replicas: 1, selector: { matchLabels: { app: 'nginx-0e7a9-0' } } },
    };
    const created = await kube.createReplicaSet(rs);
    assert.equal(created.metadata?.name, 'nginx-0e7a9-0');
    assert.equal(api.requests.at(-1)!.path, '/apis/apps/v1/namespaces/eve-kube-app/replicasets');
    await assert.rejects(
      kube.createReplicaSet(rs),
      (e) => isKubeError(e, 'CONFLICT') && e.context.reason === 'AlreadyExists',
    );
    const cur = await kube.getReplicaSet('nginx-0e7a9-0');
    const replaced = await kube.replaceReplicaSet({ ...cur, spec: { ...cur.spec!, replicas: 0 } });
    assert.equal(replaced.spec?.replicas, 0);
    await assert.rejects(kube.replaceReplicaSet(cur), (e) => isKubeError(e, 'CONFLICT') && e.context.reason === 'Conflict');
    await kube.deleteReplicaSet('nginx-0e7a9-0');
    assert.equal(api.requests.at(-1)!.method, 'DELETE');
    await assert.rejects(kube.getReplicaSet('nginx-0e7a9-0'), (e) => isKubeError(e, 'NOT_FOUND'));
  });

  void it('sends Lease times as MicroTime (six fraction digits) and reads times back as Dates', async () => {
    const at = new Date('2026-12-07T10:00:00.123Z');
    await kube.createLease({ metadata: { name: 'micro', namespace: 'eve-kube-app' }, spec: { holderIdentity: 'a', renewTime: at, acquireTime: at } });
    const stored = [...api.leases.values()].find((l) => l.metadata?.name === 'micro') as { spec: Record<string, unknown> };
    assert.equal(stored.spec.renewTime, '2026-12-07T10:00:00.123000Z');
    const back = await kube.getLease('eve-kube-app', 'micro');
    assert.ok(back.spec?.renewTime instanceof Date);
    assert.equal(back.spec.renewTime.getTime(), at.getTime());
    assert.equal(back.spec.holderIdentity, 'a', 'other strings stay strings');
  });

  void it('normalises failures: 403 FORBIDDEN, 503/refused/timeout UNREACHABLE, abort stays an AbortError', async () => {
    try {
      api.mode = 'forbidden';
      await assert.rejects(kube.listNodes(), (e) => isKubeError(e, 'FORBIDDEN') && e.status === 403);
      api.mode = 'unavailable';
      await assert.rejects(kube.listNodes(), (e) => isKubeError(e, 'UNREACHABLE') && e.status === 503);
      api.mode = 'hang';
      // 30 s per call, 100× faster, but at least 1 s of real time.
      const t0 = Date.now();
      await assert.rejects(kube.getNode('edge-dev1'), (e) => isKubeError(e, 'UNREACHABLE') && /no answer/.test(e.message));
      assert.ok(Date.now() - t0 >= 950);
      const ac = new AbortController();
      setTimeout(() => ac.abort(), 30);
      await assert.rejects(kube.getNode('edge-dev1', ac.signal), (e) => isAbortError(e));
    } finally {
      api.mode = 'ok';
    }
    const dead = await startFakeKubeApi('127.0.33.2', mkdtempSync(path.join(tmp, 'dead-')));
    const client = KubeClient.fromKubeconfigFile(dead.kubeconfig, { logger: captureLogger(), clock: createClock(100) });
    await dead.close();
    await assert.rejects(client.listNodes(), (e) => isKubeError(e, 'UNREACHABLE'));
    assert.throws(
      () => KubeClient.fromKubeconfigFile(path.join(tmp, 'missing.yaml'), { logger: captureLogger(), clock: createClock() }),
      (e) => isKubeError(e, 'UNREACHABLE'),
    );
  });
});

describe('reviveDates (answers parsed, then timestamps made Dates)', () => {
  const cases: [string, unknown, unknown][] = [
    ['a date field at depth', { metadata: { creationTimestamp: '2026-01-01T00:00:00Z' } }, { metadata: { creationTimestamp: new Date('2026-01-01T00:00:00Z') } }],
    ['in arrays of objects, with a fraction and an offset', { status: { conditions: [{ type: 'Ready', lastHeartbeatTime: '2026-01-01T00:00:02.123456+01:00' }] } }, { status: { conditions: [{ type: 'Ready', lastHeartbeatTime: new Date('2026-01-01T00:00:02.123456+01:00') }] } }],
    ['a date-looking value under another key stays text', { metadata: { name: '2026-01-01T00:00:00Z' } }, { metadata: { name: '2026-01-01T00:00:00Z' } }],
    ['a date field that is not RFC 3339 stays text', { spec: { renewTime: 'yesterday' } }, { spec: { renewTime: 'yesterday' } }],
    ['null and numbers untouched', { a: null, startTime: null, b: [1, 'x', null] }, { a: null, startTime: null, b: [1, 'x', null] }],
  ];
  for (const [name, input, want] of cases) it(name, () => assert.deepEqual(reviveDates(structuredClone(input)), want));
});

/**
 * The calls the agent makes with @kubernetes/client-node, against one stand-in server: nodes (read, label,
 * cordon, conditions/addresses/taints, delete), Leases for the kube-stats leader election
 * (`eve-kube-stats-leader` in `eve-kube-app`, cluster.md §7.1), pods by label and by spec.nodeName, ReplicaSet
 * CRUD, watch from a resourceVersion, and the API's error Statuses (404, 409, 422).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as k8s from '@kubernetes/client-node';
import { StandinCluster, missingPrerequisite, readiness, waitFor } from './harness.js';

const skip = missingPrerequisite();
const NODE = 'edge-solo';
const NS = 'eve-kube-app';
const merge = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);
const jsonPatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.JsonPatch);
const code = (c: number) => (e: unknown) => (e as { code?: number }).code === c;

describe('k3s stand-in: @kubernetes/client-node calls of the agent', { skip, timeout: 60_000 }, () => {
  let cluster: StandinCluster;
  let kc: k8s.KubeConfig;
  let core: k8s.CoreV1Api;
  let apps: k8s.AppsV1Api;
  let coord: k8s.CoordinationV1Api;

  before(async () => {
    cluster = new StandinCluster('client-node-token', 10);
    cluster.start('server', NODE, '127.0.3.2', ['--cluster-init', '--node-label', 'node-uuid=6f0e5a44-0000-4000-8000-000000000001']);
    await cluster.waitKubeconfig(NODE);
    kc = cluster.kubeConfig(NODE);
    core = kc.makeApiClient(k8s.CoreV1Api);
    apps = kc.makeApiClient(k8s.AppsV1Api);
    coord = kc.makeApiClient(k8s.CoordinationV1Api);
    await waitFor('node Ready', 30_000, async () => (await readiness(core)).get(NODE) === 'True');
    await waitFor('system namespaces', 10_000, async () => (await core.listNamespace()).items.length >= 4);
    await core.createNamespace({ body: { metadata: { name: NS } } });
  });

  after(async () => {
    await cluster?.stopAll();
  });

  it('reads nodes: conditions, addresses, labels, taints; labels and cordons through merge patches', async () => {
    const n = await core.readNode({ name: NODE });
    assert.equal(n.metadata?.labels?.['node-uuid'], '6f0e5a44-0000-4000-8000-000000000001');
    assert.equal(n.status?.addresses?.find((a) => a.type === 'InternalIP')?.address, '127.0.3.2');
    assert.equal(n.status?.conditions?.find((c) => c.type === 'Ready')?.reason, 'KubeletReady');
    assert.ok(n.metadata?.creationTimestamp instanceof Date);
    await core.patchNode({ name: NODE, body: { metadata: { labels: { 'tie-breaker-node': 'false' } } } }, merge);
    await core.patchNode({ name: NODE, body: { spec: { unschedulable: true } } }, merge);
    const after = await core.readNode({ name: NODE });
    assert.equal(after.metadata?.labels?.['tie-breaker-node'], 'false');
    assert.equal(after.spec?.unschedulable, true);
    await core.patchNode({ name: NODE, body: [{ op: 'replace', path: '/spec/unschedulable', value: false }] }, jsonPatch);
    assert.equal((await core.readNode({ name: NODE })).spec?.unschedulable, false);
    // The kubelet keeps posting status: the heartbeat moves.
    const hb = (x: k8s.V1Node) => x.status?.conditions?.find((c) => c.type === 'Ready')?.lastHeartbeatTime?.getTime() ?? 0;
    const first = hb(after);
    await waitFor('a newer heartbeat', 5_000, async () => hb(await core.readNode({ name: NODE })) > first);
  });

  it('runs leader-election leases: create, get, replace with the resourceVersion, 409 on a stale one', async () => {
    const body: k8s.V1Lease = {
      metadata: { name: 'eve-kube-stats-leader', namespace: NS },
      spec: { holderIdentity: NODE, leaseDurationSeconds: 300, acquireTime: new k8s.V1MicroTime(), renewTime: new k8s.V1MicroTime() },
    };
    const created = await coord.createNamespacedLease({ namespace: NS, body });
    await assert.rejects(coord.createNamespacedLease({ namespace: NS, body }), code(409));
    const got = await coord.readNamespacedLease({ name: 'eve-kube-stats-leader', namespace: NS });
    assert.equal(got.spec?.holderIdentity, NODE);
    got.spec.renewTime = new k8s.V1MicroTime();
    const replaced = await coord.replaceNamespacedLease({ name: 'eve-kube-stats-leader', namespace: NS, body: got });
    assert.notEqual(replaced.metadata?.resourceVersion, created.metadata?.resourceVersion);
    // A second writer with the old resourceVersion loses, as leader election relies on.
    await assert.rejects(coord.replaceNamespacedLease({ name: 'eve-kube-stats-leader', namespace: NS, body: created }), code(409));
    await assert.rejects(coord.readNamespacedLease({ name: 'nope', namespace: NS }), code(404));
  });

  it('manages replicasets and lists their pods by label and by spec.nodeName', async () => {
    const rs: k8s.V1ReplicaSet = {
      metadata: { name: 'app1-6f0e5-0', labels: { 'app.kubernetes.io/name': 'app1' } },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'app1-6f0e5-0' } },
        template: { metadata: { labels: { app: 'app1-6f0e5-0' } }, spec: { containers: [{ name: 'app', image: 'busybox' }] } },
      },
    };
    await apps.createNamespacedReplicaSet({ namespace: NS, body: rs });
    await waitFor('pod Running', 15_000, async () => {
      const pods = await core.listNamespacedPod({ namespace: NS, labelSelector: 'app=app1-6f0e5-0' });
      return pods.items.length === 1 && pods.items[0].status?.phase === 'Running';
    });
    const onNode = await core.listNamespacedPod({ namespace: NS, fieldSelector: `spec.nodeName=${NODE}` });
    assert.equal(onNode.items.length, 1);
    assert.match(onNode.items[0].metadata!.name!, /^app1-6f0e5-0-[a-z0-9]{5}$/);
    assert.equal((await core.listNamespacedPod({ namespace: NS, fieldSelector: 'spec.nodeName=other' })).items.length, 0);
    assert.equal((await core.listPodForAllNamespaces({ labelSelector: 'app in (app1-6f0e5-0)' })).items.length, 1);

    await apps.patchNamespacedReplicaSet({ name: 'app1-6f0e5-0', namespace: NS, body: { spec: { replicas: 0 } } }, merge);
    await waitFor('scaled to 0', 15_000, async () => (await core.listNamespacedPod({ namespace: NS, labelSelector: 'app=app1-6f0e5-0' })).items.length === 0);
    const list = await apps.listNamespacedReplicaSet({ namespace: NS });
    assert.equal(list.items.length, 1);
    await apps.deleteNamespacedReplicaSet({ name: 'app1-6f0e5-0', namespace: NS });
    await assert.rejects(apps.readNamespacedReplicaSet({ name: 'app1-6f0e5-0', namespace: NS }), code(404));
    // 422 for an invalid object, with a Status the client can read.
    await assert.rejects(apps.createNamespacedReplicaSet({ namespace: NS, body: { metadata: { name: 'Bad_Name' }, spec: rs.spec! } }), code(422));
  });

  it('watches pods from a resourceVersion and sees ADDED, MODIFIED and DELETED', async () => {
    const list = await core.listNamespacedPod({ namespace: NS });
    const events: string[] = [];
    const watch = new k8s.Watch(kc);
    const req = await watch.watch(
      `/api/v1/namespaces/${NS}/pods`,
      { resourceVersion: list.metadata!.resourceVersion!, labelSelector: 'w=1' },
      (type, obj: k8s.V1Pod) => events.push(`${type} ${obj.metadata?.name} ${obj.status?.phase ?? ''}`),
      () => undefined,
    );
    try {
      await core.createNamespacedPod({ namespace: NS, body: { metadata: { name: 'watched', labels: { w: '1' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } } });
      await waitFor('MODIFIED Running', 15_000, () => Promise.resolve(events.some((e) => e === 'MODIFIED watched Running')));
      await core.deleteNamespacedPod({ name: 'watched', namespace: NS, gracePeriodSeconds: 0 });
      await waitFor('DELETED', 10_000, () => Promise.resolve(events.some((e) => e.startsWith('DELETED watched'))));
      assert.equal(events[0], 'ADDED watched Pending');
    } finally {
      req.abort();
    }
  });

  it('deletes its own Node (cluster → single, cluster.md §5.5) and the kubelet does not re-create it', async () => {
    await core.deleteNode({ name: NODE });
    await new Promise((r) => setTimeout(r, 1_000));
    await assert.rejects(core.readNode({ name: NODE }), code(404));
  });
});

/**
 * Three stand-in servers on real etcd form one cluster (cluster-init + two joins), a fourth with a wrong token
 * is refused and never appears, and kubectl reads and changes it (get nodes -o wide, get pods -A, cordon,
 * label, delete pod).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import * as k8s from '@kubernetes/client-node';
import { StandinCluster, haveKubectl, kubectl, missingPrerequisite, readiness, waitFor } from './harness.js';

const skip = missingPrerequisite();
const IP = { n1: '127.0.1.2', n2: '127.0.1.3', n3: '127.0.1.4', bad: '127.0.1.5' };

describe('k3s stand-in: three servers', { skip, timeout: 150_000 }, () => {
  let cluster: StandinCluster;
  let core: k8s.CoreV1Api;
  let kubeconfig: string;

  before(async () => {
    cluster = new StandinCluster('cluster-test-token', 10);
    cluster.start('server', 'edge-dev1', IP.n1, ['--cluster-init', '--tls-san', IP.n1]);
    cluster.start('server', 'edge-dev2', IP.n2, ['--server', `https://${IP.n1}:6443`]);
    cluster.start('server', 'edge-dev3', IP.n3, ['--server', `https://${IP.n1}:6443`]);
    await cluster.waitKubeconfig('edge-dev1');
    kubeconfig = cluster.kubeconfigPath('edge-dev1');
    core = cluster.kubeConfig('edge-dev1').makeApiClient(k8s.CoreV1Api);
  });

  after(async () => {
    await cluster?.stopAll();
  });

  it('lists three Ready nodes with k3s roles and internal IPs', async () => {
    await waitFor('3 Ready nodes', 90_000, async () => {
      const r = await readiness(core);
      return r.size === 3 && [...r.values()].every((s) => s === 'True');
    });
    const nodes = (await core.listNode()).items;
    for (const n of nodes) {
      const labels = n.metadata?.labels ?? {};
      assert.equal(labels['kubernetes.io/hostname'], n.metadata?.name);
      assert.equal(labels['node-role.kubernetes.io/control-plane'], 'true');
      assert.equal(labels['node-role.kubernetes.io/etcd'], 'true');
    }
    const ips = nodes.map((n) => n.status?.addresses?.find((a) => a.type === 'InternalIP')?.address).sort();
    assert.deepEqual(ips, [IP.n1, IP.n2, IP.n3]);
    // Every server serves the API: the joiner's kubeconfig sees the same three nodes.
    await cluster.waitKubeconfig('edge-dev3');
    const other = cluster.kubeConfig('edge-dev3').makeApiClient(k8s.CoreV1Api);
    assert.equal((await other.listNode()).items.length, 3);
    // The kubeconfig is private, as the brief asks (0600).
    assert.equal(fs.statSync(kubeconfig).mode & 0o777, 0o600);
  });

  it('refuses a fourth server with a wrong token; it exits and never appears', async () => {
    const bad = cluster.start('server', 'intruder', IP.bad, ['--server', `https://${IP.n1}:6443`, '--token', 'wrong-token']);
    const code = await Promise.race([bad.exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 20_000))]);
    assert.equal(code, 1, `expected exit 1, got ${String(code)}\n${cluster.tail('intruder')}`);
    assert.match(cluster.tail('intruder'), /join refused.*token does not match/);
    assert.ok(!(await readiness(core)).has('intruder'));
    // No etcd member was added for it.
    assert.ok(!fs.existsSync(`${bad.dataDir}/server/db/etcd/member`));
  });

  it('serves kubectl: get nodes -o wide, get pods -A, cordon, label, delete pod', async (t) => {
    if (!haveKubectl()) {
      t.skip('kubectl not installed');
      return;
    }
    const wide = kubectl(kubeconfig, ['get', 'nodes', '-o', 'wide']);
    const header = wide.split('\n')[0];
    for (const col of ['NAME', 'STATUS', 'ROLES', 'AGE', 'VERSION', 'INTERNAL-IP', 'EXTERNAL-IP', 'OS-IMAGE', 'KERNEL-VERSION', 'CONTAINER-RUNTIME']) {
      assert.ok(header.includes(col), `column ${col} missing in:\n${wide}`);
    }
    assert.match(wide, /edge-dev2\s+Ready\s+control-plane,etcd,master\s+\S+\s+v1\.31\.4\+k3s1\s+127\.0\.1\.3/);

    kubectl(kubeconfig, ['create', 'namespace', 'eve-kube-app']);
    await core.createNamespacedPod({
      namespace: 'eve-kube-app',
      body: { metadata: { name: 'web', labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } },
    });
    await waitFor('pod web Running', 20_000, async () => (await core.readNamespacedPod({ name: 'web', namespace: 'eve-kube-app' })).status?.phase === 'Running');
    const pods = kubectl(kubeconfig, ['get', 'pods', '-A']);
    assert.match(pods.split('\n')[0], /NAMESPACE\s+NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE/);
    assert.match(pods, /eve-kube-app\s+web\s+1\/1\s+Running\s+0/);

    assert.match(kubectl(kubeconfig, ['cordon', 'edge-dev2']), /node\/edge-dev2 cordoned/);
    assert.equal((await core.readNode({ name: 'edge-dev2' })).spec?.unschedulable, true);
    assert.match(kubectl(kubeconfig, ['get', 'nodes']), /edge-dev2\s+Ready,SchedulingDisabled/);
    kubectl(kubeconfig, ['uncordon', 'edge-dev2']);

    assert.match(kubectl(kubeconfig, ['label', 'node', 'edge-dev3', 'node-uuid=1234']), /labeled/);
    assert.equal((await core.readNode({ name: 'edge-dev3' })).metadata?.labels?.['node-uuid'], '1234');

    assert.match(kubectl(kubeconfig, ['delete', 'pod', '-n', 'eve-kube-app', 'web']), /pod "web" deleted/);
    await assert.rejects(core.readNamespacedPod({ name: 'web', namespace: 'eve-kube-app' }), (e: unknown) => (e as { code?: number }).code === 404);
  });
});

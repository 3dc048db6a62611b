/**
 * Three stand-in servers on real etcd, started at the same instant as EVE nodes boot (the joiners call the
 * bootstrap before it serves), form one cluster: three Ready nodes and three voting etcd members. A fourth with a
 * wrong token is refused and never appears, and kubectl reads and changes the cluster (get nodes -o wide, get
 * pods -A, cordon, label, delete pod). A joiner whose etcd never starts costs the bootstrap no quorum and joins
 * later as the same member.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { Etcd3, type IMember } from 'etcd3';
import { StandinCluster, haveKubectl, kubectl, missingPrerequisite, readiness, waitFor } from './harness.js';

const skip = missingPrerequisite();
const IP = { n1: '127.0.1.2', n2: '127.0.1.3', n3: '127.0.1.4', bad: '127.0.1.5', boot: '127.0.1.12', late: '127.0.1.13' };

/** The etcd members as the member at `ip` sees them. */
async function etcdMembers(ip: string): Promise<IMember[]> {
  const etcd = new Etcd3({ hosts: [`http://${ip}:2379`] });
  try {
    return (await etcd.cluster.memberList({ linearizable: false })).members;
  } finally {
    etcd.close();
  }
}

describe('k3s stand-in: three servers', { skip, timeout: 150_000 }, () => {
  let cluster: StandinCluster;
  let core: k8s.CoreV1Api;
  let kubeconfig: string;

  before(async () => {
    cluster = new StandinCluster('cluster-test-token', 10);
    // All three at once: the joiners retry until the bootstrap serves, then join one after the other.
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
    // So are the copies of the cluster token k3s keeps (the stand-in writes them as k3s does).
    for (const f of ['token', 'node-token']) {
      const file = path.join(cluster.nodes.get('edge-dev1')!.dataDir, 'server', f);
      assert.equal(fs.statSync(file).mode & 0o777, 0o600, file);
      assert.match(fs.readFileSync(file, 'utf8'), /^K10[0-9a-f]{64}::server:/);
    }
    // One voting etcd member per server; no learner left behind.
    const members = await etcdMembers(IP.n1);
    assert.deepEqual(members.map((m) => [m.name, m.isLearner]).sort(), [['edge-dev1', false], ['edge-dev2', false], ['edge-dev3', false]]);
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

  it('a kubelet starts a pod bound to its node on the watch event, not on its 60 s resync', async () => {
    // Time scale 10: start delay 1 s spec (harness) = 0.1 s real; resync 60 s spec = 6 s real. Pods created one after the
    // other, each Running well inside the resync period, can only have been seen through the watch.
    const namespace = 'kubelet-watch';
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    for (const name of ['first', 'second', 'third']) {
      const t0 = performance.now();
      await core.createNamespacedPod({ namespace, body: { metadata: { name }, spec: { nodeName: 'edge-dev2', containers: [{ name: 'c', image: 'busybox' }] } } });
      await waitFor(`pod ${name} Running`, 20_000, async () => (await core.readNamespacedPod({ name, namespace })).status?.phase === 'Running');
      const took = performance.now() - t0;
      assert.ok(took >= 100, `${name} Running after ${took.toFixed(0)} ms, before the 0.1 s start delay`);
      assert.ok(took < 2_500, `${name} Running only after ${took.toFixed(0)} ms (resync is 6 s real)`);
    }
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

describe('k3s stand-in: a joiner whose etcd never starts', { skip, timeout: 150_000 }, () => {
  let cluster: StandinCluster;
  const late = `https://${IP.boot}:6443`;

  before(async () => {
    cluster = new StandinCluster('late-join-token', 10);
    cluster.start('server', 'edge-boot', IP.boot, ['--cluster-init']);
    await cluster.waitKubeconfig('edge-boot');
  });

  after(async () => {
    await cluster?.stopAll();
  });

  it('fails with the reason, costs the bootstrap no quorum, and joins later as the same member', async () => {
    // etcd that exits at once: the joiner's member was added, but never runs.
    const broken = cluster.start('server', 'edge-late', IP.late, ['--server', late, '--etcd-binary', 'false']);
    const code = await Promise.race([broken.exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 60_000))]);
    assert.equal(code, 1, `expected exit 1, got ${String(code)}\n${cluster.tail('edge-late')}`);
    assert.match(cluster.tail('edge-late'), /etcd exited with code 1 before it was ready/);
    assert.ok(!fs.existsSync(`${broken.dataDir}/server/db/etcd/member`), 'half-joined etcd data left behind');
    // Its member is at most a learner, so the bootstrap keeps quorum and serves.
    const mine = (await etcdMembers(IP.boot)).filter((m) => m.peerURLs.includes(`http://${IP.late}:2380`));
    assert.ok(mine.every((m) => m.isLearner), `the failed joiner became a voting member: ${JSON.stringify(mine)}`);
    const core = cluster.kubeConfig('edge-boot').makeApiClient(k8s.CoreV1Api);
    assert.deepEqual((await core.listNode()).items.map((n) => n.metadata?.name), ['edge-boot']);

    // The same node again, with a working etcd: it joins (reusing its learner if still there) and turns Ready.
    cluster.nodes.delete('edge-late');
    cluster.start('server', 'edge-late', IP.late, ['--server', late]);
    await waitFor('2 Ready nodes', 60_000, async () => {
      const r = await readiness(core);
      return r.size === 2 && [...r.values()].every((st) => st === 'True');
    });
    const members = await etcdMembers(IP.boot);
    assert.deepEqual(members.map((m) => [m.name, m.isLearner]).sort(), [['edge-boot', false], ['edge-late', false]]);
  });
});

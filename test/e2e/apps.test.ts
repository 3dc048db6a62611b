/**
 * Apps on a 3-node cluster (apps issue acceptance; cluster.md §7.5, §7.6, §9, §10), real processes: the embedded
 * controller, 3 agents, 3 k3s stand-ins on real etcd, time scale 10.
 *
 * A (designated dev1, PREFERRED, with a volume from a dev1 disk-image tree), B (dev2, REQUIRED) and C (dev1,
 * REQUIRED) are reported RUNNING only by their designated nodes. dev1 is killed: A is reported running by a
 * survivor after the partition-safety gate, C is reported by nobody, B is untouched. A is purged (new ReplicaSet
 * name, RUNNING again) and deleted (every live node sends the UUID-only message). Volumes: the designated node's PVC
 * `<uuid>-pvc-<generation>` exists in `eve-kube-app` (vol-a from dev1, blank vol-b from dev2) and vol-b's goes
 * with the volume. dev2 is killed last: B is not reported running by anyone.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { NODE_LOST_MESSAGE } from '../../src/agent/apps/index.js';
import { recordFailoverTimeline, type FailoverTimeline } from '../../src/demo/index.js';
import { createWriteStream } from 'node:fs';
import { createClock, createLogger } from '../../src/common/index.js';
import { appKubeNameWithPurge, isKubeError, pvcName, toK8sNodeName } from '../../src/k3s/index.js';
import { applyCluster, startNodes, type TestCluster, type TestNode } from '../helpers/cluster.js';
import {
  appReports,
  kubeOf,
  runningReporter,
  setWorkloads,
  waitClusterReady,
  waitRunningOn,
  type TestApp,
  type TestContentTree,
  type TestVolume,
} from '../helpers/apps.js';
import { waitFor } from '../helpers/wait.js';

const SCALE = 10;
let t: TestCluster;
let dev1: TestNode, dev2: TestNode, dev3: TestNode;
let A: TestApp, B: TestApp, C: TestApp;
let volA: TestVolume, volB: TestVolume, treeA: TestContentTree;
let timeline: FailoverTimeline;

before(async () => {
  // EDGESIM_TEST_LOG=<file> keeps the agents' JSON logs of a run for diagnosis.
  const logFile = process.env.EDGESIM_TEST_LOG;
  t = await startNodes(3, { timeScale: SCALE, ...(logFile ? { logger: createLogger({ level: 'info', format: 'json', stream: createWriteStream(logFile) }) } : {}) });
  [dev1, dev2, dev3] = t.nodes as [TestNode, TestNode, TestNode];
  await applyCluster(t);
  await waitClusterReady(t);
  treeA = { uuid: 'c0000000-0000-4000-8000-00000000000a', name: 'disk-a', designated: dev1.uuid };
  volA = { uuid: 'b0000000-0000-4000-8000-00000000000a', name: 'vol-a', designated: dev1.uuid, contentTree: treeA.uuid };
  volB = { uuid: 'b0000000-0000-4000-8000-00000000000b', name: 'vol-b', designated: dev2.uuid };
  A = { uuid: 'a0000000-0000-4000-8000-00000000000a', name: 'app-a', designated: dev1.uuid, affinity: 'preferred', volumes: [volA.uuid] };
  B = { uuid: 'a0000000-0000-4000-8000-00000000000b', name: 'app-b', designated: dev2.uuid, affinity: 'required' };
  C = { uuid: 'a0000000-0000-4000-8000-00000000000c', name: 'app-c', designated: dev1.uuid, affinity: 'required' };
});
after(async () => {
  await t?.dispose();
});

const others = (...not: TestNode[]): TestNode[] => t.nodes.filter((n) => !not.includes(n));

test('each app is reported RUNNING with cluster_app_running by its designated node only', async () => {
  await setWorkloads(t, { apps: [A, B, C], volumes: [volA, volB], contentTrees: [treeA] });
  await waitRunningOn(t, A.uuid, dev1);
  await waitRunningOn(t, B.uuid, dev2);
  await waitRunningOn(t, C.uuid, dev1);
  for (const [app, home] of [[A, dev1], [B, dev2], [C, dev1]] as const) {
    const foreign = await appReports(t, app.uuid, others(home));
    assert.deepEqual(foreign, [], `${app.name}: no ZInfoApp from a non-designated node`);
  }
  // §7.6: every node reports the volume (non-designated: CREATED_VOLUME at once); only dev1 reports its tree.
  for (const n of t.nodes) {
    const vols = (await t.ctl.admin.info(n.uuid, { types: ['ZiVolume'] })).map((i) => (i.info as { vinfo: { uuid: string; state?: string } }).vinfo);
    assert.equal(vols.filter((v) => v.uuid === volA.uuid).at(-1)?.state, 'CREATED_VOLUME', `${n.name} reports vol-a created`);
    const trees = (await t.ctl.admin.info(n.uuid, { types: ['ZiContentTree'] })).map((i) => (i.info as { cinfo: { uuid: string; state?: string; progressPercentage?: number } }).cinfo);
    if (n === dev1) {
      assert.equal(trees.at(-1)?.state, 'LOADED');
      assert.ok(trees.some((c) => c.state === 'DOWNLOAD_STARTED'), 'download progress reported');
    } else assert.deepEqual(trees, [], `${n.name} does not report a tree designated to dev1`);
  }
  const dev2Vol = (await t.ctl.admin.info(dev2.uuid, { types: ['ZiVolume'] })).map((i) => (i.info as { vinfo: { state?: string } }).vinfo.state);
  assert.deepEqual([...new Set(dev2Vol)], ['CREATED_VOLUME'], 'a non-designated node never shows the volume in progress');
  // §8: the designated nodes made the PVCs, seen through another node's API (one cluster, one etcd).
  for (const [vol, via] of [[volA, dev3], [volB, dev1]] as const) {
    const pvc = await waitFor(`PVC of ${vol.name}`, () => kubeOf(via).getPvc(pvcName(vol.uuid, 0)), 30_000, 250);
    assert.equal(pvc.metadata?.namespace, 'eve-kube-app');
    assert.equal(pvc.spec?.storageClassName, 'longhorn');
    assert.equal(pvc.status?.phase, 'Bound');
  }

  // Placement: A's ReplicaSet pins dev1 with a preferred term, tolerations of 15 s.
  const rs = await kubeOf(dev2).getReplicaSet(appKubeNameWithPurge(A.name, A.uuid, 0));
  const spec = rs.spec?.template?.spec;
  assert.equal(spec?.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution?.[0]?.weight, 100);
  assert.deepEqual(spec?.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution?.[0]?.preference.matchExpressions?.[0]?.values, ['edge-dev1']);
  assert.deepEqual(spec?.tolerations?.map((x) => [x.key, x.effect, x.tolerationSeconds]), [
    ['node.kubernetes.io/unreachable', 'NoExecute', 15],
    ['node.kubernetes.io/not-ready', 'NoExecute', 15],
  ]);
});

test('dev1 lost: A is taken over by a survivor, C (REQUIRED) by nobody, B is untouched', async (ctx) => {
  const mark = Math.max(0, ...(await appReports(t, B.uuid)).map((r) => r.seq));
  timeline = await recordFailoverTimeline({
    kube: kubeOf(dev2),
    appUuid: A.uuid,
    lostNode: toK8sNodeName('edge-dev1'),
    kill: () => dev1.stop(),
    reporter: () => runningReporter(t, A.uuid),
    lostReporter: dev1.name,
    clock: createClock(SCALE),
    timeoutMs: 900_000,
  });
  ctx.diagnostic(`failover timeline: ${JSON.stringify(timeline)}`);
  assert.ok(timeline.complete, `every failover step seen: ${JSON.stringify(timeline)}`);
  assert.equal(timeline.notReadyMessage, NODE_LOST_MESSAGE);
  // The 40 s grace counts from the last heartbeat the node left (lastHeartbeatTime in whole seconds, or the Lease
  // renewed every 10 s), which can lie up to 12 s of spec time before the kill: lost ≥ 28 s after it.
  assert.ok(timeline.spec.notReadySeenMs! >= 28_000, `node lost after the 40 s grace (spec ${timeline.spec.notReadySeenMs} ms)`);
  assert.ok(timeline.podEvictedMs! > timeline.notReadySeenMs!, 'evicted after the node turned Unknown (15 s toleration)');
  assert.ok(timeline.newHostReportingMs! >= timeline.newPodRunningMs!, 'reported after the new pod runs');
  const host = t.nodes.find((n) => n.name === timeline.newReporter)!;
  assert.ok(host === dev2 || host === dev3, `a survivor hosts A: ${timeline.newReporter}`);
  const hostReport = await waitRunningOn(t, A.uuid, host, 10_000);
  assert.equal(hostReport.cluster_app_running, true);
  // The old pod was written off (force-deleted) by the new host.
  await waitFor('no pod of A left on edge-dev1', async () => (await kubeOf(dev2).listPods({ labelSelector: `app-uuid=${A.uuid}` })).every((p) => p.nodeName !== 'edge-dev1'), 10_000);

  // C is REQUIRED to dev1: its new pod stays Pending and unbound; nobody but dev1 ever reported it.
  await waitFor(
    'C Pending and unbound',
    async () => {
      const pods = (await kubeOf(dev2).listPods({ labelSelector: `app-uuid=${C.uuid}` })).filter((p) => !p.deletionTimestamp);
      return pods.length === 1 && !pods[0].nodeName && pods[0].phase === 'Pending';
    },
    10_000,
  );
  assert.deepEqual(await appReports(t, C.uuid, [dev2, dev3]), [], 'C is reported by nobody after dev1 is lost');
  // B: still on dev2, no new message from elsewhere, dev2's last report RUNNING.
  const bAfter = (await appReports(t, B.uuid)).filter((r) => r.seq > mark);
  assert.ok(bAfter.every((r) => r.node === dev2.name), 'only dev2 reports B');
  const lastB = (await appReports(t, B.uuid, [dev2])).at(-1);
  assert.equal(lastB?.state, 'RUNNING');
  assert.equal(lastB?.cluster_app_running, true);
});

test('purge of A: a new ReplicaSet name, back to RUNNING', async () => {
  const host = t.nodes.find((n) => n.name === timeline.newReporter)!;
  const mark = Math.max(0, ...(await appReports(t, A.uuid)).map((r) => r.seq));
  const purged = { ...A, purge: 1 };
  await setWorkloads(t, { apps: [purged, B, C], volumes: [volA, volB], contentTrees: [treeA] }, [dev2, dev3]);
  const kube = kubeOf(dev2);
  const newName = appKubeNameWithPurge(A.name, A.uuid, 1);
  await waitFor(
    `A running as ${newName}-… and reported RUNNING after the purge`,
    async () => {
      const pods = (await kube.listPods({ labelSelector: `app-uuid=${A.uuid}` })).filter((p) => !p.deletionTimestamp);
      const last = (await appReports(t, A.uuid)).filter((r) => r.seq > mark).at(-1);
      return pods.length === 1 && pods[0].name.startsWith(`${newName}-`) && pods[0].phase === 'Running' && last?.state === 'RUNNING' && last.cluster_app_running === true;
    },
    60_000,
    250,
  );
  await assert.rejects(kube.getReplicaSet(appKubeNameWithPurge(A.name, A.uuid, 0)), (e) => isKubeError(e, 'NOT_FOUND'), 'the purge-0 ReplicaSet is gone');
  assert.ok((await kube.getReplicaSet(newName)).metadata?.name === newName);
  assert.ok((await appReports(t, A.uuid)).filter((r) => r.seq > mark).every((r) => r.node === host.name), 'the host reports the purged app');
});

test('delete of A: every live node sends the UUID-only message; the workload goes', async () => {
  const mark = Math.max(0, ...(await appReports(t, A.uuid)).map((r) => r.seq));
  // vol-b leaves the config with A: its designated node (dev2) deletes its PVC.
  await setWorkloads(t, { apps: [B, C], volumes: [volA], contentTrees: [treeA] }, [dev2, dev3]);
  for (const n of [dev2, dev3]) {
    const del = await waitFor(
      `${n.name} sends the delete of A`,
      async () => (await appReports(t, A.uuid, [n])).find((r) => r.seq > mark && r.state === undefined && r.AppName === undefined),
      60_000,
      250,
    );
    assert.equal(del.cluster_app_running ?? false, false);
  }
  const kube = kubeOf(dev2);
  await waitFor('A has no ReplicaSet and no pod', async () => {
    const gone = await kube.getReplicaSet(appKubeNameWithPurge(A.name, A.uuid, 1)).then(() => false, (e: unknown) => isKubeError(e, 'NOT_FOUND'));
    return gone && (await kube.listPods({ labelSelector: `app-uuid=${A.uuid}` })).length === 0;
  }, 60_000);
  await waitFor('the PVC of vol-b deleted with the volume', () => kube.getPvc(pvcName(volB.uuid, 0)).then(() => false, (e: unknown) => isKubeError(e, 'NOT_FOUND')), 60_000, 250);
  await kube.getPvc(pvcName(volA.uuid, 0)); // vol-a stays
});

test('dev2 lost: B (REQUIRED) is not moved and nobody reports it running', async () => {
  const mark = Math.max(0, ...(await appReports(t, B.uuid)).map((r) => r.seq));
  await dev2.stop();
  // 80 s of spec time: past the 40 s grace and the 15 s toleration.
  await new Promise((r) => setTimeout(r, 80_000 / SCALE));
  const after = (await appReports(t, B.uuid)).filter((r) => r.seq > mark);
  assert.deepEqual(after.filter((r) => r.cluster_app_running), [], 'no node reports B running');
  assert.deepEqual(after.filter((r) => r.node !== dev2.name), [], 'no other node reports B at all');
});

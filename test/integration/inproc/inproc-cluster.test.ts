/**
 * In-process cluster mode (issue 13): three devices' real ClusterReconcilers and AppReconcilers on k3s served in
 * memory by the stand-in's machinery (src/inproc) — no etcd, no HTTP, no child process. The cluster forms (every
 * member READY, three Ready nodes through the agent's KubeClient, one stats-leader), and a PREFERRED app fails over
 * when its node is killed, with the spec timeline the demo's failover scenario asserts.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createClock, silentLogger, createLogger } from '../../../src/common/index.js';
import { recordFailoverTimeline } from '../../../src/demo/index.js';
import { info } from '../../../src/eve/index.js';
import { KUBE_STATS_LEASE_NAME, toK8sNodeName, EVE_KUBE_APP_NAMESPACE } from '../../../src/k3s/index.js';
import { InprocSegment } from '../../../src/inproc/segment.js';
import { configureCluster, startInprocCluster, type InprocDevice, type InprocClusterSpec } from '../../helpers/inproc.js';
import { waitFor } from '../../helpers/wait.js';

const SCALE = 20;
const logger = process.env.INPROC_DEBUG ? createLogger({ level: 'debug', format: 'text' }) : silentLogger;
const NODE_LOST_MESSAGE = 'Kubelet stopped posting node status.';

const lastNodeStatus = (d: InprocDevice): string | undefined => {
  const m = d.published.filter((p) => p.key === 'clusternode').at(-1)?.msg;
  const s = m?.cluster_node?.node_status;
  return s === undefined || s === null ? undefined : info.ZInfoClusterNodeStatus[s];
};

test('three devices form an in-process cluster; a PREFERRED app fails over when its node is killed', async (t) => {
  const keepAlive = setInterval(() => undefined, 1_000); // the clock's timers do not hold the process open
  const clock = createClock(SCALE);
  const segment = new InprocSegment();
  const app = { uuid: '6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a01', name: 'failover-app' };
  const spec: InprocClusterSpec = { clusterId: '5b2b5e1c-8a46-4c5f-9a57-7f3c1c2e0d11', net: '127.100.0.', token: 'inproc-test-token' };
  const devices = startInprocCluster(segment, spec, 3, { index: 1, clock, logger });
  t.after(async () => {
    await Promise.all(devices.map((d) => d.stop().catch(() => undefined)));
    clearInterval(keepAlive);
  });
  configureCluster(devices, spec, 1);

  // Formation: every member READY, through its own monitor's ZInfoClusterNode.
  for (const d of devices) {
    await waitFor(`${d.name} READY`, () => Promise.resolve(lastNodeStatus(d) === 'Z_INFO_CLUSTER_NODE_STATUS_READY'), 120_000, 100);
  }
  const kube = devices[1].seams.k3s.kube();
  assert.ok(kube, 'a server has a kube client');
  const nodes = await kube.listNodes();
  assert.deepEqual(nodes.map((n) => n.name).sort(), devices.map((d) => toK8sNodeName(d.name)).sort(), 'three nodes');
  assert.ok(nodes.every((n) => n.ready === 'True'), 'all Ready');
  assert.ok(nodes.every((n) => n.roles.includes('etcd') && n.roles.includes('control-plane')), 'all control-plane + etcd');
  assert.deepEqual(nodes.map((n) => n.nodeUuid).sort(), devices.map((d) => d.uuid).sort(), 'each node labelled with its device UUID');
  await waitFor('one stats leader', () => Promise.resolve(devices.filter((d) => d.cluster.status().isLeader).length === 1), 60_000, 100);
  const lease = await kube.getLease(EVE_KUBE_APP_NAMESPACE, KUBE_STATS_LEASE_NAME);
  const leader = devices.find((d) => d.cluster.status().isLeader)!;
  assert.equal(lease.spec?.holderIdentity, toK8sNodeName(leader.name), 'the lease names the leader');
  await waitFor('the leader reports ZInfoKubeCluster with 3 nodes', () =>
    Promise.resolve(leader.published.some((p) => p.key === 'kubeclusterinfo' && (p.msg.cluster_info?.nodes ?? []).length === 3)), 60_000, 100);

  // Failover: a PREFERRED app designated to dev1, dev1 killed.
  const home = devices[0];
  const withApp = { ...spec, apps: [{ uuid: app.uuid, name: app.name, designated: home.uuid }] };
  configureCluster(devices, withApp, 2);
  const appReports = (d: InprocDevice) => d.published.filter((p) => p.key === app.uuid && p.msg.ainfo);
  const runningOn = (d: InprocDevice): boolean => {
    const last = appReports(d).at(-1)?.msg.ainfo;
    return !!last?.cluster_app_running && last.state === info.ZSwState.RUNNING;
  };
  await waitFor(`${home.name} reports the app RUNNING`, () => Promise.resolve(runningOn(home)), 120_000, 100);
  assert.deepEqual(devices.slice(1).filter(runningOn), [], 'only the designated node reports it running');

  const survivors = devices.slice(1);
  const lostNode = toK8sNodeName(home.name);
  const tl = await recordFailoverTimeline({
    kube,
    appUuid: app.uuid,
    lostNode,
    kill: () => home.kill(),
    reporter: () => Promise.resolve(survivors.find(runningOn)?.name),
    lostReporter: home.name,
    clock,
  });
  if (process.env.INPROC_DEBUG) console.log(JSON.stringify(tl));
  assert.equal(tl.complete, true, JSON.stringify(tl));
  const s = tl.spec;
  assert.ok((s.notReadySeenMs ?? 0) >= 28_000, `NotReady after the 40 s grace in spec time, got ${s.notReadySeenMs} ms`);
  assert.equal(tl.notReadyMessage, NODE_LOST_MESSAGE);
  assert.ok(s.notReadySeenMs! < s.podEvictedMs!, `NotReady before the eviction: ${JSON.stringify(s)}`);
  assert.ok(s.podEvictedMs! <= s.newPodScheduledMs! && s.newPodScheduledMs! <= s.newPodRunningMs!, `evicted ≤ scheduled ≤ running: ${JSON.stringify(s)}`);
  assert.ok(tl.newNode && tl.newNode !== lostNode, `new host ${tl.newNode}`);
  const reporters = survivors.filter(runningOn);
  assert.equal(reporters.length, 1, 'exactly one survivor reports the app running');
  assert.equal(toK8sNodeName(reporters[0].name), tl.newNode, 'the node that hosts the new pod reports the app');
  const pods = await kube.listPods();
  assert.ok(pods.some((p) => p.nodeName === tl.newNode && p.phase === 'Running'), 'the new pod runs on the new host');
});

/**
 * Cluster e2e (cluster issue acceptance): 3 agents with the k3s stand-in on real etcd, on loopback addresses.
 * One scenario, in order:
 * 1. dev1 + dev2 form a cluster; dev3 gets a block whose token was encrypted for dev2: it reports the decryption
 *    error (never the token) and never joins; the others are unaffected.
 * 2. dev3 gets its own block, as tie-breaker (labelled, cordoned): all report ZInfoClusterNode READY; the leader's ZInfoKubeCluster lists 3 nodes JOINED
 *    with their device UUIDs and cluster IPs; exactly one node sends ZInfoKubeCluster; kubectl sees the 3 nodes.
 * 3. The cluster block is removed from dev3: it returns to single node and reports its own node with the nil cluster
 *    id and JOINING (the config item is held, empty; no etcd label: §7.4, as EVE-k); the survivors report 2 nodes.
 * Then: a joiner bumped three times in its join wait reaches READY; a renumbered node keeps only its new address;
 * the kube-stats leader stopped gracefully releases its lease, so a survivor leads long before the 300 s expiry.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { NIL_UUID } from '../../src/agent/parse-config.js';
import { EVE_KUBE_APP_NAMESPACE, KUBE_STATS_LEASE_NAME, LEASE_DURATION_MS } from '../../src/k3s/index.js';
import { applyCluster, clusterIp, startNodes, type TestCluster, type TestNode } from '../helpers/cluster.js';
import { waitFor } from '../helpers/wait.js';

let t: TestCluster;
const TIME_SCALE = 10;

before(async () => {
  t = await startNodes(3, { timeScale: TIME_SCALE });
});
after(async () => {
  await t?.dispose();
});

interface KubeNodeJson {
  name: string;
  node_id?: string;
  internal_ip: string;
  admission_status: string;
  conditions: Array<{ type: string; set?: boolean }>;
}
interface KubeClusterJson {
  nodes?: KubeNodeJson[];
  cluster_id?: string;
}

async function lastNodeStatus(n: TestNode): Promise<string | undefined> {
  const items = await t.ctl.admin.info(n.uuid);
  const last = items.filter((i) => (i.info as { cluster_node?: unknown }).cluster_node).at(-1);
  return (last?.info as { cluster_node?: { node_status?: string } } | undefined)?.cluster_node?.node_status;
}

async function waitReady(nodes: TestNode[]): Promise<void> {
  for (const n of nodes) {
    await waitFor(`${n.name} READY at the controller`, async () => (await lastNodeStatus(n)) === 'Z_INFO_CLUSTER_NODE_STATUS_READY', 120_000, 250);
  }
}

/** The newest ZInfoKubeCluster of the cluster from any node, with the node that sent it. */
async function latestReport(clusterId: string): Promise<{ from: string; report: KubeClusterJson } | undefined> {
  let best: { from: string; report: KubeClusterJson; at: number } | undefined;
  for (const n of t.nodes) {
    for (const i of await t.ctl.admin.info(n.uuid, { types: ['ZiKubeCluster'] })) {
      const c = (i.info as { cluster_info?: KubeClusterJson }).cluster_info;
      if (c?.cluster_id === clusterId && (!best || i.receivedAt >= best.at)) best = { from: n.name, report: c, at: i.receivedAt };
    }
  }
  return best;
}

const joinedAndLabelled = (c: KubeClusterJson, count: number): boolean =>
  c.nodes?.length === count &&
  c.nodes.every((x) => x.conditions[0]?.set && x.admission_status === 'NODE_ADMISSION_JOINED' && !!x.node_id);

test('cluster lifecycle: wrong-device token refused, 3 nodes join and report, one leaves', async () => {
  const [dev1, dev2, dev3] = t.nodes as [TestNode, TestNode, TestNode];
  // 1. Two members; dev3 receives dev2's block (encrypted for dev2's ECDH cert) with its own IP.
  const clusterId = await applyCluster(t, {
    members: [dev1, dev2].map((n, i) => ({ device: n.uuid, ip: clusterIp(i), name: `edge-${n.name}` })),
  });
  await waitReady([dev1, dev2]);
  const dev2Config = (await t.ctl.admin.getConfig(dev2.uuid)).config;
  const dev3Config = (await t.ctl.admin.getConfig(dev3.uuid)).config;
  await t.ctl.admin.setConfig(dev3.uuid, {
    ...dev3Config,
    cluster: { ...(dev2Config.cluster as object), cluster_ip_prefix: `${clusterIp(2)}/24` },
    cipherContexts: dev2Config.cipherContexts,
  });
  const failure = await waitFor('dev3 to report the decryption failure', async () => {
    const items = await t.ctl.admin.info(dev3.uuid, { types: ['ZiKubeClusterUpdateStatus'] });
    const u = (items.at(-1)?.info as { cluster_update_info?: { status?: string; error?: { description?: string } } } | undefined)
      ?.cluster_update_info;
    return u?.status === 'KUBE_COMP_UPDATE_STATUS_FAILED' ? u : undefined;
  }, 60_000);
  assert.match(failure.error?.description ?? '', /encrypted_cluster_token/);
  assert.match(failure.error?.description ?? '', /DEVICE_CERT_NOT_FOUND|not found|decrypt/i);
  await new Promise((r) => setTimeout(r, 3_000));
  assert.equal(dev3.agent.status().cluster?.role, 'single', 'dev3 keeps what runs and never joins');
  assert.equal(await lastNodeStatus(dev3), undefined, 'dev3 never reports as a cluster node');
  const two = await latestReport(clusterId);
  assert.ok(two && !two.report.nodes?.some((x) => x.node_id === dev3.uuid), 'dev3 is not in the cluster');
  assert.equal(await lastNodeStatus(dev1), 'Z_INFO_CLUSTER_NODE_STATUS_READY', 'the others are unaffected');

  // 2. dev3 gets its own block and joins, as the tie-breaker.
  await applyCluster(t, { tieBreaker: dev3.uuid });
  await waitReady(t.nodes);
  const full = await waitFor('a ZInfoKubeCluster listing 3 Ready JOINED nodes with their UUIDs', async () => {
    const r = await latestReport(clusterId);
    return r && joinedAndLabelled(r.report, 3) ? r : undefined;
  }, 60_000, 500);
  assert.deepEqual(
    full.report.nodes!.map((x) => [x.node_id, x.internal_ip]).sort(),
    t.nodes.map((n, i) => [n.uuid, clusterIp(i)]).sort(),
    'every node carries its device UUID and cluster IP',
  );
  const dinfo = await waitFor('ZInfoDevice listing the cluster IP on the cluster port', async () => {
    const items = await t.ctl.admin.info(dev1.uuid, { types: ['ZiDevice'] });
    const d = (items.at(-1)?.info as { dinfo?: { systemAdapter?: { status?: Array<{ ports?: Array<{ name?: string; IPAddrs?: string[] }> }> }; optional_capabilities?: { hv_type_kubevirt?: boolean } } } | undefined)?.dinfo;
    return d?.systemAdapter?.status?.[0]?.ports?.some((p) => p.name === 'ethernet1' && p.IPAddrs?.includes(`${clusterIp(0)}/24`)) ? d : undefined;
  }, 30_000, 500);
  assert.equal(dinfo.optional_capabilities?.hv_type_kubevirt, true, 'EVE-k capability reported');
  const tie = await waitFor('the tie-breaker labelled and cordoned', async () => {
    const kube = dev1.agent.clusterReconciler!.runtime.kube()!;
    const nodes = await kube.listNodes();
    return nodes.every((n) => n.labels['tie-breaker-config-applied'] === '1') ? nodes : undefined;
  }, 60_000, 500);
  for (const n of tie) {
    const isTie = n.nodeUuid === dev3.uuid;
    assert.equal(n.labels['tie-breaker-node'], isTie ? 'true' : 'false', `${n.name} tie-breaker label`);
    assert.equal(n.schedulable, !isTie, `${n.name} cordoned only when it is the tie-breaker`);
  }
  const senders = new Set<string>();
  for (const n of t.nodes) {
    const items = await t.ctl.admin.info(n.uuid, { types: ['ZiKubeCluster'] });
    if (items.some((i) => (i.info as { cluster_info?: KubeClusterJson }).cluster_info?.cluster_id === clusterId)) senders.add(n.name);
  }
  assert.equal(senders.size, 1, `exactly one node (the leader) reports the cluster, got ${[...senders].join(', ')}`);

  const kubeconfig = dev1.agent.clusterReconciler!.runtime.kubeconfigPath;
  let kubectl: string | undefined;
  try {
    kubectl = execFileSync('kubectl', ['--kubeconfig', kubeconfig, 'get', 'nodes', '-o', 'wide'], { encoding: 'utf8', timeout: 30_000 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  if (kubectl !== undefined) {
    for (const n of t.nodes) assert.match(kubectl, new RegExp(`edge-${n.name}\\s+Ready`), `kubectl lists ${n.name} Ready`);
  }

  // 3. dev3 leaves: back to single node; the survivors report 2 nodes.
  const cfg3 = (await t.ctl.admin.getConfig(dev3.uuid)).config;
  delete cfg3.cluster;
  await t.ctl.admin.setConfig(dev3.uuid, cfg3);
  await waitFor('dev3 back to single node', () => dev3.agent.status().cluster?.role === 'single', 60_000);
  const alone = await waitFor('dev3 reporting its single node', async () => {
    const items = await t.ctl.admin.info(dev3.uuid, { types: ['ZiKubeCluster'] });
    const c = (items.at(-1)?.info as { cluster_info?: KubeClusterJson } | undefined)?.cluster_info;
    return c?.cluster_id === NIL_UUID && c.nodes?.length ? c : undefined;
  }, 60_000, 500);
  assert.deepEqual(alone.nodes!.map((x) => x.admission_status), ['NODE_ADMISSION_JOINING'], 'the empty config item held, no etcd label');
  const after = await waitFor('the survivors to report 2 nodes', async () => {
    const r = await latestReport(clusterId);
    return r && r.from !== 'dev3' && joinedAndLabelled(r.report, 2) ? r : undefined;
  }, 90_000, 500);
  assert.ok(!after.report.nodes!.some((x) => x.node_id === dev3.uuid));
});

/** The newest ZInfoClusterNode status of `n` received at or after `sinceMs` (controller clock). */
async function nodeStatusSince(n: TestNode, sinceMs: number): Promise<string | undefined> {
  const items = await t.ctl.admin.info(n.uuid);
  const last = items.filter((i) => (i.info as { cluster_node?: unknown }).cluster_node && i.receivedAt >= sinceMs).at(-1);
  return (last?.info as { cluster_node?: { node_status?: string } } | undefined)?.cluster_node?.node_status;
}

async function waitReadySince(n: TestNode, sinceMs: number): Promise<void> {
  await waitFor(`${n.name} READY reported after the change`, async () => (await nodeStatusSince(n, sinceMs)) === 'Z_INFO_CLUSTER_NODE_STATUS_READY', 120_000, 250);
}

/** Addresses on `lo` (the e2e cluster interface). */
const loAddresses = (): string => execFileSync('ip', ['-o', 'addr', 'show', 'dev', 'lo'], { encoding: 'utf8' });

test('a joiner whose config is bumped three times while it waits for the bootstrap reaches READY', async () => {
  const [dev1, , dev3] = t.nodes as [TestNode, TestNode, TestNode];
  assert.equal(dev3.agent.status().cluster?.role, 'single', 'dev3 left in the previous test');
  const since = Date.now();
  // The bootstrap's status server is down: dev3's join wait cannot end until it is back.
  dev1.agent.faults.inject('status-server-down');
  try {
    await applyCluster(t);
    await waitFor('dev3 waiting for the bootstrap', () => dev3.agent.status().cluster?.phase === 'waiting for the bootstrap server', 60_000, 100);
    for (let i = 1; i <= 3; i++) {
      const before = dev3.agent.status().lastConfigHash;
      const cfg = (await t.ctl.admin.getConfig(dev3.uuid)).config;
      const items = ((cfg.configItems ?? []) as Array<{ key?: string }>).filter((x) => x.key !== 'edgesim.test.bump');
      await t.ctl.admin.setConfig(dev3.uuid, { ...cfg, configItems: [...items, { key: 'edgesim.test.bump', value: String(i) }] });
      await waitFor(`dev3 took version bump ${i}`, () => dev3.agent.status().lastConfigHash !== before, 30_000, 100);
      await waitFor('dev3 back in the join wait', () => dev3.agent.status().cluster?.phase === 'waiting for the bootstrap server', 30_000, 50);
    }
  } finally {
    dev1.agent.faults.clear('status-server-down');
  }
  await waitReadySince(dev3, since);
  assert.equal(dev3.agent.status().cluster?.role, 'server');
  assert.deepEqual(dev3.agent.clusterReconciler!.pendingSteps(), [], 'nothing left to apply');
});

test('a node renumbered to a new cluster IP reports READY with only the new address', async () => {
  const [, , dev3] = t.nodes as [TestNode, TestNode, TestNode];
  const oldIp = clusterIp(2);
  const newIp = clusterIp(7);
  assert.match(loAddresses(), new RegExp(`inet ${oldIp.replaceAll('.', '\\.')}/`), 'the old address is there before');
  const since = Date.now();
  await applyCluster(t, {
    members: t.nodes.map((n, i) => ({ device: n.uuid, ip: i === 2 ? newIp : clusterIp(i), name: `edge-${n.name}` })),
  });
  await waitFor('dev3 on its new IP', () => dev3.agent.status().cluster?.clusterIp === newIp, 60_000, 100);
  await waitReadySince(dev3, since);
  const report = await waitFor('the cluster report listing dev3 at its new IP only', async () => {
    const r = await latestReport(t.clusterId!);
    const mine = r?.report.nodes?.filter((x) => x.node_id === dev3.uuid) ?? [];
    return r && joinedAndLabelled(r.report, 3) && mine.length === 1 && mine[0].internal_ip === newIp ? r : undefined;
  }, 90_000, 500);
  assert.ok(!report.report.nodes!.some((x) => x.internal_ip === oldIp), 'no node at the old IP');
  assert.equal(dev3.agent.status().cluster?.port?.address, `${newIp}/24`);
  const lo = loAddresses();
  assert.doesNotMatch(lo, new RegExp(`inet ${oldIp.replaceAll('.', '\\.')}/`), 'the old address is gone');
  assert.match(lo, new RegExp(`inet ${newIp.replaceAll('.', '\\.')}/24`), 'the new address is there with its prefix');
});

test('the kube-stats leader stopped gracefully releases its lease: a survivor leads long before it would expire', async (ctx) => {
  const leader = await waitFor('a kube-stats leader', () => t.nodes.find((n) => n.agent.status().cluster?.isLeader), 60_000, 100);
  const survivors = t.nodes.filter((n) => n !== leader);
  const start = performance.now();
  await leader.stop();
  const next = await waitFor('a survivor leading', () => survivors.find((n) => n.agent.status().cluster?.isLeader), 90_000, 100);
  const specMs = (performance.now() - start) * TIME_SCALE;
  ctx.diagnostic(`${leader.name} stopped; ${next.name} leads after ${Math.round(specMs)} ms (spec)`);
  // Released (ReleaseOnCancel): taken at a survivor's next retry (15 s). Not released: only once the record has
  // gone unchanged for the whole lease (300 s) — the order monitor stop → k3s stop is what makes the difference.
  assert.ok(specMs < LEASE_DURATION_MS / 2, `${next.name} took over after ${Math.round(specMs / 1000)} s (spec), lease ${LEASE_DURATION_MS / 1000} s`);
  const holder = (await next.agent.clusterReconciler!.runtime.kube()!.getLease(EVE_KUBE_APP_NAMESPACE, KUBE_STATS_LEASE_NAME)).spec?.holderIdentity;
  assert.equal(holder, next.agent.status().cluster?.nodeName, 'the Lease names the new leader');
});

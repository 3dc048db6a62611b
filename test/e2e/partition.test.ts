/**
 * Partition e2e (root only): 3 nodes, each in its own network namespace with `eth1` on a shared bridge
 * (src/demo/netns.ts), agents as child processes with the k3s stand-in on real etcd, time scale 10.
 * 1. The cluster forms: every node reports ZInfoClusterNode READY and the leader lists 3 Ready nodes.
 * 2. `edgesim ctl fault inject cluster-interface-down` on dev3 sets its eth1 down (a real partition: its etcd
 *    member and kubelet lose the others). The controller then sees dev3 NOTREADY/DOWN (cluster.md §7.7), or a
 *    ZInfoKubeCluster from the majority side lists dev3 not Ready (§7.3, Ready Unknown after 40 s / 10).
 *    dev1 and dev2 keep quorum and stay READY.
 * 3. Clearing the fault brings eth1 back: dev3 reports READY again and the leader lists 3 Ready nodes.
 */
import { after, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { access } from 'node:fs/promises';
import path from 'node:path';
import type { InfoItem } from '../../src/controller/index.js';
import { netnsUnavailableReason } from '../../src/demo/index.js';
import { agentLogTails, applyNetnsCluster, ctl, startNetnsNodes, type NetnsCluster, type NetnsTestNode } from '../helpers/netns.js';
import { waitFor } from '../helpers/wait.js';

const READY = 'Z_INFO_CLUSTER_NODE_STATUS_READY';
const NOT_READY = new Set(['Z_INFO_CLUSTER_NODE_STATUS_NOTREADY', 'Z_INFO_CLUSTER_NODE_STATUS_DOWN']);

interface KubeClusterJson {
  cluster_id?: string;
  nodes?: Array<{ name?: string; node_id?: string; conditions?: Array<{ set?: boolean }> }>;
}

let c: NetnsCluster | undefined;
let skipReason: string | undefined;

async function onPath(cmd: string): Promise<boolean> {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (await access(path.join(dir, cmd)).then(() => true, () => false)) return true;
  }
  return false;
}

before(async () => {
  skipReason = await netnsUnavailableReason();
  if (!skipReason && !(await onPath('etcd'))) skipReason = 'etcd not installed (scripts/setup.sh)';
  if (skipReason) return;
  c = await startNetnsNodes(3, { timeScale: 10 });
});

after(async () => {
  await c?.dispose();
});

const nodeStatus = (i: InfoItem): string | undefined => (i.info as { cluster_node?: { node_status?: string } }).cluster_node?.node_status;
const kubeCluster = (i: InfoItem): KubeClusterJson | undefined => (i.info as { cluster_info?: KubeClusterJson }).cluster_info;

/** dev's newest ZInfoClusterNode status among messages with seq above `after`. */
async function statusAfter(cl: NetnsCluster, n: NetnsTestNode, after: number): Promise<string | undefined> {
  return (await cl.admin.info(n.uuid, { after })).map(nodeStatus).filter((s) => s !== undefined).at(-1);
}

/** The newest ZInfoKubeCluster of the cluster above `after`, from any of `from`. */
async function reportAfter(cl: NetnsCluster, from: NetnsTestNode[], after: number): Promise<{ by: string; seq: number; report: KubeClusterJson } | undefined> {
  let best: { by: string; seq: number; report: KubeClusterJson } | undefined;
  for (const n of from) {
    for (const i of await cl.admin.info(n.uuid, { after, types: ['ZiKubeCluster'] })) {
      const r = kubeCluster(i);
      if (r && r.cluster_id === cl.clusterId && (!best || i.seq > best.seq)) best = { by: n.name, seq: i.seq, report: r };
    }
  }
  return best;
}

const readyOf = (r: KubeClusterJson, uuid: string): boolean | undefined => {
  const e = r.nodes?.find((x) => x.node_id === uuid);
  return e ? e.conditions?.[0]?.set === true : undefined;
};

/** Highest sequence number the controller has handed out so far (a marker for "received after now"). */
async function mark(cl: NetnsCluster): Promise<number> {
  let m = 0;
  for (const n of cl.nodes) for (const i of await cl.admin.info(n.uuid)) m = Math.max(m, i.seq);
  return m;
}

/**
 * Every node's newest ZInfoClusterNode is READY (a node sends it only on change, so an unchanged READY is not
 * repeated) and a ZInfoKubeCluster received after `after` lists all 3 Ready.
 */
async function waitAllReady(cl: NetnsCluster, after: number, what: string): Promise<void> {
  for (const n of cl.nodes) {
    await waitFor(`${n.name} READY at the controller (${what})`, async () => (await statusAfter(cl, n, 0)) === READY, 120_000, 500);
  }
  await waitFor(`a ZInfoKubeCluster listing 3 Ready nodes (${what})`, async () => {
    const r = await reportAfter(cl, cl.nodes, after);
    return r && r.report.nodes?.length === 3 && cl.nodes.every((n) => readyOf(r.report, n.uuid)) ? r : undefined;
  }, 90_000, 500);
}

test('partition: cluster-interface-down isolates dev3, clearing it rejoins', { timeout: 240_000 }, async (t) => {
  if (skipReason || !c) return t.skip(skipReason ?? 'setup failed');
  const cl = c;
  try {
    await partitionScenario(t, cl);
  } catch (e) {
    for (const tail of await agentLogTails(cl)) t.diagnostic(tail);
    throw e;
  }
});

async function partitionScenario(t: TestContext, cl: NetnsCluster): Promise<void> {
  const [dev1, dev2, dev3] = cl.nodes as [NetnsTestNode, NetnsTestNode, NetnsTestNode];
  const t0 = performance.now();
  await applyNetnsCluster(cl);
  await waitAllReady(cl, 0, 'formed');
  t.diagnostic(`cluster formed in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  const injected = await mark(cl);
  let t1 = performance.now();
  await ctl(dev3.stateDir, ['fault', 'inject', 'cluster-interface-down']);
  t.diagnostic(`ctl fault inject took ${((performance.now() - t1) / 1000).toFixed(1)} s`);
  t1 = performance.now();
  const seen = await waitFor('the controller to see dev3 partitioned', async () => {
    const own = await statusAfter(cl, dev3, injected);
    if (own && NOT_READY.has(own)) return `dev3 reports ${own}`;
    const r = await reportAfter(cl, [dev1, dev2], injected);
    if (r && readyOf(r.report, dev3.uuid) === false) return `${r.by}'s ZInfoKubeCluster lists dev3 not Ready`;
    return undefined;
  }, 90_000, 500);
  t.diagnostic(`partition seen after ${((performance.now() - t1) / 1000).toFixed(1)} s: ${seen}`);
  // The majority keeps quorum: dev1 and dev2 stay READY (their newest status, not merely an old one).
  for (const n of [dev1, dev2]) assert.equal(await statusAfter(cl, n, 0), READY, `${n.name} stays READY`);

  const cleared = await mark(cl);
  let t2 = performance.now();
  assert.match(await ctl(dev3.stateDir, ['fault', 'clear', 'cluster-interface-down']), /cleared: cluster-interface-down/);
  t.diagnostic(`ctl fault clear took ${((performance.now() - t2) / 1000).toFixed(1)} s`);
  t2 = performance.now();
  await waitAllReady(cl, cleared, 'after clearing');
  t.diagnostic(`rejoined after ${((performance.now() - t2) / 1000).toFixed(1)} s`);
}

/**
 * Cluster e2e (cluster issue acceptance): 3 agents with the k3s stand-in on real etcd, on loopback addresses.
 * All report ZInfoClusterNode READY; the leader's ZInfoKubeCluster lists 3 nodes JOINED with their device UUIDs and
 * cluster IPs; exactly one node sends ZInfoKubeCluster.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { applyCluster, clusterIp, startNodes, type TestCluster } from '../helpers/cluster.js';
import { waitFor } from '../helpers/wait.js';

let t: TestCluster;

before(async () => {
  t = await startNodes(3, { timeScale: 10 });
});
after(async () => {
  await t?.dispose();
});

interface KubeNodeJson {
  name: string;
  node_id: string;
  internal_ip: string;
  admission_status: string;
  conditions: Array<{ type: string; set?: boolean }>;
}

test('three nodes form a cluster and report it', async () => {
  const clusterId = await applyCluster(t);
  for (const n of t.nodes) {
    await waitFor(
      `${n.name} READY at the controller`,
      async () => {
        const items = await t.ctl.admin.info(n.uuid);
        const last = items.filter((i) => (i.info as { cluster_node?: unknown }).cluster_node).at(-1);
        return (last?.info as { cluster_node?: { node_status?: string } } | undefined)?.cluster_node?.node_status ===
          'Z_INFO_CLUSTER_NODE_STATUS_READY';
      },
      90_000,
      250,
    );
  }
  const report = await waitFor(
    'a ZInfoKubeCluster with 3 Ready JOINED nodes carrying their device UUIDs',
    async () => {
      for (const n of t.nodes) {
        const items = await t.ctl.admin.info(n.uuid, { types: ['ZiKubeCluster'] });
        const c = (items.at(-1)?.info as { cluster_info?: { nodes?: KubeNodeJson[]; cluster_id?: string } } | undefined)?.cluster_info;
        const ok =
          c?.nodes?.length === 3 &&
          c.nodes.every((x) => x.conditions[0]?.set && x.admission_status === 'NODE_ADMISSION_JOINED' && x.node_id);
        if (ok) return c;
      }
      return undefined;
    },
    60_000,
    500,
  );
  assert.equal(report.cluster_id, clusterId);
  assert.deepEqual(
    report.nodes!.map((x) => [x.node_id, x.internal_ip]).sort(),
    t.nodes.map((n, i) => [n.uuid, clusterIp(i)]).sort(),
    'every node carries its device UUID and cluster IP',
  );
  const senders = [];
  for (const n of t.nodes) if ((await t.ctl.admin.info(n.uuid, { types: ['ZiKubeCluster'] })).some((i) => ((i.info as { cluster_info?: { cluster_id?: string } }).cluster_info?.cluster_id === clusterId))) senders.push(n.name);
  assert.equal(senders.length, 1, `exactly one node (the leader) reports the cluster: ${senders.join(',')}`);
});

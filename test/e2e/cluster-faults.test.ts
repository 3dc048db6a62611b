/**
 * Injected faults on a one-node cluster (agent + k3s stand-in on etcd, loopback), each with the agent's observable
 * reaction and its recovery: k3s killed, k3s stopped, heartbeats paused, status server down, TPM unavailable,
 * clock skew. (controller-unreachable/5xx/delay and config-tamper: test/integration/ops/faults.test.ts;
 * cluster-interface-down: test/e2e/partition.test.ts.)
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { applyCluster, clusterIp, startNodes, type TestCluster, type TestNode } from '../helpers/cluster.js';
import { waitFor } from '../helpers/wait.js';

let t: TestCluster;
let node: TestNode;

before(async () => {
  t = await startNodes(1, { timeScale: 10 });
  node = t.nodes[0]!;
  await applyCluster(t);
  await waitReported('READY');
});
after(async () => {
  await t?.dispose();
});

/** The node's newest ZInfoClusterNode status received at or after `sinceMs`. */
async function reported(sinceMs = 0): Promise<string | undefined> {
  const items = await t.ctl.admin.info(node.uuid);
  const last = items.filter((i) => (i.info as { cluster_node?: unknown }).cluster_node && i.receivedAt >= sinceMs).at(-1);
  return (last?.info as { cluster_node?: { node_status?: string } } | undefined)?.cluster_node?.node_status?.replace(
    'Z_INFO_CLUSTER_NODE_STATUS_',
    '',
  );
}

/** Waits for `status` in a report made at or after `sinceMs` (a READY sent before a fault does not count). */
async function waitReported(status: string, sinceMs = 0, timeoutMs = 90_000): Promise<void> {
  await waitFor(`${node.name} reported ${status}`, async () => (await reported(sinceMs)) === status, timeoutMs, 250);
}

function statusPage(): Promise<{ code: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: clusterIp(0), port: 12346, path: '/status', timeout: 2000 }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ code: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
  });
}

test('k3s killed: the supervisor restarts it and the node is READY again', async () => {
  const k3s = node.agent.clusterReconciler!.runtime.process!;
  const before = k3s.restarts;
  const since = Date.now();
  node.agent.faults.inject('k3s-killed');
  await waitFor('a k3s restart', () => k3s.restarts > before, 60_000);
  assert.equal(node.agent.faults.has('k3s-killed'), false, 'a one-shot fault');
  await waitReported('READY', since);
});

test('k3s stopped: the local API is gone, the node reports DOWN after 2 min (scaled), READY after clearing', async () => {
  node.agent.faults.inject('k3s-stopped');
  await waitReported('DOWN');
  const since = Date.now();
  node.agent.faults.clear('k3s-stopped');
  await waitReported('READY', since);
});

test('heartbeats paused: k3s frozen, DOWN after 2 min (scaled); resumed: READY', async () => {
  node.agent.faults.inject('heartbeats-paused');
  await waitReported('DOWN');
  const since = Date.now();
  node.agent.faults.clear('heartbeats-paused');
  await waitReported('READY', since);
});

test('status server down: :12346 refuses connections; cleared: it answers cluster:<id> again', async () => {
  await waitFor('the status page', async () => (await statusPage()).body === `cluster:${t.clusterId}`, 30_000, 250);
  node.agent.faults.inject('status-server-down');
  await waitFor('the status server to stop', async () => {
    try {
      await statusPage();
      return false;
    } catch {
      return true;
    }
  }, 30_000);
  node.agent.faults.clear('status-server-down');
  await waitFor('the status server back', async () => (await statusPage()).body === `cluster:${t.clusterId}`, 30_000, 250);
});

test('TPM unavailable: signing fails with a clear TPM error (status), recovery after clearing', async () => {
  node.agent.faults.inject('tpm-unavailable');
  const err = await waitFor('the TPM error in the status', () => node.agent.status().lastConfigError, 30_000);
  assert.match(err, /TPM/);
  node.agent.faults.clear('tpm-unavailable');
  await waitFor('recovery', () => node.agent.status().lastConfigError === undefined, 30_000);
});

test('clock skew: reports carry the skewed time', async () => {
  const skewMs = 3_600_000;
  node.agent.faults.inject('clock-skew', { value: skewMs });
  await node.agent.reportDeviceInfo(true);
  const item = await waitFor('a skewed ZInfoDevice', async () => {
    const items = await t.ctl.admin.info(node.uuid, { types: ['ZiDevice'] });
    const last = items.at(-1);
    const ts = (last?.info as { atTimeStamp?: string | { seconds?: string } } | undefined)?.atTimeStamp;
    const ms = typeof ts === 'string' ? Date.parse(ts) : Number(ts?.seconds ?? 0) * 1000;
    return last && ms - last.receivedAt > skewMs / 2 ? last : undefined;
  }, 30_000, 250);
  assert.ok(item);
  node.agent.faults.clear('clock-skew');
});

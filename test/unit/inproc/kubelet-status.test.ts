/**
 * The kubelet's node status posts on an in-process API port: the node is read once, then each post is pinned to the
 * resourceVersion of the previous one (no GET per post); a write by someone else in between (the node lifecycle
 * controller marking the node Unknown) makes the pinned post fail with 409 and the kubelet read again, so the
 * Ready condition's lastTransitionTime still follows the stored status. The port's answers are the caller's own.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createClock, silentLogger } from '../../../src/common/index.js';
import { InprocCluster } from '../../../src/inproc/cluster.js';
import { endpointTransport, InprocEndpoint } from '../../../src/inproc/endpoint.js';
import { KubeHttpClient, type KubeTransport } from '../../../src/k3s/kube-http.js';
import { Kubelet } from '../../../src/k3s/standin/kubelet.js';
import { resourceOf } from '../../../src/k3s/standin/resources.js';

/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-argument -- API objects are loosely typed JSON */

const clock = createClock(1);

/** Waits for a condition, up to 10 s: a bound for a loaded machine, not a latency assertion. */
async function until(what: string, check: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 1_000 && !(await check()); i++) await sleep(10);
  assert.ok(await check(), what);
}

test('status posts are pinned to the last write; a foreign write sends the kubelet back to reading', async (t) => {
  const cluster = await InprocCluster.create('tok', clock, silentLogger);
  const api = cluster.memberApi(() => true);
  assert.ok(await api.ensureSystemNamespaces());
  const endpoint = new InprocEndpoint(cluster.router('127.103.0.2', api), '127.103.0.2:6443');
  endpoint.listen();
  const inner = endpointTransport(() => endpoint, endpoint.address);
  const sent: { method: string; path: string; body?: any }[] = [];
  const transport: KubeTransport = {
    request: (req) => {
      sent.push({ method: req.method, path: req.path, ...(req.body ? { body: JSON.parse(req.body) } : {}) });
      return inner.request(req);
    },
    watch: (req, onData) => inner.watch(req, onData),
  };
  const client = new KubeHttpClient({ baseUrl: 'https://127.103.0.2:6443', authorization: `Bearer ${cluster.boot.adminToken}`, clock, transport });
  const kubelet = await Kubelet.create({
    client, nodeName: 'n1', nodeIp: '127.103.0.2', role: 'server', etcdMember: true, labels: {}, taints: [], statusIntervalMs: 50, podStartDelayMs: 0, clock, logger: silentLogger,
  });
  t.after(() => {
    kubelet.stop();
    endpoint.close();
    cluster.store.close();
  });
  const nodes = resourceOf('nodes');
  const ready = async (): Promise<any> => (await api.get(nodes, undefined, 'n1') as any).status.conditions.find((c: any) => c.type === 'Ready');
  const posts = (): typeof sent => sent.filter((r) => r.method === 'PATCH' && r.path === '/api/v1/nodes/n1/status');
  const reads = (): number => sent.filter((r) => r.method === 'GET' && r.path === '/api/v1/nodes/n1').length;

  await until('several status posts', () => posts().length >= 5);
  assert.equal(reads(), 1, 'the node is read once, for the first post');
  assert.ok(posts().slice(1).every((p) => typeof p.body.metadata?.resourceVersion === 'string'), 'later posts are pinned');
  const since = (await ready()).lastTransitionTime;
  assert.equal((await ready()).status, 'True');

  // The node lifecycle controller's write: Ready Unknown since long ago.
  const before = reads();
  await api.patch(nodes, undefined, 'n1', 'merge', {
    status: { conditions: [{ type: 'Ready', status: 'Unknown', reason: 'NodeStatusUnknown', lastHeartbeatTime: '2000-01-01T00:00:00Z', lastTransitionTime: '2000-01-01T00:00:00Z' }] },
  }, 'status');
  await until('Ready again', async () => (await ready()).status === 'True');
  assert.ok(reads() > before, 'the 409 sent the kubelet back to reading the node');
  const after = await ready();
  assert.notEqual(after.lastTransitionTime, '2000-01-01T00:00:00Z', 'Unknown → True is a transition');
  assert.ok(Date.parse(after.lastTransitionTime) >= Date.parse(since), 'the transition is now, not the old one');

  // Answers over the port are the caller's own: changing one changes neither the store nor the next answer.
  const a = await client.request<any>('GET', '/api/v1/nodes/n1');
  a.metadata.labels['changed'] = 'yes';
  const b = await client.request<any>('GET', '/api/v1/nodes/n1');
  assert.equal(b.metadata.labels['changed'], undefined);
  assert.equal(((await api.get(nodes, undefined, 'n1')).metadata.labels ?? {})['changed'], undefined);
});
/* eslint-enable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-argument */

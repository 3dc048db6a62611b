/**
 * The cluster monitor (src/agent/cluster/cluster-monitor.ts): its decisions as tables — the own node's status after
 * a read (§7.7, DOWN after 2 min without the API), when ZInfoClusterNode is sent, the tie-breaker labels (§12), the
 * leader's collection interval — and the own-node loop run for real at time scale 100 against a fake kube API
 * (an agent-mode node: no election), reporting READY, DOWN after 120 s (spec) without a good read, READY again.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { ClusterMonitor, collectIntervalMs, ownNodeStatus, reportOwnStatus, tieBreakerLabels } from '../../../../src/agent/cluster/cluster-monitor.js';
import { createClock, silentLogger } from '../../../../src/common/index.js';
import { info } from '../../../../src/eve/index.js';
import { LABEL_NODE_UUID, type KubeClient, type KubeNodeStatus } from '../../../../src/k3s/index.js';

const S = info.ZInfoClusterNodeStatus;
const READY = S.Z_INFO_CLUSTER_NODE_STATUS_READY;
const NOTREADY = S.Z_INFO_CLUSTER_NODE_STATUS_NOTREADY;
const DOWN = S.Z_INFO_CLUSTER_NODE_STATUS_DOWN;

function node(name: string, over: Partial<KubeNodeStatus> = {}): KubeNodeStatus {
  return { name, ready: 'True', readyConditionPresent: true, labels: {}, annotations: {}, roles: [], schedulable: true, taints: [], ...over };
}

test('ownNodeStatus: the read node decides; failures are DOWN after the API-down time, NOTREADY when not found', () => {
  const down = 120_000;
  const refused = new Error('connect ECONNREFUSED 127.0.0.1:6443');
  const rows: Array<[string, Parameters<typeof ownNodeStatus>[0], number, info.ZInfoClusterNodeStatus | undefined]> = [
    ['Ready node', { node: node('n') }, 0, READY],
    ['NotReady node', { node: node('n', { ready: 'False' }) }, 0, NOTREADY],
    ['Unknown node', { node: node('n', { ready: 'Unknown' }) }, 0, NOTREADY],
    ['a read node wins even after long failures', { node: node('n') }, down * 2, READY],
    ['API refused, just now', { error: refused }, 1_000, undefined],
    ['API refused, just under 2 min', { error: refused }, down - 1, undefined],
    ['API refused for 2 min', { error: refused }, down, DOWN],
    ['node not found (not registered yet, or deleted)', { error: new Error('getNode edge-1: NotFound') }, 1_000, NOTREADY],
    ['"not found" spelled apart', { error: new Error('nodes "edge-1" not found') }, 1_000, NOTREADY],
    ['not found, but the API gone for 2 min', { error: new Error('not found') }, down, DOWN],
  ];
  for (const [what, read, since, want] of rows) assert.equal(ownNodeStatus(read, since, down), want, what);
});

test('reportOwnStatus: only in a cluster, with a status, on change or after a k3s restart', () => {
  type Input = Parameters<typeof reportOwnStatus>[0];
  const base: Input = { inCluster: true, status: READY, sent: READY, starts: 1, sentStarts: 1 };
  const rows: Array<[string, Partial<Input>, boolean]> = [
    ['unchanged', {}, false],
    ['first status', { sent: undefined }, true],
    ['changed', { status: NOTREADY }, true],
    ['k3s restarted, same status', { starts: 2 }, true],
    ['single-node: never', { inCluster: false, sent: undefined }, false],
    ['no status (a transient failure)', { status: undefined, sent: READY }, false],
  ];
  for (const [what, over, want] of rows) assert.equal(reportOwnStatus({ ...base, ...over }), want, what);
});

test('tieBreakerLabels: exactly 3 nodes, all labelled with their UUID, self among them', () => {
  const n = (name: string, uuid?: string): Pick<KubeNodeStatus, 'name' | 'nodeUuid'> => (uuid ? { name, nodeUuid: uuid } : { name });
  const three = [n('a', '1'), n('b', '2'), n('c', '3')];
  assert.deepEqual([...(tieBreakerLabels(three, 'b') ?? [])], [['a', 'false'], ['b', 'true'], ['c', 'false']]);
  assert.equal(tieBreakerLabels(three.slice(0, 2), 'b'), undefined, 'two nodes: not yet');
  assert.equal(tieBreakerLabels([...three, n('d', '4')], 'b'), undefined, 'four nodes: no tie-breaker');
  assert.equal(tieBreakerLabels([n('a', '1'), n('b'), n('c', '3')], 'a'), undefined, 'a node without its UUID label: wait');
  assert.equal(tieBreakerLabels(three, 'x'), undefined, 'self not listed: nothing to label');
});

test('collectIntervalMs: 30 s once every node is Ready and labelled; 2 s while any is joining', () => {
  assert.equal(collectIntervalMs([]), 2_000);
  assert.equal(collectIntervalMs([{ ready: true, nodeId: 'u1' }, { ready: true, nodeId: 'u2' }]), 30_000);
  assert.equal(collectIntervalMs([{ ready: true, nodeId: 'u1' }, { ready: false, nodeId: 'u2' }]), 2_000);
  assert.equal(collectIntervalMs([{ ready: true, nodeId: 'u1' }, { ready: true, nodeId: '' }]), 2_000);
});

test('own-node loop: labels node-uuid once, reports READY, DOWN after 120 s (spec) without the API, READY again', async () => {
  const SCALE = 100;
  let apiUp = true;
  let lastGoodRead = 0;
  let labels: Record<string, string> = {};
  const labelCalls: Array<Record<string, string | null>> = [];
  const kube = {
    getNode: (name: string) => {
      if (!apiUp) return Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:6443'));
      lastGoodRead = performance.now();
      return Promise.resolve(node(name, { labels }));
    },
    labelNode: (name: string, l: Record<string, string>) => {
      labelCalls.push(l);
      labels = { ...labels, ...l };
      return Promise.resolve(node(name, { labels }));
    },
  } as unknown as KubeClient;
  const sent: Array<{ key: string; status: info.ZInfoClusterNodeStatus | null | undefined; at: number }> = [];
  const ctl = new AbortController();
  const m = ClusterMonitor.start(
    {
      kube: () => kube,
      cluster: () => ({ clusterId: '6f1c7d2e-5a4b-4c3d-9e8f-0a1b2c3d4e5f', tieBreakerNodeId: '' }),
      nodeName: 'edge-dev',
      role: 'agent',
      deviceUuid: () => 'dev-uuid',
      publishInfo: (key, msg) => {
        sent.push({ key, status: msg.cluster_node?.node_status, at: performance.now() });
        return Promise.resolve();
      },
      emit: () => undefined,
      onError: (e) => assert.fail(`monitor failed: ${String(e)}`),
      clock: createClock(SCALE),
      logger: silentLogger,
    },
    ctl.signal,
  );
  const until = async (what: string, cond: () => boolean): Promise<void> => {
    for (let i = 0; i < 1000 && !cond(); i++) await sleep(10);
    assert.ok(cond(), what);
  };
  try {
    await until('READY reported', () => sent.some((s) => s.status === READY));
    assert.equal(sent[0]?.key, 'clusternode');
    assert.deepEqual(labelCalls, [{ [LABEL_NODE_UUID]: 'dev-uuid' }], 'labelled once, then verified on the next read');
    await sleep(200); // ~10 more reads (every 2 s spec)
    assert.equal(sent.length, 1, 'an unchanged status is not sent again');
    apiUp = false;
    await until('DOWN reported', () => sent.at(-1)?.status === DOWN);
    assert.ok(sent.at(-1)!.at - lastGoodRead >= 120_000 / SCALE, 'not before 120 s (spec) after the last good read');
    apiUp = true;
    await until('READY again', () => sent.at(-1)?.status === READY);
    assert.deepEqual(sent.map((s) => s.status), [READY, DOWN, READY]);
    assert.equal(m.observed.nodeStatus, 'READY');
  } finally {
    ctl.abort();
    await m.stop();
  }
});

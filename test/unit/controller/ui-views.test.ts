/**
 * The dashboard's pure view builders: the cluster view (self-report vs the leader's view, leader choice, update
 * status), the apps view (designated vs running node) and the one-line info summaries, as tables.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { InfoRecord } from '../../../src/controller/store.js';
import { buildAppsView, buildClusterView, infoEvents, summarizeInfo, type ClusterMemberInput } from '../../../src/controller/ui-views.js';

const CID = '11111111-2222-4333-8444-555555555555';
let seq = 0;
const info = (deviceUuid: string, ztype: string, json: unknown, receivedAt: number): InfoRecord => ({ seq: ++seq, deviceUuid, ztype, json, receivedAt });
const nodeStatus = (u: string, s: string, at: number): InfoRecord => info(u, 'ZiNop', { cluster_node: { node_status: `Z_INFO_CLUSTER_NODE_STATUS_${s}` } }, at);
const kube = (u: string, at: number, nodes: { id: string; ip: string; ready: boolean; adm?: string }[], clusterId = CID): InfoRecord =>
  info(u, 'ZiKubeCluster', {
    cluster_info: {
      cluster_id: clusterId,
      nodes: nodes.map((n) => ({
        name: `n-${n.id}`,
        node_id: n.id,
        internal_ip: n.ip,
        admission_status: n.adm ?? 'NODE_ADMISSION_JOINED',
        conditions: [{ type: 'KUBE_NODE_CONDITION_TYPE_READY', set: n.ready }],
      })),
    },
  }, at);

function member(uuid: string, ip: string, latest: InfoRecord[], extra: Record<string, unknown> = {}): ClusterMemberInput {
  return {
    device: { uuid, name: `edge-${uuid}`, serial: `S-${uuid}`, lastSeenAt: 1000 },
    block: { cluster_id: CID, cluster_ip_prefix: `${ip}/24`, join_server_ip: '10.0.0.2', ...extra },
    latest,
  };
}

void describe('buildClusterView', () => {
  void it('self-report beside the leader view, for each case (table)', () => {
    const all = [
      { id: 'a', ip: '10.0.0.2', ready: true },
      { id: 'b', ip: '10.0.0.3', ready: false, adm: 'NODE_ADMISSION_JOINING' },
    ];
    const v = buildClusterView(5000, CID, 'c1', [
      member('a', '10.0.0.2', [nodeStatus('a', 'READY', 100), kube('a', 200, all)]),
      member('b', '10.0.0.3', [nodeStatus('b', 'NOTREADY', 150)], { is_worker_node: true }),
      // Not in the leader's list; never reported itself; an older report from another cluster is ignored.
      member('c', '10.0.0.4', [kube('c', 900, [], 'another-cluster')], { tie_breaker_node_id: 'c' }),
    ]);
    const rows = v.nodes.map((n) => [n.uuid, n.role, n.tieBreaker, n.joinServer, n.selfStatus, n.selfReportAt, n.leaderView, n.admission, n.isLeader]);
    assert.deepEqual(rows, [
      ['a', 'server', false, true, 'READY', 100, 'Ready', 'JOINED', true],
      ['b', 'worker', false, false, 'NOTREADY', 150, 'NotReady', 'JOINING', false],
      ['c', 'server', true, false, 'NONE', null, null, null, false],
    ]);
    assert.equal(v.leader, 'a');
    assert.equal(v.leaderReportAt, 200);
  });

  void it('the newest ZInfoKubeCluster names the leader; nodes are matched by UUID or by cluster IP', () => {
    const v = buildClusterView(0, CID, 'c1', [
      member('a', '10.0.0.2', [kube('a', 100, [{ id: 'a', ip: '10.0.0.2', ready: true }])]),
      member('b', '10.0.0.3', [kube('b', 300, [{ id: '', ip: '10.0.0.2', ready: false }, { id: 'b', ip: '10.0.0.3', ready: true }])]),
    ]);
    assert.equal(v.leader, 'b');
    assert.deepEqual(v.nodes.map((n) => [n.uuid, n.isLeader, n.leaderView]), [['a', false, 'NotReady'], ['b', true, 'Ready']]);
  });

  void it('update status: FAILED with its reason; DOWN self-report', () => {
    const up = info('a', 'ZiKubeClusterUpdateStatus', {
      cluster_update_info: { component: 'KUBE_COMP_K3S', status: 'KUBE_COMP_UPDATE_STATUS_FAILED', error: { description: 'image digest mismatch' } },
    }, 700);
    const v = buildClusterView(0, CID, 'c1', [member('a', '10.0.0.2', [nodeStatus('a', 'DOWN', 600), up])]);
    assert.deepEqual(v.nodes[0].update, { status: 'FAILED', component: 'K3S', reason: 'image digest mismatch', at: 700 });
    assert.equal(v.nodes[0].selfStatus, 'DOWN');
    assert.equal(v.leader, null);
  });
});

void describe('buildAppsView', () => {
  void it('designated node vs the node whose newest report says running', () => {
    const app = (id: string, name: string, designated: string, affinity?: string): Record<string, unknown> => ({
      uuidandversion: { uuid: id, version: '1' },
      displayname: name,
      designated_node_id: designated,
      ...(affinity ? { affinity } : {}),
    });
    const apps = [app('A', 'web', 'n1'), app('B', 'db', 'n2', 'AFFINITY_TYPE_REQUIRED')];
    const ainfo = (u: string, id: string, running: boolean, at: number, state = 'RUNNING'): InfoRecord =>
      info(u, 'ZiApp', { ainfo: { AppID: id, state, cluster_app_running: running } }, at);
    const v = buildAppsView(0, [
      // n1 ran A, then lost it (newest report: not running); n2 runs A and B.
      { uuid: 'n1', displayName: 'edge-1', cluster: 'c1', apps, volumes: [{ uuid: 'V', displayName: 'vol', designated_node_id: 'n1' }], appInfos: [ainfo('n1', 'A', true, 10), ainfo('n1', 'A', false, 20, 'HALTED')] },
      { uuid: 'n2', displayName: 'edge-2', cluster: 'c1', apps, volumes: [], appInfos: [ainfo('n2', 'A', true, 30), ainfo('n2', 'B', true, 15)] },
    ]);
    assert.deepEqual(
      v.apps.map((a) => [a.name, a.designatedNode, a.runningOn, a.affinity, a.state, a.stateFrom]),
      [
        ['db', 'n2', ['n2'], 'REQUIRED', 'RUNNING', 'n2'],
        ['web', 'n1', ['n2'], 'PREFERRED', 'RUNNING', 'n2'],
      ],
    );
    assert.deepEqual(v.volumes, [{ uuid: 'V', name: 'vol', designatedNode: 'n1' }]);
    assert.deepEqual(v.nodeNames, { n1: 'edge-1', n2: 'edge-2' });
  });
});

void describe('summarizeInfo', () => {
  void it('one line of key fields per message type (table)', () => {
    const cases: [string, unknown, string][] = [
      ['ZiNop', { cluster_node: { node_status: 'Z_INFO_CLUSTER_NODE_STATUS_READY' } }, 'node_status READY'],
      ['ZiKubeCluster', kube('x', 0, [{ id: 'a', ip: '1', ready: true }, { id: 'b', ip: '2', ready: false }]).json, 'cluster 11111111 · 2 nodes: n-a Ready; n-b NotReady'],
      ['ZiKubeClusterUpdateStatus', { cluster_update_info: { component: 'KUBE_COMP_K3S', status: 'KUBE_COMP_UPDATE_STATUS_FAILED', error: { description: 'no space' } } }, 'K3S FAILED: no space'],
      ['ZiApp', { ainfo: { AppName: 'web', state: 'RUNNING', cluster_app_running: true } }, 'web RUNNING running yes'],
      ['ZiDevice', { ztype: 'ZiDevice', devId: 'x', dinfo: { machineArch: 'x86_64', state: 'DEVICE_STATE_ONLINE', ports: [] } }, 'dinfo: machineArch x86_64, state DEVICE_STATE_ONLINE'],
      ['ZiNop', {}, ''],
    ];
    for (const [ztype, json, want] of cases) assert.equal(summarizeInfo(info('d', ztype, json, 0)), want, ztype);
    assert.equal(summarizeInfo(info('d', 'ZiApp', { ainfo: { AppName: 'x'.repeat(300) } }, 0)).length, 140, 'capped');
  });

  void it('the timeline is newest first', () => {
    const ev = infoEvents([nodeStatus('d', 'READY', 1), nodeStatus('d', 'DOWN', 2)]);
    assert.deepEqual(ev.map((e) => [e.at, e.summary]), [[2, 'node_status DOWN'], [1, 'node_status READY']]);
  });
});

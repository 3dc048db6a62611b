/**
 * The cluster reports built from Kubernetes status (cluster.md §7): NodeAdmission as EVE's `getKubeNodeInfo`
 * decides it (§7.4), the rest of ZInfoKubeCluster (§7.2, §7.3), the own node's status (§7.7) and the
 * cluster-config status message.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { clusterUpdateStatusInfo, kubeClusterInfo, kubeClusterKey, nodeAdmission, nodeStatusOf } from '../../../../src/agent/cluster/kube-report.js';
import { NIL_UUID } from '../../../../src/agent/parse-config.js';
import { info } from '../../../../src/eve/index.js';
import { LABEL_CONTROL_PLANE, LABEL_ETCD, type KubeNodeStatus, type KubePodStatus } from '../../../../src/k3s/index.js';

const A = info.NodeAdmission;
const CLUSTER = '6f1c7d2e-5a4b-4c3d-9e8f-0a1b2c3d4e5f';

function node(name: string, over: Partial<KubeNodeStatus> = {}): KubeNodeStatus {
  return {
    name,
    ready: 'True',
    readyConditionPresent: true,
    labels: {},
    annotations: {},
    roles: [],
    schedulable: true,
    taints: [],
    ...over,
  };
}
const server = { [LABEL_CONTROL_PLANE]: 'true', [LABEL_ETCD]: 'true' };
const singleServer = { [LABEL_CONTROL_PLANE]: 'true' }; // plain `k3s server`: no etcd (§4.4)

test('nodeAdmission: EVE getKubeNodeInfo table (cluster config held × etcd label), agent mode as Simulator choice', () => {
  const rows: Array<[string, Record<string, string>, KubeNodeStatus['ready'], boolean, info.NodeAdmission]> = [
    ['member with a cluster config', server, 'True', true, A.NODE_ADMISSION_JOINED],
    ['member not Ready yet, etcd label set', server, 'False', true, A.NODE_ADMISSION_JOINED],
    ['server still without its etcd label', singleServer, 'True', true, A.NODE_ADMISSION_JOINING],
    ['agent-mode node, Ready', {}, 'True', true, A.NODE_ADMISSION_JOINED],
    ['agent-mode node, not Ready', {}, 'False', true, A.NODE_ADMISSION_JOINING],
    ['agent-mode node, Unknown', {}, 'Unknown', true, A.NODE_ADMISSION_JOINING],
    ['block removed, etcd label still there (leaving)', server, 'True', false, A.NODE_ADMISSION_LEAVING],
    ['block removed, only the etcd label left', { [LABEL_ETCD]: 'true' }, 'False', false, A.NODE_ADMISSION_LEAVING],
    ['single-node server (control-plane, no etcd)', singleServer, 'True', false, A.NODE_ADMISSION_NOT_CLUSTERED],
    ['single node without any role label', {}, 'True', false, A.NODE_ADMISSION_NOT_CLUSTERED],
  ];
  for (const [what, labels, ready, cfg, want] of rows) {
    assert.equal(nodeAdmission({ labels, ready }, cfg), want, what);
  }
  // UNSPECIFIED is never sent.
  for (const [, labels, ready, cfg] of rows) assert.notEqual(nodeAdmission({ labels, ready }, cfg), A.NODE_ADMISSION_UNSPECIFIED);
});

test('kubeClusterInfo: nodes sorted by name with §7.3 fields; admission follows whether a cluster id is held', () => {
  const nodes = [
    node('edge-b', { labels: { ...server, 'node-uuid': 'uuid-b' }, nodeUuid: 'uuid-b', internalIp: '10.0.0.3', kubeletVersion: 'v1.30.0+k3s1', schedulable: false, lastTransition: '2026-01-01T00:00:05Z', creationTimestamp: '2026-01-01T00:00:00Z' }),
    node('edge-a', { labels: singleServer, ready: 'False', internalIp: '10.0.0.2' }),
  ];
  const pods: KubePodStatus[] = [
    { name: 'virt-launcher-x', namespace: 'eve-kube-app', phase: 'Running', labels: {}, owners: [], restartCount: 0 },
    { name: 'app-2', namespace: 'eve-kube-app', phase: 'Weird', labels: {}, owners: [], restartCount: 0 },
    { name: 'app-1', namespace: 'eve-kube-app', phase: 'Running', labels: {}, owners: [], restartCount: 3, podIp: '10.42.0.9', nodeName: 'edge-b' },
  ];
  const inCluster = kubeClusterInfo(nodes, pods, CLUSTER);
  assert.equal(inCluster.cluster_id, CLUSTER);
  assert.deepEqual(inCluster.nodes!.map((n) => [n.name, n.admission_status, n.role_server, n.schedulable, n.node_id, n.internal_ip]), [
    ['edge-a', A.NODE_ADMISSION_JOINING, true, true, '', '10.0.0.2'],
    ['edge-b', A.NODE_ADMISSION_JOINED, true, false, 'uuid-b', '10.0.0.3'],
  ]);
  const b = inCluster.nodes![1];
  assert.deepEqual(b.conditions, [{ type: info.KubeNodeConditionType.KUBE_NODE_CONDITION_TYPE_READY, set: true, last_transition_time: { seconds: 1767225605, nanos: 0 } }]);
  assert.equal(b.api_server_sersion, 'v1.30.0+k3s1');
  assert.equal(inCluster.nodes![0].conditions![0].set, false);
  assert.deepEqual(inCluster.eve_apps!.map((p) => [p.name, p.status, p.restart_count]), [
    ['app-1', info.KubePodStatus.KUBE_POD_STATUS_RUNNING, 3],
    ['app-2', info.KubePodStatus.KUBE_POD_STATUS_UNSPECIFIED, 0],
  ], 'virt-launcher pods left out; an unknown phase is UNSPECIFIED');

  const single = kubeClusterInfo(nodes, [], undefined);
  assert.equal(single.cluster_id, NIL_UUID, 'no cluster block: the nil UUID');
  // §7.4: the config item is always held once a config was parsed (empty without a block), as on EVE.
  assert.deepEqual(
    single.nodes!.map((n) => n.admission_status),
    inCluster.nodes!.map((n) => n.admission_status),
    'without a block the same table with the item held: JOINED with the etcd label, JOINING without',
  );
  assert.ok(!single.nodes!.some((n) => n.admission_status === A.NODE_ADMISSION_NOT_CLUSTERED || n.admission_status === A.NODE_ADMISSION_LEAVING));
  assert.notEqual(kubeClusterKey(single), kubeClusterKey(inCluster), 'a cluster id change is a report change');
});

test('nodeStatusOf: Ready True → READY; False, Unknown or no node → NOTREADY', () => {
  const S = info.ZInfoClusterNodeStatus;
  assert.equal(nodeStatusOf(node('n')), S.Z_INFO_CLUSTER_NODE_STATUS_READY);
  assert.equal(nodeStatusOf(node('n', { ready: 'False' })), S.Z_INFO_CLUSTER_NODE_STATUS_NOTREADY);
  assert.equal(nodeStatusOf(node('n', { ready: 'Unknown' })), S.Z_INFO_CLUSTER_NODE_STATUS_NOTREADY);
  assert.equal(nodeStatusOf(undefined), S.Z_INFO_CLUSTER_NODE_STATUS_NOTREADY);
});

test('clusterUpdateStatusInfo: FAILED with the error (severity error) or COMPLETED without one', () => {
  const failed = clusterUpdateStatusInfo({ devId: 'd', nodeName: 'edge-d', clusterId: CLUSTER, error: 'cluster.join_server_ip: "x" is not an IP address', nowMs: 1_000 });
  assert.equal(failed.ztype, info.ZInfoTypes.ZiKubeClusterUpdateStatus);
  assert.equal(failed.cluster_update_info!.status, info.KubeCompUpdateStatus.KUBE_COMP_UPDATE_STATUS_FAILED);
  assert.equal(failed.cluster_update_info!.error!.description, 'cluster.join_server_ip: "x" is not an IP address');
  assert.equal(failed.cluster_update_info!.error!.severity, 3);
  const ok = clusterUpdateStatusInfo({ devId: 'd', nodeName: 'edge-d', clusterId: CLUSTER, error: undefined, nowMs: 1_000 });
  assert.equal(ok.cluster_update_info!.status, info.KubeCompUpdateStatus.KUBE_COMP_UPDATE_STATUS_COMPLETED);
  assert.equal(ok.cluster_update_info!.error, undefined);
});

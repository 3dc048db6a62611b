/**
 * Builders of the cluster reports from plain Kubernetes status (cluster.md §7): ZInfoKubeCluster (leader only)
 * and ZInfoClusterNode (every node, Simulator choice §7.7). Pure functions.
 */
import { info, timestampFromMs, type google } from '../../eve/index.js';
import { LABEL_ETCD, LABEL_CONTROL_PLANE, type KubeNodeStatus, type KubePodStatus } from '../../k3s/index.js';
import { NIL_UUID } from '../parse-config.js';

const ts = (iso: string | undefined): google.protobuf.ITimestamp | undefined =>
  iso ? timestampFromMs(Date.parse(iso)) : undefined;

/**
 * §7.4 as EVE's `getKubeNodeInfo` computes it: from whether the reporting node holds the `EdgeNodeClusterConfig`
 * item and whether the listed node carries the etcd role label. No item: etcd label → LEAVING, none →
 * NOT_CLUSTERED. With the item: etcd label → JOINED, none → JOINING. Only the etcd label counts, as in EVE: a
 * single-node k3s server has the control-plane label but no etcd.
 * Simulator choice (§4.6): with a config, a Ready node without the control-plane label (agent mode) is JOINED.
 */
export function nodeAdmission(n: Pick<KubeNodeStatus, 'labels' | 'ready'>, clusterConfig: boolean): info.NodeAdmission {
  const etcd = n.labels[LABEL_ETCD] !== undefined;
  if (!clusterConfig) return etcd ? info.NodeAdmission.NODE_ADMISSION_LEAVING : info.NodeAdmission.NODE_ADMISSION_NOT_CLUSTERED;
  if (etcd) return info.NodeAdmission.NODE_ADMISSION_JOINED;
  if (n.labels[LABEL_CONTROL_PLANE] === undefined && n.ready === 'True') return info.NodeAdmission.NODE_ADMISSION_JOINED;
  return info.NodeAdmission.NODE_ADMISSION_JOINING;
}

const POD_STATUS: Record<string, info.KubePodStatus> = {
  Pending: info.KubePodStatus.KUBE_POD_STATUS_PENDING,
  Running: info.KubePodStatus.KUBE_POD_STATUS_RUNNING,
  Succeeded: info.KubePodStatus.KUBE_POD_STATUS_SUCCEEDED,
  Failed: info.KubePodStatus.KUBE_POD_STATUS_FAILED,
};

/**
 * ZInfoKubeCluster (§7.2, §7.3) from the node list and the `eve-kube-app` pods; `clusterId` is the reporting node's
 * cluster, undefined when it holds no cluster block (single-node: the nil UUID).
 */
export function kubeClusterInfo(nodes: KubeNodeStatus[], pods: KubePodStatus[], clusterId: string | undefined): info.IZInfoKubeCluster {
  return {
    nodes: [...nodes]
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((n) => ({
        name: n.name,
        conditions: [
          {
            type: info.KubeNodeConditionType.KUBE_NODE_CONDITION_TYPE_READY,
            set: n.ready === 'True',
            ...(n.lastTransition ? { last_transition_time: ts(n.lastTransition)! } : {}),
          },
        ],
        // EVE: always true (every node runs k3s server); agent-mode nodes (§4.6) have no control-plane label.
        role_server: n.labels[LABEL_CONTROL_PLANE] !== undefined,
        ...(n.creationTimestamp ? { creation_timestamp: ts(n.creationTimestamp)! } : {}),
        api_server_sersion: n.kubeletVersion ?? '',
        internal_ip: n.internalIp ?? '',
        schedulable: n.schedulable,
        // zedagent publishes the item after every config parse, an empty one when there is no cluster block, and
        // zedkube collects stats only once it holds it (§7.4): so it is always held here, and LEAVING and
        // NOT_CLUSTERED are never sent — a single node without a block reports itself JOINING, as EVE-k does.
        admission_status: nodeAdmission(n, true),
        node_id: n.nodeUuid ?? '',
      })),
    eve_apps: pods
      .filter((p) => !p.name.startsWith('virt-launcher-'))
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((p) => ({
        name: p.name,
        status: POD_STATUS[p.phase] ?? info.KubePodStatus.KUBE_POD_STATUS_UNSPECIFIED,
        restart_count: p.restartCount,
        ...(p.lastTerminationTime ? { restart_timestamp: ts(p.lastTerminationTime)! } : {}),
        ...(p.creationTimestamp ? { creation_timestamp: ts(p.creationTimestamp)! } : {}),
        ip_address: p.podIp ?? '',
        node_name: p.nodeName ?? '',
      })),
    // Without Longhorn there is no storage health to report (§7.2: UNSPECIFIED without Longhorn).
    cluster_id: clusterId || NIL_UUID,
  };
}

/** A digest-friendly view of ZInfoKubeCluster that leaves out what changes without meaning (none today). */
export function kubeClusterKey(msg: info.IZInfoKubeCluster): string {
  return JSON.stringify(msg);
}

/** §7.7: READY = own Node Ready True; NOTREADY = False/Unknown; DOWN is decided by the caller (API unreachable 2 min). */
export function nodeStatusOf(n: KubeNodeStatus | undefined): info.ZInfoClusterNodeStatus {
  if (!n) return info.ZInfoClusterNodeStatus.Z_INFO_CLUSTER_NODE_STATUS_NOTREADY;
  return n.ready === 'True'
    ? info.ZInfoClusterNodeStatus.Z_INFO_CLUSTER_NODE_STATUS_READY
    : info.ZInfoClusterNodeStatus.Z_INFO_CLUSTER_NODE_STATUS_NOTREADY;
}

/**
 * Simulator choice: EVE reports no cluster-config error; edgesim puts it in ZInfoKubeClusterUpdateStatus
 * (component K3S, status FAILED, ErrorInfo), cleared with COMPLETED once a good block is applied. The text names
 * the field and the reason, never a secret.
 */
export function clusterUpdateStatusInfo(a: { devId: string; nodeName: string; clusterId: string; error: string | undefined; nowMs: number }): info.IZInfoMsg {
  return {
    ztype: info.ZInfoTypes.ZiKubeClusterUpdateStatus,
    devId: a.devId,
    atTimeStamp: timestampFromMs(a.nowMs),
    cluster_update_info: {
      current_node: a.nodeName,
      component: info.KubeComp.KUBE_COMP_K3S,
      status: a.error ? info.KubeCompUpdateStatus.KUBE_COMP_UPDATE_STATUS_FAILED : info.KubeCompUpdateStatus.KUBE_COMP_UPDATE_STATUS_COMPLETED,
      ...(a.error ? { error: { description: a.error, severity: 3 /* SEVERITY_ERROR */, timestamp: timestampFromMs(a.nowMs) } } : {}),
      cluster_id: a.clusterId,
    },
  };
}

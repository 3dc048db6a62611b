/**
 * ZInfoKubeCluster as the controller stores it (protojson field names, enums as strings): the shape and the one
 * reading of a listed node's Ready condition that the dashboard, the demo table and the scenario checks share.
 */

/** A node of `cluster_info.nodes`. */
export interface KubeClusterNodeJson {
  name?: string;
  node_id?: string;
  internal_ip?: string;
  role_server?: boolean;
  admission_status?: string;
  conditions?: Array<{ type?: string; set?: boolean }>;
}

/** `cluster_info`. */
export interface KubeClusterJson {
  cluster_id?: string;
  nodes?: KubeClusterNodeJson[];
}

/**
 * Whether the leader lists `node` Ready: its Ready condition is set. EVE sends only that condition, so one without
 * a `type` is taken as it.
 */
export function listedReady(node: KubeClusterNodeJson | undefined): boolean {
  return node?.conditions?.find((c) => c.type === undefined || c.type === 'KUBE_NODE_CONDITION_TYPE_READY')?.set === true;
}

/** One received ZInfoKubeCluster: who sent it, when the controller received it, and its `cluster_info`. */
export interface KubeClusterReport<S> {
  sender: S;
  /** Controller receive time, epoch ms. */
  receivedAt: number;
  cluster: KubeClusterJson;
}

/**
 * The leader's report: the newest ZInfoKubeCluster received (only the leader sends it, cluster.md), the first of
 * equals on a tie. With `clusterId`, a report naming another cluster is skipped (one without an id counts).
 */
export function leaderReport<R extends KubeClusterReport<unknown>>(reports: Iterable<R>, clusterId?: string): R | undefined {
  let leader: R | undefined;
  for (const r of reports) {
    if (clusterId !== undefined && r.cluster.cluster_id !== undefined && r.cluster.cluster_id !== clusterId) continue;
    if (!leader || r.receivedAt > leader.receivedAt) leader = r;
  }
  return leader;
}

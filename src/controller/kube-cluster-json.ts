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

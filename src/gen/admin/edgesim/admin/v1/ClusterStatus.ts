// Original file: proto/admin/admin.proto


/**
 * This node's view of its cluster (cluster.md); unset when the agent runs no k3s.
 */
export interface ClusterStatus {
  /**
   * none | single | bootstrap | server | agent
   */
  'role'?: (string);
  'clusterId'?: (string);
  'clusterIp'?: (string);
  /**
   * The Kubernetes node name of this node.
   */
  'nodeName'?: (string);
  /**
   * READY | NOTREADY | DOWN, or "" without a cluster.
   */
  'nodeStatus'?: (string);
  'isLeader'?: (boolean);
  /**
   * Node name of the current leader (Lease holder).
   */
  'leader'?: (string);
  /**
   * The reconciler's step, e.g. idle, waiting-bootstrap, k3s-starting, running.
   */
  'phase'?: (string);
  /**
   * The last reconcile error; empty when none.
   */
  'error'?: (string);
}

/**
 * This node's view of its cluster (cluster.md); unset when the agent runs no k3s.
 */
export interface ClusterStatus__Output {
  /**
   * none | single | bootstrap | server | agent
   */
  'role': (string);
  'clusterId': (string);
  'clusterIp': (string);
  /**
   * The Kubernetes node name of this node.
   */
  'nodeName': (string);
  /**
   * READY | NOTREADY | DOWN, or "" without a cluster.
   */
  'nodeStatus': (string);
  'isLeader': (boolean);
  /**
   * Node name of the current leader (Lease holder).
   */
  'leader': (string);
  /**
   * The reconciler's step, e.g. idle, waiting-bootstrap, k3s-starting, running.
   */
  'phase': (string);
  /**
   * The last reconcile error; empty when none.
   */
  'error': (string);
}

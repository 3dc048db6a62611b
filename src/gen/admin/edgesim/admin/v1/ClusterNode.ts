// Original file: proto/admin/admin.proto


export interface ClusterNode {
  /**
   * Kubernetes node name.
   */
  'name'?: (string);
  /**
   * EVE node UUID (node-uuid label).
   */
  'nodeId'?: (string);
  'ready'?: (boolean);
  'internalIp'?: (string);
  'schedulable'?: (boolean);
}

export interface ClusterNode__Output {
  /**
   * Kubernetes node name.
   */
  'name': (string);
  /**
   * EVE node UUID (node-uuid label).
   */
  'nodeId': (string);
  'ready': (boolean);
  'internalIp': (string);
  'schedulable': (boolean);
}

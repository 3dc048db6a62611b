// Original file: proto/admin/admin.proto


export interface App {
  'uuid'?: (string);
  'version'?: (string);
  'displayName'?: (string);
  'activate'?: (boolean);
  /**
   * Empty = every node of the cluster is designated.
   */
  'designatedNodeId'?: (string);
  /**
   * preferred | required
   */
  'affinity'?: (string);
  /**
   * Observed state (e.g. RUNNING); empty until the app reconciler reports.
   */
  'state'?: (string);
}

export interface App__Output {
  'uuid': (string);
  'version': (string);
  'displayName': (string);
  'activate': (boolean);
  /**
   * Empty = every node of the cluster is designated.
   */
  'designatedNodeId': (string);
  /**
   * preferred | required
   */
  'affinity': (string);
  /**
   * Observed state (e.g. RUNNING); empty until the app reconciler reports.
   */
  'state': (string);
}

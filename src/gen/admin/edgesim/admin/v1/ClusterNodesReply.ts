// Original file: proto/admin/admin.proto

import type { ClusterNode as _edgesim_admin_v1_ClusterNode, ClusterNode__Output as _edgesim_admin_v1_ClusterNode__Output } from '../../../edgesim/admin/v1/ClusterNode';

export interface ClusterNodesReply {
  'nodes'?: (_edgesim_admin_v1_ClusterNode)[];
}

export interface ClusterNodesReply__Output {
  'nodes': (_edgesim_admin_v1_ClusterNode__Output)[];
}

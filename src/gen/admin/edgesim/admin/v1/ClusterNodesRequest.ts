// Original file: proto/admin/admin.proto


export interface ClusterNodesRequest {
}

export interface ClusterNodesRequest__Output {
}

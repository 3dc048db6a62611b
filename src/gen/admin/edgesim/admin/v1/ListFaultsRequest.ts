// Original file: proto/admin/admin.proto


export interface ListFaultsRequest {
}

export interface ListFaultsRequest__Output {
}

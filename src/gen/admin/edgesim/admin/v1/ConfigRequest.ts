// Original file: proto/admin/admin.proto


export interface ConfigRequest {
}

export interface ConfigRequest__Output {
}

// Original file: proto/admin/admin.proto


export interface StatusRequest {
}

export interface StatusRequest__Output {
}

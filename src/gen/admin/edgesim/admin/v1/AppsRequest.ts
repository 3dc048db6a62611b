// Original file: proto/admin/admin.proto


export interface AppsRequest {
}

export interface AppsRequest__Output {
}

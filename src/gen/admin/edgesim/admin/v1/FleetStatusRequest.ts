// Original file: proto/admin/fleet.proto


export interface FleetStatusRequest {
}

export interface FleetStatusRequest__Output {
}

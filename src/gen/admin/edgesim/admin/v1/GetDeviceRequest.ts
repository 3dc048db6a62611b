// Original file: proto/admin/fleet.proto


export interface GetDeviceRequest {
  'serial'?: (string);
}

export interface GetDeviceRequest__Output {
  'serial': (string);
}

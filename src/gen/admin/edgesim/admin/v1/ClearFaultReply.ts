// Original file: proto/admin/admin.proto


export interface ClearFaultReply {
  'cleared'?: (string)[];
}

export interface ClearFaultReply__Output {
  'cleared': (string)[];
}

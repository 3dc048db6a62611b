// Original file: proto/admin/admin.proto


export interface ClearFaultRequest {
  /**
   * A fault kind, or "all".
   */
  'kind'?: (string);
}

export interface ClearFaultRequest__Output {
  /**
   * A fault kind, or "all".
   */
  'kind': (string);
}

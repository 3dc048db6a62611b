// Original file: proto/admin/fleet.proto


export interface ClearFleetFaultRequest {
  /**
   * A fault kind, or "all".
   */
  'kind'?: (string);
}

export interface ClearFleetFaultRequest__Output {
  /**
   * A fault kind, or "all".
   */
  'kind': (string);
}

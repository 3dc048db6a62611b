// Original file: proto/admin/fleet.proto


export interface InjectFleetFaultReply {
  /**
   * The serials the fault reached.
   */
  'serials'?: (string)[];
}

export interface InjectFleetFaultReply__Output {
  /**
   * The serials the fault reached.
   */
  'serials': (string)[];
}

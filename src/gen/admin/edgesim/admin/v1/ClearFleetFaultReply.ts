// Original file: proto/admin/fleet.proto


export interface ClearFleetFaultReply {
  /**
   * Devices that had it.
   */
  'devices'?: (number);
}

export interface ClearFleetFaultReply__Output {
  /**
   * Devices that had it.
   */
  'devices': (number);
}

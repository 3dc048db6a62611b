// Original file: proto/admin/fleet.proto


export interface ListDevicesRequest {
  'offset'?: (number);
  /**
   * 0 = every device.
   */
  'limit'?: (number);
  /**
   * Only devices in this phase; empty = all.
   */
  'phase'?: (string);
}

export interface ListDevicesRequest__Output {
  'offset': (number);
  /**
   * 0 = every device.
   */
  'limit': (number);
  /**
   * Only devices in this phase; empty = all.
   */
  'phase': (string);
}

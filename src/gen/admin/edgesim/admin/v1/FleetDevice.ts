// Original file: proto/admin/fleet.proto


export interface FleetDevice {
  'serial'?: (string);
  /**
   * Empty until onboarded.
   */
  'uuid'?: (string);
  'phase'?: (string);
  'queueDepth'?: (number);
  'reachable'?: (boolean);
  /**
   * Active fault kinds.
   */
  'faults'?: (string)[];
  'restarts'?: (number);
  'lastError'?: (string);
  /**
   * "<manufacturer> <productName>" from the profile; empty = the default model.
   */
  'hardware'?: (string);
}

export interface FleetDevice__Output {
  'serial': (string);
  /**
   * Empty until onboarded.
   */
  'uuid': (string);
  'phase': (string);
  'queueDepth': (number);
  'reachable': (boolean);
  /**
   * Active fault kinds.
   */
  'faults': (string)[];
  'restarts': (number);
  'lastError': (string);
  /**
   * "<manufacturer> <productName>" from the profile; empty = the default model.
   */
  'hardware': (string);
}

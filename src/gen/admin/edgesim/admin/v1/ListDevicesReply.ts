// Original file: proto/admin/fleet.proto

import type { FleetDevice as _edgesim_admin_v1_FleetDevice, FleetDevice__Output as _edgesim_admin_v1_FleetDevice__Output } from '../../../edgesim/admin/v1/FleetDevice';

export interface ListDevicesReply {
  'devices'?: (_edgesim_admin_v1_FleetDevice)[];
  /**
   * Devices that matched, before paging.
   */
  'total'?: (number);
}

export interface ListDevicesReply__Output {
  'devices': (_edgesim_admin_v1_FleetDevice__Output)[];
  /**
   * Devices that matched, before paging.
   */
  'total': (number);
}

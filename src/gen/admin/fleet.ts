import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { ClearFleetFaultReply as _edgesim_admin_v1_ClearFleetFaultReply, ClearFleetFaultReply__Output as _edgesim_admin_v1_ClearFleetFaultReply__Output } from './edgesim/admin/v1/ClearFleetFaultReply';
import type { ClearFleetFaultRequest as _edgesim_admin_v1_ClearFleetFaultRequest, ClearFleetFaultRequest__Output as _edgesim_admin_v1_ClearFleetFaultRequest__Output } from './edgesim/admin/v1/ClearFleetFaultRequest';
import type { FleetAdminClient as _edgesim_admin_v1_FleetAdminClient, FleetAdminDefinition as _edgesim_admin_v1_FleetAdminDefinition } from './edgesim/admin/v1/FleetAdmin';
import type { FleetDevice as _edgesim_admin_v1_FleetDevice, FleetDevice__Output as _edgesim_admin_v1_FleetDevice__Output } from './edgesim/admin/v1/FleetDevice';
import type { FleetStatusReply as _edgesim_admin_v1_FleetStatusReply, FleetStatusReply__Output as _edgesim_admin_v1_FleetStatusReply__Output } from './edgesim/admin/v1/FleetStatusReply';
import type { FleetStatusRequest as _edgesim_admin_v1_FleetStatusRequest, FleetStatusRequest__Output as _edgesim_admin_v1_FleetStatusRequest__Output } from './edgesim/admin/v1/FleetStatusRequest';
import type { GetDeviceRequest as _edgesim_admin_v1_GetDeviceRequest, GetDeviceRequest__Output as _edgesim_admin_v1_GetDeviceRequest__Output } from './edgesim/admin/v1/GetDeviceRequest';
import type { InjectFleetFaultReply as _edgesim_admin_v1_InjectFleetFaultReply, InjectFleetFaultReply__Output as _edgesim_admin_v1_InjectFleetFaultReply__Output } from './edgesim/admin/v1/InjectFleetFaultReply';
import type { InjectFleetFaultRequest as _edgesim_admin_v1_InjectFleetFaultRequest, InjectFleetFaultRequest__Output as _edgesim_admin_v1_InjectFleetFaultRequest__Output } from './edgesim/admin/v1/InjectFleetFaultRequest';
import type { ListDevicesReply as _edgesim_admin_v1_ListDevicesReply, ListDevicesReply__Output as _edgesim_admin_v1_ListDevicesReply__Output } from './edgesim/admin/v1/ListDevicesReply';
import type { ListDevicesRequest as _edgesim_admin_v1_ListDevicesRequest, ListDevicesRequest__Output as _edgesim_admin_v1_ListDevicesRequest__Output } from './edgesim/admin/v1/ListDevicesRequest';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  edgesim: {
    admin: {
      v1: {
        ClearFleetFaultReply: MessageTypeDefinition<_edgesim_admin_v1_ClearFleetFaultReply, _edgesim_admin_v1_ClearFleetFaultReply__Output>
        ClearFleetFaultRequest: MessageTypeDefinition<_edgesim_admin_v1_ClearFleetFaultRequest, _edgesim_admin_v1_ClearFleetFaultRequest__Output>
        FleetAdmin: SubtypeConstructor<typeof grpc.Client, _edgesim_admin_v1_FleetAdminClient> & { service: _edgesim_admin_v1_FleetAdminDefinition }
        FleetDevice: MessageTypeDefinition<_edgesim_admin_v1_FleetDevice, _edgesim_admin_v1_FleetDevice__Output>
        FleetStatusReply: MessageTypeDefinition<_edgesim_admin_v1_FleetStatusReply, _edgesim_admin_v1_FleetStatusReply__Output>
        FleetStatusRequest: MessageTypeDefinition<_edgesim_admin_v1_FleetStatusRequest, _edgesim_admin_v1_FleetStatusRequest__Output>
        GetDeviceRequest: MessageTypeDefinition<_edgesim_admin_v1_GetDeviceRequest, _edgesim_admin_v1_GetDeviceRequest__Output>
        InjectFleetFaultReply: MessageTypeDefinition<_edgesim_admin_v1_InjectFleetFaultReply, _edgesim_admin_v1_InjectFleetFaultReply__Output>
        InjectFleetFaultRequest: MessageTypeDefinition<_edgesim_admin_v1_InjectFleetFaultRequest, _edgesim_admin_v1_InjectFleetFaultRequest__Output>
        ListDevicesReply: MessageTypeDefinition<_edgesim_admin_v1_ListDevicesReply, _edgesim_admin_v1_ListDevicesReply__Output>
        ListDevicesRequest: MessageTypeDefinition<_edgesim_admin_v1_ListDevicesRequest, _edgesim_admin_v1_ListDevicesRequest__Output>
      }
    }
  }
}


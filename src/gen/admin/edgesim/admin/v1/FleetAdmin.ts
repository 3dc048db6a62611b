// Original file: proto/admin/fleet.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { ClearFleetFaultReply as _edgesim_admin_v1_ClearFleetFaultReply, ClearFleetFaultReply__Output as _edgesim_admin_v1_ClearFleetFaultReply__Output } from '../../../edgesim/admin/v1/ClearFleetFaultReply';
import type { ClearFleetFaultRequest as _edgesim_admin_v1_ClearFleetFaultRequest, ClearFleetFaultRequest__Output as _edgesim_admin_v1_ClearFleetFaultRequest__Output } from '../../../edgesim/admin/v1/ClearFleetFaultRequest';
import type { FleetDevice as _edgesim_admin_v1_FleetDevice, FleetDevice__Output as _edgesim_admin_v1_FleetDevice__Output } from '../../../edgesim/admin/v1/FleetDevice';
import type { FleetStatusReply as _edgesim_admin_v1_FleetStatusReply, FleetStatusReply__Output as _edgesim_admin_v1_FleetStatusReply__Output } from '../../../edgesim/admin/v1/FleetStatusReply';
import type { FleetStatusRequest as _edgesim_admin_v1_FleetStatusRequest, FleetStatusRequest__Output as _edgesim_admin_v1_FleetStatusRequest__Output } from '../../../edgesim/admin/v1/FleetStatusRequest';
import type { GetDeviceRequest as _edgesim_admin_v1_GetDeviceRequest, GetDeviceRequest__Output as _edgesim_admin_v1_GetDeviceRequest__Output } from '../../../edgesim/admin/v1/GetDeviceRequest';
import type { InjectFleetFaultReply as _edgesim_admin_v1_InjectFleetFaultReply, InjectFleetFaultReply__Output as _edgesim_admin_v1_InjectFleetFaultReply__Output } from '../../../edgesim/admin/v1/InjectFleetFaultReply';
import type { InjectFleetFaultRequest as _edgesim_admin_v1_InjectFleetFaultRequest, InjectFleetFaultRequest__Output as _edgesim_admin_v1_InjectFleetFaultRequest__Output } from '../../../edgesim/admin/v1/InjectFleetFaultRequest';
import type { ListDevicesReply as _edgesim_admin_v1_ListDevicesReply, ListDevicesReply__Output as _edgesim_admin_v1_ListDevicesReply__Output } from '../../../edgesim/admin/v1/ListDevicesReply';
import type { ListDevicesRequest as _edgesim_admin_v1_ListDevicesRequest, ListDevicesRequest__Output as _edgesim_admin_v1_ListDevicesRequest__Output } from '../../../edgesim/admin/v1/ListDevicesRequest';

export interface FleetAdminClient extends grpc.Client {
  /**
   * Clears one fault kind, or all with kind "all", on every device.
   */
  ClearFleetFault(argument: _edgesim_admin_v1_ClearFleetFaultRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_edgesim_admin_v1_ClearFleetFaultReply__Output>): grpc.ClientUnaryCall;
  ClearFleetFault(argument: _edgesim_admin_v1_ClearFleetFaultRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_edgesim_admin_v1_ClearFleetFaultReply__Output>): grpc.ClientUnaryCall;
  ClearFleetFault(argument: _edgesim_admin_v1_ClearFleetFaultRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_edgesim_admin_v1_ClearFleetFaultReply__Output>): grpc.ClientUnaryCall;
  ClearFleetFault(argument: _edgesim_admin_v1_ClearFleetFaultRequest, callback: grpc.requestCallback<_edgesim_admin_v1_ClearFleetFaultReply__Output>): grpc.ClientUnaryCall;
  /**
   * Clears one fault kind, or all with kind "all", on every device.
   */
  clearFleetFault(argument: _edgesim_admin_v1_ClearFleetFaultRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_edgesim_admin_v1_ClearFleetFaultReply__Output>): grpc.ClientUnaryCall;
  clearFleetFault(argument: _edgesim_admin_v1_ClearFleetFaultRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_edgesim_admin_v1_ClearFleetFaultReply__Output>): grpc.ClientUnaryCall;
  clearFleetFault(argument: _edgesim_admin_v1_ClearFleetFaultRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_edgesim_admin_v1_ClearFleetFaultReply__Output>): grpc.ClientUnaryCall;
  clearFleetFault(argument: _edgesim_admin_v1_ClearFleetFaultRequest, callback: grpc.requestCallback<_edgesim_admin_v1_ClearFleetFaultReply__Output>): grpc.ClientUnaryCall;
  
  /**
   * Counts over the devices of this process: by phase, by active fault, requests by endpoint and outcome.
   */
  FleetStatus(argument: _edgesim_admin_v1_FleetStatusRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_edgesim_admin_v1_FleetStatusReply__Output>): grpc.ClientUnaryCall;
  FleetStatus(argument: _edgesim_admin_v1_FleetStatusRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_edgesim_admin_v1_FleetStatusReply__Output>): grpc.ClientUnaryCall;
  FleetStatus(argument: _edgesim_admin_v1_FleetStatusRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_edgesim_admin_v1_FleetStatusReply__Output>): grpc.ClientUnaryCall;
  FleetStatus(argument: _edgesim_admin_v1_FleetStatusRequest, callback: grpc.requestCallback<_edgesim_admin_v1_FleetStatusReply__Output>): grpc.ClientUnaryCall;
  /**
   * Counts over the devices of this process: by phase, by active fault, requests by endpoint and outcome.
   */
  fleetStatus(argument: _edgesim_admin_v1_FleetStatusRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_edgesim_admin_v1_FleetStatusReply__Output>): grpc.ClientUnaryCall;
  fleetStatus(argument: _edgesim_admin_v1_FleetStatusRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_edgesim_admin_v1_FleetStatusReply__Output>): grpc.ClientUnaryCall;
  fleetStatus(argument: _edgesim_admin_v1_FleetStatusRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_edgesim_admin_v1_FleetStatusReply__Output>): grpc.ClientUnaryCall;
  fleetStatus(argument: _edgesim_admin_v1_FleetStatusRequest, callback: grpc.requestCallback<_edgesim_admin_v1_FleetStatusReply__Output>): grpc.ClientUnaryCall;
  
  /**
   * One device by serial (NOT_FOUND when this process does not simulate it).
   */
  GetDevice(argument: _edgesim_admin_v1_GetDeviceRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_edgesim_admin_v1_FleetDevice__Output>): grpc.ClientUnaryCall;
  GetDevice(argument: _edgesim_admin_v1_GetDeviceRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_edgesim_admin_v1_FleetDevice__Output>): grpc.ClientUnaryCall;
  GetDevice(argument: _edgesim_admin_v1_GetDeviceRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_edgesim_admin_v1_FleetDevice__Output>): grpc.ClientUnaryCall;
  GetDevice(argument: _edgesim_admin_v1_GetDeviceRequest, callback: grpc.requestCallback<_edgesim_admin_v1_FleetDevice__Output>): grpc.ClientUnaryCall;
  /**
   * One device by serial (NOT_FOUND when this process does not simulate it).
   */
  getDevice(argument: _edgesim_admin_v1_GetDeviceRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_edgesim_admin_v1_FleetDevice__Output>): grpc.ClientUnaryCall;
  getDevice(argument: _edgesim_admin_v1_GetDeviceRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_edgesim_admin_v1_FleetDevice__Output>): grpc.ClientUnaryCall;
  getDevice(argument: _edgesim_admin_v1_GetDeviceRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_edgesim_admin_v1_FleetDevice__Output>): grpc.ClientUnaryCall;
  getDevice(argument: _edgesim_admin_v1_GetDeviceRequest, callback: grpc.requestCallback<_edgesim_admin_v1_FleetDevice__Output>): grpc.ClientUnaryCall;
  
  /**
   * Injects a fault of the agent's catalogue into a fraction of the devices or into named serials
   * (INVALID_ARGUMENT for an unknown kind, a fraction outside (0, 1] or an unknown serial).
   */
  InjectFleetFault(argument: _edgesim_admin_v1_InjectFleetFaultRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_edgesim_admin_v1_InjectFleetFaultReply__Output>): grpc.ClientUnaryCall;
  InjectFleetFault(argument: _edgesim_admin_v1_InjectFleetFaultRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_edgesim_admin_v1_InjectFleetFaultReply__Output>): grpc.ClientUnaryCall;
  InjectFleetFault(argument: _edgesim_admin_v1_InjectFleetFaultRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_edgesim_admin_v1_InjectFleetFaultReply__Output>): grpc.ClientUnaryCall;
  InjectFleetFault(argument: _edgesim_admin_v1_InjectFleetFaultRequest, callback: grpc.requestCallback<_edgesim_admin_v1_InjectFleetFaultReply__Output>): grpc.ClientUnaryCall;
  /**
   * Injects a fault of the agent's catalogue into a fraction of the devices or into named serials
   * (INVALID_ARGUMENT for an unknown kind, a fraction outside (0, 1] or an unknown serial).
   */
  injectFleetFault(argument: _edgesim_admin_v1_InjectFleetFaultRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_edgesim_admin_v1_InjectFleetFaultReply__Output>): grpc.ClientUnaryCall;
  injectFleetFault(argument: _edgesim_admin_v1_InjectFleetFaultRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_edgesim_admin_v1_InjectFleetFaultReply__Output>): grpc.ClientUnaryCall;
  injectFleetFault(argument: _edgesim_admin_v1_InjectFleetFaultRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_edgesim_admin_v1_InjectFleetFaultReply__Output>): grpc.ClientUnaryCall;
  injectFleetFault(argument: _edgesim_admin_v1_InjectFleetFaultRequest, callback: grpc.requestCallback<_edgesim_admin_v1_InjectFleetFaultReply__Output>): grpc.ClientUnaryCall;
  
  /**
   * The devices of this process in serial order, one page at a time, optionally of one phase.
   */
  ListDevices(argument: _edgesim_admin_v1_ListDevicesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_edgesim_admin_v1_ListDevicesReply__Output>): grpc.ClientUnaryCall;
  ListDevices(argument: _edgesim_admin_v1_ListDevicesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_edgesim_admin_v1_ListDevicesReply__Output>): grpc.ClientUnaryCall;
  ListDevices(argument: _edgesim_admin_v1_ListDevicesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_edgesim_admin_v1_ListDevicesReply__Output>): grpc.ClientUnaryCall;
  ListDevices(argument: _edgesim_admin_v1_ListDevicesRequest, callback: grpc.requestCallback<_edgesim_admin_v1_ListDevicesReply__Output>): grpc.ClientUnaryCall;
  /**
   * The devices of this process in serial order, one page at a time, optionally of one phase.
   */
  listDevices(argument: _edgesim_admin_v1_ListDevicesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_edgesim_admin_v1_ListDevicesReply__Output>): grpc.ClientUnaryCall;
  listDevices(argument: _edgesim_admin_v1_ListDevicesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_edgesim_admin_v1_ListDevicesReply__Output>): grpc.ClientUnaryCall;
  listDevices(argument: _edgesim_admin_v1_ListDevicesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_edgesim_admin_v1_ListDevicesReply__Output>): grpc.ClientUnaryCall;
  listDevices(argument: _edgesim_admin_v1_ListDevicesRequest, callback: grpc.requestCallback<_edgesim_admin_v1_ListDevicesReply__Output>): grpc.ClientUnaryCall;
  
}

export interface FleetAdminHandlers extends grpc.UntypedServiceImplementation {
  /**
   * Clears one fault kind, or all with kind "all", on every device.
   */
  ClearFleetFault: grpc.handleUnaryCall<_edgesim_admin_v1_ClearFleetFaultRequest__Output, _edgesim_admin_v1_ClearFleetFaultReply>;
  
  /**
   * Counts over the devices of this process: by phase, by active fault, requests by endpoint and outcome.
   */
  FleetStatus: grpc.handleUnaryCall<_edgesim_admin_v1_FleetStatusRequest__Output, _edgesim_admin_v1_FleetStatusReply>;
  
  /**
   * One device by serial (NOT_FOUND when this process does not simulate it).
   */
  GetDevice: grpc.handleUnaryCall<_edgesim_admin_v1_GetDeviceRequest__Output, _edgesim_admin_v1_FleetDevice>;
  
  /**
   * Injects a fault of the agent's catalogue into a fraction of the devices or into named serials
   * (INVALID_ARGUMENT for an unknown kind, a fraction outside (0, 1] or an unknown serial).
   */
  InjectFleetFault: grpc.handleUnaryCall<_edgesim_admin_v1_InjectFleetFaultRequest__Output, _edgesim_admin_v1_InjectFleetFaultReply>;
  
  /**
   * The devices of this process in serial order, one page at a time, optionally of one phase.
   */
  ListDevices: grpc.handleUnaryCall<_edgesim_admin_v1_ListDevicesRequest__Output, _edgesim_admin_v1_ListDevicesReply>;
  
}

export interface FleetAdminDefinition extends grpc.ServiceDefinition {
  ClearFleetFault: MethodDefinition<_edgesim_admin_v1_ClearFleetFaultRequest, _edgesim_admin_v1_ClearFleetFaultReply, _edgesim_admin_v1_ClearFleetFaultRequest__Output, _edgesim_admin_v1_ClearFleetFaultReply__Output>
  FleetStatus: MethodDefinition<_edgesim_admin_v1_FleetStatusRequest, _edgesim_admin_v1_FleetStatusReply, _edgesim_admin_v1_FleetStatusRequest__Output, _edgesim_admin_v1_FleetStatusReply__Output>
  GetDevice: MethodDefinition<_edgesim_admin_v1_GetDeviceRequest, _edgesim_admin_v1_FleetDevice, _edgesim_admin_v1_GetDeviceRequest__Output, _edgesim_admin_v1_FleetDevice__Output>
  InjectFleetFault: MethodDefinition<_edgesim_admin_v1_InjectFleetFaultRequest, _edgesim_admin_v1_InjectFleetFaultReply, _edgesim_admin_v1_InjectFleetFaultRequest__Output, _edgesim_admin_v1_InjectFleetFaultReply__Output>
  ListDevices: MethodDefinition<_edgesim_admin_v1_ListDevicesRequest, _edgesim_admin_v1_ListDevicesReply, _edgesim_admin_v1_ListDevicesRequest__Output, _edgesim_admin_v1_ListDevicesReply__Output>
}

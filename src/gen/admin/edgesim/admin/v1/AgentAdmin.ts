// Original file: proto/admin/admin.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { AppsReply as _edgesim_admin_v1_AppsReply, AppsReply__Output as _edgesim_admin_v1_AppsReply__Output } from '../../../edgesim/admin/v1/AppsReply';
import type { AppsRequest as _edgesim_admin_v1_AppsRequest, AppsRequest__Output as _edgesim_admin_v1_AppsRequest__Output } from '../../../edgesim/admin/v1/AppsRequest';
import type { ClearFaultReply as _edgesim_admin_v1_ClearFaultReply, ClearFaultReply__Output as _edgesim_admin_v1_ClearFaultReply__Output } from '../../../edgesim/admin/v1/ClearFaultReply';
import type { ClearFaultRequest as _edgesim_admin_v1_ClearFaultRequest, ClearFaultRequest__Output as _edgesim_admin_v1_ClearFaultRequest__Output } from '../../../edgesim/admin/v1/ClearFaultRequest';
import type { ClusterNodesReply as _edgesim_admin_v1_ClusterNodesReply, ClusterNodesReply__Output as _edgesim_admin_v1_ClusterNodesReply__Output } from '../../../edgesim/admin/v1/ClusterNodesReply';
import type { ClusterNodesRequest as _edgesim_admin_v1_ClusterNodesRequest, ClusterNodesRequest__Output as _edgesim_admin_v1_ClusterNodesRequest__Output } from '../../../edgesim/admin/v1/ClusterNodesRequest';
import type { ConfigReply as _edgesim_admin_v1_ConfigReply, ConfigReply__Output as _edgesim_admin_v1_ConfigReply__Output } from '../../../edgesim/admin/v1/ConfigReply';
import type { ConfigRequest as _edgesim_admin_v1_ConfigRequest, ConfigRequest__Output as _edgesim_admin_v1_ConfigRequest__Output } from '../../../edgesim/admin/v1/ConfigRequest';
import type { Event as _edgesim_admin_v1_Event, Event__Output as _edgesim_admin_v1_Event__Output } from '../../../edgesim/admin/v1/Event';
import type { Fault as _edgesim_admin_v1_Fault, Fault__Output as _edgesim_admin_v1_Fault__Output } from '../../../edgesim/admin/v1/Fault';
import type { InjectFaultRequest as _edgesim_admin_v1_InjectFaultRequest, InjectFaultRequest__Output as _edgesim_admin_v1_InjectFaultRequest__Output } from '../../../edgesim/admin/v1/InjectFaultRequest';
import type { ListFaultsReply as _edgesim_admin_v1_ListFaultsReply, ListFaultsReply__Output as _edgesim_admin_v1_ListFaultsReply__Output } from '../../../edgesim/admin/v1/ListFaultsReply';
import type { ListFaultsRequest as _edgesim_admin_v1_ListFaultsRequest, ListFaultsRequest__Output as _edgesim_admin_v1_ListFaultsRequest__Output } from '../../../edgesim/admin/v1/ListFaultsRequest';
import type { StatusReply as _edgesim_admin_v1_StatusReply, StatusReply__Output as _edgesim_admin_v1_StatusReply__Output } from '../../../edgesim/admin/v1/StatusReply';
import type { StatusRequest as _edgesim_admin_v1_StatusRequest, StatusRequest__Output as _edgesim_admin_v1_StatusRequest__Output } from '../../../edgesim/admin/v1/StatusRequest';
import type { WatchRequest as _edgesim_admin_v1_WatchRequest, WatchRequest__Output as _edgesim_admin_v1_WatchRequest__Output } from '../../../edgesim/admin/v1/WatchRequest';

export interface AgentAdminClient extends grpc.Client {
  /**
   * The app instances of the current config (desired state; observed state once the app reconciler reports).
   */
  Apps(argument: _edgesim_admin_v1_AppsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_edgesim_admin_v1_AppsReply__Output>): grpc.ClientUnaryCall;
  Apps(argument: _edgesim_admin_v1_AppsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_edgesim_admin_v1_AppsReply__Output>): grpc.ClientUnaryCall;
  Apps(argument: _edgesim_admin_v1_AppsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_edgesim_admin_v1_AppsReply__Output>): grpc.ClientUnaryCall;
  Apps(argument: _edgesim_admin_v1_AppsRequest, callback: grpc.requestCallback<_edgesim_admin_v1_AppsReply__Output>): grpc.ClientUnaryCall;
  /**
   * The app instances of the current config (desired state; observed state once the app reconciler reports).
   */
  apps(argument: _edgesim_admin_v1_AppsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_edgesim_admin_v1_AppsReply__Output>): grpc.ClientUnaryCall;
  apps(argument: _edgesim_admin_v1_AppsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_edgesim_admin_v1_AppsReply__Output>): grpc.ClientUnaryCall;
  apps(argument: _edgesim_admin_v1_AppsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_edgesim_admin_v1_AppsReply__Output>): grpc.ClientUnaryCall;
  apps(argument: _edgesim_admin_v1_AppsRequest, callback: grpc.requestCallback<_edgesim_admin_v1_AppsReply__Output>): grpc.ClientUnaryCall;
  
  /**
   * Clears one fault kind, or all with kind "all".
   */
  ClearFault(argument: _edgesim_admin_v1_ClearFaultRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_edgesim_admin_v1_ClearFaultReply__Output>): grpc.ClientUnaryCall;
  ClearFault(argument: _edgesim_admin_v1_ClearFaultRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_edgesim_admin_v1_ClearFaultReply__Output>): grpc.ClientUnaryCall;
  ClearFault(argument: _edgesim_admin_v1_ClearFaultRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_edgesim_admin_v1_ClearFaultReply__Output>): grpc.ClientUnaryCall;
  ClearFault(argument: _edgesim_admin_v1_ClearFaultRequest, callback: grpc.requestCallback<_edgesim_admin_v1_ClearFaultReply__Output>): grpc.ClientUnaryCall;
  /**
   * Clears one fault kind, or all with kind "all".
   */
  clearFault(argument: _edgesim_admin_v1_ClearFaultRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_edgesim_admin_v1_ClearFaultReply__Output>): grpc.ClientUnaryCall;
  clearFault(argument: _edgesim_admin_v1_ClearFaultRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_edgesim_admin_v1_ClearFaultReply__Output>): grpc.ClientUnaryCall;
  clearFault(argument: _edgesim_admin_v1_ClearFaultRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_edgesim_admin_v1_ClearFaultReply__Output>): grpc.ClientUnaryCall;
  clearFault(argument: _edgesim_admin_v1_ClearFaultRequest, callback: grpc.requestCallback<_edgesim_admin_v1_ClearFaultReply__Output>): grpc.ClientUnaryCall;
  
  /**
   * The nodes of this node's cluster as this node last saw them (empty without a cluster).
   */
  ClusterNodes(argument: _edgesim_admin_v1_ClusterNodesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_edgesim_admin_v1_ClusterNodesReply__Output>): grpc.ClientUnaryCall;
  ClusterNodes(argument: _edgesim_admin_v1_ClusterNodesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_edgesim_admin_v1_ClusterNodesReply__Output>): grpc.ClientUnaryCall;
  ClusterNodes(argument: _edgesim_admin_v1_ClusterNodesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_edgesim_admin_v1_ClusterNodesReply__Output>): grpc.ClientUnaryCall;
  ClusterNodes(argument: _edgesim_admin_v1_ClusterNodesRequest, callback: grpc.requestCallback<_edgesim_admin_v1_ClusterNodesReply__Output>): grpc.ClientUnaryCall;
  /**
   * The nodes of this node's cluster as this node last saw them (empty without a cluster).
   */
  clusterNodes(argument: _edgesim_admin_v1_ClusterNodesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_edgesim_admin_v1_ClusterNodesReply__Output>): grpc.ClientUnaryCall;
  clusterNodes(argument: _edgesim_admin_v1_ClusterNodesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_edgesim_admin_v1_ClusterNodesReply__Output>): grpc.ClientUnaryCall;
  clusterNodes(argument: _edgesim_admin_v1_ClusterNodesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_edgesim_admin_v1_ClusterNodesReply__Output>): grpc.ClientUnaryCall;
  clusterNodes(argument: _edgesim_admin_v1_ClusterNodesRequest, callback: grpc.requestCallback<_edgesim_admin_v1_ClusterNodesReply__Output>): grpc.ClientUnaryCall;
  
  /**
   * The current device config as JSON, secrets redacted. NOT_FOUND until a config was accepted.
   */
  Config(argument: _edgesim_admin_v1_ConfigRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_edgesim_admin_v1_ConfigReply__Output>): grpc.ClientUnaryCall;
  Config(argument: _edgesim_admin_v1_ConfigRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_edgesim_admin_v1_ConfigReply__Output>): grpc.ClientUnaryCall;
  Config(argument: _edgesim_admin_v1_ConfigRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_edgesim_admin_v1_ConfigReply__Output>): grpc.ClientUnaryCall;
  Config(argument: _edgesim_admin_v1_ConfigRequest, callback: grpc.requestCallback<_edgesim_admin_v1_ConfigReply__Output>): grpc.ClientUnaryCall;
  /**
   * The current device config as JSON, secrets redacted. NOT_FOUND until a config was accepted.
   */
  config(argument: _edgesim_admin_v1_ConfigRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_edgesim_admin_v1_ConfigReply__Output>): grpc.ClientUnaryCall;
  config(argument: _edgesim_admin_v1_ConfigRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_edgesim_admin_v1_ConfigReply__Output>): grpc.ClientUnaryCall;
  config(argument: _edgesim_admin_v1_ConfigRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_edgesim_admin_v1_ConfigReply__Output>): grpc.ClientUnaryCall;
  config(argument: _edgesim_admin_v1_ConfigRequest, callback: grpc.requestCallback<_edgesim_admin_v1_ConfigReply__Output>): grpc.ClientUnaryCall;
  
  /**
   * Activates a fault (INVALID_ARGUMENT for an unknown kind or a bad duration).
   */
  InjectFault(argument: _edgesim_admin_v1_InjectFaultRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_edgesim_admin_v1_Fault__Output>): grpc.ClientUnaryCall;
  InjectFault(argument: _edgesim_admin_v1_InjectFaultRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_edgesim_admin_v1_Fault__Output>): grpc.ClientUnaryCall;
  InjectFault(argument: _edgesim_admin_v1_InjectFaultRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_edgesim_admin_v1_Fault__Output>): grpc.ClientUnaryCall;
  InjectFault(argument: _edgesim_admin_v1_InjectFaultRequest, callback: grpc.requestCallback<_edgesim_admin_v1_Fault__Output>): grpc.ClientUnaryCall;
  /**
   * Activates a fault (INVALID_ARGUMENT for an unknown kind or a bad duration).
   */
  injectFault(argument: _edgesim_admin_v1_InjectFaultRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_edgesim_admin_v1_Fault__Output>): grpc.ClientUnaryCall;
  injectFault(argument: _edgesim_admin_v1_InjectFaultRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_edgesim_admin_v1_Fault__Output>): grpc.ClientUnaryCall;
  injectFault(argument: _edgesim_admin_v1_InjectFaultRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_edgesim_admin_v1_Fault__Output>): grpc.ClientUnaryCall;
  injectFault(argument: _edgesim_admin_v1_InjectFaultRequest, callback: grpc.requestCallback<_edgesim_admin_v1_Fault__Output>): grpc.ClientUnaryCall;
  
  /**
   * The active faults.
   */
  ListFaults(argument: _edgesim_admin_v1_ListFaultsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_edgesim_admin_v1_ListFaultsReply__Output>): grpc.ClientUnaryCall;
  ListFaults(argument: _edgesim_admin_v1_ListFaultsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_edgesim_admin_v1_ListFaultsReply__Output>): grpc.ClientUnaryCall;
  ListFaults(argument: _edgesim_admin_v1_ListFaultsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_edgesim_admin_v1_ListFaultsReply__Output>): grpc.ClientUnaryCall;
  ListFaults(argument: _edgesim_admin_v1_ListFaultsRequest, callback: grpc.requestCallback<_edgesim_admin_v1_ListFaultsReply__Output>): grpc.ClientUnaryCall;
  /**
   * The active faults.
   */
  listFaults(argument: _edgesim_admin_v1_ListFaultsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_edgesim_admin_v1_ListFaultsReply__Output>): grpc.ClientUnaryCall;
  listFaults(argument: _edgesim_admin_v1_ListFaultsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_edgesim_admin_v1_ListFaultsReply__Output>): grpc.ClientUnaryCall;
  listFaults(argument: _edgesim_admin_v1_ListFaultsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_edgesim_admin_v1_ListFaultsReply__Output>): grpc.ClientUnaryCall;
  listFaults(argument: _edgesim_admin_v1_ListFaultsRequest, callback: grpc.requestCallback<_edgesim_admin_v1_ListFaultsReply__Output>): grpc.ClientUnaryCall;
  
  /**
   * The agent's status snapshot, its key store and version.
   */
  Status(argument: _edgesim_admin_v1_StatusRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_edgesim_admin_v1_StatusReply__Output>): grpc.ClientUnaryCall;
  Status(argument: _edgesim_admin_v1_StatusRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_edgesim_admin_v1_StatusReply__Output>): grpc.ClientUnaryCall;
  Status(argument: _edgesim_admin_v1_StatusRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_edgesim_admin_v1_StatusReply__Output>): grpc.ClientUnaryCall;
  Status(argument: _edgesim_admin_v1_StatusRequest, callback: grpc.requestCallback<_edgesim_admin_v1_StatusReply__Output>): grpc.ClientUnaryCall;
  /**
   * The agent's status snapshot, its key store and version.
   */
  status(argument: _edgesim_admin_v1_StatusRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_edgesim_admin_v1_StatusReply__Output>): grpc.ClientUnaryCall;
  status(argument: _edgesim_admin_v1_StatusRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_edgesim_admin_v1_StatusReply__Output>): grpc.ClientUnaryCall;
  status(argument: _edgesim_admin_v1_StatusRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_edgesim_admin_v1_StatusReply__Output>): grpc.ClientUnaryCall;
  status(argument: _edgesim_admin_v1_StatusRequest, callback: grpc.requestCallback<_edgesim_admin_v1_StatusReply__Output>): grpc.ClientUnaryCall;
  
  /**
   * Every agent event from now on (phase changes, config accepted/rejected, info queued, fault changes).
   */
  Watch(argument: _edgesim_admin_v1_WatchRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_edgesim_admin_v1_Event__Output>;
  Watch(argument: _edgesim_admin_v1_WatchRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_edgesim_admin_v1_Event__Output>;
  /**
   * Every agent event from now on (phase changes, config accepted/rejected, info queued, fault changes).
   */
  watch(argument: _edgesim_admin_v1_WatchRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_edgesim_admin_v1_Event__Output>;
  watch(argument: _edgesim_admin_v1_WatchRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_edgesim_admin_v1_Event__Output>;
  
}

export interface AgentAdminHandlers extends grpc.UntypedServiceImplementation {
  /**
   * The app instances of the current config (desired state; observed state once the app reconciler reports).
   */
  Apps: grpc.handleUnaryCall<_edgesim_admin_v1_AppsRequest__Output, _edgesim_admin_v1_AppsReply>;
  
  /**
   * Clears one fault kind, or all with kind "all".
   */
  ClearFault: grpc.handleUnaryCall<_edgesim_admin_v1_ClearFaultRequest__Output, _edgesim_admin_v1_ClearFaultReply>;
  
  /**
   * The nodes of this node's cluster as this node last saw them (empty without a cluster).
   */
  ClusterNodes: grpc.handleUnaryCall<_edgesim_admin_v1_ClusterNodesRequest__Output, _edgesim_admin_v1_ClusterNodesReply>;
  
  /**
   * The current device config as JSON, secrets redacted. NOT_FOUND until a config was accepted.
   */
  Config: grpc.handleUnaryCall<_edgesim_admin_v1_ConfigRequest__Output, _edgesim_admin_v1_ConfigReply>;
  
  /**
   * Activates a fault (INVALID_ARGUMENT for an unknown kind or a bad duration).
   */
  InjectFault: grpc.handleUnaryCall<_edgesim_admin_v1_InjectFaultRequest__Output, _edgesim_admin_v1_Fault>;
  
  /**
   * The active faults.
   */
  ListFaults: grpc.handleUnaryCall<_edgesim_admin_v1_ListFaultsRequest__Output, _edgesim_admin_v1_ListFaultsReply>;
  
  /**
   * The agent's status snapshot, its key store and version.
   */
  Status: grpc.handleUnaryCall<_edgesim_admin_v1_StatusRequest__Output, _edgesim_admin_v1_StatusReply>;
  
  /**
   * Every agent event from now on (phase changes, config accepted/rejected, info queued, fault changes).
   */
  Watch: grpc.handleServerStreamingCall<_edgesim_admin_v1_WatchRequest__Output, _edgesim_admin_v1_Event>;
  
}

export interface AgentAdminDefinition extends grpc.ServiceDefinition {
  Apps: MethodDefinition<_edgesim_admin_v1_AppsRequest, _edgesim_admin_v1_AppsReply, _edgesim_admin_v1_AppsRequest__Output, _edgesim_admin_v1_AppsReply__Output>
  ClearFault: MethodDefinition<_edgesim_admin_v1_ClearFaultRequest, _edgesim_admin_v1_ClearFaultReply, _edgesim_admin_v1_ClearFaultRequest__Output, _edgesim_admin_v1_ClearFaultReply__Output>
  ClusterNodes: MethodDefinition<_edgesim_admin_v1_ClusterNodesRequest, _edgesim_admin_v1_ClusterNodesReply, _edgesim_admin_v1_ClusterNodesRequest__Output, _edgesim_admin_v1_ClusterNodesReply__Output>
  Config: MethodDefinition<_edgesim_admin_v1_ConfigRequest, _edgesim_admin_v1_ConfigReply, _edgesim_admin_v1_ConfigRequest__Output, _edgesim_admin_v1_ConfigReply__Output>
  InjectFault: MethodDefinition<_edgesim_admin_v1_InjectFaultRequest, _edgesim_admin_v1_Fault, _edgesim_admin_v1_InjectFaultRequest__Output, _edgesim_admin_v1_Fault__Output>
  ListFaults: MethodDefinition<_edgesim_admin_v1_ListFaultsRequest, _edgesim_admin_v1_ListFaultsReply, _edgesim_admin_v1_ListFaultsRequest__Output, _edgesim_admin_v1_ListFaultsReply__Output>
  Status: MethodDefinition<_edgesim_admin_v1_StatusRequest, _edgesim_admin_v1_StatusReply, _edgesim_admin_v1_StatusRequest__Output, _edgesim_admin_v1_StatusReply__Output>
  Watch: MethodDefinition<_edgesim_admin_v1_WatchRequest, _edgesim_admin_v1_Event, _edgesim_admin_v1_WatchRequest__Output, _edgesim_admin_v1_Event__Output>
}

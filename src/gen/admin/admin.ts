import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { AgentAdminClient as _edgesim_admin_v1_AgentAdminClient, AgentAdminDefinition as _edgesim_admin_v1_AgentAdminDefinition } from './edgesim/admin/v1/AgentAdmin';
import type { App as _edgesim_admin_v1_App, App__Output as _edgesim_admin_v1_App__Output } from './edgesim/admin/v1/App';
import type { AppsReply as _edgesim_admin_v1_AppsReply, AppsReply__Output as _edgesim_admin_v1_AppsReply__Output } from './edgesim/admin/v1/AppsReply';
import type { AppsRequest as _edgesim_admin_v1_AppsRequest, AppsRequest__Output as _edgesim_admin_v1_AppsRequest__Output } from './edgesim/admin/v1/AppsRequest';
import type { ClearFaultReply as _edgesim_admin_v1_ClearFaultReply, ClearFaultReply__Output as _edgesim_admin_v1_ClearFaultReply__Output } from './edgesim/admin/v1/ClearFaultReply';
import type { ClearFaultRequest as _edgesim_admin_v1_ClearFaultRequest, ClearFaultRequest__Output as _edgesim_admin_v1_ClearFaultRequest__Output } from './edgesim/admin/v1/ClearFaultRequest';
import type { ClusterNode as _edgesim_admin_v1_ClusterNode, ClusterNode__Output as _edgesim_admin_v1_ClusterNode__Output } from './edgesim/admin/v1/ClusterNode';
import type { ClusterNodesReply as _edgesim_admin_v1_ClusterNodesReply, ClusterNodesReply__Output as _edgesim_admin_v1_ClusterNodesReply__Output } from './edgesim/admin/v1/ClusterNodesReply';
import type { ClusterNodesRequest as _edgesim_admin_v1_ClusterNodesRequest, ClusterNodesRequest__Output as _edgesim_admin_v1_ClusterNodesRequest__Output } from './edgesim/admin/v1/ClusterNodesRequest';
import type { ClusterStatus as _edgesim_admin_v1_ClusterStatus, ClusterStatus__Output as _edgesim_admin_v1_ClusterStatus__Output } from './edgesim/admin/v1/ClusterStatus';
import type { ConfigReply as _edgesim_admin_v1_ConfigReply, ConfigReply__Output as _edgesim_admin_v1_ConfigReply__Output } from './edgesim/admin/v1/ConfigReply';
import type { ConfigRequest as _edgesim_admin_v1_ConfigRequest, ConfigRequest__Output as _edgesim_admin_v1_ConfigRequest__Output } from './edgesim/admin/v1/ConfigRequest';
import type { Event as _edgesim_admin_v1_Event, Event__Output as _edgesim_admin_v1_Event__Output } from './edgesim/admin/v1/Event';
import type { Fault as _edgesim_admin_v1_Fault, Fault__Output as _edgesim_admin_v1_Fault__Output } from './edgesim/admin/v1/Fault';
import type { InjectFaultRequest as _edgesim_admin_v1_InjectFaultRequest, InjectFaultRequest__Output as _edgesim_admin_v1_InjectFaultRequest__Output } from './edgesim/admin/v1/InjectFaultRequest';
import type { KeyStoreStatus as _edgesim_admin_v1_KeyStoreStatus, KeyStoreStatus__Output as _edgesim_admin_v1_KeyStoreStatus__Output } from './edgesim/admin/v1/KeyStoreStatus';
import type { ListFaultsReply as _edgesim_admin_v1_ListFaultsReply, ListFaultsReply__Output as _edgesim_admin_v1_ListFaultsReply__Output } from './edgesim/admin/v1/ListFaultsReply';
import type { ListFaultsRequest as _edgesim_admin_v1_ListFaultsRequest, ListFaultsRequest__Output as _edgesim_admin_v1_ListFaultsRequest__Output } from './edgesim/admin/v1/ListFaultsRequest';
import type { StatusReply as _edgesim_admin_v1_StatusReply, StatusReply__Output as _edgesim_admin_v1_StatusReply__Output } from './edgesim/admin/v1/StatusReply';
import type { StatusRequest as _edgesim_admin_v1_StatusRequest, StatusRequest__Output as _edgesim_admin_v1_StatusRequest__Output } from './edgesim/admin/v1/StatusRequest';
import type { WatchRequest as _edgesim_admin_v1_WatchRequest, WatchRequest__Output as _edgesim_admin_v1_WatchRequest__Output } from './edgesim/admin/v1/WatchRequest';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  edgesim: {
    admin: {
      v1: {
        AgentAdmin: SubtypeConstructor<typeof grpc.Client, _edgesim_admin_v1_AgentAdminClient> & { service: _edgesim_admin_v1_AgentAdminDefinition }
        App: MessageTypeDefinition<_edgesim_admin_v1_App, _edgesim_admin_v1_App__Output>
        AppsReply: MessageTypeDefinition<_edgesim_admin_v1_AppsReply, _edgesim_admin_v1_AppsReply__Output>
        AppsRequest: MessageTypeDefinition<_edgesim_admin_v1_AppsRequest, _edgesim_admin_v1_AppsRequest__Output>
        ClearFaultReply: MessageTypeDefinition<_edgesim_admin_v1_ClearFaultReply, _edgesim_admin_v1_ClearFaultReply__Output>
        ClearFaultRequest: MessageTypeDefinition<_edgesim_admin_v1_ClearFaultRequest, _edgesim_admin_v1_ClearFaultRequest__Output>
        ClusterNode: MessageTypeDefinition<_edgesim_admin_v1_ClusterNode, _edgesim_admin_v1_ClusterNode__Output>
        ClusterNodesReply: MessageTypeDefinition<_edgesim_admin_v1_ClusterNodesReply, _edgesim_admin_v1_ClusterNodesReply__Output>
        ClusterNodesRequest: MessageTypeDefinition<_edgesim_admin_v1_ClusterNodesRequest, _edgesim_admin_v1_ClusterNodesRequest__Output>
        ClusterStatus: MessageTypeDefinition<_edgesim_admin_v1_ClusterStatus, _edgesim_admin_v1_ClusterStatus__Output>
        ConfigReply: MessageTypeDefinition<_edgesim_admin_v1_ConfigReply, _edgesim_admin_v1_ConfigReply__Output>
        ConfigRequest: MessageTypeDefinition<_edgesim_admin_v1_ConfigRequest, _edgesim_admin_v1_ConfigRequest__Output>
        Event: MessageTypeDefinition<_edgesim_admin_v1_Event, _edgesim_admin_v1_Event__Output>
        Fault: MessageTypeDefinition<_edgesim_admin_v1_Fault, _edgesim_admin_v1_Fault__Output>
        InjectFaultRequest: MessageTypeDefinition<_edgesim_admin_v1_InjectFaultRequest, _edgesim_admin_v1_InjectFaultRequest__Output>
        KeyStoreStatus: MessageTypeDefinition<_edgesim_admin_v1_KeyStoreStatus, _edgesim_admin_v1_KeyStoreStatus__Output>
        ListFaultsReply: MessageTypeDefinition<_edgesim_admin_v1_ListFaultsReply, _edgesim_admin_v1_ListFaultsReply__Output>
        ListFaultsRequest: MessageTypeDefinition<_edgesim_admin_v1_ListFaultsRequest, _edgesim_admin_v1_ListFaultsRequest__Output>
        StatusReply: MessageTypeDefinition<_edgesim_admin_v1_StatusReply, _edgesim_admin_v1_StatusReply__Output>
        StatusRequest: MessageTypeDefinition<_edgesim_admin_v1_StatusRequest, _edgesim_admin_v1_StatusRequest__Output>
        WatchRequest: MessageTypeDefinition<_edgesim_admin_v1_WatchRequest, _edgesim_admin_v1_WatchRequest__Output>
      }
    }
  }
}


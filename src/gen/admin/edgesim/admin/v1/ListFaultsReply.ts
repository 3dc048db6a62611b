// Original file: proto/admin/admin.proto

import type { Fault as _edgesim_admin_v1_Fault, Fault__Output as _edgesim_admin_v1_Fault__Output } from '../../../edgesim/admin/v1/Fault';

export interface ListFaultsReply {
  'faults'?: (_edgesim_admin_v1_Fault)[];
}

export interface ListFaultsReply__Output {
  'faults': (_edgesim_admin_v1_Fault__Output)[];
}

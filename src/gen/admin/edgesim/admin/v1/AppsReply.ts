// Original file: proto/admin/admin.proto

import type { App as _edgesim_admin_v1_App, App__Output as _edgesim_admin_v1_App__Output } from '../../../edgesim/admin/v1/App';

export interface AppsReply {
  'apps'?: (_edgesim_admin_v1_App)[];
}

export interface AppsReply__Output {
  'apps': (_edgesim_admin_v1_App__Output)[];
}

// Original file: proto/admin/admin.proto

import type { KeyStoreStatus as _edgesim_admin_v1_KeyStoreStatus, KeyStoreStatus__Output as _edgesim_admin_v1_KeyStoreStatus__Output } from '../../../edgesim/admin/v1/KeyStoreStatus';
import type { Fault as _edgesim_admin_v1_Fault, Fault__Output as _edgesim_admin_v1_Fault__Output } from '../../../edgesim/admin/v1/Fault';
import type { ClusterStatus as _edgesim_admin_v1_ClusterStatus, ClusterStatus__Output as _edgesim_admin_v1_ClusterStatus__Output } from '../../../edgesim/admin/v1/ClusterStatus';
import type { Long } from '@grpc/proto-loader';

export interface StatusReply {
  /**
   * initialized | onboarding | attesting | running | stopping | stopped | failed
   */
  'phase'?: (string);
  'deviceUuid'?: (string);
  'keyStore'?: (_edgesim_admin_v1_KeyStoreStatus | null);
  'controllerReachable'?: (boolean);
  'attested'?: (boolean);
  'lastConfigHash'?: (string);
  /**
   * Epoch ms of the last accepted config; 0 = none yet.
   */
  'lastConfigAtMs'?: (number | string | Long);
  /**
   * none | controller | checkpoint
   */
  'configSource'?: (string);
  /**
   * Why the last config was rejected; empty when the last one was accepted.
   */
  'lastConfigError'?: (string);
  'queueDepth'?: (number);
  'queueOldestAgeMs'?: (number | string | Long);
  /**
   * The edgesim version of the agent process.
   */
  'version'?: (string);
  'activeFaults'?: (_edgesim_admin_v1_Fault)[];
  'cluster'?: (_edgesim_admin_v1_ClusterStatus | null);
}

export interface StatusReply__Output {
  /**
   * initialized | onboarding | attesting | running | stopping | stopped | failed
   */
  'phase': (string);
  'deviceUuid': (string);
  'keyStore': (_edgesim_admin_v1_KeyStoreStatus__Output | null);
  'controllerReachable': (boolean);
  'attested': (boolean);
  'lastConfigHash': (string);
  /**
   * Epoch ms of the last accepted config; 0 = none yet.
   */
  'lastConfigAtMs': (number);
  /**
   * none | controller | checkpoint
   */
  'configSource': (string);
  /**
   * Why the last config was rejected; empty when the last one was accepted.
   */
  'lastConfigError': (string);
  'queueDepth': (number);
  'queueOldestAgeMs': (number);
  /**
   * The edgesim version of the agent process.
   */
  'version': (string);
  'activeFaults': (_edgesim_admin_v1_Fault__Output)[];
  'cluster': (_edgesim_admin_v1_ClusterStatus__Output | null);
}

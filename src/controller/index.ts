/**
 * The embedded development controller: an Adam-compatible EVE API v2 device server, its loopback admin
 * API and the admin client. This file only re-exports.
 */
export { ControllerServer, type ControllerServerOptions, type ControllerState } from './server.js';
export {
  ControllerAdminClient,
  CONTROLLER_JSON,
  type ControllerEndpoints,
  type ExportDeviceConfigOptions,
  type InfoQuery,
} from './admin-client.js';
export type * from './admin-types.js';
export type { ClusterApplyResult, ClusterMemberSpec, ClusterSpec } from './cluster.js';
export { ControllerError, isControllerError, type ControllerErrorKind } from './errors.js';
export { readObjectFile, readPemFile } from './object-file.js';
export { PROTO_CONTENT_TYPE } from './device-api.js';
export { DEFAULT_INFO_HISTORY } from './store.js';
export type { TimelineRecord, TimelineStep } from './ui-types.js';
export { appConfigJson } from './app-config.js';
export { leaderReport, listedReady, type KubeClusterJson, type KubeClusterNodeJson, type KubeClusterReport } from './kube-cluster-json.js';

/**
 * The admin API's wire contract (proto/admin/admin.proto, package edgesim.admin.v1), loaded at run time with
 * @grpc/proto-loader, and the plain TypeScript shapes of its messages as proto-loader hands them over
 * (camelCase names, int64 as number, unset scalars as their defaults, unset `optional` fields absent).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadSync, type ServiceDefinition } from '@grpc/proto-loader';

/** The fully qualified service name (also the prefix of every method path). */
export const ADMIN_SERVICE = 'edgesim.admin.v1.AgentAdmin';

// proto/ sits at the package root: three levels above src/agent/admin, four above dist/src/agent/admin.
const here = path.dirname(fileURLToPath(import.meta.url));
const PROTO_FILE = [path.join(here, '../../../proto/admin/admin.proto'), path.join(here, '../../../../proto/admin/admin.proto')].find(
  (p) => existsSync(p),
);

/** Loads the AgentAdmin service definition (request/response codecs of every method). */
export function loadAdminService(): ServiceDefinition {
  if (!PROTO_FILE) throw new Error(`proto/admin/admin.proto not found above ${here}`);
  const def = loadSync(PROTO_FILE, { keepCase: false, longs: Number, enums: String, defaults: true, oneofs: false });
  return def[ADMIN_SERVICE] as ServiceDefinition;
}

/** A fault as the API carries it. */
export interface FaultMsg {
  kind: string;
  /** Kind-specific value (ms for controller-delay and clock-skew, HTTP status for controller-5xx). */
  value?: number;
  /** Epoch ms when it clears by itself. */
  untilMs?: number;
}

/** This node's view of its cluster; null when the agent runs no k3s. */
export interface ClusterStatusMsg {
  role: string;
  clusterId: string;
  clusterIp: string;
  nodeName: string;
  nodeStatus: string;
  isLeader: boolean;
  leader: string;
  phase: string;
  error: string;
}

/** Status reply: AgentStatus plus key store, version and the active faults. */
export interface StatusReply {
  phase: string;
  deviceUuid: string;
  keyStore: { kind: string; description: string } | null;
  controllerReachable: boolean;
  attested: boolean;
  lastConfigHash: string;
  lastConfigAtMs: number;
  configSource: string;
  lastConfigError: string;
  queueDepth: number;
  queueOldestAgeMs: number;
  version: string;
  activeFaults: FaultMsg[];
  cluster: ClusterStatusMsg | null;
}

/** Config reply: the redacted DeviceConfig as JSON text. */
export interface ConfigReply {
  json: string;
  configHash: string;
  source: string;
  receivedAtMs: number;
}

/** One app instance of the current config. */
export interface AppMsg {
  uuid: string;
  version: string;
  displayName: string;
  activate: boolean;
  designatedNodeId: string;
  affinity: string;
  state: string;
}

/** One cluster node. */
export interface ClusterNodeMsg {
  name: string;
  nodeId: string;
  ready: boolean;
  internalIp: string;
  schedulable: boolean;
}

/** One event of the Watch stream. */
export interface EventMsg {
  timeMs: number;
  kind: string;
  message: string;
  fieldsJson: string;
}

/** InjectFault request. */
export interface InjectFaultRequest {
  kind: string;
  value?: number;
  durationMs?: number;
}

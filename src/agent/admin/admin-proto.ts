/**
 * The admin API's wire contract (proto/admin/admin.proto, package edgesim.admin.v1), loaded at run time with
 * @grpc/proto-loader, and the TypeScript shapes of its messages as proto-loader hands them over (camelCase names,
 * int64 as number, unset scalars as their defaults, unset `optional` fields absent): the `__Output` types that
 * proto-loader-gen-types generates into src/gen/admin (npm run gen:proto) with the loader options below.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadSync, type ServiceDefinition } from '@grpc/proto-loader';
import type { App__Output } from '../../gen/admin/edgesim/admin/v1/App.js';
import type { ClusterNode__Output } from '../../gen/admin/edgesim/admin/v1/ClusterNode.js';
import type { ConfigReply__Output } from '../../gen/admin/edgesim/admin/v1/ConfigReply.js';
import type { Event__Output } from '../../gen/admin/edgesim/admin/v1/Event.js';
import type { Fault__Output } from '../../gen/admin/edgesim/admin/v1/Fault.js';
import type { InjectFaultRequest__Output } from '../../gen/admin/edgesim/admin/v1/InjectFaultRequest.js';
import type { StatusReply__Output } from '../../gen/admin/edgesim/admin/v1/StatusReply.js';

export type { AgentAdminHandlers } from '../../gen/admin/edgesim/admin/v1/AgentAdmin.js';

/** The fully qualified service name (also the prefix of every method path). */
export const ADMIN_SERVICE = 'edgesim.admin.v1.AgentAdmin';

// proto/ sits at the package root: three levels above src/agent/admin, four above dist/src/agent/admin.
const here = path.dirname(fileURLToPath(import.meta.url));
const protoFile = (name: string): string | undefined =>
  [path.join(here, '../../../proto/admin', name), path.join(here, '../../../../proto/admin', name)].find((p) => existsSync(p));
const PROTO_FILE = protoFile('admin.proto');
const LOADER_OPTIONS = { keepCase: false, longs: Number, enums: String, defaults: true, oneofs: false };

/**
 * Loads the AgentAdmin service definition (request/response codecs of every method). The options are the
 * generator's flags in scripts/gen-proto.mjs (--longs=Number --enums=String --defaults): change both together.
 */
export function loadAdminService(): ServiceDefinition {
  if (!PROTO_FILE) throw new Error(`proto/admin/admin.proto not found above ${here}`);
  const def = loadSync(PROTO_FILE, LOADER_OPTIONS);
  return def[ADMIN_SERVICE] as ServiceDefinition;
}

/** The fleet's admin service (edgesim.admin.v1.FleetAdmin, proto/admin/fleet.proto), with the same loader options. */
export function loadFleetAdminService(): ServiceDefinition {
  const file = protoFile('fleet.proto');
  if (!file) throw new Error(`proto/admin/fleet.proto not found above ${here}`);
  return loadSync(file, LOADER_OPTIONS)['edgesim.admin.v1.FleetAdmin'] as ServiceDefinition;
}

/** A fault as the API carries it (value: ms for controller-delay and clock-skew, HTTP status for controller-5xx). */
export type FaultMsg = Fault__Output;
/** Status reply: AgentStatus plus key store, version and the active faults; cluster null without k3s. */
export type StatusReply = StatusReply__Output;
/** Config reply: the redacted DeviceConfig as JSON text. */
export type ConfigReply = ConfigReply__Output;
/** One app instance of the current config. */
export type AppMsg = App__Output;
/** One cluster node. */
export type ClusterNodeMsg = ClusterNode__Output;
/** One event of the Watch stream. */
export type EventMsg = Event__Output;
/** InjectFault request (durationMs in spec ms). */
export type InjectFaultRequest = InjectFaultRequest__Output;

/** The edgesim agent: one EVE node. */
export { Agent, type AgentEvent, type AgentPhase, type AgentStatus, type ConfigListener } from './agent.js';
export { DeviceCore, type DeviceCoreOptions, type TimerOverrides } from './device-core.js';
export { OnboardingRefusedError } from './controller-session.js';
export type { DeviceStore, CheckpointStore, QueueStore } from './device-store.js';
export { FaultSet, FaultError, FAULT_KINDS, type Fault, type FaultKind } from './faults.js';
export type { AgentOptions } from './options.js';
export type { AgentLoop, AgentObserver, ConfigFetchResult, KeyStoreOp } from './observers.js';
export type { DeviceConfig, EdgeNodeClusterConfig, AppConfig, ClusterParse } from './parse-config.js';
export type { ClusterOptions } from './options.js';
export { resolveK3sLaunch, type K3sLaunch } from './cluster/k3s-runtime.js';
export type { ClusterStatus, ClusterRole } from './cluster/cluster-status.js';
// What `edgesim fleet` composes per device (src/fleet): the same transport, config folder, faults and observers.
export { ControllerClient, ControllerUnreachableError, type ControllerClientOptions, type ControllerResponse, type RequestOptions } from './controller-client.js';
export { ControllerApi, ControllerReplyError } from './controller-api.js';
export { readDeviceConfigFolder, DeviceConfigError, type DeviceConfigFolder } from './device-config.js';
export { skewedClock, faultyKeyStore } from './faults.js';
export { AgentObservers } from './observers.js';
export { parseStoredSlot, serializeStoredSlot } from './device-store.js';
// The cluster and app reconcilers of one device, on the seams the composition gives (src/fleet: in-process ones).
export { DeviceWorkloads, type WorkloadSeams } from './workloads.js';

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

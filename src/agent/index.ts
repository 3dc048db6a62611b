/** The edgesim agent: one EVE node. */
export { Agent, type AgentPhase, type AgentStatus, type ConfigListener } from './agent.js';
export type { AgentOptions } from './options.js';
export type { DeviceConfig, EdgeNodeClusterConfig, AppConfig, ClusterParse } from './parse-config.js';

/**
 * Operating an agent: the admin API (gRPC on `<state-dir>/admin.sock`) and its client, the Prometheus metrics
 * exporter, the systemd notifier, and `attachOperations`, which starts all three for `edgesim agent`.
 */
export { AdminServer, type AdminServerOptions, type AdminServerState } from './admin-server.js';
export { AdminClient, adminSocketPath } from './admin-client.js';
export type { AppMsg, ClusterNodeMsg, ConfigReply, EventMsg, FaultMsg, InjectFaultRequest, StatusReply } from './admin-proto.js';
export { AdminError, isAdminError, type AdminErrorKind } from './errors.js';
export type { OperatedAgent } from './operated-agent.js';
export { redactConfig, REDACTED } from './redact-config.js';
export { parseDuration } from './duration.js';
export { MetricsExporter, agentMetricsRegistry, parseLoopbackListen, type MetricsExporterOptions } from './metrics-exporter.js';
export { SystemdNotifier, statusLine, watchdogIntervalMs, type SystemdNotifierOptions } from './systemd-notifier.js';
export { Operations, type OperationsOptions } from './operations.js';
export { dumpCheckpointedConfig, type DumpConfigOptions, type DumpedConfig } from './dump-config.js';

/**
 * Operating an agent: the admin API (gRPC on `<state-dir>/admin.sock`) and its client, the Prometheus metrics
 * exporter, the systemd notifier, and `Operations`, which starts all three for `edgesim agent`.
 */
export { AdminServer, bindOwnerSocket, claimSocketPath } from './admin-server.js';
export { loadFleetAdminService } from './admin-proto.js';
export { AdminClient, adminSocketPath } from './admin-client.js';
export type { EventMsg, FaultMsg } from './admin-proto.js';
export { AdminError, isAdminError } from './errors.js';
export { REDACTED } from './redact-config.js';
export { parseDuration } from './duration.js';
export { MetricsExporter, agentMetricsRegistry, parseMetricsListen } from './metrics-exporter.js';
export { SystemdNotifier, statusLine, watchdogIntervalMs } from './systemd-notifier.js';
export { Operations } from './operations.js';

/** `edgesim fleet`: thousands of EVE devices in one process over the agent's protocol core (design.md, "The fleet"). */
export { Fleet } from './fleet.js';
export { FleetError } from './preflight.js';
export { SchedulerClock } from './scheduler-clock.js';
export { parseShard } from './shard.js';
export { loadProfile, ProfileError } from './profile.js';
export { FleetMetricsServer } from './metrics-server.js';
export { snapshotJsonLine, snapshotTable } from './live-view.js';
export { FleetAdminServer } from './admin-server.js';
export { FleetAdminClient, fleetSocketPath } from './admin-client.js';

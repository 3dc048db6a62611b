/**
 * What the dashboard's JSON read API (`/ui/api/…`) answers: plain data shared by the server (src/controller/ui-*.ts)
 * and the browser code (src/controller/ui/). Types only, importing nothing (the browser build type-checks this
 * file too). Nothing here may carry a key, a certificate, a nonce or a token: the views are built field by field
 * from the store, never by passing records through.
 */

/**
 * Where a device is in its life, as the dashboard counts it: registered but not attesting yet ('onboarding'),
 * attestation begun but no integrity token yet ('attesting'), attested ('running'), or silent for longer than
 * the caller's threshold ('unreachable', whatever it reached before).
 */
export type DevicePhase = 'onboarding' | 'attesting' | 'running' | 'unreachable';

/** One row of the dashboard's device table (no keys, certs or tokens). */
export interface DeviceListRow {
  uuid: string;
  name: string | null;
  serial: string;
  phase: DevicePhase;
  /** Version of its current config, null without one. */
  configVersion: number | null;
  /** Platform and architecture from its newest ZInfoDevice (e.g. "edgesim x86_64"), null before one. */
  model: string | null;
  createdAt: number;
  lastSeenAt: number | null;
  /** Epoch ms of its newest info message, null before the first. */
  lastInfoAt: number | null;
  /** `ZInfoTypes` name of that message. */
  lastInfoType: string | null;
}

/** Device counts for the fleet view. */
export interface FleetCounts {
  total: number;
  phases: Record<DevicePhase, number>;
  /** Counts per LAST_SEEN_BUCKETS_MS (store.ts) bucket, then older, then never seen (length buckets + 2). */
  lastSeen: number[];
}

/** One sample of the fleet's rates, taken by the aggregator. */
export interface RateSample {
  /** Epoch ms. */
  at: number;
  /** Devices registered per second since the previous sample. */
  onboardingPerSec: number;
  /** Device API requests per second since the previous sample. */
  requestsPerSec: number;
}

/** `GET /ui/api/fleet`. */
export interface FleetView {
  now: number;
  unreachableMs: number;
  summary: FleetCounts;
  /** Upper bounds of the last-seen buckets, ms ago (see FleetCounts.lastSeen). */
  lastSeenBucketsMs: readonly number[];
  rates: RateSample[];
  clusters: { id: string; name: string; members: number }[];
  page: { total: number; offset: number; limit: number; search: string; rows: (DeviceListRow & { cluster: string | null })[] };
}

/** Self-reported node status (ZInfoClusterNode), 'NONE' before the first report. */
export type NodeSelfStatus = 'READY' | 'NOTREADY' | 'DOWN' | 'UNKNOWN' | 'NONE';

/** One node card of the cluster view. */
export interface ClusterNodeCard {
  uuid: string;
  name: string | null;
  serial: string;
  role: 'server' | 'worker';
  tieBreaker: boolean;
  joinServer: boolean;
  /** Its cluster address with prefix length, from its config. */
  clusterIp: string | null;
  selfStatus: NodeSelfStatus;
  /** Epoch ms the controller received that report. */
  selfReportAt: number | null;
  /** The leader's view (Ready condition in ZInfoKubeCluster); null when the leader does not list the node. */
  leaderView: 'Ready' | 'NotReady' | null;
  /** NodeAdmission from the leader's report, e.g. JOINED. */
  admission: string | null;
  isLeader: boolean;
  lastSeenAt: number | null;
  /** Its newest ZInfoKubeClusterUpdateStatus. */
  update: { status: string; component: string | null; reason: string | null; at: number } | null;
}

/** `GET /ui/api/clusters/<id>`. */
export interface ClusterView {
  now: number;
  id: string;
  name: string;
  leader: string | null;
  /** When the controller received the leader's newest ZInfoKubeCluster. */
  leaderReportAt: number | null;
  nodes: ClusterNodeCard[];
}

/** One app of the apps view. */
export interface AppRow {
  uuid: string;
  name: string;
  cluster: string | null;
  /** Device UUID from the config's designated_node_id, null when unset. */
  designatedNode: string | null;
  affinity: string;
  /** Devices whose newest report of the app says cluster_app_running. */
  runningOn: string[];
  /** The newest reported ZSwState, with the device that reported it. */
  state: string | null;
  stateFrom: string | null;
  stateAt: number | null;
}

/** One volume of the apps view. */
export interface VolumeRow {
  uuid: string;
  name: string;
  designatedNode: string | null;
}

/** `GET /ui/api/apps`. */
export interface AppsView {
  now: number;
  /** Device UUID → display name, for the node columns. */
  nodeNames: Record<string, string>;
  apps: AppRow[];
  volumes: VolumeRow[];
}

/** One info message on a device's timeline. */
export interface InfoEvent {
  seq: number;
  at: number;
  ztype: string;
  /** A few key fields of the message as text, e.g. "node_status READY". */
  summary: string;
}

/** `GET /ui/api/devices/<id>`. */
export interface DeviceView {
  now: number;
  uuid: string;
  name: string | null;
  serial: string;
  phase: DevicePhase;
  createdAt: number;
  lastSeenAt: number | null;
  attested: boolean;
  /** ZCertType names of the attestation certs it published. */
  attestCerts: string[];
  config: { version: number; updatedAt: number; hash: string } | null;
  /** Config versions sent to the device since the controller started (a 304 sends none), oldest first. */
  configsServed: { version: number; at: number }[];
  cluster: { id: string; name: string } | null;
  infos: InfoEvent[];
  /** Faults the agent reports as active; null: the agent does not report faults to the controller. */
  faults: string[] | null;
}

/** One step of a recorded timeline, in ms after its start. */
export interface TimelineStep {
  label: string;
  realMs: number;
  specMs: number;
  /** EVE's own time for the step (spec time), when it has one. */
  referenceMs?: number;
}

/** A failover or scenario run handed to the controller to draw (`ControllerServer.recordTimeline`). */
export interface TimelineRecord {
  id: string;
  title: string;
  startedAt: number;
  timeScale: number;
  steps: TimelineStep[];
  complete: boolean;
}

/** `GET /ui/api/timelines`. */
export interface TimelinesView {
  timelines: TimelineRecord[];
}

/** The body of an SSE `change` event: what changed since the last event (the page refetches what it shows). */
export interface ChangeEvent {
  at: number;
  summary: FleetCounts;
  /** Devices that sent infos or registered; empty when more than `truncatedAfter` did (then `many` is true). */
  devices: string[];
  many: boolean;
  ztypes: string[];
  timelines: boolean;
}

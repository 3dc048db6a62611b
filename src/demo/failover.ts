/**
 * `edgesim demo --scenario failover` (cluster.md §10): on a formed demo cluster, one PREFERRED app designated to
 * node 1 is deployed through the embedded controller; once node 1 reports it RUNNING with `cluster_app_running`,
 * node 1 is killed (agent and k3s, as a power loss) and the failover timeline is recorded through a survivor's
 * kube API and the controller's ZInfoApp reports: lost node not Ready, old pod evicted, new pod running, new host
 * reporting.
 */
import type { Clock, Logger } from '../common/index.js';
import { errorMessage, pollUntil } from '../common/index.js';
import { recordFailoverTimeline, type FailoverTimeline } from './failover-timeline.js';
import type { ControllerAdminClient, TimelineRecord } from '../controller/index.js';
import { toK8sNodeName, type KubeClient } from '../k3s/index.js';

/** How often the scenario looks at the controller's reports, spec ms (the kubelet's status frequency). */
const POLL_MS = 2_000;

/** The app the scenario deploys (fixed, so a rerun against the same controller data names the same app). */
export const FAILOVER_APP = { uuid: '6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a01', name: 'failover-app' } as const;

/** One demo node as the scenario sees it. */
export interface FailoverNode {
  /** Short name (`dev1`); the k8s node is `edge-<name>`. */
  name: string;
  uuid: string;
  /** Kills the node's agent and k3s at once (no graceful stop). */
  kill(): Promise<void>;
}

/** Options of {@link runFailoverScenario}. */
export interface FailoverScenarioOptions {
  admin: ControllerAdminClient;
  /** Node 1 (designated, killed) first; at least one survivor. */
  nodes: FailoverNode[];
  /** A kube client on a survivor (node 2). */
  survivorKube: () => Promise<KubeClient>;
  /** The agents' clock (their time scale): the timeline reports spec time with it. */
  clock: Clock;
  /** Real ms to wait for node 1 to report the app RUNNING. */
  timeoutMs: number;
  /** Progress lines for the operator. */
  onProgress: (message: string) => void;
  logger: Logger;
  signal: AbortSignal;
}

/** What the scenario found. */
export interface FailoverScenarioResult {
  app: { uuid: string; name: string; designatedNode: string; designatedUuid: string; affinity: 'preferred' };
  /** k8s name of the killed node. */
  lostNode: string;
  /** Real ms from the deploy until node 1 reported the app RUNNING. */
  runningAfterMs: number;
  timeline: FailoverTimeline;
}

/** Deploys the app, waits for it on node 1, kills node 1 and records the timeline. */
export async function runFailoverScenario(o: FailoverScenarioOptions): Promise<FailoverScenarioResult> {
  const [home, ...rest] = o.nodes;
  if (!home || rest.length === 0) throw new Error('--scenario failover needs at least 2 nodes (--nodes)');
  const log = o.logger.child({ component: 'demo.failover', appId: FAILOVER_APP.uuid });
  const lostNode = toK8sNodeName(`edge-${home.name}`);
  const deployed = performance.now();
  for (const n of o.nodes) {
    const cur = (await o.admin.getConfig(n.uuid, o.signal)).config;
    await o.admin.setConfig(n.uuid, { ...cur, apps: [appConfigJson(FAILOVER_APP, home.uuid)] }, o.signal);
  }
  o.onProgress(`app ${FAILOVER_APP.name} (PREFERRED, designated ${lostNode}) deployed to every node's config`);
  log.info('failover app deployed', { designated: home.uuid });

  const reports = (): Promise<AppReport[]> => appReports(o.admin, o.nodes, o.signal);
  await poll(o, `${lostNode} reporting ${FAILOVER_APP.name} RUNNING`, async () => {
    const last = (await reports()).filter((r) => r.node === lostNode).at(-1);
    return last?.state === 'RUNNING' && last.cluster_app_running === true ? true : undefined;
  });
  const runningAfterMs = performance.now() - deployed;
  o.onProgress(`${lostNode} reports ${FAILOVER_APP.name} RUNNING (cluster_app_running) after ${(runningAfterMs / 1000).toFixed(1)} s; killing ${lostNode}`);

  const kube = await o.survivorKube();
  const timeline = await recordFailoverTimeline({
    kube,
    appUuid: FAILOVER_APP.uuid,
    lostNode,
    kill: () => home.kill(),
    reporter: async () => {
      const last = (await reports()).at(-1);
      return last?.cluster_app_running && last.state === 'RUNNING' ? last.node : undefined;
    },
    lostReporter: lostNode,
    clock: o.clock,
    signal: o.signal,
  });
  log.info('failover timeline recorded', { complete: timeline.complete, newNode: timeline.newNode, newReporter: timeline.newReporter });
  return {
    app: { uuid: FAILOVER_APP.uuid, name: FAILOVER_APP.name, designatedNode: lostNode, designatedUuid: home.uuid, affinity: 'preferred' },
    lostNode,
    runningAfterMs,
    timeline,
  };
}

/** An AppInstanceConfig in the controller's protojson field names: a small app without volumes, designated to a node. */
export function appConfigJson(app: { uuid: string; name: string }, designated: string, affinity: 'preferred' | 'required' = 'preferred'): Record<string, unknown> {
  return {
    uuidandversion: { uuid: app.uuid, version: '1' },
    displayname: app.name,
    activate: true,
    designated_node_id: designated,
    affinity: affinity === 'required' ? 'AFFINITY_TYPE_REQUIRED' : 'AFFINITY_TYPE_PREFERRED',
    fixedresources: { vcpus: 1, memory: 262144, maxmem: 262144 },
  };
}

interface AppReport {
  seq: number;
  /** k8s name of the reporting node (as the timeline's `newNode`). */
  node: string;
  state?: string;
  cluster_app_running?: boolean;
}

/** Every ZInfoApp of the scenario's app the controller received, oldest first (seq orders across devices). */
async function appReports(admin: ControllerAdminClient, nodes: FailoverNode[], signal: AbortSignal): Promise<AppReport[]> {
  const out: AppReport[] = [];
  for (const n of nodes) {
    for (const item of await admin.info(n.uuid, { types: ['ZiApp'] }, signal)) {
      const a = (item.info as { ainfo?: { AppID?: string; state?: string; cluster_app_running?: boolean } }).ainfo;
      if (a?.AppID === FAILOVER_APP.uuid) out.push({ seq: item.seq, node: toK8sNodeName(`edge-${n.name}`), ...a });
    }
  }
  return out.sort((x, y) => x.seq - y.seq);
}

function poll<T>(o: FailoverScenarioOptions, what: string, probe: () => Promise<T | undefined>): Promise<T> {
  return pollUntil(probe, {
    what: `failover scenario: ${what}`,
    timeoutMs: o.timeoutMs,
    pause: (signal) => o.clock.sleep(POLL_MS, signal),
    signal: o.signal,
    onProbeError: (e) => o.logger.debug('failover probe failed', { what, error: errorMessage(e) }),
  });
}

/** One line of the timeline table. */
export type FailoverRow = {
  event: string;
  /** Real seconds after the kill, or '—' when not seen. */
  real: string;
  /** The same in spec time (real × time scale). */
  spec: string;
  /** EVE's timeline for comparison (cluster.md §10). */
  eve: string;
  detail: string;
};

/** EVE's own timeline (cluster.md §10), spec ms after the loss, per step; `approx` for "~". */
const EVE_TIMELINE: Record<keyof FailoverTimeline['spec'], { ms: number; approx?: boolean } | undefined> = {
  notReadySeenMs: { ms: 40_000 },
  podEvictedMs: { ms: 55_000 },
  newPodScheduledMs: { ms: 55_000 },
  newPodRunningMs: undefined,
  newHostReportingMs: { ms: 65_000, approx: true },
};

const STEP_LABELS: Record<keyof FailoverTimeline['spec'], string> = {
  notReadySeenMs: 'NotReady seen',
  podEvictedMs: 'old pod evicted',
  newPodScheduledMs: 'new pod scheduled',
  newPodRunningMs: 'new pod running',
  newHostReportingMs: 'new host reporting',
};

const eveText = (key: keyof FailoverTimeline['spec']): string => {
  const e = EVE_TIMELINE[key];
  return e ? `${e.approx ? '~' : ''}T+${e.ms / 1000} s` : '';
};

/** The timeline for the controller's dashboard (timeline view): the steps seen, with EVE's time beside each. */
export function failoverTimelineRecord(r: FailoverScenarioResult): TimelineRecord {
  const tl = r.timeline;
  const keys = Object.keys(STEP_LABELS) as (keyof FailoverTimeline['spec'])[];
  return {
    id: `failover-${tl.killedAtMs}`,
    title: `failover of ${FAILOVER_APP.name} (${r.lostNode} lost)`,
    startedAt: tl.killedAtMs,
    timeScale: tl.timeScale,
    complete: tl.complete,
    steps: keys.flatMap((k) => {
      const real = tl[k];
      const spec = tl.spec[k];
      if (real === undefined || spec === undefined) return [];
      const eve = EVE_TIMELINE[k];
      return [{ label: STEP_LABELS[k], realMs: real, specMs: spec, ...(eve ? { referenceMs: eve.ms } : {}) }];
    }),
  };
}

/** The timeline as table rows for people (the CLI prints them). */
export function failoverRows(r: FailoverScenarioResult): FailoverRow[] {
  const tl = r.timeline;
  const s = (ms: number | undefined): string => (ms === undefined ? '—' : `${(ms / 1000).toFixed(1)} s`);
  const row = (key: keyof FailoverTimeline['spec'], detail: string): FailoverRow => ({
    event: STEP_LABELS[key],
    real: s(tl[key]),
    spec: s(tl.spec[key]),
    eve: eveText(key),
    detail,
  });
  return [
    row('notReadySeenMs', tl.notReadyMessage !== undefined ? `"${tl.notReadyMessage}"` : ''),
    row('podEvictedMs', `on ${r.lostNode}`),
    row('newPodScheduledMs', tl.newNode ? `on ${tl.newNode}` : ''),
    row('newPodRunningMs', tl.newNode ? `on ${tl.newNode}` : ''),
    row('newHostReportingMs', tl.newReporter ? `cluster_app_running from ${tl.newReporter}` : ''),
  ];
}

/**
 * The failover of one app (cluster.md §10) as the demo and the scenario runner present it: the app's config as the
 * controller serves it, the timeline as table rows (with EVE's own times beside) and as a dashboard record. The
 * scenario step `failover` (src/scenario/runner.ts) records it; `edgesim demo --scenario failover` runs the shipped
 * scenarios/failover.yaml.
 */
import type { TimelineRecord } from '../controller/index.js';
import type { FailoverTimeline } from './failover-timeline.js';

/** One recorded failover: the app, its killed host, the timeline. */
export interface FailoverResult {
  app: { uuid: string; name: string; designatedNode: string; designatedUuid: string; affinity: 'preferred' | 'required' };
  /** k8s name of the killed node. */
  lostNode: string;
  timeline: FailoverTimeline;
}

/** What `edgesim demo --scenario failover` reports. */
export interface FailoverScenarioResult extends FailoverResult {
  /** Real ms from the deploy until node 1 reported the app RUNNING. */
  runningAfterMs: number;
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
export function failoverTimelineRecord(r: FailoverResult): TimelineRecord {
  const tl = r.timeline;
  const keys = Object.keys(STEP_LABELS) as (keyof FailoverTimeline['spec'])[];
  return {
    id: `failover-${tl.killedAtMs}`,
    title: `failover of ${r.app.name} (${r.lostNode} lost)`,
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
export function failoverRows(r: FailoverResult): FailoverRow[] {
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

/** The timeline on one line, spec seconds after the kill (`—` for a step not seen): the scenario timeline's detail. */
export function failoverSummary(tl: FailoverTimeline): string {
  const keys = Object.keys(STEP_LABELS) as (keyof FailoverTimeline['spec'])[];
  return keys.map((k) => `${STEP_LABELS[k]} ${tl.spec[k] === undefined ? '—' : `T+${(tl.spec[k] / 1000).toFixed(0)} s`}`).join(', ') + ' (spec)';
}

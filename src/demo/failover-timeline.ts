/**
 * Records the failover timeline of one app (cluster.md §10) as data, for `edgesim demo --scenario failover`, the
 * e2e test and bench/failover.ts: kill the app's host, then watch — through a survivor's kube API and the
 * caller's view of the controller — when the lost node turns not Ready, when its pod is evicted, when the new
 * pod is bound and runs, and when the new host reports the app running.
 */
import type { Clock } from '../common/index.js';
import type { KubeClient } from '../k3s/index.js';
import { LABEL_APP_UUID } from '../agent/apps/index.js';

/** How often the timeline looks, spec ms (a tenth of the kubelet's 2 s status frequency). */
const POLL_MS = 200;

/** Options of {@link recordFailoverTimeline}. */
export interface FailoverTimelineOptions {
  /** A client on a node that survives. */
  kube: KubeClient;
  appUuid: string;
  /** k8s name of the node that is killed (the app's host). */
  lostNode: string;
  /** Kills the host (agent and k3s). Its duration is not part of the timeline. */
  kill: () => Promise<void>;
  /**
   * Which node the controller last saw report the app with `cluster_app_running = true` (e.g. a node name or
   * device UUID), or undefined. The timeline ends when this names a node other than `lostReporter`.
   */
  reporter: () => Promise<string | undefined>;
  /** What `reporter` returns for the lost node. */
  lostReporter: string;
  clock: Clock;
  /** Give up after this many spec ms. @default 300000 */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** One failover, in ms after the kill returned (real and, `…SpecMs`, multiplied by the time scale). */
export interface FailoverTimeline {
  timeScale: number;
  killedAtMs: number;
  /** Ready condition of the lost node no longer True. */
  notReadySeenMs?: number;
  /** The Ready message seen then (the failover gate wants exactly "Kubelet stopped posting node status."). */
  notReadyMessage?: string;
  /** The old pod got its deletion timestamp (taint eviction after the 15 s toleration). */
  podEvictedMs?: number;
  /** A new pod bound to a survivor. */
  newPodScheduledMs?: number;
  newNode?: string;
  /** That pod Running. */
  newPodRunningMs?: number;
  /** The controller sees the app running from a new reporter. */
  newHostReportingMs?: number;
  newReporter?: string;
  /** Same offsets in spec time (real × time scale): comparable with the spec's T+40 s / T+55 s / ~T+65 s. */
  spec: Partial<Record<'notReadySeenMs' | 'podEvictedMs' | 'newPodScheduledMs' | 'newPodRunningMs' | 'newHostReportingMs', number>>;
  /** True when every step was seen before the timeout. */
  complete: boolean;
}

/** Kills the host and records the timeline (see {@link FailoverTimeline}); never throws on a missed step. */
export async function recordFailoverTimeline(o: FailoverTimelineOptions): Promise<FailoverTimeline> {
  // The clock starts when the kill starts: the node stops posting status from then on, however long the kill takes.
  const t0 = o.clock.now();
  await o.kill();
  const tl: FailoverTimeline = { timeScale: o.clock.timeScale, killedAtMs: t0, spec: {}, complete: false };
  const mark = (key: keyof FailoverTimeline['spec']): void => {
    if (tl[key] !== undefined) return;
    const ms = o.clock.now() - t0;
    tl[key] = ms;
    tl.spec[key] = Math.round(o.clock.specMs(ms));
  };
  const deadline = t0 + o.clock.scaled(o.timeoutMs ?? 300_000);
  while (o.clock.now() < deadline && !o.signal?.aborted) {
    try {
      if (tl.notReadySeenMs === undefined) {
        const node = await o.kube.getNode(o.lostNode, o.signal);
        if (node.ready !== 'True') {
          mark('notReadySeenMs');
          tl.notReadyMessage = node.readyMessage ?? '';
        }
      }
      const pods = await o.kube.listPods({ labelSelector: `${LABEL_APP_UUID}=${o.appUuid}` }, o.signal);
      if (pods.some((p) => p.nodeName === o.lostNode && p.deletionTimestamp)) mark('podEvictedMs');
      const fresh = pods.find((p) => p.nodeName && p.nodeName !== o.lostNode && !p.deletionTimestamp);
      // The new host may write the old pod off between two looks: its absence counts as evicted too.
      if (fresh && !pods.some((p) => p.nodeName === o.lostNode)) mark('podEvictedMs');
      if (fresh) {
        mark('newPodScheduledMs');
        if (tl.newNode === undefined && fresh.nodeName) tl.newNode = fresh.nodeName;
        if (fresh.phase === 'Running') mark('newPodRunningMs');
      }
      const who = await o.reporter();
      if (who && who !== o.lostReporter) {
        mark('newHostReportingMs');
        tl.newReporter ??= who;
      }
    } catch {
      // A survivor's API can hiccup while etcd notices the lost member; look again.
    }
    if (tl.newHostReportingMs !== undefined && tl.newPodRunningMs !== undefined) break;
    await o.clock.sleep(POLL_MS, o.signal).catch(() => undefined);
  }
  tl.complete = [tl.notReadySeenMs, tl.podEvictedMs, tl.newPodScheduledMs, tl.newPodRunningMs, tl.newHostReportingMs].every((x) => x !== undefined);
  return tl;
}


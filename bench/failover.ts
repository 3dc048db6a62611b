/**
 * Failover benchmark (cluster.md §10): a 3-node cluster (controller, agents, k3s stand-ins on real etcd, loopback),
 * one PREFERRED app designated to node 1; node 1 (agent and k3s) is killed and the timeline is recorded: lost node
 * not Ready, old pod evicted, new pod scheduled and running, new host reporting the app running to the controller.
 *
 * Goals: new host reporting within 70 s of the kill at time scale 1 (EVE's best case starts at ~T+55–65 s), and
 * within 8 s of real time at time scale 10. The time-scale-1 run takes a few minutes: it runs only with
 * `EDGESIM_BENCH_REALTIME=1`.
 * Run: `npm run build && node dist/bench/failover.js` (or `node --import tsx bench/failover.ts`, slower).
 */
import os from 'node:os';
import type { FailoverTimeline } from '../src/demo/index.js';
import { createClock } from '../src/common/index.js';
import { failoverScenario, waitClusterReady } from '../test/helpers/apps.js';
import { applyCluster, startNodes } from '../test/helpers/cluster.js';

/** Goals in real ms after the kill, per time scale. */
const GOALS: Record<number, number> = { 1: 70_000, 10: 8_000 };

async function run(timeScale: number): Promise<FailoverTimeline> {
  const t = await startNodes(3, { timeScale });
  try {
    await applyCluster(t);
    await waitClusterReady(t, Math.max(120_000, 600_000 / timeScale));
    const { timeline } = await failoverScenario(t, { clock: createClock(timeScale), timeoutMs: 600_000 });
    return timeline;
  } finally {
    await t.dispose();
  }
}

function row(tl: FailoverTimeline): string {
  const s = (ms: number | undefined): string => (ms === undefined ? '—' : `${(ms / 1000).toFixed(1)} s`);
  const goal = GOALS[tl.timeScale];
  const verdict = goal === undefined || tl.newHostReportingMs === undefined ? '' : tl.newHostReportingMs <= goal ? 'goal met' : 'GOAL MISSED';
  return [
    `time scale ${tl.timeScale}: real after kill (spec); load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')} (1/5/15 min)`,
    `  not Ready seen      ${s(tl.notReadySeenMs)} (${s(tl.spec.notReadySeenMs)})  message "${tl.notReadyMessage ?? ''}"`,
    `  old pod evicted     ${s(tl.podEvictedMs)} (${s(tl.spec.podEvictedMs)})`,
    `  new pod scheduled   ${s(tl.newPodScheduledMs)} (${s(tl.spec.newPodScheduledMs)}) on ${tl.newNode ?? '—'}`,
    `  new pod running     ${s(tl.newPodRunningMs)} (${s(tl.spec.newPodRunningMs)})`,
    `  new host reporting  ${s(tl.newHostReportingMs)} (${s(tl.spec.newHostReportingMs)}) by ${tl.newReporter ?? '—'}`,
    `  goal ≤ ${s(goal)}: ${verdict || 'not reached'}`,
  ].join('\n');
}

const scales = process.env.EDGESIM_BENCH_REALTIME === '1' ? [10, 1] : [10];
const results: FailoverTimeline[] = [];
for (const scale of scales) {
  const tl = await run(scale);
  results.push(tl);
  process.stdout.write(`${row(tl)}\n`);
}
if (!scales.includes(1)) process.stdout.write('time scale 1: skipped (set EDGESIM_BENCH_REALTIME=1; takes a few minutes)\n');
process.stdout.write(`${JSON.stringify(results)}\n`);

/**
 * Benchmark of the in-process cluster mode (issue 13): N three-node clusters (default 50; `INPROC_CLUSTERS`) in
 * this one process, each member a device's real ClusterReconciler and AppReconciler on k3s served in memory by
 * the stand-in's machinery. Real time (time scale 1): every cluster is configured at once, as a controller's
 * cluster apply does, and the figure is the time until every member reported READY, with the RSS and heap it
 * costs per cluster. Stops by itself within 60 s.
 * Run: `npm run build && node dist/bench/inproc-clusters.js` (or `node --import tsx bench/inproc-clusters.ts`).
 */
import { availableParallelism, loadavg } from 'node:os';
import { createClock, silentLogger } from '../src/common/index.js';
import { info } from '../src/eve/index.js';
import { InprocSegment } from '../src/inproc/segment.js';
import { configureCluster, startInprocCluster, type InprocDevice } from '../test/helpers/inproc.js';

const N = Number(process.env.INPROC_CLUSTERS ?? 50);
const LIMIT_MS = 55_000;
const load = (): string => `load average ${loadavg().map((l) => l.toFixed(2)).join(' ')} (${availableParallelism()} cores)`;
const mb = (b: number): string => `${(b / 1024 / 1024).toFixed(1)} MB`;

const ready = (d: InprocDevice): boolean => {
  const s = d.published.filter((p) => p.key === 'clusternode').at(-1)?.msg.cluster_node?.node_status;
  return s === info.ZInfoClusterNodeStatus.Z_INFO_CLUSTER_NODE_STATUS_READY;
};

const keepAlive = setInterval(() => undefined, 1_000);
const clock = createClock(1);
global.gc?.();
const before = process.memoryUsage();
process.stdout.write(`${N} three-node in-process clusters, time scale 1; ${load()}\n`);
const t0 = performance.now();
const all: InprocDevice[] = [];
for (let c = 0; c < N; c++) {
  // Every cluster on its own segment (site): the addresses repeat, as separate sites' may.
  const segment = new InprocSegment();
  const spec = { clusterId: `5b2b5e1c-8a46-4c5f-9a57-${c.toString(16).padStart(12, '0')}`, net: '127.100.0.', token: `bench-token-${c}` };
  const devices = startInprocCluster(segment, spec, 3, { index: c, clock, logger: silentLogger });
  configureCluster(devices, spec, 1);
  all.push(...devices);
}
const created = performance.now() - t0;
let lastReport = 0;
let allReadyMs: number | undefined;
while (performance.now() - t0 < LIMIT_MS) {
  const n = all.filter(ready).length;
  if (n === all.length) {
    allReadyMs = performance.now() - t0;
    break;
  }
  if (performance.now() - lastReport > 5_000) {
    lastReport = performance.now();
    process.stdout.write(`  ${((performance.now() - t0) / 1000).toFixed(1)} s: ${n}/${all.length} members READY\n`);
  }
  await new Promise((r) => setTimeout(r, 100));
}
global.gc?.();
const after = process.memoryUsage();
const rssPer = (after.rss - before.rss) / N;
const heapPer = (after.heapUsed - before.heapUsed) / N;
if (allReadyMs === undefined) {
  process.stdout.write(`NOT all READY within ${LIMIT_MS / 1000} s: ${all.filter(ready).length}/${all.length}\n`);
  process.exitCode = 1;
} else {
  process.stdout.write(
    `all ${all.length} members READY after ${(allReadyMs / 1000).toFixed(1)} s (devices created in ${created.toFixed(0)} ms)\n` +
      `RSS ${mb(before.rss)} → ${mb(after.rss)}: ${mb(rssPer)} per cluster; heap used ${mb(heapPer)} per cluster${global.gc ? '' : ' (run with --expose-gc for settled heap figures)'}\n`,
  );
}
process.stdout.write(`${load()}\n`);
const s0 = performance.now();
await Promise.all(all.map((d) => d.stop().catch(() => undefined)));
process.stdout.write(`stopped in ${(performance.now() - s0).toFixed(0)} ms\n`);
clearInterval(keepAlive);

/**
 * Benchmark of the dashboard at fleet scale (issue 15): an in-process controller whose store is seeded with
 * 10,000 devices (mixed phases and last-seen ages, a few infos each). Prints
 * - the store's fleet queries (counts by phase and last-seen age, first and last page, search), median of 30 runs;
 * - `GET /ui/api/fleet` over loopback HTTP, p50/p99 of 200 sequential requests;
 * - the live side: an info stream of ~2,000 infos/s into the store for SECONDS, once without and once with 20
 *   open fleet pages (each holds `/ui/events` open and, like the browser, reads `/ui/api/fleet` again on each change
 *   event): the process CPU of each run and the change events each page received per second (the aggregator sends
 *   at most 2 per second however many infos arrive).
 * With the load average before and after. Knobs: EDGESIM_BENCH_DEVICES (10000), EDGESIM_BENCH_SECONDS (8).
 * Run: `node --import tsx bench/dashboard.ts` (or `node dist/bench/dashboard.js` after a build).
 */
import http from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { ControllerServer } from '../src/controller/index.js';

const DEVICES = Number(process.env.EDGESIM_BENCH_DEVICES ?? 10_000);
const SECONDS = Number(process.env.EDGESIM_BENCH_SECONDS ?? 8);
const INFOS_PER_SEC = 2_000;
const PAGES = 20;

const load = (): string => loadavg().map((x) => x.toFixed(2)).join(' ');
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const pct = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))];

function timeIt(fn: () => unknown, runs = 30): number {
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    fn();
    ms.push(performance.now() - t0);
  }
  return median(ms);
}

function get(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    http
      .get(url, { agent: false }, (res) => {
        res.resume();
        res.on('end', () => (res.statusCode === 200 ? resolve(performance.now() - t0) : reject(new Error(`HTTP ${res.statusCode}`))));
      })
      .on('error', reject);
  });
}

/** Streams infos into the store at INFOS_PER_SEC for SECONDS; returns the process CPU % over the run. */
async function infoStream(server: ControllerServer, uuids: string[]): Promise<number> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let sent = 0;
  const tickMs = 50;
  while (performance.now() - t0 < SECONDS * 1000) {
    const due = Math.floor(((performance.now() - t0) / 1000) * INFOS_PER_SEC);
    const batch: Promise<unknown>[] = [];
    for (; sent < due; sent++) {
      const u = uuids[sent % uuids.length];
      batch.push(server.store.queueInfo(u, 'ZiNop', { cluster_node: { node_status: 'Z_INFO_CLUSTER_NODE_STATUS_READY' }, n: sent }));
    }
    await Promise.all(batch);
    await new Promise((r) => setTimeout(r, tickMs));
  }
  const c = process.cpuUsage(cpu0);
  return ((c.user + c.system) / 1000 / (performance.now() - t0)) * 100;
}

async function main(): Promise<void> {
  console.log(`dashboard bench: ${DEVICES} devices, ${availableParallelism()} cores, load average before ${load()}`);
  const dir = await mkdtemp(path.join(tmpdir(), 'edgesim-bench-dash-'));
  const server = await ControllerServer.create({ dataDir: path.join(dir, 'ctl'), listen: '127.0.0.1:0', adminListen: '127.0.0.1:0' });
  try {
    const store = server.store;
    const uuids: string[] = [];
    const t0 = performance.now();
    for (let i = 0; i < DEVICES; i++) {
      const u = `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
      uuids.push(u);
      store.addDevice({ uuid: u, serial: `SIM-${String(i).padStart(5, '0')}`, onboardHashHex: null, certPem: 'PEM', certHashHex: `h${i}` });
      if (i % 4 !== 0) store.ensureIntegrityToken(u, () => 'f'.repeat(128));
      if (i % 3 !== 0) store.noteSeen(u);
    }
    await Promise.all(uuids.map((u, i) => store.queueInfo(u, i % 2 ? 'ZiDevice' : 'ZiNop', { dinfo: { machineArch: 'x86_64', n: i } })));
    console.log(`seeded in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

    const now = Date.now();
    const q = { now, unreachableMs: 180_000 };
    console.log('store queries, median of 30 runs:');
    console.log(`  counts by phase + last-seen histogram  ${timeIt(() => store.fleetCounts(now, 180_000)).toFixed(2)} ms`);
    console.log(`  first page (50)                        ${timeIt(() => store.listDevicePage({ ...q, limit: 50, offset: 0 })).toFixed(2)} ms`);
    console.log(`  ${`last page (offset ${DEVICES - 50})`.padEnd(39)}${timeIt(() => store.listDevicePage({ ...q, limit: 50, offset: DEVICES - 50 })).toFixed(2)} ms`);
    console.log(`  search "SIM-09" (50 of matches)        ${timeIt(() => store.listDevicePage({ ...q, search: 'SIM-09', limit: 50, offset: 0 })).toFixed(2)} ms`);
    console.log(`  latest infos of one device             ${timeIt(() => store.latestInfos(uuids[7])).toFixed(3)} ms`);

    const ui = server.endpoints().uiUrl!;
    const lat: number[] = [];
    for (let i = 0; i < 200; i++) lat.push(await get(`${ui}api/fleet?limit=50&offset=${(i * 50) % DEVICES}`));
    console.log(`GET /ui/api/fleet (counts + 50 rows), 200 sequential: p50 ${pct(lat, 50).toFixed(1)} ms, p99 ${pct(lat, 99).toFixed(1)} ms`);

    const idleCpu = await infoStream(server, uuids);
    console.log(`info stream ${INFOS_PER_SEC}/s for ${SECONDS} s, no dashboard open: process CPU ${idleCpu.toFixed(0)} %`);

    const events: number[] = new Array<number>(PAGES).fill(0);
    const reqs: http.ClientRequest[] = [];
    let refetches = 0;
    for (let i = 0; i < PAGES; i++) {
      reqs.push(
        http.get(`${ui}events`, { agent: false }, (res) => {
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            const n = chunk.split('event: change').length - 1;
            events[i] += n;
            for (let k = 0; k < n; k++) void get(`${ui}api/fleet?limit=25&offset=${i * 25}`).then(() => refetches++, () => undefined);
          });
        }),
      );
    }
    await new Promise((r) => setTimeout(r, 500));
    events.fill(0);
    const liveCpu = await infoStream(server, uuids);
    const perSec = events.map((n) => n / SECONDS);
    console.log(
      `same with ${PAGES} fleet pages open: process CPU ${liveCpu.toFixed(0)} % (incl. ${refetches} page reads); change ` +
        `events per page per second min ${Math.min(...perSec).toFixed(2)} max ${Math.max(...perSec).toFixed(2)} (cap 2)`,
    );
    for (const r of reqs) r.destroy();
  } finally {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
  console.log(`load average after ${load()}`);
}

await main();

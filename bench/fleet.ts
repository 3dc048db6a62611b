/**
 * Benchmark of `edgesim fleet` (issue 12 §4): the embedded controller and the fleet run as separate processes on
 * loopback. Measures
 *   - onboarding rate: fleet start → every device has a ZInfoDevice stored at the controller (devices/s);
 *   - steady state at EVE's default cadence, sped up by the time scale: fleet CPU per 1,000 devices (converted back
 *     to real cadence), queue depth at the start and end of the window (it must not grow), p50/p99 per endpoint;
 *   - RSS per device (total / N, and the growth from the first sample per device added).
 * Printed with the load average and a host speed probe before and after. Bounded in count and time.
 * Knobs: `--count N` (default 500, what onboards within a minute on the shared 2-core machine; run `--count 10000` on a quiet machine), EDGESIM_BENCH_FLEET_RAMP (devices/s,
 * 1000), EDGESIM_BENCH_FLEET_TIME_SCALE (60), EDGESIM_BENCH_FLEET_STEADY_S (real seconds, 15).
 * Run: `node dist/bench/fleet.js [--count N]` after a build (or `node --import tsx bench/fleet.ts`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { ControllerAdminClient } from '../src/controller/index.js';
import { FleetAdminClient, fleetSocketPath } from '../src/fleet/index.js';
import { createClock } from '../src/common/index.js';
import { host, procStats } from './lib/host.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const compiled = here.split(path.sep).includes('dist');
const root = compiled ? path.resolve(here, '../..') : path.resolve(here, '..');
const cli = compiled ? [path.join(root, 'dist/src/cli/main.js')] : ['--import', 'tsx', path.join(root, 'src/cli/main.ts')];
const countArg = process.argv.indexOf('--count');
const count = Number(countArg > 0 ? process.argv[countArg + 1] : 500);
const ramp = Number(process.env.EDGESIM_BENCH_FLEET_RAMP ?? 1000);
const timeScale = Number(process.env.EDGESIM_BENCH_FLEET_TIME_SCALE ?? 60);
const steadyS = Number(process.env.EDGESIM_BENCH_FLEET_STEADY_S ?? 15);
/** Upper bound of the onboarding wait, whatever the speed. */
const ONBOARD_LIMIT_S = Math.max(120, count / 5);

interface Snapshot {
  state: string;
  onboarded: number;
  queueDepth: number;
  byPhase: Record<string, number>;
  requests: Record<string, { perSecond: Record<string, number>; p50Ms: number; p99Ms: number }>;
  rssMiB: number;
  heapUsedMiB: number;
}

const clock = createClock();
console.log(`before: ${host()}`);
console.log(`fleet of ${count} devices, ramp ${ramp}/s, time scale ${timeScale}, steady window ${steadyS} s`);
const dir = await mkdtemp(path.join(tmpdir(), 'edgesim-bench-fleet-'));
const dataDir = path.join(dir, 'ctl');
const children: ChildProcess[] = [];
/** EDGESIM_BENCH_FLEET_CPU_PROF=DIR: both processes write a V8 CPU profile there (`node --cpu-prof`) when they stop. */
const cpuProfDir = process.env.EDGESIM_BENCH_FLEET_CPU_PROF;
const start = (args: string[], stdout: 'ignore' | 'pipe'): ChildProcess => {
  const prof = cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', path.resolve(cpuProfDir), '--cpu-prof-name', `${args[0]}.${Date.now()}.cpuprofile`] : [];
  const c = spawn(process.execPath, [...prof, ...cli, ...args], { stdio: ['ignore', stdout, 'inherit'] });
  children.push(c);
  return c;
};
try {
  const ctl = start(['controller', 'run', '--data-dir', dataDir, '--listen', '127.0.0.1:0', '--log-level', 'warn'], 'ignore');
  const jsonPath = path.join(dataDir, 'controller.json');
  let ep: { adminUrl: string } | undefined;
  for (let i = 0; !ep; i++) {
    if (i > 600 || ctl.exitCode !== null) throw new Error('controller did not start');
    try {
      if (existsSync(jsonPath)) ep = JSON.parse(readFileSync(jsonPath, 'utf8')) as { adminUrl: string };
    } catch {
      // not complete yet
    }
    if (!ep) await clock.sleepReal(100);
  }
  const admin = new ControllerAdminClient(ep.adminUrl);
  const folder = path.join(dir, 'config');
  await admin.exportDeviceConfig({ outDir: folder });
  await admin.addOnboard(await readFile(path.join(folder, 'onboard.cert.pem'), 'utf8'), ['*']);

  const statePath = path.join(dir, 'fleet.db');
  const c00 = procStats(ctl.pid!);
  const t0 = performance.now();
  const fleet = start(
    ['fleet', 'run', '--config-dir', folder, '--state', statePath, '--count', String(count), '--ramp', String(ramp),
      '--time-scale', String(timeScale), '--view', '1', '--output', 'json'],
    'pipe',
  );
  const snapshots: { t: number; s: Snapshot }[] = [];
  let buf = '';
  fleet.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    buf += chunk;
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      snapshots.push({ t: performance.now(), s: JSON.parse(buf.slice(0, i)) as Snapshot });
      buf = buf.slice(i + 1);
    }
  });
  const firstRss = { rss: NaN, devices: 0 };
  const db = new Database(path.join(dataDir, 'controller.db'), { readonly: true, fileMustExist: true });
  const withInfo = db.prepare("SELECT count(*) AS n FROM info_latest WHERE ztype = 'ZiDevice'");
  let onboardedS = NaN;
  let onboardCpu = { fleetS: NaN, ctlS: NaN };
  for (;;) {
    if (fleet.exitCode !== null) throw new Error(`fleet exited with ${fleet.exitCode}`);
    const n = (withInfo.get() as { n: number }).n;
    if (Number.isNaN(firstRss.rss) && n > 0) Object.assign(firstRss, { rss: procStats(fleet.pid!).rssMiB, devices: n });
    if (n >= count) {
      onboardedS = (performance.now() - t0) / 1000;
      onboardCpu = { fleetS: procStats(fleet.pid!).cpuS, ctlS: procStats(ctl.pid!).cpuS - c00.cpuS };
      break;
    }
    if ((performance.now() - t0) / 1000 > ONBOARD_LIMIT_S) throw new Error(`only ${n} of ${count} devices reported within ${ONBOARD_LIMIT_S} s`);
    await clock.sleepReal(200);
  }
  console.log(`onboarding: ${count} devices from fleet start to first info stored in ${onboardedS.toFixed(1)} s = ${(count / onboardedS).toFixed(0)} devices/s`);
  const fleetMs = (onboardCpu.fleetS * 1000) / count;
  const ctlMs = (onboardCpu.ctlS * 1000) / count;
  console.log(
    `onboarding CPU per device (the whole window, process start included): fleet ${fleetMs.toFixed(2)} ms, controller ${ctlMs.toFixed(2)} ms, ` +
      `total ${(fleetMs + ctlMs).toFixed(2)} ms → ceiling on ${availableParallelism()} cores ${((availableParallelism() * 1000) / (fleetMs + ctlMs)).toFixed(0)} devices/s`,
  );
  const fleetAdmin = new FleetAdminClient(fleetSocketPath(statePath));
  const byEndpoint = new Map<string, number>();
  for (const [k, n] of Object.entries((await fleetAdmin.status()).requests)) byEndpoint.set(k.split(' ')[0], (byEndpoint.get(k.split(' ')[0]) ?? 0) + n);
  fleetAdmin.close();
  const total = [...byEndpoint.values()].reduce((a, b) => a + b, 0);
  console.log(
    `requests per device so far: ${(total / count).toFixed(1)} (` + [...byEndpoint].sort().map(([e, n]) => `${e} ${(n / count).toFixed(2)}`).join(', ') + ')',
  );

  // Let the ramp's burst settle one view period, then measure a steady window.
  await clock.sleepReal(2000);
  const from = snapshots.length;
  const f0 = procStats(fleet.pid!);
  const c0 = procStats(ctl.pid!);
  const w0 = performance.now();
  await clock.sleepReal(steadyS * 1000);
  const f1 = procStats(fleet.pid!);
  const c1 = procStats(ctl.pid!);
  const wall = (performance.now() - w0) / 1000;
  const window = snapshots.slice(from).map((x) => x.s);
  const fleetCores = (f1.cpuS - f0.cpuS) / wall;
  const ctlCores = (c1.cpuS - c0.cpuS) / wall;
  // At time scale K every device does K times EVE's default work per second: per 1,000 devices at real cadence.
  const perThousand = fleetCores / timeScale / (count / 1000);
  const depth = window.map((s) => s.queueDepth);
  console.log(
    `steady (${wall.toFixed(0)} s = ${((wall * timeScale) / 60).toFixed(0)} simulated min): fleet ${(fleetCores * 100).toFixed(0)} % of a core ` +
      `(event loop ${(((f1.mainS - f0.mainS) / wall) * 100).toFixed(0)} %), controller ${(ctlCores * 100).toFixed(0)} %; ` +
      `fleet CPU per 1,000 devices at EVE's default cadence: ${(perThousand * 1000).toFixed(1)} ms/s (${(perThousand * 100).toFixed(2)} % of a core)`,
  );
  const third = Math.max(1, Math.floor(depth.length / 3));
  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  console.log(
    `queue depth over the window (all devices): mean of the first third ${mean(depth.slice(0, third)).toFixed(0)}, ` +
      `of the last third ${mean(depth.slice(-third)).toFixed(0)}, max ${Math.max(...depth)}`,
  );
  const endpoints = new Map<string, { rate: number; p50: number[]; p99: number[] }>();
  for (const s of window) {
    for (const [e, p] of Object.entries(s.requests)) {
      const x = endpoints.get(e) ?? { rate: 0, p50: [], p99: [] };
      x.rate += Object.values(p.perSecond).reduce((a, b) => a + b, 0) / window.length;
      if (Number.isFinite(p.p50Ms)) x.p50.push(p.p50Ms);
      if (Number.isFinite(p.p99Ms)) x.p99.push(p.p99Ms);
      endpoints.set(e, x);
    }
  }
  for (const [e, x] of [...endpoints].sort()) {
    x.p50.sort((a, b) => a - b);
    console.log(
      `  ${e.padEnd(8)} ${x.rate.toFixed(0).padStart(6)} req/s (time-scaled); p50 ${(x.p50[Math.floor(x.p50.length / 2)] ?? NaN).toFixed(1)} ms, ` +
        `worst p99 of the 1 s periods ${Math.max(...x.p99).toFixed(1)} ms`,
    );
  }
  const byStatus = window.at(-1)?.byPhase ?? {};
  console.log(`phases at the end: ${JSON.stringify(byStatus)}`);
  console.log(
    `memory: fleet RSS ${f1.rssMiB.toFixed(0)} MiB (peak ${f1.hwmMiB.toFixed(0)}) = ${((f1.rssMiB * 1024) / count).toFixed(0)} KiB per device; ` +
      `growth from the first sample (${firstRss.devices} devices, ${firstRss.rss.toFixed(0)} MiB): ` +
      `${(((f1.rssMiB - firstRss.rss) * 1024) / Math.max(1, count - firstRss.devices)).toFixed(0)} KiB per device added; ` +
      `V8 heap in use ${window.at(-1)?.heapUsedMiB ?? NaN} MiB = ${(((window.at(-1)?.heapUsedMiB ?? NaN) * 1024) / count).toFixed(0)} KiB per device; ` +
      `controller RSS ${c1.rssMiB.toFixed(0)} MiB`,
  );
  db.close();
} finally {
  for (const c of children.reverse()) {
    if (c.exitCode === null) {
      c.kill('SIGTERM');
      await new Promise((resolve) => c.once('exit', resolve));
    }
  }
  await rm(dir, { recursive: true, force: true });
  console.log(`after: ${host()}`);
}

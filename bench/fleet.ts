/**
 * Benchmark of `edgesim fleet` (issue 12 §4): the embedded controller and the fleet run as separate processes on
 * loopback, in two phases over one state file.
 *   1. Onboarding at EVE's own cadence (time scale 1): fleet start → every device has a ZInfoDevice stored at the
 *      controller (devices/s), the CPU each process spent per onboarded device over that window (load-insensitive:
 *      2 cores / the sum is the rate ceiling), and the requests per device by endpoint.
 *   2. Steady state: the fleet is stopped and started again on the same state file at time scale K (every device
 *      resumes with its UUID and keys; how fast is printed), then a window of W real seconds = K·W simulated:
 *      CPU per 1,000 devices of both processes at EVE's default cadence, queue depth over the window (it must not
 *      grow), p50/p99 per endpoint, what the controller ingested per second, RSS per device.
 * Printed with the load average and a host speed probe before and after. Bounded in count and time; loopback only.
 * Knobs: `--count N` (default 500: what onboards within a minute on the shared 2-core machine; `--count 10000` on a
 * quiet one), EDGESIM_BENCH_FLEET_RAMP (devices/s, 1000), EDGESIM_BENCH_FLEET_TIME_SCALE (steady phase, 5: at
 * 10,000 devices that is 50,000 devices' worth of EVE's cadence, which 2 cores carry; at 10 the two processes
 * saturate them and the queue grows), EDGESIM_BENCH_FLEET_STEADY_S (real seconds, 120 = the 10 simulated minutes of
 * §4 at 5), EDGESIM_BENCH_FLEET_ARGS (more
 * `fleet run` flags for both phases, e.g. `--config-interval 600 --metric-interval 600 --max-in-flight 128` for a
 * reduced cadence at 100,000 devices), EDGESIM_BENCH_FLEET_CPU_PROF=DIR (both processes write `node --cpu-prof`
 * profiles there when they stop), EDGESIM_BENCH_FLEET_ONBOARD_ONLY=1 (phase 1 only).
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
// Compiled: through the installed command's entry, so its process defaults (bin/process-defaults.cjs) apply.
const cli = compiled ? [path.join(root, 'bin/edgesim.cjs')] : ['--import', 'tsx', path.join(root, 'src/cli/main.ts')];
const countArg = process.argv.indexOf('--count');
const count = Number(countArg > 0 ? process.argv[countArg + 1] : 500);
const ramp = Number(process.env.EDGESIM_BENCH_FLEET_RAMP ?? 1000);
const timeScale = Number(process.env.EDGESIM_BENCH_FLEET_TIME_SCALE ?? 5);
const steadyS = Number(process.env.EDGESIM_BENCH_FLEET_STEADY_S ?? 120);
/** EDGESIM_BENCH_FLEET_ONBOARD_ONLY=1: stop after phase 1 (a 100,000-device restart alone takes ~10 min here). */
const onboardOnly = process.env.EDGESIM_BENCH_FLEET_ONBOARD_ONLY === '1';
const extraArgs = (process.env.EDGESIM_BENCH_FLEET_ARGS ?? '').split(/\s+/).filter(Boolean);
/** EDGESIM_BENCH_FLEET_CPU_PROF=DIR: both processes write a V8 CPU profile there (`node --cpu-prof`) when they stop. */
const cpuProfDir = process.env.EDGESIM_BENCH_FLEET_CPU_PROF;
/** Upper bound of the onboarding (and resume) wait, whatever the speed. */
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
const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
console.log(`before: ${host()}`);
console.log(
  `fleet of ${count} devices, ramp ${ramp}/s; onboarding at time scale 1, steady state at ${timeScale} for ${steadyS} s` +
    (extraArgs.length ? `; fleet flags ${extraArgs.join(' ')}` : ''),
);
const dir = await mkdtemp(path.join(tmpdir(), 'edgesim-bench-fleet-'));
const dataDir = path.join(dir, 'ctl');
const statePath = path.join(dir, 'fleet.db');
const children: ChildProcess[] = [];
const start = (args: string[], stdout: 'ignore' | 'pipe'): ChildProcess => {
  const prof = cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', path.resolve(cpuProfDir), '--cpu-prof-name', `${args[0]}.${clock.now()}.cpuprofile`] : [];
  const c = spawn(process.execPath, [...prof, ...cli, ...args], { stdio: ['ignore', stdout, 'inherit'] });
  children.push(c);
  return c;
};
// Interrupted (Ctrl-C, `timeout`): the controller and the fleet must not outlive the bench.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    void rm(dir, { recursive: true, force: true }).finally(() => process.exit(130));
  });
}
const stop = async (c: ChildProcess): Promise<void> => {
  if (c.exitCode !== null || c.signalCode !== null) return;
  const exited = new Promise((resolve) => c.once('exit', resolve));
  c.kill('SIGTERM');
  await exited;
};

/** `fleet run` at `scale`, collecting its live view (JSON lines every second). */
function startFleet(folder: string, scale: number): { child: ChildProcess; snapshots: Snapshot[] } {
  const child = start(
    ['fleet', 'run', '--config-dir', folder, '--state', statePath, '--count', String(count), '--ramp', String(ramp),
      '--time-scale', String(scale), '--view', '1', '--output', 'json', ...extraArgs],
    'pipe',
  );
  const snapshots: Snapshot[] = [];
  let buf = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    buf += chunk;
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      snapshots.push(JSON.parse(buf.slice(0, i)) as Snapshot);
      buf = buf.slice(i + 1);
    }
  });
  return { child, snapshots };
}

/** Polls `done` every 200 ms until it is true; fails when `c` exits or the limit passes. */
async function until(what: string, c: ChildProcess, done: () => boolean): Promise<number> {
  const t0 = performance.now();
  while (!done()) {
    if (c.exitCode !== null) throw new Error(`fleet exited with ${c.exitCode} while waiting for ${what}`);
    if ((performance.now() - t0) / 1000 > ONBOARD_LIMIT_S) throw new Error(`${what}: not within ${ONBOARD_LIMIT_S} s`);
    await clock.sleepReal(200);
  }
  return (performance.now() - t0) / 1000;
}

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
  const db = new Database(path.join(dataDir, 'controller.db'), { readonly: true, fileMustExist: true });
  const withInfo = db.prepare("SELECT count(*) AS n FROM info_latest WHERE ztype = 'ZiDevice'");

  // ---- 1. onboarding at EVE's cadence ----
  const c0 = procStats(ctl.pid!);
  const t0 = performance.now();
  const onboarding = startFleet(folder, 1);
  // When each share of the fleet had its first info stored: a slow tail (not the steady rate) shows here.
  const shares = [0.1, 0.5, 0.9, 0.99, 1];
  const reachedS: number[] = [];
  const onboardedS = await until(`${count} devices with an info stored`, onboarding.child, () => {
    const n = (withInfo.get() as { n: number }).n;
    while (reachedS.length < shares.length && n >= shares[reachedS.length] * count) reachedS.push((performance.now() - t0) / 1000);
    return n >= count;
  });
  const f1 = procStats(onboarding.child.pid!);
  const c1 = procStats(ctl.pid!);
  console.log(
    `onboarding: ${count} devices from fleet start to first info stored in ${onboardedS.toFixed(1)} s = ${(count / onboardedS).toFixed(0)} devices/s ` +
      `(wall ${((performance.now() - t0) / 1000).toFixed(1)} s); ` +
      shares.map((x, i) => `${x * 100} % at ${reachedS[i]?.toFixed(1)} s`).join(', '),
  );
  const fleetMs = (f1.cpuS * 1000) / count;
  const ctlMs = ((c1.cpuS - c0.cpuS) * 1000) / count;
  console.log(
    `onboarding CPU per device (the whole window, fleet process start included): fleet ${fleetMs.toFixed(2)} ms ` +
      `(its main thread ${((f1.mainS * 1000) / count).toFixed(2)} ms), controller ${ctlMs.toFixed(2)} ms ` +
      `(main thread ${(((c1.mainS - c0.mainS) * 1000) / count).toFixed(2)} ms), ` +
      `total ${(fleetMs + ctlMs).toFixed(2)} ms → ceiling on ${availableParallelism()} cores ${((availableParallelism() * 1000) / (fleetMs + ctlMs)).toFixed(0)} devices/s`,
  );
  const fleetAdmin = new FleetAdminClient(fleetSocketPath(statePath));
  const byEndpoint = new Map<string, number>();
  for (const [k, n] of Object.entries((await fleetAdmin.status()).requests)) byEndpoint.set(k.split(' ')[0], (byEndpoint.get(k.split(' ')[0]) ?? 0) + n);
  fleetAdmin.close();
  const total = [...byEndpoint.values()].reduce((a, b) => a + b, 0);
  console.log(`requests per device: ${(total / count).toFixed(1)} (` + [...byEndpoint].sort().map(([e, n]) => `${e} ${(n / count).toFixed(2)}`).join(', ') + ')');
  console.log(
    `fleet RSS after onboarding ${f1.rssMiB.toFixed(0)} MiB = ${((f1.rssMiB * 1024) / count).toFixed(0)} KiB per device (peak ${f1.hwmMiB.toFixed(0)} MiB); ` +
      `controller RSS ${c1.rssMiB.toFixed(0)} MiB`,
  );
  await stop(onboarding.child);
  if (!onboardOnly) {
    // ---- 2. restart on the same state, steady state at time scale K ----
    const t2 = performance.now();
    const steady = startFleet(folder, timeScale);
    const all = (s: Snapshot | undefined): boolean => (s?.byPhase.running ?? 0) === count && s?.onboarded === count;
    await until('every device running again', steady.child, () => all(steady.snapshots.at(-1)));
    const resumedS = (performance.now() - t2) / 1000;
    console.log(`restart: ${count} devices resumed from the state file (no registration) in ${resumedS.toFixed(1)} s = ${(count / resumedS).toFixed(0)} devices/s`);
    // Let the resume burst settle one view period, then measure the window.
    await clock.sleepReal(2000);
    const from = steady.snapshots.length;
    const s0 = procStats(steady.child.pid!);
    const k0 = procStats(ctl.pid!);
    const w0 = performance.now();
    await clock.sleepReal(steadyS * 1000);
    const s1 = procStats(steady.child.pid!);
    const k1 = procStats(ctl.pid!);
    const wall = (performance.now() - w0) / 1000;
    const window = steady.snapshots.slice(from);
    const fleetCores = (s1.cpuS - s0.cpuS) / wall;
    const ctlCores = (k1.cpuS - k0.cpuS) / wall;
    // At time scale K every device does K times EVE's default work per second: per 1,000 devices at real cadence.
    const perThousand = (cores: number): string => `${((cores / timeScale / (count / 1000)) * 1000).toFixed(1)} ms/s`;
    console.log(
      `steady (${wall.toFixed(0)} s = ${((wall * timeScale) / 60).toFixed(0)} simulated min): fleet ${(fleetCores * 100).toFixed(0)} % of a core ` +
        `(event loop ${(((s1.mainS - s0.mainS) / wall) * 100).toFixed(0)} %), controller ${(ctlCores * 100).toFixed(0)} %; ` +
        `CPU per 1,000 devices at EVE's default cadence: fleet ${perThousand(fleetCores)}, controller ${perThousand(ctlCores)}`,
    );
    const depth = window.map((s) => s.queueDepth);
    const third = Math.max(1, Math.floor(depth.length / 3));
    console.log(
      `queue depth over the window (all devices): mean of the first third ${mean(depth.slice(0, third)).toFixed(0)}, ` +
        `of the last third ${mean(depth.slice(-third)).toFixed(0)}, max ${Math.max(...depth)}`,
    );
    const endpoints = new Map<string, { rate: number; accepted: number; p50: number[]; p99: number[] }>();
    for (const s of window) {
      for (const [e, p] of Object.entries(s.requests)) {
        const x = endpoints.get(e) ?? { rate: 0, accepted: 0, p50: [], p99: [] };
        x.rate += Object.values(p.perSecond).reduce((a, b) => a + b, 0) / window.length;
        x.accepted += (p.perSecond['201'] ?? 0) / window.length;
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
    const ingest = (endpoints.get('info')?.accepted ?? 0) + (endpoints.get('metrics')?.accepted ?? 0);
    console.log(`controller ingest: ${ingest.toFixed(0)} info + metrics messages/s accepted (201)`);
    console.log(`phases at the end: ${JSON.stringify(window.at(-1)?.byPhase ?? {})}`);
    const heap = window.at(-1)?.heapUsedMiB ?? NaN;
    console.log(
      `memory: fleet RSS ${s1.rssMiB.toFixed(0)} MiB (peak ${s1.hwmMiB.toFixed(0)}) = ${((s1.rssMiB * 1024) / count).toFixed(0)} KiB per device; ` +
        `V8 heap in use ${heap} MiB = ${((heap * 1024) / count).toFixed(0)} KiB per device; controller RSS ${k1.rssMiB.toFixed(0)} MiB`,
    );
  }
  db.close();
} finally {
  for (const c of children.reverse()) await stop(c);
  await rm(dir, { recursive: true, force: true });
  console.log(`after: ${host()}`);
}

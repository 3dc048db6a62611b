/**
 * Benchmark of the embedded controller's info ingest (issue 12 §3; goal ≥ 5,000 infos/s on the 2-core machine):
 * the controller runs as its own process (`edgesim controller run`, loopback only); N devices with real P-256
 * device certs register through the device API; then signed ZInfoDevice infos (sealed beforehand, so this
 * process spends its CPU on TLS and HTTP only) are POSTed over keep-alive HTTPS at 8, 32 and 128 in flight,
 * each level bounded in time and count. Prints infos/s, p50/p99 latency, the controller's CPU and RSS, and the
 * bytes its database stores per info kept, with the load average and a host speed probe before and after.
 * Knobs: EDGESIM_BENCH_DEVICES (200), EDGESIM_BENCH_SECONDS per level (8), EDGESIM_BENCH_INFLIGHT (8,32,128),
 * EDGESIM_BENCH_CPU_PROF=<dir> (controller runs with --cpu-prof into <dir>).
 * Run: `node --import tsx bench/controller-ingest.ts` (or `node dist/bench/controller-ingest.js` after a build).
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { host, procStats, quantile as q } from './lib/host.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { ControllerAdminClient } from '../src/controller/index.js';
import { createClock } from '../src/common/index.js';
import { DeviceApiClient, registerDevices, sealedDeviceInfo } from '../test/integration/controller/signed-devices.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const compiled = here.split(path.sep).includes('dist');
const root = compiled ? path.resolve(here, '../..') : path.resolve(here, '..');
// Compiled: through the installed command's entry, so its process defaults (bin/process-defaults.cjs) apply.
const cli = compiled ? [path.join(root, 'bin/edgesim.cjs')] : ['--import', 'tsx', path.join(root, 'src/cli/main.ts')];
const deviceCount = Number(process.env.EDGESIM_BENCH_DEVICES ?? 200);
const seconds = Number(process.env.EDGESIM_BENCH_SECONDS ?? 8);
const levels = (process.env.EDGESIM_BENCH_INFLIGHT ?? '8,32,128').split(',').map(Number);
const cpuProfDir = process.env.EDGESIM_BENCH_CPU_PROF;
/** Upper bound of requests per level, whatever the speed. */
const MAX_PER_LEVEL = 200_000;
const BODIES_PER_DEVICE = 4;

const clock = createClock();
console.log(`before: ${host()}`);
const dir = await mkdtemp(path.join(tmpdir(), 'edgesim-bench-ctl-'));
const dataDir = path.join(dir, 'ctl');
const nodeArgs = cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(cpuProfDir)}`] : [];
const child = spawn(process.execPath, [...nodeArgs, ...cli, 'controller', 'run', '--data-dir', dataDir, '--listen', '127.0.0.1:0', '--log-level', 'warn'], {
  stdio: ['ignore', 'ignore', 'inherit'],
});
const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
let client: DeviceApiClient | undefined;
try {
  const jsonPath = path.join(dataDir, 'controller.json');
  let ep: { deviceUrl: string; adminUrl: string } | undefined;
  // controller.json is written (atomically) once both APIs listen.
  for (let i = 0; !ep; i++) {
    if (i > 600 || child.exitCode !== null) throw new Error('controller did not start');
    try {
      if (existsSync(jsonPath)) ep = JSON.parse(readFileSync(jsonPath, 'utf8')) as { deviceUrl: string; adminUrl: string };
    } catch {
      await clock.sleepReal(100);
    }
    if (!ep) await clock.sleepReal(100);
  }
  const admin = new ControllerAdminClient(ep.adminUrl);
  client = await DeviceApiClient.open(dataDir, ep.deviceUrl, Math.max(...levels));
  const t0 = performance.now();
  const devices = await registerDevices(client, dataDir, admin, deviceCount, 'bench');
  console.log(`${deviceCount} devices registered (register + uuid) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const bodies: { path: string; body: Buffer }[] = [];
  for (let k = 0; k < BODIES_PER_DEVICE; k++) {
    for (const d of devices) {
      bodies.push({ path: `id/${d.uuid}/info`, body: await sealedDeviceInfo(d, k) });
      // Sealing 10,000 devices' bodies takes longer than the controller's keep-alive timeout: let the pool see the
      // idle sockets the controller closes, or the first requests go out on dead ones ("socket hang up").
      if (bodies.length % 500 === 0) await new Promise((r) => setImmediate(r));
    }
  }
  console.log(`ZInfoDevice request: ${bodies[0].body.length} bytes sealed`);

  let sent = 0;
  for (const inflight of levels) {
    const before = procStats(child.pid!);
    const latencies: number[] = [];
    let failures = 0;
    const start = performance.now();
    const deadline = start + seconds * 1000;
    let issued = 0;
    const worker = async (): Promise<void> => {
      while (performance.now() < deadline && issued < MAX_PER_LEVEL) {
        const b = bodies[(sent + issued++) % bodies.length];
        const t = performance.now();
        const status = await client!.post(b.path, b.body).then((r) => r.status, () => 0);
        latencies.push(performance.now() - t);
        if (status !== 201) failures++;
      }
    };
    await Promise.all(Array.from({ length: inflight }, worker));
    const elapsed = (performance.now() - start) / 1000;
    sent += issued;
    const after = procStats(child.pid!);
    latencies.sort((a, b) => a - b);
    const cpu = (after.cpuS - before.cpuS) / elapsed;
    console.log(
      `${String(inflight).padStart(3)} in flight: ${(latencies.length / elapsed).toFixed(0)} infos/s over ${elapsed.toFixed(1)} s ` +
        `(${latencies.length} sent, ${failures} not 201 or failed); latency p50 ${q(latencies, 0.5).toFixed(1)} ms, p99 ${q(latencies, 0.99).toFixed(1)} ms; ` +
        `controller CPU ${(cpu * 100).toFixed(0)} % of a core (${((after.cpuS - before.cpuS) * 1e6 / Math.max(1, latencies.length)).toFixed(0)} µs/info, ` +
        `event loop ${((after.mainS - before.mainS) * 1e6 / Math.max(1, latencies.length)).toFixed(0)} µs/info), ` +
        `RSS ${after.rssMiB.toFixed(0)} MiB (peak ${after.hwmMiB.toFixed(0)})`,
    );
  }
  client.close();
  child.kill('SIGTERM');
  await exited;
  const db = new Database(path.join(dataDir, 'controller.db'), { readonly: true });
  const kept = (db.prepare('SELECT count(*) AS n FROM info').get() as { n: number }).n;
  let infoBytes = 0;
  try {
    const rows = db.prepare("SELECT sum(pgsize) AS b FROM dbstat WHERE name = 'info' OR name LIKE 'info\\_%' ESCAPE '\\' OR name = 'sqlite_autoindex_info_1'").get() as { b: number | null };
    infoBytes = rows.b ?? 0;
  } catch {
    infoBytes = NaN; // dbstat not compiled in
  }
  db.close();
  console.log(
    `stored: ${sent} infos sent, ${kept} kept (history bound), ${(infoBytes / Math.max(1, kept)).toFixed(0)} bytes per kept info ` +
      `(info tables and indexes ${(infoBytes / 1024 / 1024).toFixed(1)} MiB)`,
  );
} finally {
  client?.close();
  if (child.exitCode === null) {
    child.kill('SIGTERM');
    await exited;
  }
  await rm(dir, { recursive: true, force: true });
  console.log(`after: ${host()}`);
}

/**
 * Benchmark of clusters inside a fleet (issue 13): one `edgesim fleet run` process (its own process, as in
 * production) with N three-node clusters (default 1000; `FLEET_CLUSTERS`), each with one PREFERRED app, against the
 * embedded controller in this process over HTTPS on loopback. Figures:
 * - time from the fleet's start until every member's latest ZInfoClusterNode at the controller says READY
 *   (onboarding, attestation, cluster apply through the admin API and formation included), and the fleet's RSS
 *   per cluster then (everything of the process divided by N: three devices' protocol cores and a cluster);
 * - `FLEET_FAILOVERS` (default min(100, N)) simultaneous failovers: the member running each app loses power at
 *   once; each failover ends when a survivor's ZInfoApp reports the app running at the controller; spec time
 *   (real × time scale) against EVE's timeline (cluster.md §10: the new pod's node starts at ~T+65 s, then "tens of
 *   seconds until Running": ≤ 95 s here), and against bench/failover.ts's 70 s goal for the full path.
 * Time scale `FLEET_TIME_SCALE` (default 1: a time-scaled fleet multiplies the steady-state work of every cluster).
 * Devices poll their config every 30 s (spec) instead of EVE's 60 s. Printed with the load average; stops by itself
 * (each phase ≤ `FLEET_BENCH_LIMIT_S`, default 55 s + 0.12 s per cluster), the fleet included.
 * `FLEET_CPU_PROF=<dir>`: the fleet runs with --cpu-prof into <dir> (written when it stops).
 * `FLEET_NODE_FLAGS` (default `--max-semi-space-size=32`): node options of the fleet process. A fleet of clusters
 * makes objects that live a second or two (requests in flight, watch events, status posts); V8's default young
 * generation (16 MB semi-spaces) promotes many of them, and the old-generation collections that follow were a
 * third of the fleet's steady CPU. `FLEET_NODE_FLAGS=` (empty) measures the default.
 * Run: `npm run build && node dist/bench/fleet-clusters.js` (smaller: `FLEET_CLUSTERS=100 node dist/bench/fleet-clusters.js`).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { FleetAdminClient, fleetSocketPath } from '../src/fleet/index.js';
import { startTestController, storedInfoJson } from '../test/helpers/controller.js';
import { startFleet, type Snapshot } from '../test/helpers/fleet.js';

const N = Number(process.env.FLEET_CLUSTERS ?? 1000);
const FAILOVERS = Math.min(N, Number(process.env.FLEET_FAILOVERS ?? 100));
const SCALE = Number(process.env.FLEET_TIME_SCALE ?? 1);
const LIMIT_MS = Number(process.env.FLEET_BENCH_LIMIT_S ?? 55 + 0.12 * N) * 1000;
/** Real seconds of steady state over which the fleet's CPU per cluster is measured, after waiting STEADY_WAIT_S past all READY (apps settle at a 2 s loop for 60 s after a change). */
const STEADY_S = Number(process.env.FLEET_STEADY_S ?? 20);
const STEADY_WAIT_S = Number(process.env.FLEET_STEADY_WAIT_S ?? 0);
const NODE_FLAGS = (process.env.FLEET_NODE_FLAGS ?? '--max-semi-space-size=32').split(' ').filter(Boolean);
/** EVE's failover timeline (cluster.md §10): detach on the new pod's node at ~T+65 s, then tens of seconds until Running. */
const EVE_FAILOVER_MS = 95_000;
/** bench/failover.ts's goal for the full path (agents, stand-ins, etcd) at time scale 1. */
const GOAL_MS = 70_000;
const PREFIX = 'bench-fc-';
const load = (): string => `load average ${loadavg().map((l) => l.toFixed(2)).join(' ')} (${availableParallelism()} cores)`;
const sec = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

const ctl = await startTestController();
const folder = await ctl.deviceFolder('bench-fleet-clusters');
await ctl.admin.addOnboard(await readFile(path.join(folder, 'onboard.cert.pem'), 'utf8'), ['*']);
const stateFile = path.join(ctl.dir, 'fleet.db');
const profile = path.join(ctl.dir, 'profile.yaml');
await writeFile(profile, `clusters:\n  - count: ${N}\n    size: 3\n    apps: [{ name: web, affinity: preferred }]\n`);
const db = (): Database.Database => new Database(path.join(ctl.dir, 'controller', 'controller.db'), { readonly: true });

/** serial → latest ZInfoClusterNode status and latest ZInfoApp, as the controller stored them. */
function controllerView(): Map<string, { uuid: string; ready: boolean; app?: { id: string; running: boolean } }> {
  const d = db();
  try {
    const rows = d
      .prepare(
        "SELECT dv.serial, dv.uuid, l.ztype, i.json, i.pb FROM info_latest l JOIN info i ON i.seq = l.seq JOIN device dv ON dv.uuid = l.device_uuid WHERE l.ztype IN ('ZiNop', 'ZiApp')",
      )
      .all() as { serial: string; uuid: string; ztype: string; json: string; pb: Buffer | null }[];
    const out = new Map<string, { uuid: string; ready: boolean; app?: { id: string; running: boolean } }>();
    for (const r of rows) {
      const v = out.get(r.serial) ?? { uuid: r.uuid, ready: false };
      const m = storedInfoJson(r) as { cluster_node?: { node_status?: string }; ainfo?: { AppID?: string; state?: string; cluster_app_running?: boolean } };
      if (r.ztype === 'ZiNop' && m.cluster_node) v.ready = m.cluster_node.node_status === 'Z_INFO_CLUSTER_NODE_STATUS_READY';
      if (r.ztype === 'ZiApp' && m.ainfo?.AppID) v.app = { id: m.ainfo.AppID, running: m.ainfo.state === 'RUNNING' && m.ainfo.cluster_app_running === true };
      out.set(r.serial, v);
    }
    return out;
  } finally {
    d.close();
  }
}

const members = (k: number): string[] => [0, 1, 2].map((i) => `${PREFIX}${k * 3 + i}`);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
/** CPU ms (user + system) the process `pid` has used so far (Linux /proc; its process.cpuUsage() seen from outside). */
async function cpuMsOf(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 (1-based, counting pid and comm), in clock ticks of 10 ms.
  return (Number(f[11]) + Number(f[12])) * 10;
}

process.stdout.write(`${N} three-node clusters (one PREFERRED app each) in one fleet process (node ${NODE_FLAGS.join(' ') || 'defaults'}), time scale ${SCALE}; ${load()}\n`);
const t0 = performance.now();
const fleet = startFleet([
  '--config-dir', folder, '--state', stateFile, '--count', String(N * 3), '--ramp', '2000', '--serial-prefix', PREFIX,
  '--profile', profile, '--controller-admin', ctl.admin.adminUrl, '--k3s-config', 'pod-start-delay=1s',
  '--time-scale', String(SCALE), '--config-interval', '30', '--info-interval', '3600', '--metric-interval', '3600',
], [...NODE_FLAGS, ...(process.env.FLEET_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(process.env.FLEET_CPU_PROF)}`] : [])]);
const lastSnap = (): Snapshot | undefined => fleet.snapshots.at(-1);
let failed = false;
try {
  let readyMs: number | undefined;
  let lastLine = 0;
  while (performance.now() - t0 < LIMIT_MS) {
    if (fleet.child.exitCode !== null) throw new Error(`the fleet exited (${fleet.child.exitCode}): ${fleet.stderr().slice(-400)}`);
    const v = controllerView();
    const ready = [...v.values()].filter((x) => x.ready).length;
    if (ready === N * 3) {
      readyMs = performance.now() - t0;
      break;
    }
    if (performance.now() - lastLine > 5_000) {
      lastLine = performance.now();
      const s = lastSnap();
      process.stdout.write(
        `  ${sec(performance.now() - t0)}: onboarded ${s?.onboarded ?? 0}/${N * 3}, clusters applied ${s?.clusters?.requested ?? 0}/${N}, members READY ${ready}/${N * 3}; ${load()}\n`,
      );
    }
    await sleep(1_000);
  }
  type Mem = Snapshot & { rssMiB?: number; heapUsedMiB?: number };
  const snap = lastSnap() as Mem | undefined;
  const base = (fleet.snapshots[0] as Mem | undefined)?.rssMiB ?? 0;
  if (readyMs === undefined) {
    const v = controllerView();
    process.stdout.write(`NOT all READY within ${sec(LIMIT_MS)}: ${[...v.values()].filter((x) => x.ready).length}/${N * 3} members READY\n`);
    failed = true;
  } else {
    process.stdout.write(
      `all ${N} clusters READY (${N * 3} members, at the controller) ${sec(readyMs)} after the fleet started (onboarding included)\n` +
        `fleet RSS ${snap?.rssMiB ?? '?'} MiB (heap ${snap?.heapUsedMiB ?? '?'} MiB), ${base} MiB at its first live-view line: ` +
        `${snap?.rssMiB ? (((snap.rssMiB - base) * 1024) / N).toFixed(0) : '?'} KiB per cluster (3 devices' protocol cores + the cluster and its app); ${load()}\n`,
    );
    // Steady state: the fleet's CPU per formed cluster (load-insensitive: CPU time, not wall time).
    const pid = fleet.child.pid!;
    await sleep(STEADY_WAIT_S * 1000);
    const c0 = await cpuMsOf(pid);
    const w0 = performance.now();
    await sleep(STEADY_S * 1000);
    const cpu = (await cpuMsOf(pid)) - c0;
    const wall = (performance.now() - w0) / 1000;
    process.stdout.write(
      `steady state over ${wall.toFixed(1)} s real (from ${STEADY_WAIT_S} s after all READY): fleet CPU ${((cpu / wall / 1000) * 100).toFixed(0)} % of a core, ` +
        `${(cpu / wall / N).toFixed(3)} CPU-ms per cluster per second (real; ×${SCALE} spec); ${load()}\n`,
    );
  }

  // Failovers: the member running each of the first FAILOVERS clusters' app loses power at once.
  const wait = await (async () => {
    const start = performance.now();
    for (;;) {
      const v = controllerView();
      const victims = Array.from({ length: FAILOVERS }, (_, k) => {
        const host = members(k).find((s) => v.get(s)?.app?.running);
        return host ? { k, serial: host, app: v.get(host)!.app!.id } : undefined;
      });
      if (victims.every((x) => x)) return victims as { k: number; serial: string; app: string }[];
      if (performance.now() - start > LIMIT_MS) throw new Error(`apps not all reported running: ${victims.filter((x) => x).length}/${FAILOVERS}`);
      await sleep(1_000);
    }
  })();
  const admin = new FleetAdminClient(fleetSocketPath(stateFile));
  try {
    const f0 = performance.now();
    await admin.injectFault({ kind: 'power-loss', fraction: 1, serials: wait.map((x) => x.serial) });
    const doneAt = new Map<number, number>();
    while (doneAt.size < wait.length && performance.now() - f0 < LIMIT_MS) {
      const v = controllerView();
      for (const x of wait) {
        if (doneAt.has(x.k)) continue;
        if (members(x.k).some((s) => s !== x.serial && v.get(s)?.app?.id === x.app && v.get(s)?.app?.running)) doneAt.set(x.k, (performance.now() - f0) * SCALE);
      }
      await sleep(250);
    }
    const spec = [...doneAt.values()].sort((a, b) => a - b);
    const within = spec.filter((ms) => ms <= EVE_FAILOVER_MS).length;
    const goal = spec.filter((ms) => ms <= GOAL_MS).length;
    const pct = (p: number): string => (spec.length ? sec(spec[Math.min(spec.length - 1, Math.floor((p / 100) * spec.length))]) : '—');
    process.stdout.write(
      `${FAILOVERS} simultaneous failovers: ${spec.length} completed (new host reporting the app running at the controller), ${FAILOVERS - spec.length} lost; ` +
        `spec time after the loss p50 ${pct(50)}, p99 ${pct(99)}, max ${spec.length ? sec(spec.at(-1)!) : '—'}; ` +
        `${within} within EVE's timeline (${sec(EVE_FAILOVER_MS)}), ${goal} within the full path's ${sec(GOAL_MS)} goal (polled every 250 ms real = ${sec(250 * SCALE)} spec); ${load()}\n`,
    );
    if (spec.length < FAILOVERS || within < FAILOVERS) failed = true;
  } finally {
    admin.close();
  }
} catch (e) {
  process.stdout.write(`bench failed: ${(e as Error).message}\n`);
  failed = true;
} finally {
  const s0 = performance.now();
  await fleet.stop();
  process.stdout.write(`fleet stopped in ${sec(performance.now() - s0)}\n`);
  await ctl.dispose();
}
process.exitCode = failed ? 1 : 0;

/**
 * Fleet-level faults through the admin API and the CLI: `fleet fault inject controller-unreachable --fraction 0.1`
 * reaches exactly 10 % of the devices, and only those stop talking to the controller; a fault with a duration
 * clears by itself; `fleet status` and `fleet devices` show it. The profile's hardware model reaches ZInfoDevice
 * and its churn reboots devices, which resume from their checkpoint.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { createClock } from '../../../src/common/index.js';
import { FleetAdminClient, fleetSocketPath } from '../../../src/fleet/index.js';
import { cliCommand } from '../../helpers/cli.js';
import { startTestController, storedInfoJson, type TestController } from '../../helpers/controller.js';
import { startFleet, type FleetProcess } from '../../helpers/fleet.js';
import { waitFor } from '../../helpers/wait.js';

const COUNT = 100;
/** From this suite's port range (18000–18999). */
const METRICS_PORT = 18471;
/** 20 devices of a 16-CPU model; about one reboot per real second across the fleet (36/h/device at time scale 10). */
const PROFILE = `
hardware:
  - fraction: 0.2
    manufacturer: Acme
    productName: EdgeBox-16
    ncpu: 16
    memoryMB: 4096
churn:
  rebootsPerHour: 3.6
`;
const clock = createClock();
const run = promisify(execFile);

/** `edgesim fleet <args>`; resolves with stdout, rejects on a non-zero exit. */
async function cli(args: string[]): Promise<string> {
  return edgesim(['fleet', ...args]);
}

/** `edgesim <args>`; resolves with stdout, rejects on a non-zero exit (with `code` and `stderr`). */
async function edgesim(args: string[]): Promise<string> {
  const [exe, pre] = cliCommand();
  return (await run(exe, [...pre, ...args])).stdout;
}

void describe('fleet faults', () => {
  let ctl: TestController;
  let fleet: FleetProcess | undefined;
  let state: string;
  let admin: FleetAdminClient;
  before(async () => {
    ctl = await startTestController();
    const folder = await ctl.deviceFolder('fleet');
    await ctl.admin.addOnboard(await readFile(path.join(folder, 'onboard.cert.pem'), 'utf8'), ['*']);
    state = path.join(ctl.dir, 'fleet.db');
    const profile = path.join(ctl.dir, 'profile.yaml');
    await writeFile(profile, PROFILE);
    fleet = startFleet(['--config-dir', folder, '--state', state, '--count', String(COUNT), '--ramp', '1000', '--time-scale', '10', '--profile', profile, '--metrics-listen', `127.0.0.1:${METRICS_PORT}`]);
    await fleet.until('all running', (s) => s.byPhase.running === COUNT);
    admin = new FleetAdminClient(fleetSocketPath(state));
  });
  after(async () => {
    admin?.close();
    await fleet?.stop();
    await ctl?.dispose();
  });

  /** serial → last_seen_at of the controller's devices. */
  const lastSeen = (): Map<string, number> => {
    const db = new Database(path.join(ctl.dir, 'controller', 'controller.db'), { readonly: true });
    try {
      const rows = db.prepare('SELECT serial, last_seen_at AS t FROM device').all() as { serial: string; t: number | null }[];
      return new Map(rows.map((r) => [r.serial, r.t ?? 0]));
    } finally {
      db.close();
    }
  };

  void it('controller-unreachable on 10 % reaches exactly those devices', async () => {
    const out = JSON.parse(await cli(['fault', 'inject', 'controller-unreachable', '--fraction', '0.1', '--state', state, '--output', 'json'])) as { serials: string[] };
    assert.equal(out.serials.length, COUNT / 10);
    const hit = new Set(out.serials);
    const status = JSON.parse(await cli(['status', '--state', state, '--output', 'json'])) as { faults: Record<string, number> };
    assert.deepEqual(status.faults, { 'controller-unreachable': COUNT / 10 });

    // Requests in flight at the injection may still land: measure from a little later.
    await clock.sleepReal(500);
    const mark = clock.now();
    const seen = await waitFor('every other device seen by the controller after the injection', () => {
      const s = lastSeen();
      return [...s].filter(([serial, t]) => !hit.has(serial) && t > mark).length === COUNT - hit.size && s;
    }, 60_000);
    // Each hit device notices at its next config poll (≤ 6 s real): wait for that, then check the controller again.
    await waitFor('every hit device sees the controller unreachable', async () =>
      (await admin.devices()).devices.filter((d) => hit.has(d.serial)).every((d) => !d.reachable), 60_000);
    const after = lastSeen();
    for (const serial of hit) assert.ok(after.get(serial)! <= mark, `${serial} still reached the controller`);
    assert.ok(seen.size === COUNT);
    const listed = await admin.devices();
    assert.equal(listed.total, COUNT);
    for (const d of listed.devices) assert.equal(d.faults.includes('controller-unreachable'), hit.has(d.serial), d.serial);
    const prom = await (await fetch(`http://127.0.0.1:${METRICS_PORT}/metrics`)).text();
    assert.match(prom, /^edgesim_fleet_faults\{kind="controller-unreachable"\} 10$/m);
    const running = Number(/^edgesim_fleet_devices\{phase="running"\} (\d+)$/m.exec(prom)?.[1]);
    assert.ok(running >= COUNT - 10 && running <= COUNT, `running devices in the metrics: ${running}`); // churn reboots a few
    assert.match(prom, /^edgesim_fleet_requests_total\{endpoint="config",status="404"\} \d+$/m);
    assert.ok(!/serial|edgesim-fleet-\d/.test(prom), 'a per-device series in the metrics');
    assert.equal(await admin.clearFault('controller-unreachable'), COUNT / 10);
  });

  void it('a fault with a duration clears by itself; bad requests are refused naming the cause', async () => {
    const serials = await admin.injectFault({ kind: 'controller-delay', fraction: 0.5, value: 10, durationMs: 20_000, serials: [] });
    assert.equal(serials.length, COUNT / 2);
    assert.equal((await admin.status()).faults['controller-delay'], COUNT / 2);
    await waitFor('the delay fault cleared (20 s spec = 2 s)', async () => Object.keys((await admin.status()).faults).length === 0, 30_000);
    await assert.rejects(admin.injectFault({ kind: 'disk-full', fraction: 0.1, serials: [] }), { kind: 'INVALID_ARGUMENT', message: /"disk-full" is not one of/ });
    await assert.rejects(admin.injectFault({ kind: 'controller-5xx', fraction: 1.5, serials: [] }), { kind: 'INVALID_ARGUMENT', message: /fraction must be in/ });
    await assert.rejects(admin.device('nope'), { kind: 'NOT_FOUND' });
    const one = await admin.device('edgesim-fleet-7');
    assert.equal(one.phase, 'running');
    assert.match(one.uuid, /^[0-9a-f-]{36}$/);
  });

  void it('`edgesim ctl fleet status|devices|device` answer as `edgesim fleet` does', async () => {
    type View = { serial: string; uuid: string; hardware?: string };
    const pick = (d: View): View => ({ serial: d.serial, uuid: d.uuid, ...(d.hardware ? { hardware: d.hardware } : {}) });
    const viaFleet = JSON.parse(await cli(['device', 'edgesim-fleet-7', '--state', state, '--output', 'json'])) as View;
    const viaCtl = JSON.parse(await edgesim(['ctl', 'fleet', 'device', 'edgesim-fleet-7', '--state', state, '--output', 'json'])) as View;
    assert.match(viaCtl.uuid, /^[0-9a-f-]{36}$/);
    assert.deepEqual(pick(viaCtl), pick(viaFleet));
    // ctl's own flags work too: --socket for the fleet's admin socket, --output before the verb.
    const viaSocket = JSON.parse(await edgesim(['ctl', '--socket', fleetSocketPath(state), '--output', 'json', 'fleet', 'device', 'edgesim-fleet-7'])) as View;
    assert.deepEqual(pick(viaSocket), pick(viaFleet));

    type Page = { total: number; devices: View[] };
    const page = (o: Page): { total: number; serials: string[] } => ({ total: o.total, serials: o.devices.map((d) => d.serial) });
    const args = ['--state', state, '--offset', '10', '--limit', '5', '--output', 'json'];
    const ctlPage = page(JSON.parse(await edgesim(['ctl', 'fleet', 'devices', ...args])) as Page);
    assert.deepEqual(ctlPage, page(JSON.parse(await cli(['devices', ...args])) as Page));
    assert.deepEqual(ctlPage, { total: COUNT, serials: [10, 11, 12, 13, 14].map((i) => `edgesim-fleet-${i}`) });

    type Status = { state: string; shard: string; devices: number; onboarded: number };
    const status = JSON.parse(await edgesim(['ctl', 'fleet', 'status', '--state', state, '--output', 'json'])) as Status;
    assert.deepEqual([status.state, status.shard, status.devices, status.onboarded], ['running', '0/1', COUNT, COUNT]);
    assert.match(await edgesim(['ctl', 'fleet', 'status', '--state', state]), new RegExp(`^fleet running, shard 0/1, ${COUNT} devices \\(${COUNT} onboarded\\)`));
    await assert.rejects(edgesim(['ctl', 'fleet', 'device', 'nope', '--state', state]), (e: { code?: number; stderr?: string }) =>
      e.code === 2 && /^edgesim ctl fleet device: .*nope/.test(e.stderr ?? ''));
  });

  void it('the profile: 20 % report the 16-CPU model, churn reboots devices and they come back', async () => {
    const onboardings = (r: Record<string, number>): number =>
      Object.entries(r).filter(([k]) => k.startsWith('register ') || k.startsWith('uuid ')).reduce((n, [, v]) => n + v, 0);
    const before = await admin.status();
    const db = new Database(path.join(ctl.dir, 'controller', 'controller.db'), { readonly: true });
    try {
      const rows = db
        .prepare("SELECT i.json, i.pb FROM info i JOIN info_latest l ON l.seq = i.seq WHERE l.ztype = 'ZiDevice'")
        .all() as { json: string; pb: Buffer | null }[];
      const ncpus = rows.map((r) => (storedInfoJson(r) as { dinfo: { ncpu: number; memory: number } }).dinfo);
      assert.equal(ncpus.length, COUNT);
      assert.equal(ncpus.filter((d) => d.ncpu === 16 && Number(d.memory) === 4096).length, COUNT / 5);
    } finally {
      db.close();
    }
    assert.equal((await admin.devices()).devices.filter((d) => d.hardware === 'Acme EdgeBox-16').length, COUNT / 5);
    const s = await waitFor('devices rebooted and running again', async () => {
      const st = await admin.status();
      return st.restarts >= before.restarts + 2 && st.byPhase.running === COUNT && st;
    }, 45_000);
    assert.equal(onboardings(s.requests), onboardings(before.requests), 'a rebooted device onboarded again');
  });
});

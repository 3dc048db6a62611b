/**
 * `edgesim fleet run` against the embedded controller over HTTPS on loopback, the fleet in its own process:
 * 300 devices onboard and report; after SIGKILL and a restart every device resumes with the same UUID and keys
 * and nothing registers again; a controller restart loses no queued info.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import Database from 'better-sqlite3';
import { createClock } from '../../../src/common/index.js';
import { startTestController, type TestController } from '../../helpers/controller.js';
import { controllerDevices, startFleet, stateKeys, stateUuids, type FleetProcess } from '../../helpers/fleet.js';
import { waitFor } from '../../helpers/wait.js';

const COUNT = 300;
const clock = createClock();

void describe('fleet: 300 devices against the embedded controller', () => {
  let ctl: TestController;
  let folder: string;
  let stateFile: string;
  let fleet: FleetProcess | undefined;
  const args = (): string[] => [
    '--config-dir', folder, '--state', stateFile, '--count', String(COUNT), '--ramp', '1000',
    // Heartbeats every 6 s real; config polls and metrics rarer: the machine runs other tests too.
    '--time-scale', '10', '--info-interval', '60', '--config-interval', '300', '--metric-interval', '600', '--serial-prefix', 'it-fleet-',
  ];
  const ctlDir = (): string => path.join(ctl.dir, 'controller');

  before(async () => {
    ctl = await startTestController();
    folder = await ctl.deviceFolder('fleet');
    await ctl.admin.addOnboard(await readFile(path.join(folder, 'onboard.cert.pem'), 'utf8'), ['*']);
    stateFile = path.join(ctl.dir, 'fleet.db');
  });
  after(async () => {
    if (fleet?.child.exitCode === null) fleet.child.kill('SIGKILL');
    await ctl?.dispose();
  });

  void it('onboards every device, each reports ZInfoDevice, none is left queued', async () => {
    fleet = startFleet(args());
    await fleet.until('all running, queues empty', (s) => s.byPhase.running === COUNT && s.onboarded === COUNT && s.queueDepth === 0);
    const devices = await waitFor('every device has an info stored', () => {
      const d = controllerDevices(ctlDir());
      return [...d.values()].filter((x) => x.infoTypes > 0).length === COUNT && d;
    });
    assert.equal(devices.size, COUNT);
    assert.equal(stateUuids(stateFile).size, COUNT);
    for (const [serial, { uuid }] of devices) assert.equal(stateUuids(stateFile).get(serial), uuid);
  });

  void it('after kill -9 every device resumes with its UUID and keys and registers nothing', async () => {
    const uuids = stateUuids(stateFile);
    const keys = stateKeys(stateFile);
    assert.equal(keys.size, COUNT * 3);
    fleet!.child.kill('SIGKILL');
    await fleet!.exited;

    fleet = startFleet(args());
    await fleet.until('all running again', (s) => s.byPhase.running === COUNT && s.queueDepth === 0);
    const seen = fleet.endpointsSeen();
    assert.ok(!seen.has('register') && !seen.has('uuid'), `the restarted fleet onboarded again: ${[...seen].join(', ')}`);
    assert.ok(seen.has('attest') && seen.has('config'), `the restarted fleet did not run: ${[...seen].join(', ')}`);
    assert.deepEqual(stateUuids(stateFile), uuids);
    assert.deepEqual(stateKeys(stateFile), keys);
    assert.equal(controllerDevices(ctlDir()).size, COUNT, 'the controller registered new devices');
  });

  void it('a controller restart loses nothing: what was queued while it was down arrives', async () => {
    await ctl.stop();
    const downAt = clock.now();
    await fleet!.until('infos queue up while the controller is down', (s) => s.queueDepth > COUNT / 2);
    await ctl.restart();
    await fleet!.until('queues drained after the restart', (s) => s.queueDepth === 0 && s.byPhase.running === COUNT, 90_000);
    const db = new Database(path.join(ctlDir(), 'controller.db'), { readonly: true });
    try {
      const { n } = db.prepare("SELECT count(DISTINCT device_uuid) AS n FROM info WHERE ztype = 'ZiDevice' AND received_at > ?").get(downAt) as { n: number };
      assert.equal(n, COUNT, 'every device delivered the ZInfoDevice queued during the outage');
    } finally {
      db.close();
    }
    assert.equal(await fleet!.stop(), 0, `fleet exit: ${fleet!.stderr().slice(-400)}`);
  });
});

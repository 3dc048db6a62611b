/**
 * The controller's info ingest at scale, over real HTTPS on loopback with devices that registered through the
 * device API (real P-256 device certs): an info is acknowledged (201) only once committed, so killing the
 * controller with SIGKILL in the middle of a stream of infos loses none that were acknowledged; and the device
 * API refuses a request for another device's UUID (403) and a POST that is not application/x-proto-binary (415).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import Database from 'better-sqlite3';
import path from 'node:path';
import { ControllerAdminClient, ControllerServer } from '../../../src/controller/index.js';
import { config, encode, metrics, sealDeviceRequest } from '../../../src/eve/index.js';
import { startControllerProcess } from '../../helpers/controller.js';
import { DeviceApiClient, registerDevices, sealedDeviceInfo, type SignedDevice } from './signed-devices.js';

void describe('controller ingest: acknowledged infos survive kill -9', () => {
  let dir: string;
  let child: ChildProcess | undefined;
  after(async () => {
    child?.kill('SIGKILL');
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  void it('every info answered 201 before the kill is stored after the restart', async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'edgesim-ctl-ingest-'));
    const dataDir = path.join(dir, 'ctl');
    let ctl = await startControllerProcess(dataDir, { args: ['--info-history', '1000'] });
    child = ctl.child;
    const client = await DeviceApiClient.open(dataDir, ctl.deviceUrl, 32);
    const devices = await registerDevices(client, dataDir, new ControllerAdminClient(ctl.adminUrl), 12, 'ingest');
    const perDevice = 20;
    const jobs: { d: SignedDevice; seq: number; body: Buffer }[] = [];
    for (let seq = 0; seq < perDevice; seq++) for (const d of devices) jobs.push({ d, seq, body: await sealedDeviceInfo(d, seq) });

    // 32 in flight; SIGKILL once 80 are acknowledged, while the rest are still streaming.
    const acked: string[] = [];
    let next = 0;
    let killed = false;
    const worker = async (): Promise<void> => {
      for (let j = next++; j < jobs.length && !killed; j = next++) {
        const { d, seq, body } = jobs[j];
        const r = await client.post(`id/${d.uuid}/info`, body).catch(() => undefined);
        if (r?.status === 201 && !killed) acked.push(`${d.serial}-${seq}`);
        if (acked.length >= 80 && !killed) {
          killed = true;
          ctl.child.kill('SIGKILL');
        }
      }
    };
    await Promise.all(Array.from({ length: 32 }, worker));
    client.close();
    assert.ok(killed, `the controller was killed (acknowledged ${acked.length})`);
    await new Promise((resolve) => (ctl.child.exitCode !== null || ctl.child.signalCode !== null ? resolve(null) : ctl.child.once('exit', resolve)));

    ctl = await startControllerProcess(dataDir, { args: ['--info-history', '1000'] });
    child = ctl.child;
    const admin = new ControllerAdminClient(ctl.adminUrl);
    const stored = new Set<string>();
    for (const d of devices) {
      for (const item of await admin.info(d.uuid, { types: ['ZiDevice'] })) {
        stored.add((item.info as { dinfo: { HostName: string } }).dinfo.HostName);
      }
    }
    const lost = acked.filter((k) => !stored.has(k));
    assert.deepEqual(lost, [], `${lost.length} of ${acked.length} acknowledged infos lost`);
    child.kill('SIGTERM');
  });
});

void describe('controller device API: acknowledge after commit, refusals', () => {
  let dir: string;
  let server: ControllerServer;
  let client: DeviceApiClient;
  let admin: ControllerAdminClient;
  let a: SignedDevice;
  let b: SignedDevice;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'edgesim-ctl-refuse-'));
    server = await ControllerServer.create({ dataDir: dir, listen: '127.0.0.1:0', adminListen: '127.0.0.1:0' });
    admin = new ControllerAdminClient(server.endpoints().adminUrl);
    client = await DeviceApiClient.open(dir, server.endpoints().deviceUrl, 4);
    [a, b] = await registerDevices(client, dir, admin, 2, 'refuse');
  });
  after(async () => {
    client?.close();
    await server?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  void it('answers an info 201 only when its commit succeeded (a failed commit is a 5xx the device retries)', async () => {
    // A second connection makes every insert into info fail, as a full disk would.
    const db = new Database(path.join(dir, 'controller.db'));
    db.exec("CREATE TRIGGER refuse_info BEFORE INSERT ON info BEGIN SELECT RAISE(ABORT, 'no space (test)'); END");
    try {
      const r = await client.post(`id/${b.uuid}/info`, await sealedDeviceInfo(b, 0));
      assert.equal(r.status, 500);
    } finally {
      db.exec('DROP TRIGGER refuse_info');
      db.close();
    }
    assert.equal((await admin.info(b.uuid)).length, 0);
    assert.equal((await client.post(`id/${b.uuid}/info`, await sealedDeviceInfo(b, 0))).status, 201);
    assert.equal((await admin.info(b.uuid)).length, 1);
  });

  void it("403 for an info, metrics, config or attest request naming another device's UUID; nothing stored", async () => {
    const infoBody = await sealedDeviceInfo(a, 1);
    const metricsBody = await sealDeviceRequest(encode(metrics.ZMetricMsg, { devID: a.uuid }), { signer: a.signer, senderCertPem: a.certPem });
    const configBody = await sealDeviceRequest(encode(config.ConfigRequest, {}), { signer: a.signer, senderCertPem: a.certPem });
    for (const [action, body] of [['info', infoBody], ['metrics', metricsBody], ['config', configBody], ['attest', configBody]] as const) {
      for (const other of [b.uuid, b.uuid.toUpperCase(), '00000000-0000-0000-0000-000000000000', 'not-a-uuid']) {
        const r = await client.post(`id/${other}/${action}`, body);
        assert.equal(r.status, 403, `${action} as ${other}`);
      }
    }
    assert.equal((await admin.info(a.uuid)).length, 0);
    assert.equal((await admin.info(b.uuid)).length, 1, 'only the one from the test before');
    assert.equal(await admin.metrics(a.uuid), null);
    assert.equal(await admin.metrics(b.uuid), null);
    // Its own UUID, in either case, and the UUID-less path are accepted.
    assert.equal((await client.post(`id/${a.uuid}/info`, infoBody)).status, 201);
    assert.equal((await client.post(`id/${a.uuid.toUpperCase()}/metrics`, metricsBody)).status, 201);
    assert.equal((await client.post('info', infoBody)).status, 201);
    assert.equal((await admin.info(a.uuid)).length, 2);
  });

  void it('401 for a wrong signature or another key claiming the cert, also once the sender and its key are cached', async () => {
    const before = (await admin.info(a.uuid)).length;
    for (let round = 0; round < 2; round++) {
      // The first round fills the sender cache with a good request; every round then tries the bad ones.
      assert.equal((await client.post(`id/${a.uuid}/info`, await sealedDeviceInfo(a, 10 + round))).status, 201);
      const flipped = Buffer.from(await sealedDeviceInfo(a, 20 + round));
      flipped[flipped.length - 1] ^= 0x01; // the last field is the signature
      assert.equal((await client.post(`id/${a.uuid}/info`, flipped)).status, 401, `flipped signature, round ${round}`);
      const otherKey = await sealedDeviceInfo({ ...a, signer: b.signer }, 30 + round);
      assert.equal((await client.post(`id/${a.uuid}/info`, otherKey)).status, 401, `b's key with a's cert, round ${round}`);
    }
    assert.equal((await admin.info(a.uuid)).length, before + 2, 'only the two good infos stored');
  });

  void it('415 for a POST that is not application/x-proto-binary; nothing stored', async () => {
    const body = await sealedDeviceInfo(a, 2);
    const before = (await admin.info(a.uuid)).length;
    for (const ct of [null, 'text/plain', 'application/json', 'application/x-protobuf', 'application/x-proto-binary-x']) {
      for (const action of [`id/${a.uuid}/info`, 'register', 'uuid', `id/${a.uuid}/config`]) {
        const r = await client.post(action, body, ct);
        assert.equal(r.status, 415, `${action} with ${ct ?? 'no Content-Type'}`);
      }
    }
    assert.equal((await admin.info(a.uuid)).length, before);
    // Case and parameters do not matter (RFC 9110 media types).
    assert.equal((await client.post(`id/${a.uuid}/info`, body, 'Application/X-Proto-Binary; charset=binary')).status, 201);
    // GET endpoints carry no body and no type.
    assert.equal((await client.post('certs')).status, 200);
  });
});

/**
 * The controller CLI end to end: `edgesim controller` runs as a child process on 127.0.0.1, the admin verbs
 * are spawned against its data dir, and device traffic is the vector requests over real HTTPS. Covers the
 * device config folder, onboarding, devices, config set/get, info (table, JSON, --follow), cluster apply
 * (token decrypts with the device's ECDH key) and a clean SIGTERM stop.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import https from 'node:https';
import { access, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import YAML from 'yaml';
import { cliCommand, vectorsDir } from '../../helpers/cli.js';
import { waitFor } from '../../helpers/wait.js';
import { ControllerAdminClient } from '../../../src/controller/index.js';
import {
  authContainerPayload,
  common,
  config,
  decryptCipherBlock,
  loadPrivateKeyPem,
  parseAuthContainer,
  softEcdh,
  verifyControllerCerts,
  deviceZCertHash,
} from '../../../src/eve/index.js';

const run = promisify(execFile);
const [node, baseArgs] = cliCommand();
const vec = (p: string): Promise<Buffer> => readFile(path.join(vectorsDir, p));

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

void describe('edgesim controller CLI', () => {
  let dir: string;
  let dataDir: string;
  let ctl: ChildProcess | undefined;
  let deviceUrl: string;
  let rootCa: Buffer;
  let ctlExit: Promise<number | null>;

  const cli = async (...args: string[]): Promise<CliResult> => {
    try {
      const r = await run(node, [...baseArgs, 'controller', ...args, '--data-dir', dataDir], { timeout: 120_000 });
      return { code: 0, stdout: r.stdout, stderr: r.stderr };
    } catch (e) {
      const x = e as { code?: number; stdout?: string; stderr?: string };
      return { code: typeof x.code === 'number' ? x.code : -1, stdout: x.stdout ?? '', stderr: x.stderr ?? '' };
    }
  };
  const post = (action: string, body: Buffer): Promise<{ status: number; body: Buffer }> =>
    new Promise((resolve, reject) => {
      const req = https.request(new URL(`/api/v2/edgedevice/${action}`, deviceUrl), { method: body.length ? 'POST' : 'GET', ca: rootCa, agent: false, headers: body.length ? { 'Content-Type': 'application/x-proto-binary' } : {} }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      });
      req.on('error', reject);
      req.end(body.length ? body : undefined);
    });

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'edgesim-ctl-cli-'));
    dataDir = path.join(dir, 'ctl');
    ctl = spawn(node, [...baseArgs, 'controller', '--data-dir', dataDir, '--listen', '127.0.0.1:0', '--log-level', 'warn'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    ctlExit = new Promise((r) => ctl!.once('exit', (code) => r(code)));
    const ep = await waitFor('controller.json', async () => {
      try {
        return JSON.parse(await readFile(path.join(dataDir, 'controller.json'), 'utf8')) as { deviceUrl: string; server: string };
      } catch {
        return undefined;
      }
    }, 30_000);
    deviceUrl = ep.deviceUrl;
  });
  after(async () => {
    if (ctl && ctl.exitCode === null) {
      ctl.kill('SIGKILL');
      await ctlExit;
    }
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  void it('device-config writes a ready-to-use folder (key 0600) and registers the serial', async () => {
    const out = path.join(dir, 'node1');
    const r = await cli('device-config', '--out', out, '--serial', 'SIM-0001');
    assert.equal(r.code, 0, r.stderr);
    const ep = JSON.parse(await readFile(path.join(dataDir, 'controller.json'), 'utf8')) as { server: string };
    assert.equal((await readFile(path.join(out, 'server'), 'utf8')).trim(), ep.server);
    assert.equal((await readFile(path.join(out, 'soft_serial'), 'utf8')).trim(), 'SIM-0001');
    assert.equal((await stat(path.join(out, 'onboard.key.pem'))).mode & 0o777, 0o600);
    rootCa = await readFile(path.join(out, 'root-certificate.pem'));
    assert.deepEqual(rootCa, await readFile(path.join(dataDir, 'certs/root-certificate.pem')));
    const onboard = await (await ControllerAdminClient.fromDataDir(dataDir)).listOnboard();
    assert.deepEqual(onboard.map((o) => o.serials), [['SIM-0001']]);
  });

  void it('onboard add, devices, config set/get, info and info --follow', async () => {
    const onboardPem = path.join(vectorsDir, 'certs/onboard.pem');
    const add = await cli('onboard', 'add', '--cert', onboardPem, '--serial', 'SIM-0002');
    assert.equal(add.code, 0, add.stderr);
    assert.equal((await post('register', await vec('device-requests/register.authcontainer.bin'))).status, 201);

    const devs = JSON.parse((await cli('devices', '--output', 'json')).stdout) as { uuid: string; serial: string }[];
    assert.equal(devs.length, 1);
    const uuid = devs[0].uuid;

    const cfgFile = path.join(dir, 'node2.yaml');
    await writeFile(cfgFile, YAML.stringify(JSON.parse((await vec('config/edgedevconfig.json')).toString())));
    const set = await cli('config', 'set', 'SIM-0002', '-f', cfgFile);
    assert.equal(set.code, 0, set.stderr);
    assert.match(set.stdout, new RegExp(`device ${uuid} config v1 hash \\S+`));
    const typo = path.join(dir, 'typo.json');
    await writeFile(typo, JSON.stringify({ device_nmae: 'x' }));
    const bad = await cli('config', 'set', uuid, '-f', typo);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /unknown field "device_nmae"/);
    const got = JSON.parse((await cli('config', 'get', 'edge-node-2')).stdout) as { version: number; config: { id: { uuid: string; version: string } } };
    assert.equal(got.version, 1);
    assert.deepEqual(got.config.id, { uuid, version: '1' });

    // Follow first, then send: the streamed line proves the live path.
    const follow = spawn(node, [...baseArgs, 'controller', 'info', uuid, '--follow', '--output', 'json', '--type', 'ZiApp', '--data-dir', dataDir], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const followExit = new Promise((r) => follow.once('exit', r));
    try {
      let streamed = '';
      follow.stdout.on('data', (c: Buffer) => (streamed += c.toString()));
      await new Promise((r) => setTimeout(r, 1500));
      assert.equal((await post(`id/${uuid}/info`, await vec('device-requests/info-kube-cluster.authcontainer.bin'))).status, 201);
      assert.equal((await post(`id/${uuid}/info`, await vec('device-requests/info-app.authcontainer.bin'))).status, 201);
      const line = await waitFor('a followed info line', () => streamed.split('\n').find((l) => l.trim()), 15_000);
      const item = JSON.parse(line) as { ztype: string; deviceUuid: string };
      assert.equal(item.ztype, 'ZiApp');
      assert.equal(item.deviceUuid, uuid);
    } finally {
      follow.kill('SIGTERM');
      await followExit;
    }
    const infoTable = await cli('info', uuid);
    assert.match(infoTable.stdout, /^SEQ\s+RECEIVED\s+TYPE\s+CONTENT/m);
    assert.match(infoTable.stdout, /ZiKubeCluster/);
    const jsonLines = (await cli('info', uuid, '--output', 'json')).stdout.trim().split('\n');
    assert.deepEqual(jsonLines.map((l) => (JSON.parse(l) as { ztype: string }).ztype), ['ZiKubeCluster', 'ZiApp']);
  });

  void it('devices --summary, --search, --limit, --offset; controller.json names the dashboard', async () => {
    const ep = JSON.parse(await readFile(path.join(dataDir, 'controller.json'), 'utf8')) as { adminUrl: string; uiUrl?: string };
    assert.equal(ep.uiUrl, `${ep.adminUrl}/ui/`);
    const summary = await cli('devices', '--summary');
    assert.equal(summary.code, 0, summary.stderr);
    assert.match(summary.stdout, /^1 devices$/m);
    assert.match(summary.stdout, /^onboarding\s+1$/m);
    assert.match(summary.stdout, /^< 10 s\s+1$/m, 'seen just now (the info posts)');
    const page = JSON.parse((await cli('devices', '--search', 'sim-00', '--limit', '5', '--output', 'json')).stdout) as {
      total: number;
      limit: number;
      rows: { serial: string; phase: string }[];
    };
    assert.deepEqual([page.total, page.limit, page.rows.map((r) => [r.serial, r.phase])], [1, 5, [['SIM-0002', 'onboarding']]]);
    const table = await cli('devices', '--offset', '0');
    assert.match(table.stdout, /^SERIAL\s+NAME\s+UUID\s+MODEL\s+PHASE/m);
    assert.match(table.stdout, /^1-1 of 1$/m);
    assert.match((await cli('devices', '--search', 'nothing-like-it')).stdout, /^no devices$/m);
    const badLimit = await cli('devices', '--limit', '0');
    assert.notEqual(badLimit.code, 0);
    assert.match(badLimit.stderr, /limit: must be an integer from 1 to 500, got "0"/);
    const badOffset = await cli('devices', '--offset', 'x');
    assert.notEqual(badOffset.code, 0);
    assert.match(badOffset.stderr, /--offset "x" is not a whole number/);
  });

  void it('cluster apply builds an EdgeNodeCluster whose token decrypts with the device ECDH key', async () => {
    const admin = await ControllerAdminClient.fromDataDir(dataDir);
    const uuid = (await admin.devices())[0].uuid;
    const spec = { name: 'demo', interface: 'ethernet1', prefix: '10.244.244.0/24', members: [{ device: 'SIM-0002', name: 'edge-node-2' }] };
    const file = path.join(dir, 'cluster.yaml');
    await writeFile(file, YAML.stringify(spec));
    await assert.rejects(admin.applyCluster(spec), /has not published its ECDH cert/, 'refused before the device published its ECDH cert');

    assert.equal((await post(`id/${uuid}/attest`, await vec('device-requests/attest-cert.authcontainer.bin'))).status, 201);
    const r = await cli('cluster', 'apply', '-f', file, '--output', 'json');
    assert.equal(r.code, 0, r.stderr);
    const applied = JSON.parse(r.stdout) as { id: string; members: { clusterIpPrefix: string; configVersion: number }[] };
    assert.deepEqual(applied.members.map((m) => [m.clusterIpPrefix, m.configVersion]), [['10.244.244.2/24', 2]]);

    const view = await admin.getConfig(uuid);
    const cfg = config.EdgeDevConfig.fromObject(view.config);
    const cl = cfg.cluster!;
    assert.equal(cl.cluster_id, applied.id);
    assert.equal(cl.join_server_ip, '10.244.244.2');
    assert.equal(cl.cluster_type, config.ClusterType.CLUSTER_TYPE_REPLICATED_STORAGE);
    assert.equal(cfg.device_name, 'edge-node-2');
    assert.equal(cfg.apps.length, 2, 'the rest of the config is kept');

    const certsReply = await post('certs', Buffer.alloc(0));
    const zc = verifyControllerCerts(authContainerPayload(parseAuthContainer(certsReply.body)), { rootCaPem: rootCa, nowMs: Date.now() });
    const ecdhPem = await vec('certs/device-ecdh.pem');
    const block = await decryptCipherBlock(cl.encrypted_cluster_token!, cfg.cipherContexts, {
      ecdhKey: softEcdh(loadPrivateKeyPem(await vec('certs/device-ecdh.key.pem'))),
      controllerCertsByHashHex: zc.certsByHashHex,
      deviceCertsByHashHex: new Map([[deviceZCertHash(ecdhPem).toString('hex'), ecdhPem]]),
    });
    assert.match(block.cluster_token, /^[0-9a-f]{64}$/);
    assert.equal(cfg.cipherContexts[0].keyExchangeScheme, common.KeyExchangeScheme.KEA_ECDH);

    // Re-applying keeps the token and bumps the version.
    const again = await admin.applyCluster(spec);
    assert.equal(again.id, applied.id);
    assert.equal(again.members[0].configVersion, 3);
  });

  void it('stops cleanly on SIGTERM and removes controller.json', async () => {
    ctl!.kill('SIGTERM');
    assert.equal(await ctlExit, 0);
    await assert.rejects(access(path.join(dataDir, 'controller.json')));
    // Admin verbs fail clearly once the controller is gone.
    const r = await cli('devices');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /no running controller/);
  });
});

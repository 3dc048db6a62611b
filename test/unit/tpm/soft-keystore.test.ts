import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, verify, X509Certificate } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createClock, silentLogger } from '../../../src/common/index.js';
import { certPublicKeyPoint } from '../../../src/eve/index.js';
import { isTpmError, openKeyStore, softKeyPath } from '../../../src/tpm/index.js';
import { vectorsDir } from '../../helpers/cli.js';

let dir = '';
const clock = createClock();
const open = () => openKeyStore({ spec: 'soft', stateDir: dir, logger: silentLogger, clock });

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'edgesim-soft-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

void test('before provisioning, keys are missing with a clear error', async () => {
  const store = await open();
  await assert.rejects(store.deviceSigner.signDigest(Buffer.alloc(32)), (e) => isTpmError(e) && e.kind === 'HANDLE_MISSING');
  const info = await store.info();
  assert.deepEqual(info.objects.map((o) => o.present), [false, false, false]);
  await store.close();
});

void test('provision creates 0600 keys in a 0700 dir, is idempotent, and keeps an existing ECDH key', async () => {
  // An ECDH key placed beforehand (the vector's) is kept: provisioning never replaces objects.
  await mkdir(path.join(dir, 'keys'), { recursive: true, mode: 0o700 });
  await copyFile(path.join(vectorsDir, 'certs/device-ecdh.key.pem'), softKeyPath(dir, 'ecdh'));
  const store = await open();
  const first = await store.provision();
  const second = await (await open()).provision();
  assert.deepEqual(second, first);
  for (const role of ['device', 'ecdh', 'attest'] as const) {
    assert.equal((await stat(softKeyPath(dir, role))).mode & 0o777, 0o600);
  }
  assert.equal((await stat(path.join(dir, 'keys'))).mode & 0o777, 0o700);
  assert.deepEqual(await readFile(path.join(dir, 'certs/device.cert.pem')), first.deviceCertPem);
  const vectorEcdh = await readFile(path.join(vectorsDir, 'certs/device-ecdh.pem'));
  assert.deepEqual(certPublicKeyPoint(first.ecdhCertPem), certPublicKeyPoint(vectorEcdh));

  const device = new X509Certificate(first.deviceCertPem);
  assert.equal(device.subject, 'O=The Linux Foundation\nCN=EVE');
  assert.ok(new X509Certificate(first.ecdhCertPem).checkIssued(device));
  const digest = createHash('sha256').update('m').digest();
  const sig = await store.deviceSigner.signDigest(digest);
  assert.ok(verify('sha256', Buffer.from('m'), { key: device.publicKey, dsaEncoding: 'ieee-p1363' }, sig));

  const info = await store.info();
  assert.equal(info.hardwareProtected, false);
  assert.match(info.description, /NOT hardware-protected/);
  assert.equal(info.pcrBank, null);
  assert.equal(await store.quote(Buffer.from('nonce')), null);
  await store.close();
});

void test('ECDH with the vector key gives the vector shared point; off-curve points are refused', async () => {
  const store = await open();
  const basic = JSON.parse(await readFile(path.join(vectorsDir, 'cipher/basic.json'), 'utf8')) as Record<string, unknown>;
  const controller = await readFile(path.join(vectorsDir, 'certs/controller-encrypt.pem'));
  const z = Buffer.from(await store.ecdh.zgen(certPublicKeyPoint(controller)));
  assert.match(JSON.stringify(basic), new RegExp(z.subarray(1, 33).toString('hex')));
  assert.match(JSON.stringify(basic), new RegExp(z.subarray(33).toString('hex')));
  const bad = Buffer.from(certPublicKeyPoint(controller));
  bad[64] ^= 1;
  await assert.rejects(store.ecdh.zgen(bad), (e) => isTpmError(e) && e.kind === 'POINT_NOT_ON_CURVE');
  await store.close();
});

void test("EVE's own key file form (SEC1 DER under a PRIVATE KEY label) loads", async () => {
  const other = await mkdtemp(path.join(tmpdir(), 'edgesim-soft-sec1-'));
  try {
    const sec1 = (await readFile(path.join(vectorsDir, 'certs/device.key.pem'), 'utf8')).trim();
    const { createPrivateKey } = await import('node:crypto');
    const der = createPrivateKey(sec1).export({ type: 'sec1', format: 'der' });
    const pem = `-----BEGIN PRIVATE KEY-----\n${der.toString('base64').match(/.{1,64}/g)!.join('\n')}\n-----END PRIVATE KEY-----\n`;
    await mkdir(path.join(other, 'keys'), { recursive: true });
    await writeFile(softKeyPath(other, 'device'), pem, { mode: 0o600 });
    const store = await openKeyStore({ spec: 'soft', stateDir: other, logger: silentLogger, clock });
    const id = await store.provision();
    const vectorDevice = await readFile(path.join(vectorsDir, 'certs/device.pem'));
    assert.deepEqual(certPublicKeyPoint(id.deviceCertPem), certPublicKeyPoint(vectorDevice));
    await store.close();
  } finally {
    await rm(other, { recursive: true, force: true });
  }
});

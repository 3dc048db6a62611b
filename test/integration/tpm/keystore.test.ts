/**
 * The TPM key store against a real swtpm through raw commands over tpm2_send: provisioning, signing, ECDH,
 * quotes, context exhaustion and a swtpm crash.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createDecipheriv, createHash, randomBytes, verify, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { p256 } from '@noble/curves/nist.js';
import { verifyQuote } from '../../../src/eve/quote.js';
import { publicKeyPoint } from '../../../src/eve/x509.js';
import {
  SwtpmProcess,
  isTpmError,
  openKeyStore,
  type KeyStore,
} from '../../../src/tpm/index.js';
import { TpmKeyStore } from '../../../src/tpm/tpm-keystore.js';
import { vectorsDir } from '../../helpers/cli.js';
import { externalEcdhKeyForTest } from '../../helpers/tpm-test-support.js';
import { clock, logger, missingTpmTools, startSwtpm, stopSwtpm, type SwtpmFixture } from './helpers.js';

const skip = missingTpmTools();
const run = promisify(execFile);

void describe('TPM key store on swtpm', { skip }, () => {
  let f: SwtpmFixture | undefined;
  let store: KeyStore;
  const open = (): Promise<KeyStore> => openKeyStore({ spec: f!.swtpm.tcti, stateDir: f!.dir, logger, clock });

  before(async () => {
    f = await startSwtpm();
    store = await open();
  });
  after(async () => {
    await store?.close();
    await stopSwtpm(f);
  });

  void test('provisioning twice keeps keys and certificates', async () => {
    const first = await store.provision();
    const info1 = await store.info();
    const again = await open();
    try {
      const second = await again.provision();
      assert.deepEqual(second, first);
      const info2 = await again.info();
      assert.deepEqual(info2.objects.map((o) => o.publicKeyPem), info1.objects.map((o) => o.publicKeyPem));
    } finally {
      await again.close();
    }
    assert.equal(info1.hardwareProtected, true);
    assert.deepEqual(info1.objects.map((o) => [o.role, o.location, o.present]), [
      ['device', '0x817fffff', true],
      ['ecdh', '0x81000005', true],
      ['attest', '0x81000004', true],
    ]);
    // Three distinct keys, each matching its certificate; ECDH and attest certs issued by the device cert.
    const device = new X509Certificate(first.deviceCertPem);
    const ecdh = new X509Certificate(first.ecdhCertPem);
    const attest = new X509Certificate(first.attestCertPem);
    assert.equal(new Set(info1.objects.map((o) => o.publicKeyPem)).size, 3);
    for (const [o, c] of [[info1.objects[0], device], [info1.objects[1], ecdh], [info1.objects[2], attest]] as const) {
      assert.equal(c.publicKey.export({ type: 'spki', format: 'pem' }), o.publicKeyPem);
    }
    assert.ok(device.verify(device.publicKey));
    assert.ok(ecdh.checkIssued(device) && ecdh.verify(device.publicKey));
    assert.ok(attest.checkIssued(device) && attest.verify(device.publicKey));
    assert.equal(device.subject, 'O=The Linux Foundation\nCN=EVE');
    assert.deepEqual(await readFile(path.join(f!.dir, 'certs/ecdh.cert.pem')), first.ecdhCertPem);
  });

  void test('a TPM signature verifies with the device certificate key', async () => {
    const { deviceCertPem } = await store.provision();
    const msg = randomBytes(100);
    const sig = await store.deviceSigner.signDigest(createHash('sha256').update(msg).digest());
    assert.equal(sig.length, 64);
    const key = new X509Certificate(deviceCertPem).publicKey;
    assert.ok(verify('sha256', msg, { key, dsaEncoding: 'ieee-p1363' }, sig));
  });

  void test('ZGen equals software point multiplication; bad points fail clearly', async () => {
    const { ecdhCertPem } = await store.provision();
    const ecdhPoint = publicKeyPoint(new X509Certificate(ecdhCertPem).publicKey);
    const peerPriv = p256.utils.randomPrivateKey();
    const peer = p256.getPublicKey(peerPriv, false);
    const z = await store.ecdh.zgen(peer);
    assert.deepEqual(Buffer.from(z), Buffer.from(p256.getSharedSecret(peerPriv, ecdhPoint, false)));
    const offCurve = Buffer.from(peer);
    offCurve[64] ^= 1;
    await assert.rejects(store.ecdh.zgen(offCurve), (e) => isTpmError(e) && e.kind === 'POINT_NOT_ON_CURVE' && e.code === 0x1e7);
    await assert.rejects(store.ecdh.zgen(peer.subarray(1)), (e) => isTpmError(e) && e.kind === 'POINT_NOT_ON_CURVE');
  });

  void test('the vector cluster token decrypts through TPM2_ECDH_ZGen (vector key loaded, test-only)', async () => {
    const vec = JSON.parse(await readFile(path.join(vectorsDir, 'cipher/cluster-token.json'), 'utf8')) as {
      plaintextHex: string;
      variants: { encrypt: { controllerCertFile: string; aesKeyHex: string; cipherBlock: Record<string, string> } };
    };
    const v = vec.variants.encrypt;
    const key = externalEcdhKeyForTest(store, await readFile(path.join(vectorsDir, 'certs/device-ecdh.key.pem')));
    const controllerPem = await readFile(path.join(vectorsDir, v.controllerCertFile));
    const point = await key.zgen(publicKeyPoint(new X509Certificate(controllerPem).publicKey));
    const aesKey = createHash('sha256').update(point.subarray(1)).digest();
    assert.equal(aesKey.toString('hex'), v.aesKeyHex);
    const d = createDecipheriv('aes-256-cfb', aesKey, Buffer.from(v.cipherBlock['initialValueHex'], 'hex'));
    const plain = Buffer.concat([d.update(Buffer.from(v.cipherBlock['cipherDataHex'], 'hex')), d.final()]);
    assert.equal(plain.toString('hex'), vec.plaintextHex);
    assert.equal(createHash('sha256').update(plain).digest('hex'), v.cipherBlock['clearTextSha256Hex']);
  });

  void test('a quote verifies; wrong nonce and tampered data fail', async () => {
    const { attestCertPem } = await store.provision();
    const nonce = Buffer.from('a1b2c3d4e5f6');
    const q = await store.quote(nonce);
    assert.ok(q);
    assert.deepEqual(q.pcrs.map((p) => p.index), [...Array(16).keys()]);
    const ok = verifyQuote({ ...q, nonce, attestCertPem });
    assert.equal(ok.code, 'SUCCESS', ok.reason);
    assert.equal(verifyQuote({ ...q, nonce: Buffer.from('a1b2c3d4e5f7'), attestCertPem }).code, 'NONCE_MISMATCH');
    const tampered = Buffer.from(q.attestData);
    tampered[tampered.length - 1] ^= 1;
    assert.notEqual(verifyQuote({ ...q, attestData: tampered, nonce, attestCertPem }).code, 'SUCCESS');
  });

  void test('1,000 consecutive TPM operations: no 0x902/0x903', { timeout: 600_000 }, async () => {
    await store.provision();
    assert.ok(store instanceof TpmKeyStore);
    const before = { ...store.runner.stats };
    const peer = p256.getPublicKey(p256.utils.randomPrivateKey(), false);
    const digest = createHash('sha256').update('x').digest();
    const started = clock.now();
    // Half ECDH, half signing, both raw commands with a password session: a session left loaded by either would
    // fill swtpm's 3 session slots within a few calls.
    for (let i = 0; i < 1000; i++) {
      if (i % 2 === 0) await store.ecdh.zgen(peer);
      else await store.deviceSigner.signDigest(digest);
    }
    await store.runner.idle();
    const ms = clock.now() - started;
    assert.equal(store.runner.stats.recoveries, before.recoveries, 'a 0x902/0x903 was hit and recovered');
    assert.equal(store.runner.stats.flushes, before.flushes, 'nothing needed flushing');
    // Asked by separate tpm2_getcap processes, not through the store's own channel.
    for (const cap of ['handles-loaded-session', 'handles-transient']) {
      const { stdout } = await run('tpm2_getcap', [`--tcti=${f!.swtpm.tcti}`, cap]);
      assert.equal(stdout.trim(), '', cap);
    }
    process.stderr.write(`# 1000 TPM ops (500 zgen + 500 sign) in ${ms} ms\n`);
  });

  void test('swtpm killed: UNREACHABLE, then works again after a restart on the same state', async () => {
    const { deviceCertPem } = await store.provision();
    const { port, stateDir } = f!.swtpm;
    process.kill(f!.swtpm.pid, 'SIGKILL');
    await f!.swtpm.stop();
    const digest = createHash('sha256').update('y').digest();
    await assert.rejects(store.deviceSigner.signDigest(digest), (e) => {
      assert.ok(isTpmError(e));
      assert.equal(e.kind, 'UNREACHABLE');
      assert.match(e.message, /TPM unreachable.*TCTI swtpm:host=127\.0\.0\.1/);
      return true;
    });
    f!.swtpm = await SwtpmProcess.create({ stateDir, port, logger, clock });
    const sig = await store.deviceSigner.signDigest(digest);
    assert.ok(p256.verify(sig, digest, publicKeyPoint(new X509Certificate(deviceCertPem).publicKey), { prehash: false }));
  });
});

/** Soft keys: every PEM form, RFC 6979 signatures matching the vectors, full-point ECDH. */
import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey, generateKeyPairSync, verify } from 'node:crypto';
import { describe, it } from 'node:test';
import { spawnSync } from 'node:child_process';
import {
  certPublicKeyPoint,
  generateSoftKey,
  isKeyError,
  loadPrivateKeyPem,
  sha256,
  softEcdh,
  softKeyToPkcs8Pem,
  softKeyToSec1Pem,
  softKeyObject,
  softSigner,
} from '../../../src/eve/index.js';
import { hex, keyEntries, vec, vecJson } from './fixtures.js';

const device = keyEntries()['device'];

function pemOf(label: string, der: Buffer): string {
  return `-----BEGIN ${label}-----\n${der.toString('base64').replace(/.{64}/g, '$&\n')}\n-----END ${label}-----\n`;
}

void describe('soft keys', () => {
  void it('loads PKCS#8 keys with the scalar and point of keys.json', () => {
    for (const k of Object.values(keyEntries())) {
      const key = loadPrivateKeyPem(vec(k.keyFile));
      assert.deepEqual(Buffer.from(key.privateKey), hex(k.privateKeyHex));
      assert.deepEqual(Buffer.from(key.publicKey), Buffer.concat([Buffer.from([4]), hex(k.publicXHex), hex(k.publicYHex)]));
    }
  });

  void it('loads SEC1 inside "PRIVATE KEY" (EVE) and "EC PRIVATE KEY" with "EC PARAMETERS" (Eden)', () => {
    assert.ok(device);
    const sec1 = createPrivateKey(vec(device.keyFile)).export({ format: 'der', type: 'sec1' });
    const eveForm = pemOf('PRIVATE KEY', sec1);
    const edenForm = pemOf('EC PARAMETERS', Buffer.from('06082a8648ce3d030107', 'hex')) + pemOf('EC PRIVATE KEY', sec1);
    for (const pem of [eveForm, edenForm]) {
      assert.deepEqual(Buffer.from(loadPrivateKeyPem(pem).privateKey), hex(device.privateKeyHex));
    }
  });

  void it('rejects non-keys and non-P-256 keys', () => {
    assert.throws(() => loadPrivateKeyPem(vec('certs/device.pem')), (e) => isKeyError(e) && e.kind === 'MALFORMED_PEM');
    assert.throws(() => loadPrivateKeyPem(pemOf('PRIVATE KEY', Buffer.from('3003020100', 'hex'))), (e) => isKeyError(e) && e.kind === 'MALFORMED_PEM');
    const p384 = generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).privateKey.export({ format: 'pem', type: 'pkcs8' });
    assert.throws(() => loadPrivateKeyPem(p384.toString()), (e) => isKeyError(e) && e.kind === 'UNSUPPORTED_KEY');
  });

  void it('generates keys and round-trips them through PKCS#8 PEM', async () => {
    const key = generateSoftKey();
    const pem = softKeyToPkcs8Pem(key);
    assert.match(pem, /^-----BEGIN PRIVATE KEY-----\n/);
    const sec1 = softKeyToSec1Pem(key);
    assert.match(sec1, /^-----BEGIN EC PRIVATE KEY-----\n/);
    assert.deepEqual(Buffer.from(loadPrivateKeyPem(sec1).privateKey), Buffer.from(key.privateKey));
    const loaded = loadPrivateKeyPem(pem);
    assert.deepEqual({ privateKey: loaded.privateKey, publicKey: loaded.publicKey }, { privateKey: Buffer.from(key.privateKey), publicKey: Buffer.from(key.publicKey) });
    // The KeyObject it was loaded as is kept, and is the same key.
    assert.deepEqual(softKeyObject(loaded).export({ format: 'jwk' }), softKeyObject({ privateKey: key.privateKey, publicKey: key.publicKey }).export({ format: 'jwk' }));
    const sig = await softSigner(key).signDigest(sha256(Buffer.from('x')));
    assert.equal(sig.length, 64);
    const pub = createPublicKey(pem);
    assert.ok(verify('sha256', Buffer.from('x'), { key: pub, dsaEncoding: 'ieee-p1363' }, sig));
  });

  void it('generates thousands of keys without hanging (Node 20 deadlocks exporting a freshly generated KeyObject)', () => {
    // In a child process: a deadlocked main thread cannot be timed out from inside. A small young generation makes
    // GCs frequent: the old way (export of the generated KeyObject) hung there within ~2,000 keys, 3 runs of 3.
    const module = new URL('../../../src/eve/soft-keys.js', import.meta.url).href;
    const script = `import { generateSoftKey } from ${JSON.stringify(module)};
      const seen = new Set();
      for (let i = 0; i < 6000; i++) seen.add(Buffer.from(generateSoftKey().publicKey).toString('hex'));
      console.log(seen.size);`;
    const r = spawnSync(process.execPath, ['--max-semi-space-size=1', '--input-type=module', '-e', script], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(r.signal, null, 'key generation hung (killed by the timeout)');
    assert.equal(r.stdout.trim(), '6000', r.stderr);
  });

  void it('signs deterministically (RFC 6979, no low-S) exactly like the vector envelopes', async () => {
    assert.ok(device);
    const payload = vec('device-requests/configrequest.bin');
    const sig = await softSigner(loadPrivateKeyPem(vec(device.keyFile))).signDigest(sha256(payload));
    const ac = vec('device-requests/configrequest.authcontainer.bin');
    assert.ok(ac.includes(Buffer.from(sig)), 'the vector AuthContainer carries the same 64-byte signature');
  });

  void it('computes the full shared point of the basic vector', async () => {
    const v = vecJson<Record<string, string>>('cipher/basic.json');
    const devKey = loadPrivateKeyPem(vec('certs/device-ecdh.key.pem'));
    const point = await softEcdh(devKey).zgen(certPublicKeyPoint(vec('certs/controller-encrypt.pem')));
    assert.equal(Buffer.from(point).toString('hex'), `04${v['sharedXHex']}${v['sharedYHex']}`);
  });
});


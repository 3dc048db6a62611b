/** Soft keys: every PEM form, RFC 6979 signatures matching the vectors, full-point ECDH. */
import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey, generateKeyPairSync, verify } from 'node:crypto';
import { describe, it } from 'node:test';
import { spawnSync } from 'node:child_process';
import { p256 } from '@noble/curves/nist.js';
import {
  certPublicKeyPoint,
  generateSoftKey,
  generateSoftKeyOffThread,
  isKeyError,
  loadPrivateKeyPem,
  opensslSigner,
  sha256,
  softEcdh,
  softKeyToPkcs8Pem,
  softKeyToSec1Pem,
  softKeyObject,
  softSigner,
} from '../../../src/eve/index.js';
import { hex, keyEntries, vec, vecJson } from './fixtures.js';

const device = keyEntries()['device'];

/** x and y (base64url) of d·G (noble, independent of OpenSSL). */
function pointJwk(d: Buffer): { x: string; y: string } {
  const point = Buffer.from(p256.getPublicKey(d, false));
  return { x: point.subarray(1, 33).toString('base64url'), y: point.subarray(33).toString('base64url') };
}

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

  void it('writes SEC1 PEM byte for byte as OpenSSL does: keys made off-thread (never imported), loaded keys, small scalars', async () => {
    const opensslSec1 = (k: { privateKey: Uint8Array; publicKey: Uint8Array }): string =>
      softKeyObject({ privateKey: k.privateKey, publicKey: k.publicKey }).export({ format: 'pem', type: 'sec1' }).toString();
    const made = await Promise.all(Array.from({ length: 40 }, () => generateSoftKeyOffThread()));
    assert.ok(made.every((k) => k.keyObject === undefined), 'keys made off-thread are not imported into OpenSSL');
    const loaded = Object.values(keyEntries()).map((k) => loadPrivateKeyPem(vec(k.keyFile)));
    // A scalar below 2^248 (a leading zero byte): SEC1 keeps 32 bytes, so the layout must too.
    const d = Buffer.alloc(32);
    d[31] = 7;
    const small = loadPrivateKeyPem(createPrivateKey({ key: { kty: 'EC', crv: 'P-256', d: d.toString('base64url'), ...pointJwk(d) }, format: 'jwk' }).export({ format: 'pem', type: 'sec1' }));
    for (const key of [...made, ...loaded, small, generateSoftKey()]) {
      const pem = softKeyToSec1Pem(key);
      assert.equal(pem, opensslSec1(key));
      assert.deepEqual(Buffer.from(loadPrivateKeyPem(pem).privateKey), Buffer.from(key.privateKey));
    }
    assert.throws(() => softKeyToSec1Pem({ privateKey: d.subarray(1), publicKey: small.publicKey }), (e: unknown) => isKeyError(e) && e.kind === 'UNSUPPORTED_KEY');
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

  void it('the OpenSSL signer signs the same way on the thread pool and on the caller thread; keys made off-thread work', async () => {
    const key = await generateSoftKeyOffThread();
    assert.equal(key.publicKey.length, 65);
    const pub = createPublicKey(softKeyObject(key));
    const msg = Buffer.from('an AuthContainer payload');
    for (const offThread of [true, false]) {
      const sig = await opensslSigner(key, { offThread }).sign!(msg);
      assert.equal(sig.length, 64);
      assert.ok(verify('sha256', msg, { key: pub, dsaEncoding: 'ieee-p1363' }, sig), `offThread ${offThread}`);
      assert.ok(!verify('sha256', Buffer.from('another payload'), { key: pub, dsaEncoding: 'ieee-p1363' }, sig));
    }
  });
});


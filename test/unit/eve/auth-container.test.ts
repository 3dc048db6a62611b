/** AuthContainer seal/open on both sides, against the vector envelopes (eve-api.md §5). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  auth,
  common,
  decode,
  deviceSenderCertHash,
  encode,
  isAuthError,
  loadPrivateKeyPem,
  openControllerReply,
  openDeviceRequest,
  openRegisterRequest,
  parseAuthContainer,
  sealControllerReply,
  sealDeviceRequest,
  softSigner,
  trimPem,
  type AuthErrorKind,
} from '../../../src/eve/index.js';
import { vec } from './fixtures.js';

const devicePem = vec('certs/device.pem');
const onboardPem = vec('certs/onboard.pem');
const signingPem = vec('certs/controller-signing.pem');
const signingZCert = trimPem(signingPem); // ZCert.cert as Adam sends it
const deviceSigner = softSigner(loadPrivateKeyPem(vec('certs/device.key.pem')));
const controllerSigner = softSigner(loadPrivateKeyPem(vec('certs/controller-signing.key.pem')));

const DEVICE_REQUESTS = ['attest-cert', 'configrequest', 'info-app', 'info-cluster-node', 'info-kube-cluster', 'uuidrequest'];

/** Controller-side lookup knowing only the device cert, by SHA-256(DER). */
function lookup(hash: Buffer): Buffer | undefined {
  return hash.equals(deviceSenderCertHash(devicePem)) ? devicePem : undefined;
}

function expectAuthError(kind: AuthErrorKind): (e: unknown) => boolean {
  return (e) => isAuthError(e) && e.kind === kind;
}

/** The vector envelope with some fields replaced, re-serialized. */
function tweak(file: string, change: (ac: auth.IAuthContainer) => void): Buffer {
  const ac: auth.IAuthContainer = decode(auth.AuthContainer, vec(file)).toJSON();
  const copy = auth.AuthContainer.fromObject(ac);
  change(copy);
  return encode(auth.AuthContainer, copy);
}

void describe('AuthContainer, device requests', () => {
  for (const name of DEVICE_REQUESTS) {
    void it(`${name}: the controller verifies it and gets the payload`, async () => {
      const verified = await openDeviceRequest(vec(`device-requests/${name}.authcontainer.bin`), lookup);
      assert.deepEqual(verified.payload, vec(`device-requests/${name}.bin`));
      assert.deepEqual(verified.senderCertPem, devicePem);
    });
    void it(`${name}: sealing the payload reproduces the vector bytes`, async () => {
      const sealed = await sealDeviceRequest(vec(`device-requests/${name}.bin`), { signer: deviceSigner, senderCertPem: devicePem });
      assert.deepEqual(sealed, vec(`device-requests/${name}.authcontainer.bin`));
    });
  }

  void it('register: verified with the carried onboarding cert; sealing reproduces the vector', async () => {
    const bytes = vec('device-requests/register.authcontainer.bin');
    const verified = openRegisterRequest(bytes);
    assert.deepEqual(verified.payload, vec('device-requests/register.bin'));
    assert.deepEqual(verified.senderCertPem, onboardPem);
    const signer = softSigner(loadPrivateKeyPem(vec('certs/onboard.key.pem')));
    const sealed = await sealDeviceRequest(vec('device-requests/register.bin'), { signer, senderCertPem: onboardPem, includeSenderCert: true });
    assert.deepEqual(sealed, bytes);
  });

  void it('accepts an ASN.1 DER signature as Adam does', async () => {
    const { createSign } = await import('node:crypto');
    const payload = vec('device-requests/configrequest.bin');
    const der = createSign('sha256').update(payload).sign(vec('certs/device.key.pem'));
    const bytes = tweak('device-requests/configrequest.authcontainer.bin', (ac) => (ac.signatureHash = der));
    assert.deepEqual((await openDeviceRequest(bytes, lookup)).payload, payload);
  });

  void it('refuses empty and unknown sender hashes and bad signatures', async () => {
    const file = 'device-requests/info-app.authcontainer.bin';
    await assert.rejects(openDeviceRequest(tweak(file, (ac) => (ac.senderCertHash = new Uint8Array())), lookup), expectAuthError('EMPTY_SENDER_HASH'));
    await assert.rejects(openDeviceRequest(vec(file), () => undefined), expectAuthError('UNKNOWN_SENDER'));
    const flipped = Buffer.from(vec(file));
    flipped[10] = (flipped[10] ?? 0) ^ 1; // inside the payload
    await assert.rejects(openDeviceRequest(flipped, lookup), expectAuthError('SIGNATURE'));
    await assert.rejects(openDeviceRequest(Buffer.from([0xff, 0xff]), lookup), expectAuthError('MALFORMED'));
    assert.throws(() => openRegisterRequest(vec(file)), expectAuthError('MALFORMED'));
  });
});

void describe('AuthContainer, controller replies', () => {
  void it('the device verifies the config response and gets the ConfigResponse bytes', async () => {
    assert.deepEqual(await openControllerReply(vec('config/configresponse.authcontainer.bin'), signingZCert), vec('config/configresponse.bin'));
  });

  void it('the tampered config response fails with SIGNATURE', async () => {
    await assert.rejects(() => openControllerReply(vec('config/configresponse.tampered.bin'), signingZCert), expectAuthError('SIGNATURE'));
  });

  void it('sealing reproduces the vector envelopes (config and /certs)', async () => {
    for (const [payload, envelope] of [
      ['config/configresponse.bin', 'config/configresponse.authcontainer.bin'],
      ['certs/zcontrollercert.bin', 'certs/zcontrollercert.authcontainer.bin'],
    ] as const) {
      const sealed = await sealControllerReply(vec(payload), { signer: controllerSigner, signingCertPem: signingPem });
      assert.deepEqual(sealed, vec(envelope));
    }
  });

  void it('accepts a 16-byte hash with algo SHA256_16BYTES', async () => {
    const sealed = await sealControllerReply(Buffer.from('hello'), { signer: controllerSigner, signingCertPem: signingZCert, hashLength: 16 });
    const ac = parseAuthContainer(sealed);
    assert.equal(ac.algo, common.HashAlgorithm.HASH_ALGORITHM_SHA256_16BYTES);
    assert.equal(ac.senderCertHash.length, 16);
    assert.deepEqual(await openControllerReply(sealed, signingZCert), Buffer.from('hello'));
  });

  void it('checks hash size, algo and cert match in EVE order', async () => {
    const file = 'config/configresponse.authcontainer.bin';
    await assert.rejects(() => openControllerReply(tweak(file, (ac) => (ac.senderCertHash = new Uint8Array(20))), signingZCert), expectAuthError('HASH_SIZE'));
    await assert.rejects(() => openControllerReply(tweak(file, (ac) => (ac.algo = common.HashAlgorithm.HASH_ALGORITHM_INVALID)), signingZCert), expectAuthError('ALGO'));
    await assert.rejects(() => openControllerReply(tweak(file, (ac) => (ac.algo = common.HashAlgorithm.HASH_ALGORITHM_SHA256_16BYTES)), signingZCert), expectAuthError('CERT_MISS'));
    // The hash is over the PEM bytes exactly as received: the untrimmed file bytes do not match.
    await assert.rejects(() => openControllerReply(vec(file), signingPem), expectAuthError('CERT_MISS'));
    await assert.rejects(() => openControllerReply(vec(file), trimPem(vec('certs/controller-encrypt.pem'))), expectAuthError('CERT_MISS'));
  });
});

/**
 * The embedded controller's device API over real HTTPS on 127.0.0.1, driven with the shared vector
 * requests (signed by the vectors' device and onboarding keys) and with requests sealed here by the
 * same keys. Asserts Adam's status codes (eve-api.md §2, §3) and that garbage never yields a 5xx.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { vectorsDir } from '../../helpers/cli.js';
import { ControllerAdminClient, ControllerServer, PROTO_CONTENT_TYPE } from '../../../src/controller/index.js';
import {
  attest,
  certs,
  createCertificate,
  generateSoftKey,
  rawSignatureToDer,
  sha256,
  config,
  decode,
  encode,
  loadPrivateKeyPem,
  openControllerReply,
  parseAuthContainer,
  register,
  authContainerPayload,
  sealDeviceRequest,
  softSigner,
  uuid as uuidMsg,
  verifyControllerCerts,
} from '../../../src/eve/index.js';

interface Answer {
  status: number;
  body: Buffer;
  contentType: string | undefined;
}

/** A TPMS_ATTEST of type quote as a TPM lays it out (TPM 2.0 Part 2 §10.12), one SHA-256 bank, PCRs 0-15. */
function tpmsAttestQuote(nonce: Buffer, pcrValues: Buffer[]): Buffer {
  const u16 = (n: number): Buffer => Buffer.from([n >> 8, n & 0xff]);
  const tpm2b = (b: Buffer): Buffer => Buffer.concat([u16(b.length), b]);
  return Buffer.concat([
    Buffer.from('ff544347', 'hex'),
    u16(0x8018),
    tpm2b(Buffer.alloc(34, 1)),
    tpm2b(nonce),
    Buffer.alloc(8 + 4 + 4),
    Buffer.from([1]),
    Buffer.alloc(8),
    Buffer.from([0, 0, 0, 1]),
    u16(0x000b),
    Buffer.from([3, 0xff, 0xff, 0x00]),
    tpm2b(sha256(Buffer.concat(pcrValues))),
  ]);
}

const vec = (p: string): Promise<Buffer> => readFile(path.join(vectorsDir, p));

void describe('controller device API (HTTPS, vectors)', () => {
  let dir: string;
  let server: ControllerServer;
  let admin: ControllerAdminClient;
  let base: string;
  let rootCa: Buffer;
  let signingCert: Buffer;
  let devicePem: Buffer;
  let deviceKey: Buffer;

  const request = (p: string, body?: Buffer): Promise<Answer> =>
    new Promise((resolve, reject) => {
      const req = https.request(
        new URL(p, base),
        {
          method: body ? 'POST' : 'GET',
          ca: rootCa,
          agent: false,
          headers: body ? { 'Content-Type': PROTO_CONTENT_TYPE } : {},
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), contentType: res.headers['content-type'] }));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  const api = (action: string, body?: Buffer): Promise<Answer> => request(`/api/v2/edgedevice/${action}`, body);
  const sealAsDevice = async (payload: Uint8Array): Promise<Buffer> =>
    sealDeviceRequest(payload, { signer: softSigner(loadPrivateKeyPem(deviceKey)), senderCertPem: devicePem });

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'edgesim-ctl-api-'));
    server = await ControllerServer.create({ dataDir: dir, listen: '127.0.0.1:0', adminListen: '127.0.0.1:0' });
    base = server.endpoints().deviceUrl;
    admin = new ControllerAdminClient(server.endpoints().adminUrl);
    rootCa = await readFile(path.join(dir, 'certs/root-certificate.pem'));
    // The device verifies replies against ZCert.cert as received from /certs: the trimmed PEM (eve-api.md §5.4).
    signingCert = Buffer.from((await readFile(path.join(dir, 'certs/signing.pem'))).toString().trim());
    devicePem = await vec('certs/device.pem');
    deviceKey = await vec('certs/device.key.pem');
    await admin.addOnboard((await vec('certs/onboard.pem')).toString(), ['SIM-0002']);
  });
  after(async () => {
    await server?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  void it('creates its PKI with 0600 keys and serves /certs that chain to its root', async () => {
    for (const k of ['root-certificate-key.pem', 'server-key.pem', 'signing-key.pem', 'encrypt-key.pem', 'onboard.key.pem']) {
      assert.equal((await stat(path.join(dir, 'certs', k))).mode & 0o777, 0o600, k);
    }
    for (const method of [undefined, Buffer.alloc(0)]) {
      const r = await api('certs', method);
      assert.equal(r.status, 200);
      assert.equal(r.contentType, PROTO_CONTENT_TYPE);
      const zc = verifyControllerCerts(authContainerPayload(parseAuthContainer(r.body)), { rootCaPem: rootCa, nowMs: Date.now() });
      assert.deepEqual(zc.signingCertPem, signingCert);
      const msg = decode(certs.ZControllerCert, authContainerPayload(parseAuthContainer(r.body)));
      assert.equal(msg.certs.length, 2);
      // Every later reply verifies with the signing cert as received.
      await openControllerReply(r.body, zc.signingCertPem);
    }
    assert.equal((await api('ping')).status, 200);
  });

  void it('register 201, repeat 409, unknown serial 403; uuid 200; attest 201; info 201; a flipped byte 401', async () => {
    const reg = await vec('device-requests/register.authcontainer.bin');
    assert.equal((await api('register', reg)).status, 201);
    assert.equal((await api('register', reg)).status, 409);

    const devices = await admin.devices();
    assert.equal(devices.length, 1);
    const dev = devices[0];
    assert.equal(dev.serial, 'SIM-0002');
    assert.match(dev.uuid, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);

    const uuidReq = await vec('device-requests/uuidrequest.authcontainer.bin');
    const u = await api('uuid', uuidReq);
    assert.equal(u.status, 200);
    assert.equal(u.contentType, PROTO_CONTENT_TYPE);
    const resp = decode(uuidMsg.UuidResponse, await openControllerReply(u.body, signingCert));
    assert.equal(resp.uuid, dev.uuid);
    assert.ok(resp.manufacturer && resp.product_name);

    const a = await api(`id/${dev.uuid}/attest`, await vec('device-requests/attest-cert.authcontainer.bin'));
    assert.equal(a.status, 201);
    assert.equal(decode(attest.ZAttestResponse, await openControllerReply(a.body, signingCert)).respType, attest.ZAttestRespType.ATTEST_RESP_CERT);
    assert.deepEqual((await admin.device(dev.uuid)).attestCerts, ['CERT_TYPE_DEVICE_ECDH_EXCHANGE']);

    for (const name of ['info-cluster-node', 'info-app', 'info-kube-cluster']) {
      const r = await api(`id/${dev.uuid}/info`, await vec(`device-requests/${name}.authcontainer.bin`));
      assert.equal(r.status, 201, name);
    }
    const infos = await admin.info(dev.uuid);
    assert.deepEqual(infos.map((i) => i.ztype), ['ZiNop', 'ZiApp', 'ZiKubeCluster']);
    assert.equal((infos[1].info as { ainfo: { AppName: string } }).ainfo.AppName, 'app-node2-required');
    assert.deepEqual((await admin.info(dev.uuid, { types: ['ZiApp'] })).length, 1);

    const flipped = Buffer.from(uuidReq);
    flipped[flipped.length - 1] ^= 0x01;
    assert.equal((await api('uuid', flipped)).status, 401);

    // A serial the onboarding cert was not registered for: 403 (Adam: not pre-registered).
    const unknownSerial = await sealDeviceRequest(
      encode(register.ZRegisterMsg, { pemCert: Buffer.from(devicePem.toString('base64')), serial: 'SIM-9999' }),
      { signer: softSigner(loadPrivateKeyPem(await vec('certs/onboard.key.pem'))), senderCertPem: await vec('certs/onboard.pem'), includeSenderCert: true },
    );
    assert.equal((await api('register', unknownSerial)).status, 403);
  });

  void it('attest nonce/quote give a 128-hex integrity token; config 200, then 304, 403 without token, 404 without config', async () => {
    const dev = (await admin.devices())[0];
    const attestReq = async (m: attest.IZAttestReq): Promise<attest.ZAttestResponse> => {
      const r = await api(`id/${dev.uuid}/attest`, await sealAsDevice(encode(attest.ZAttestReq, m)));
      assert.equal(r.status, 201);
      return decode(attest.ZAttestResponse, await openControllerReply(r.body, signingCert));
    };
    const nonce = await attestReq({ reqType: attest.ZAttestReqType.ATTEST_REQ_NONCE });
    assert.match(Buffer.from(nonce.nonce?.nonce ?? []).toString(), /^[0-9a-f]{12}$/);
    const q = await attestReq({ reqType: attest.ZAttestReqType.ATTEST_REQ_QUOTE, quote: { versions: [{ version_type: 1, version: '0.0.0-sim' }] } });
    assert.equal(q.quoteResp!.response, attest.ZAttestResponseCode.Z_ATTEST_RESPONSE_CODE_SUCCESS);
    const token = Buffer.from(q.quoteResp?.integrity_token ?? []);
    assert.match(token.toString(), /^[0-9a-f]{128}$/);
    const q2 = await attestReq({ reqType: attest.ZAttestReqType.ATTEST_REQ_QUOTE, quote: {} });
    assert.deepEqual(Buffer.from(q2.quoteResp?.integrity_token ?? []), token, 'token is created once per device');
    const bad = await attestReq({ reqType: attest.ZAttestReqType.Z_ATTEST_REQ_TYPE_STORE_KEYS, storage_keys: { integrity_token: Buffer.from('x') } });
    assert.equal(bad.storage_keys_resp!.response, attest.AttestStorageKeysResponseCode.ATTEST_STORAGE_KEYS_RESPONSE_CODE_ITOKEN_MISMATCH);
    assert.equal((await api(`id/${dev.uuid}/attest`, await sealAsDevice(encode(attest.ZAttestReq, { reqType: 0 })))).status, 400);

    const cfgReq = async (m: config.IConfigRequest, p = `id/${dev.uuid}/config`): Promise<Answer> =>
      api(p, await sealAsDevice(encode(config.ConfigRequest, m)));
    assert.equal((await cfgReq({ integrity_token: token })).status, 404);

    const json = JSON.parse((await vec('config/edgedevconfig.json')).toString()) as Record<string, unknown>;
    const set = await admin.setConfig(dev.uuid, json);
    assert.equal(set.version, 1);

    const ok = await cfgReq({ integrity_token: token });
    assert.equal(ok.status, 200);
    assert.equal(ok.contentType, PROTO_CONTENT_TYPE);
    const cr = decode(config.ConfigResponse, await openControllerReply(ok.body, signingCert));
    assert.equal(cr.configHash, set.configHash);
    assert.equal(cr.config!.id!.uuid, dev.uuid);
    assert.equal(cr.config!.id!.version, '1');
    assert.equal(cr.config!.cluster!.cluster_name, 'test-cluster');
    assert.equal(cr.config?.apps?.length, 2);
    // Adam's controllercert_confighash: base64url(SHA-256(signing.pem ‖ encrypt.pem)), padded.
    assert.match(cr.config?.controllercert_confighash ?? '', /^[A-Za-z0-9_-]{43}=$/);

    const same = await cfgReq({ integrity_token: token, configHash: cr.configHash }, 'config');
    assert.equal(same.status, 304);
    assert.equal(same.body.length, 0);
    assert.equal((await cfgReq({ configHash: cr.configHash })).status, 403);
    assert.equal((await cfgReq({ integrity_token: Buffer.from('0'.repeat(128)) })).status, 403);

    // A changed config gets a new version and hash.
    const set2 = await admin.setConfig(dev.uuid, { ...json, device_name: 'edge-node-2b' });
    assert.equal(set2.version, 2);
    assert.notEqual(set2.configHash, set.configHash);
    assert.equal((await cfgReq({ integrity_token: token, configHash: cr.configHash })).status, 200);
    assert.equal((await admin.device('edge-node-2b')).uuid, dev.uuid);

    await admin.deleteConfig(dev.uuid);
    assert.equal((await cfgReq({ integrity_token: token })).status, 404);
  });

  void it('a TPM quote with PCRs is verified against the RESTRICTED_SIGNING cert and the last nonce', async () => {
    const dev = (await admin.devices())[0];
    const attestReq = async (m: attest.IZAttestReq): Promise<attest.ZAttestResponse> => {
      const r = await api(`id/${dev.uuid}/attest`, await sealAsDevice(encode(attest.ZAttestReq, m)));
      assert.equal(r.status, 201);
      return decode(attest.ZAttestResponse, await openControllerReply(r.body, signingCert));
    };
    const aik = generateSoftKey();
    const aikPem = Buffer.from(
      await createCertificate({
        subject: { CN: 'Device Attestation certificate' },
        issuer: 'self',
        publicKey: aik.publicKey,
        signer: softSigner(aik),
        notBefore: new Date('2025-01-01T00:00:00Z'),
        notAfter: new Date('2045-01-01T00:00:00Z'),
        isCA: false,
        keyUsage: ['digitalSignature'],
        extKeyUsage: [],
      }),
    );
    const pcrs = Array.from({ length: 24 }, (_, i) => ({ index: i, hash_algo: attest.TpmHashAlgo.TPM_HASH_ALGO_SHA256, value: sha256(Buffer.from(`pcr${i}`)) }));
    const quoteFor = async (nonce: Buffer): Promise<attest.IZAttestQuote> => {
      const data = tpmsAttestQuote(nonce, pcrs.slice(0, 16).map((p) => p.value));
      const raw = await softSigner(aik).signDigest(sha256(data));
      return { attestData: data, signature: rawSignatureToDer(raw), pcr_values: pcrs };
    };
    const certReq = { reqType: attest.ZAttestReqType.ATTEST_REQ_CERT, certs: [{ hashAlgo: 1, certHash: sha256(aikPem).subarray(0, 16), type: certs.ZCertType.CERT_TYPE_DEVICE_RESTRICTED_SIGNING, cert: aikPem }] };
    assert.equal((await attestReq(certReq)).respType, attest.ZAttestRespType.ATTEST_RESP_CERT);
    // The CERT answer is the same for every device: sealed once, the same bytes each time (attestReq verified them).
    const certReplies = await Promise.all([1, 2].map(async () => (await api(`id/${dev.uuid}/attest`, await sealAsDevice(encode(attest.ZAttestReq, certReq)))).body));
    assert.deepEqual(certReplies[0], certReplies[1]);
    // A NONCE answer is sealed for each request.
    const nonces = await Promise.all([1, 2].map(async () => Buffer.from((await attestReq({ reqType: attest.ZAttestReqType.ATTEST_REQ_NONCE })).nonce?.nonce ?? [])));
    assert.notDeepEqual(nonces[0], nonces[1]);
    const n = Buffer.from((await attestReq({ reqType: attest.ZAttestReqType.ATTEST_REQ_NONCE })).nonce?.nonce ?? []);

    const good = await attestReq({ reqType: attest.ZAttestReqType.ATTEST_REQ_QUOTE, quote: await quoteFor(n) });
    assert.equal(good.quoteResp?.response, attest.ZAttestResponseCode.Z_ATTEST_RESPONSE_CODE_SUCCESS);
    assert.match(Buffer.from(good.quoteResp?.integrity_token ?? []).toString(), /^[0-9a-f]{128}$/);

    const stale = await attestReq({ reqType: attest.ZAttestReqType.ATTEST_REQ_QUOTE, quote: await quoteFor(Buffer.from('000000000000')) });
    assert.equal(stale.quoteResp?.response, attest.ZAttestResponseCode.Z_ATTEST_RESPONSE_CODE_NONCE_MISMATCH);
    assert.equal(stale.quoteResp?.integrity_token?.length ?? 0, 0, 'no token on failure');

    const tampered = await quoteFor(n);
    tampered.pcr_values = pcrs.map((p, i) => (i === 3 ? { ...p, value: sha256(Buffer.from('evil')) } : p));
    const failed = await attestReq({ reqType: attest.ZAttestReqType.ATTEST_REQ_QUOTE, quote: tampered });
    assert.equal(failed.quoteResp?.response, attest.ZAttestResponseCode.Z_ATTEST_RESPONSE_CODE_QUOTE_FAILED);

    const forged = await quoteFor(n);
    forged.signature = rawSignatureToDer(await softSigner(generateSoftKey()).signDigest(sha256(forged.attestData ?? Buffer.alloc(0))));
    const refused = await attestReq({ reqType: attest.ZAttestReqType.ATTEST_REQ_QUOTE, quote: forged });
    assert.equal(refused.quoteResp?.response, attest.ZAttestResponseCode.Z_ATTEST_RESPONSE_CODE_INVALID);
  });

  void it('garbage, random bytes and empty bodies on every endpoint get 4xx, never a 5xx', async () => {
    const dev = (await admin.devices())[0];
    // Endpoints whose payload the controller parses must refuse every one of these with a 4xx; the log and
    // health endpoints accept any authenticated payload (Adam stores them unparsed) but must not fail either.
    const parsed = new Set(['register', 'uuid', 'config', 'attest', 'info', 'metrics']);
    const actions = [...parsed, 'hardwarehealth', 'logs', 'newlogs', 'flowlog'];
    const bodies: [string, Buffer][] = [
      ['empty', Buffer.alloc(0)],
      ['text', Buffer.from('garbage')],
      ['random', randomBytes(257)],
      ['zeros', Buffer.alloc(64)],
      ['bad varint', Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])],
      ['signed garbage payload', await sealAsDevice(Buffer.from([0x08, 0x96, 0x01, 0x12, 0x80]))],
      ['register from a device key', await sealAsDevice(Buffer.from('x'))],
    ];
    for (const action of actions) {
      for (const p of [action, `id/${dev.uuid}/${action}`]) {
        for (const [what, body] of bodies) {
          const r = await api(p, body);
          const signed = what.startsWith('signed') || what.startsWith('register from');
          const ok = parsed.has(action) || !signed ? r.status >= 400 && r.status < 500 : r.status < 500;
          assert.ok(ok, `${p} with ${what}: ${r.status}`);
        }
      }
    }
    assert.equal((await api('nosuch', Buffer.from('x'))).status, 404);
    assert.equal((await api('uuid')).status, 405);
    const big = await api('info', Buffer.alloc(5 * 1024 * 1024));
    assert.equal(big.status, 413);
    // Still serving.
    assert.equal((await api('ping')).status, 200);
  });

  void it('metrics 201 (latest kept); unknown device 401', async () => {
    const dev = (await admin.devices())[0];
    const m = await api(`id/${dev.uuid}/metrics`, await sealAsDevice(Buffer.from([0x0a, 0x03, 0x61, 0x62, 0x63])));
    assert.equal(m.status, 201);
    assert.deepEqual((await admin.metrics(dev.uuid))?.metrics, { devID: 'abc' });
    const stranger = await sealDeviceRequest(Buffer.alloc(0), {
      signer: softSigner(loadPrivateKeyPem(await vec('certs/onboard.key.pem'))),
      senderCertPem: await vec('certs/onboard.pem'),
    });
    assert.equal((await api('uuid', stranger)).status, 401);
  });
});

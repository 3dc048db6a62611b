/**
 * Raw TPM command marshalling and response parsing against known bytes (TPM 2.0 Part 3 §14.5, §20.2, §18.4,
 * §22.4). The swtpm responses were captured through tpm2_send from swtpm 0.7 (libtpms) with tpm2-tools 5.4.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { p256 } from '@noble/curves/nist.js';
import { createHash, verify } from 'node:crypto';
import {
  ecdhZGenCommand,
  parseEcdhZGenResponse,
  parsePcrReadResponse,
  parseQuoteResponse,
  parseSignResponse,
  pcrReadCommand,
  quoteCommand,
  signCommand,
} from '../../../src/tpm/tpm-commands.js';
import { responseParameters } from '../../../src/tpm/tpm-command-frame.js';
import { derSignatureToRaw, parseQuoteAttest, rawSignatureToDer } from '../../../src/eve/index.js';
import { isTpmError, type TpmErrorKind } from '../../../src/tpm/errors.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
/** The P-256 generator G as a SEC1 uncompressed point. */
const G = Buffer.from(p256.ProjectivePoint.BASE.toRawBytes(false));
const GX = G.subarray(1, 33).toString('hex');
const GY = G.subarray(33).toString('hex');

void test('TPM2_ECDH_ZGen command: header, handle, password session, TPM2B_ECC_POINT', () => {
  const cmd = ecdhZGenCommand(0x81000005, G);
  assert.equal(cmd.name, 'TPM2_ECDH_ZGen');
  assert.equal(
    cmd.bytes.toString('hex'),
    '8002' + '00000061' + '00000154' + // TPM_ST_SESSIONS, commandSize 97, TPM_CC_ECDH_ZGen
      '81000005' + // keyHandle
      '00000009' + '40000009' + '0000' + '01' + '0000' + // authorizationSize 9: TPM_RS_PW, nonce, continueSession, hmac
      '0044' + '0020' + GX + '0020' + GY, // inPoint
  );
  // A password is the session's hmac field.
  const withAuth = ecdhZGenCommand(0x81000005, G, Buffer.from('pw'));
  assert.equal(withAuth.bytes.toString('hex', 14, 29), '0000000b' + '40000009' + '0000' + '01' + '0002' + '7077');
  assert.equal(withAuth.bytes.readUInt32BE(2), withAuth.bytes.length);
  // A point that is not 65-byte uncompressed is refused before it reaches the TPM.
  assert.throws(() => ecdhZGenCommand(0x81000005, G.subarray(1)), (e) => isTpmError(e) && e.kind === 'POINT_NOT_ON_CURVE');
});

void test('TPM2_ECDH_ZGen response from swtpm: the full point', () => {
  // swtpm 0.7 (libtpms) answering the command above with G as the peer: the key's own public point.
  const rsp = hex(`8002 00000059 00000000 00000046
    0044 0020 020ff2bc35466af73ec7191f35958b01f4a21fe37228002d4a28f7138fd15f07
         0020 f4c7be3f38091ca2bc43072da4929c378a43b80dd3ab68e43c4fbd2e98510997
    0000 01 0000`);
  const z = parseEcdhZGenResponse(ecdhZGenCommand(0x81000005, G), rsp);
  assert.equal(
    Buffer.from(z).toString('hex'),
    '04020ff2bc35466af73ec7191f35958b01f4a21fe37228002d4a28f7138fd15f07f4c7be3f38091ca2bc43072da4929c378a43b80dd3ab68e43c4fbd2e98510997',
  );
  assert.ok(p256.ProjectivePoint.fromHex(z), 'a point on the curve');
});

void test('TPM2_Sign command: digest, ECDSA/SHA-256 scheme, null hash-check ticket', () => {
  const digest = Buffer.alloc(32, 0x11);
  const cmd = signCommand(0x817fffff, digest);
  assert.equal(cmd.name, 'TPM2_Sign');
  assert.equal(
    cmd.bytes.toString('hex'),
    '8002' + '00000049' + '0000015d' + // commandSize 73, TPM_CC_Sign
      '817fffff' + '00000009' + '40000009' + '0000' + '01' + '0000' +
      '0020' + digest.toString('hex') + // TPM2B_DIGEST
      '0018' + '000b' + // TPMT_SIG_SCHEME: ECDSA, SHA-256
      '8024' + '40000007' + '0000', // TPMT_TK_HASHCHECK: TPM_ST_HASHCHECK, TPM_RH_NULL, empty digest
  );
  assert.throws(() => signCommand(0x817fffff, Buffer.alloc(20)), /digest must be 32 bytes/);
});

void test('TPM2_Sign response: TPMT_SIGNATURE → r‖s, a short r padded', () => {
  const r = Buffer.alloc(31, 0x22);
  const s = Buffer.alloc(32, 0x33);
  const params = Buffer.concat([hex('0018 000b 001f'), r, hex('0020'), s]);
  const rsp = Buffer.concat([hex('8002 00000000 00000000'), Buffer.alloc(4), params, hex('0000 01 0000')]);
  rsp.writeUInt32BE(rsp.length, 2);
  rsp.writeUInt32BE(params.length, 10);
  const sig = parseSignResponse(signCommand(0x817fffff, Buffer.alloc(32)), rsp);
  assert.equal(sig.toString('hex'), '00' + r.toString('hex') + s.toString('hex'));
});

void test('response codes become TpmError kinds with the code; malformed responses are TOOL_FAILED', () => {
  const cmd = ecdhZGenCommand(0x81000005, G);
  const failed = (rc: number): Buffer => {
    const b = hex('8001 0000000a 00000000');
    b.writeUInt32BE(rc, 6);
    return b;
  };
  const cases: [number, TpmErrorKind][] = [
    [0x1e7, 'POINT_NOT_ON_CURVE'], // TPM_RC_ECC_POINT, parameter 1: what swtpm answers for an off-curve point
    [0x18b, 'HANDLE_MISSING'], // TPM_RC_HANDLE, handle 1
    [0x9a2, 'AUTH_FAIL'], // TPM_RC_BAD_AUTH, session 1
    [0x902, 'OBJECT_MEMORY'],
    [0x903, 'SESSION_MEMORY'],
    [0x101, 'TOOL_FAILED'], // TPM_RC_FAILURE
  ];
  for (const [rc, kind] of cases) {
    assert.throws(() => responseParameters(cmd, failed(rc)), (e) => {
      assert.ok(isTpmError(e));
      assert.equal(e.kind, kind);
      assert.equal(e.code, rc);
      assert.equal(e.command, 'TPM2_ECDH_ZGen');
      assert.match(e.message, new RegExp(`^TPM2_ECDH_ZGen\\(0x81000005\\): .*\\(rc 0x${rc.toString(16)}\\)$`));
      return true;
    });
  }
  const malformed = [
    hex('8002 0000'), // shorter than a header
    hex('8002 00000020 00000000 00000000'), // size field disagrees with the length
    hex('8001 0000000e 00000000 00000000'), // success without sessions: not what a TPM_ST_SESSIONS command gets
    hex('8002 0000000e 00000000 00000010'), // parameterSize beyond the end
  ];
  for (const rsp of malformed) {
    assert.throws(() => responseParameters(cmd, rsp), (e) => isTpmError(e) && e.kind === 'TOOL_FAILED' && /malformed TPM response/.test(e.message));
  }
});

const PCRS_0_15 = [{ hashAlg: 0x000b, pcrs: [...Array(16).keys()] }];
/** The public point of the quote key in the captured responses (created by `tpm2_createprimary` on that swtpm). */
const QUOTE_KEY = hex(`04 4ae0654dac3dc1882e72769df66bbdaebcc13f9d0db559deb5db17648408382f
  655779f06ab31d077e2b4ba1033c8fa23d4bfa1bf3e9ed1429e03f6bf2e5d26b`);

void test('TPM2_Quote command and swtpm response: TPMS_ATTEST over PCRs 0-15 with the nonce, a valid ECDSA signature', () => {
  const cmd = quoteCommand(0x81000004, hex('a1b2c3d4'), PCRS_0_15);
  assert.equal(
    cmd.bytes.toString('hex'),
    '8002' + '0000002d' + '00000158' + '81000004' + '00000009' + '40000009' + '0000' + '01' + '0000' +
      '0004a1b2c3d4' + // qualifyingData
      '0010' + // inScheme TPM_ALG_NULL: the key's ECDSA/SHA-256
      '00000001' + '000b' + '03' + 'ffff00', // PCRselect: SHA-256, PCRs 0-15
  );
  const rsp = hex(`8002000000d200000000000000bf
    0075 ff54434780180022000b9241a147f65dea29000cb2861c8d72342c35de1f4e3c0f6e9a14f90204a7285c0004a1b2c3d4000000000004
         01d84a887e86e9d282c6019cfadcabbe7f9cd900000001000b03ffff000020076a27c79e5ace2a3d47f9dd2e83e4ff6ea8872b3c2218f66c
         92b89b55f36560
    0018000b 0020b1f44901e84e1184a3edb779aae54ee68af56dbc34bd545373195b73660d8bb5
             002083f905bf854c78f9d2146fe1424ce27e2b3bd53a6ae1eb1563654fe1140f8d66
    0000010000`);
  const q = parseQuoteResponse(cmd, rsp);
  assert.equal(q.attest.length, 0x75);
  const info = parseQuoteAttest(q.attest);
  assert.equal(info.extraData.toString('hex'), 'a1b2c3d4');
  assert.deepEqual(info.selections, [{ hashAlg: 0x000b, pcrs: [...Array(16).keys()] }]);
  // All 16 PCRs of a fresh swtpm are zero.
  assert.deepEqual(info.pcrDigest, createHash('sha256').update(Buffer.alloc(16 * 32)).digest());
  const key = { key: { kty: 'EC', crv: 'P-256', x: QUOTE_KEY.subarray(1, 33).toString('base64url'), y: QUOTE_KEY.subarray(33).toString('base64url') }, format: 'jwk' } as const;
  assert.ok(verify('sha256', q.attest, { ...key, dsaEncoding: 'ieee-p1363' }, q.signature));
  assert.ok(verify('sha256', q.attest, { ...key, dsaEncoding: 'der' }, rawSignatureToDer(q.signature)));
});

void test('the DER signature equals what tpm2_quote -f plain wrote (minimal INTEGERs, 0x00 before a high bit)', () => {
  // tpm2_quote -f plain output on the same swtpm (OpenSSL i2d_ECDSA_SIG); both integers have the high bit set.
  const der = hex(`3046022100fb25d57de7b93d4d922e8aaff676c2d0a5fa0691dd69be3b02051f311f6539c6
    022100aa1759c75d62c4fd465bd78e32e99725de7fc3280e12a40415d371013198dfbb`);
  assert.deepEqual(rawSignatureToDer(derSignatureToRaw(der)), der);
});

void test('TPM2_PCR_Read command and swtpm response: 8 of 16 PCRs per call', () => {
  const cmd = pcrReadCommand(PCRS_0_15);
  assert.equal(cmd.bytes.toString('hex'), '8001' + '00000014' + '0000017e' + '00000001000b03ffff00');
  const values = Array.from({ length: 8 }, () => '0020' + '00'.repeat(32)).join('');
  const rsp = hex('8001 0000012c 00000000' + '00000014' + '00000001000b03ff0000' + '00000008' + values);
  const r = parsePcrReadResponse(cmd, rsp);
  assert.equal(r.updateCounter, 0x14);
  assert.deepEqual(r.selection, [{ hashAlg: 0x000b, pcrs: [0, 1, 2, 3, 4, 5, 6, 7] }]);
  assert.deepEqual(r.values, Array.from({ length: 8 }, () => Buffer.alloc(32)));
  // A digest count that disagrees with the selection is refused.
  const short = hex('8001 0000010a 00000000' + '00000014' + '00000001000b03ff0000' + '00000007' + values.slice(0, 7 * 68));
  assert.throws(() => parsePcrReadResponse(cmd, short), /7 digests for 8 selected PCRs/);
});

/** Raw TPM command marshalling and response parsing against known bytes (TPM 2.0 Part 3 §14.5, §20.2). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { p256 } from '@noble/curves/nist.js';
import {
  ecdhZGenCommand,
  parseEcdhZGenResponse,
  parseSignResponse,
  responseParameters,
  signCommand,
} from '../../../src/tpm/tpm-commands.js';
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

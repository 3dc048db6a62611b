/**
 * The raw TPM 2.0 commands the key store sends through `tpm2_send` (TPM 2.0 Part 3 §14.5 TPM2_ECDH_ZGen, §20.2
 * TPM2_Sign), marshalled here so that one key operation is one command. Each is authorised by a password session
 * (TPM_RS_PW, TPM 2.0 Part 1 "Password Authorizations"): it is not a session object, so, unlike the HMAC session
 * tpm2_ecdhzgen and tpm2_sign start, it leaves nothing loaded on a TPM without a resource manager
 * (cipher-and-tpm.md §13 "object/auth-context exhaustion"). All fields are big-endian (TPM 2.0 Part 2).
 */
import { classifyResponseCode, describeKind, TpmError } from './errors.js';
import { decodeEccPoint, decodeEcdsaSignature, encodeEccPoint } from './tpm-structs.js';

const TPM_ST_SESSIONS = 0x8002;
const TPM_ST_HASHCHECK = 0x8024;
const TPM_CC_ECDH_ZGEN = 0x0154;
const TPM_CC_SIGN = 0x015d;
const TPM_RS_PW = 0x40000009;
const TPM_RH_NULL = 0x40000007;
const TPM_ALG_ECDSA = 0x0018;
const TPM_ALG_SHA256 = 0x000b;
/** TPMA_SESSION continueSession: what ESYS sets for a password session; the TPM ignores it there. */
const CONTINUE_SESSION = 0x01;
/** tag(2) + size(4) + code(4), for commands and responses alike. */
const HEADER = 10;

/** A marshalled command and the TPM command name that errors and logs carry. */
export interface TpmCommand {
  /** e.g. `TPM2_ECDH_ZGen`. */
  name: string;
  /** The authorised key handle, named in errors. */
  handle: number;
  bytes: Buffer;
}

/** TPM2B: 2-byte size, then the bytes. */
function tpm2b(b: Uint8Array): Buffer {
  const out = Buffer.alloc(2 + b.length);
  out.writeUInt16BE(b.length, 0);
  out.set(b, 2);
  return out;
}

const u16 = (v: number): Buffer => {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(v, 0);
  return b;
};
const u32 = (v: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v >>> 0, 0);
  return b;
};

/**
 * TPM_ST_SESSIONS command with one authorised handle: header, handle, authorizationSize, one TPMS_AUTH_COMMAND
 * (TPM_RS_PW, empty nonce, attributes, hmac = the password), then the parameters.
 */
function withPasswordSession(code: number, handle: number, auth: Uint8Array, params: Buffer): Buffer {
  const session = Buffer.concat([u32(TPM_RS_PW), tpm2b(new Uint8Array(0)), Buffer.from([CONTINUE_SESSION]), tpm2b(auth)]);
  const body = Buffer.concat([u32(handle), u32(session.length), session, params]);
  return Buffer.concat([u16(TPM_ST_SESSIONS), u32(HEADER + body.length), u32(code), body]);
}

/**
 * TPM2_ECDH_ZGen(keyHandle, inPoint): `peer` is a 65-byte uncompressed SEC1 P-256 point, sent as TPM2B_ECC_POINT
 * with both coordinates padded to 32 bytes (cipher-and-tpm.md §5 step 6). `auth` is the key's password (EVE's
 * ECDH key 0x81000005 has none).
 * @throws TpmError POINT_NOT_ON_CURVE when `peer` is not a 65-byte uncompressed point.
 */
export function ecdhZGenCommand(keyHandle: number, peer: Uint8Array, auth: Uint8Array = new Uint8Array(0)): TpmCommand {
  const bytes = withPasswordSession(TPM_CC_ECDH_ZGEN, keyHandle, auth, encodeEccPoint(peer));
  return { name: 'TPM2_ECDH_ZGen', handle: keyHandle, bytes };
}

/**
 * TPM2_Sign(keyHandle, digest, inScheme = ECDSA/SHA-256, validation = null ticket). The null ticket
 * (TPM_ST_HASHCHECK, TPM_RH_NULL, empty digest) is accepted for an unrestricted key such as EVE's device key.
 */
export function signCommand(keyHandle: number, digest: Uint8Array, auth: Uint8Array = new Uint8Array(0)): TpmCommand {
  if (digest.length !== 32) throw new TpmError('TOOL_FAILED', 'TPM2_Sign', `digest must be 32 bytes (SHA-256), got ${digest.length}`);
  const params = Buffer.concat([
    tpm2b(digest),
    u16(TPM_ALG_ECDSA),
    u16(TPM_ALG_SHA256),
    u16(TPM_ST_HASHCHECK),
    u32(TPM_RH_NULL),
    tpm2b(new Uint8Array(0)),
  ]);
  return { name: 'TPM2_Sign', handle: keyHandle, bytes: withPasswordSession(TPM_CC_SIGN, keyHandle, auth, params) };
}

/**
 * Checks a response to a TPM_ST_SESSIONS command and returns its parameter area. A non-zero responseCode becomes
 * a TpmError classified like the tools' (errors.ts), carrying the code; a failed command is answered with tag
 * TPM_ST_NO_SESSIONS and a bare header, so the code is read before the tag is checked.
 */
export function responseParameters(cmd: TpmCommand, rsp: Buffer): Buffer {
  const { name } = cmd;
  const what = `${name}(0x${cmd.handle.toString(16)})`;
  const bad = (why: string): TpmError => new TpmError('TOOL_FAILED', name, `${what}: malformed TPM response: ${why}`);
  if (rsp.length < HEADER) throw bad(`${rsp.length} bytes`);
  const tag = rsp.readUInt16BE(0);
  const size = rsp.readUInt32BE(2);
  const rc = rsp.readUInt32BE(6);
  if (size !== rsp.length) throw bad(`size field ${size}, got ${rsp.length} bytes`);
  if (rc !== 0) {
    const kind = classifyResponseCode(rc);
    throw new TpmError(kind, name, `${what}: ${describeKind(kind)} (rc 0x${rc.toString(16)})`, rc);
  }
  if (tag !== TPM_ST_SESSIONS) throw bad(`tag 0x${tag.toString(16)}, expected 0x${TPM_ST_SESSIONS.toString(16)}`);
  if (rsp.length < HEADER + 4) throw bad('no parameterSize');
  const paramSize = rsp.readUInt32BE(HEADER);
  if (HEADER + 4 + paramSize > rsp.length) throw bad(`parameterSize ${paramSize} exceeds the response`);
  return rsp.subarray(HEADER + 4, HEADER + 4 + paramSize);
}

/** TPM2_ECDH_ZGen response → outPoint as 0x04 ‖ pad32(X) ‖ pad32(Y). */
export function parseEcdhZGenResponse(cmd: TpmCommand, rsp: Buffer): Uint8Array {
  return decodeEccPoint(responseParameters(cmd, rsp));
}

/** TPM2_Sign response → the ECDSA signature as raw r‖s (each padded to 32 bytes), as the AuthContainer carries it. */
export function parseSignResponse(cmd: TpmCommand, rsp: Buffer): Buffer {
  return decodeEcdsaSignature(responseParameters(cmd, rsp));
}


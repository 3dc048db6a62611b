/**
 * Framing of raw TPM 2.0 commands and responses (TPM 2.0 Part 1 §18 "Command/Response Structure"): header
 * (tag, size, code), handles, an authorization area for TPM_ST_SESSIONS, parameters. The key store authorises
 * with a password session (TPM_RS_PW, Part 1 "Password Authorizations"): it is not a session object, so, unlike the
 * HMAC sessions tpm2-tools start, it leaves nothing loaded on a TPM without a resource manager
 * (cipher-and-tpm.md §13 "object/auth-context exhaustion"). All fields are big-endian.
 */
import { classifyResponseCode, describeKind, TpmError } from './errors.js';
import { tpm2b, u16, u32 } from './tpm-marshal.js';

const TPM_ST_NO_SESSIONS = 0x8001;
const TPM_ST_SESSIONS = 0x8002;
const TPM_RS_PW = 0x40000009;
/** TPMA_SESSION continueSession: what ESYS sets for a password session; the TPM ignores it there. */
const CONTINUE_SESSION = 0x01;
/** tag(2) + size(4) + code(4), for commands and responses alike. */
const HEADER = 10;

/** A marshalled command, what errors and logs name it by, and how many handles its response carries. */
export interface TpmCommand {
  /** e.g. `TPM2_ECDH_ZGen`. */
  name: string;
  /** The handle the command acts on, named in errors (0 when there is none). */
  handle: number;
  bytes: Buffer;
  /** Handles before the parameters in a successful response (TPM2_CreatePrimary, TPM2_LoadExternal: 1). */
  responseHandles: number;
}

/** What `buildCommand` needs. */
export interface CommandSpec {
  name: string;
  /** TPM_CC. */
  code: number;
  /** The handle area. */
  handles: readonly number[];
  /** Password of the first handle, sent in one TPM_RS_PW session; undefined: a TPM_ST_NO_SESSIONS command. */
  auth?: Uint8Array;
  params: Buffer;
  /** @default 0 */
  responseHandles?: number;
}

/** Marshals a command; the first handle (if any) is the one errors name. */
export function buildCommand(spec: CommandSpec): TpmCommand {
  const handles = Buffer.concat(spec.handles.map(u32));
  let body: Buffer;
  if (spec.auth) {
    const session = Buffer.concat([u32(TPM_RS_PW), tpm2b(new Uint8Array(0)), Buffer.from([CONTINUE_SESSION]), tpm2b(spec.auth)]);
    body = Buffer.concat([handles, u32(session.length), session, spec.params]);
  } else {
    body = Buffer.concat([handles, spec.params]);
  }
  const tag = spec.auth ? TPM_ST_SESSIONS : TPM_ST_NO_SESSIONS;
  return {
    name: spec.name,
    handle: spec.handles[0] ?? 0,
    bytes: Buffer.concat([u16(tag), u32(HEADER + body.length), u32(spec.code), body]),
    responseHandles: spec.responseHandles ?? 0,
  };
}

/** What a successful response carries. */
export interface ResponseBody {
  handles: number[];
  /** The parameter area (for TPM_ST_SESSIONS: without the authorization area). */
  params: Buffer;
}

/**
 * Checks a response and splits it into handles and parameters. A non-zero responseCode becomes a TpmError
 * classified like the tools' (errors.ts), carrying the code; a failed command is answered with tag
 * TPM_ST_NO_SESSIONS and a bare header, so the code is read before the tag is checked.
 */
export function responseBody(cmd: TpmCommand, rsp: Buffer): ResponseBody {
  const { name } = cmd;
  const what = cmd.handle ? `${name}(0x${cmd.handle.toString(16)})` : name;
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
  const expected = cmd.bytes.readUInt16BE(0);
  if (tag !== expected) throw bad(`tag 0x${tag.toString(16)}, expected 0x${expected.toString(16)}`);
  let off = HEADER + 4 * cmd.responseHandles;
  if (off > rsp.length) throw bad('handle area truncated');
  const handles = Array.from({ length: cmd.responseHandles }, (_, i) => rsp.readUInt32BE(HEADER + 4 * i));
  if (tag === TPM_ST_NO_SESSIONS) return { handles, params: rsp.subarray(off) };
  if (off + 4 > rsp.length) throw bad('no parameterSize');
  const paramSize = rsp.readUInt32BE(off);
  off += 4;
  if (off + paramSize > rsp.length) throw bad(`parameterSize ${paramSize} exceeds the response`);
  return { handles, params: rsp.subarray(off, off + paramSize) };
}

/** The parameter area of a successful response (see responseBody). */
export function responseParameters(cmd: TpmCommand, rsp: Buffer): Buffer {
  return responseBody(cmd, rsp).params;
}

/**
 * Sends one command inside a serialised sequence (TpmCommandRunner.sequence) and returns `parse(cmd, response)`; a
 * response code is thrown by `parse` as a TpmError.
 */
export type Transmit = <T>(cmd: TpmCommand, parse: (cmd: TpmCommand, rsp: Buffer) => T) => Promise<T>;

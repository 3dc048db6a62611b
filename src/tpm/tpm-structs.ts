/**
 * The few TPM 2.0 wire structures tpm2-tools reads and writes as files (TPM 2.0 Part 2; big-endian sizes).
 */
import { TpmError } from './errors.js';

const P256 = 32;

function pad(b: Buffer, size: number, what: string): Buffer {
  let v = b;
  while (v.length > size && v[0] === 0) v = v.subarray(1);
  if (v.length > size) throw new TpmError('TOOL_FAILED', 'parse', `${what} longer than ${size} bytes`);
  return Buffer.concat([Buffer.alloc(size - v.length), v]);
}

/** Reads a TPM2B (2-byte size + bytes) at `off`; returns the bytes and the next offset. */
function tpm2b(buf: Buffer, off: number, what: string): [Buffer, number] {
  if (off + 2 > buf.length) throw new TpmError('TOOL_FAILED', 'parse', `${what}: truncated`);
  const n = buf.readUInt16BE(off);
  if (off + 2 + n > buf.length) throw new TpmError('TOOL_FAILED', 'parse', `${what}: truncated`);
  return [buf.subarray(off + 2, off + 2 + n), off + 2 + n];
}

/**
 * Encodes a SEC1 uncompressed P-256 point as TPM2B_ECC_POINT: size 68, then x and y each as a 32-byte TPM2B.
 * Coordinates must be padded to 32 bytes or the TPM answers TPM_RC_ECC_POINT (cipher-and-tpm.md §5 step 6).
 */
export function encodeEccPoint(point: Uint8Array): Buffer {
  if (point.length !== 65 || point[0] !== 0x04) {
    throw new TpmError('POINT_NOT_ON_CURVE', 'encode', 'peer point must be a 65-byte uncompressed SEC1 P-256 point');
  }
  const out = Buffer.alloc(70);
  out.writeUInt16BE(68, 0);
  out.writeUInt16BE(P256, 2);
  out.set(point.subarray(1, 33), 4);
  out.writeUInt16BE(P256, 36);
  out.set(point.subarray(33, 65), 38);
  return out;
}

/** Decodes a TPM2B_ECC_POINT file (as tpm2_ecdhzgen -o writes) into 0x04 ‖ pad32(X) ‖ pad32(Y). */
export function decodeEccPoint(buf: Buffer): Uint8Array {
  const [inner] = tpm2b(buf, 0, 'TPM2B_ECC_POINT');
  const [x, next] = tpm2b(inner, 0, 'point.x');
  const [y] = tpm2b(inner, next, 'point.y');
  return Buffer.concat([Buffer.from([4]), pad(x, P256, 'point.x'), pad(y, P256, 'point.y')]);
}

const TPM_ALG_ECDSA = 0x0018;
const TPM_ALG_SHA256 = 0x000b;

/** Decodes a TPMT_SIGNATURE (ECDSA, SHA-256) as tpm2_sign writes it into raw r‖s, each padded to 32 bytes. */
export function decodeEcdsaSignature(buf: Buffer): Buffer {
  if (buf.length < 4) throw new TpmError('TOOL_FAILED', 'parse', 'TPMT_SIGNATURE: truncated');
  const alg = buf.readUInt16BE(0);
  const hash = buf.readUInt16BE(2);
  if (alg !== TPM_ALG_ECDSA || hash !== TPM_ALG_SHA256) {
    throw new TpmError('TOOL_FAILED', 'parse', `TPMT_SIGNATURE: expected ECDSA/SHA-256, got 0x${alg.toString(16)}/0x${hash.toString(16)}`);
  }
  const [r, next] = tpm2b(buf, 4, 'signature.r');
  const [s] = tpm2b(buf, next, 'signature.s');
  return Buffer.concat([pad(r, P256, 'signature.r'), pad(s, P256, 'signature.s')]);
}

/**
 * tpm2_createprimary `-u` input: a TPMS_ECC_POINT unique field. tpm2-tools reads this file with little-endian
 * size words (tpm2_createprimary manual, "--unique-data"), unlike the other structures here.
 */
export function encodeUniqueLabel(label: string): Buffer {
  const x = Buffer.from(label, 'utf8');
  const out = Buffer.alloc(4 + x.length);
  out.writeUInt16LE(x.length, 0);
  x.copy(out, 2);
  out.writeUInt16LE(0, 2 + x.length);
  return out;
}

/** Fields of `tpm2_readpublic` YAML output the key store needs. */
export interface ReadPublic {
  attributes: string;
  /** SEC1 uncompressed point. */
  point: Uint8Array;
}

/** Parses tpm2_readpublic's YAML for an ECC key (top-level `attributes: value:`, `x:` and `y:`). */
export function parseReadPublic(yaml: string): ReadPublic {
  const attributes = /^attributes:\s*\n\s+value:\s*(\S+)/m.exec(yaml)?.[1];
  const x = /^x:\s*([0-9a-fA-F]+)\s*$/m.exec(yaml)?.[1];
  const y = /^y:\s*([0-9a-fA-F]+)\s*$/m.exec(yaml)?.[1];
  if (!attributes || !x || !y) throw new TpmError('TOOL_FAILED', 'tpm2_readpublic', 'output lacks attributes/x/y (not an ECC key?)');
  const point = Buffer.concat([
    Buffer.from([4]),
    pad(Buffer.from(x.length % 2 ? '0' + x : x, 'hex'), P256, 'x'),
    pad(Buffer.from(y.length % 2 ? '0' + y : y, 'hex'), P256, 'y'),
  ]);
  return { attributes, point };
}

/** Parses `tpm2_getcap handles-persistent` output (`- 0x81000004` lines) into handle numbers. */
export function parseHandleList(yaml: string): number[] {
  return [...yaml.matchAll(/^-\s*(0x[0-9a-fA-F]+)\s*$/gm)].map((m) => Number.parseInt(m[1], 16));
}

/**
 * TPM2B_ECC_POINT and TPMT_SIGNATURE (ECDSA), as ECDH and signing commands carry them (TPM 2.0 Part 2 §11.2.5.2,
 * §11.3.4; big-endian sizes).
 */
import { TpmError } from './errors.js';
import { TpmReader } from './tpm-marshal.js';

const P256 = 32;

function pad(b: Buffer, size: number, what: string): Buffer {
  let v = b;
  while (v.length > size && v[0] === 0) v = v.subarray(1);
  if (v.length > size) throw new TpmError('TOOL_FAILED', 'parse', `${what} longer than ${size} bytes`);
  return Buffer.concat([Buffer.alloc(size - v.length), v]);
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

/** Decodes a TPM2B_ECC_POINT (TPM2_ECDH_ZGen's outPoint) into 0x04 ‖ pad32(X) ‖ pad32(Y). */
export function decodeEccPoint(buf: Buffer): Uint8Array {
  const r = new TpmReader(new TpmReader(buf, 'TPM2B_ECC_POINT').tpm2b('point'), 'TPMS_ECC_POINT');
  const x = r.tpm2b('point.x');
  const y = r.tpm2b('point.y');
  return Buffer.concat([Buffer.from([4]), pad(x, P256, 'point.x'), pad(y, P256, 'point.y')]);
}

const TPM_ALG_ECDSA = 0x0018;
const TPM_ALG_SHA256 = 0x000b;

/** Decodes a TPMT_SIGNATURE (ECDSA, SHA-256), as TPM2_Sign and TPM2_Quote return it, into raw r‖s, each padded to 32 bytes. */
export function decodeEcdsaSignature(buf: Buffer): Buffer {
  const r = new TpmReader(buf, 'TPMT_SIGNATURE');
  const alg = r.u16('sigAlg');
  const hash = r.u16('hash');
  if (alg !== TPM_ALG_ECDSA || hash !== TPM_ALG_SHA256) {
    throw new TpmError('TOOL_FAILED', 'parse', `TPMT_SIGNATURE: expected ECDSA/SHA-256, got 0x${alg.toString(16)}/0x${hash.toString(16)}`);
  }
  const sr = r.tpm2b('signature.r');
  const ss = r.tpm2b('signature.s');
  return Buffer.concat([pad(sr, P256, 'signature.r'), pad(ss, P256, 'signature.s')]);
}

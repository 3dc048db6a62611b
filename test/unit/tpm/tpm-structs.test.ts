import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeEccPoint, decodeEcdsaSignature, encodeEccPoint } from '../../../src/tpm/tpm-structs.js';
import { isTpmError } from '../../../src/tpm/errors.js';

const X = Buffer.alloc(32, 0xaa);
const Y = Buffer.alloc(32, 0xbb);
const point = Buffer.concat([Buffer.from([4]), X, Y]);

void test('TPM2B_ECC_POINT: 70 bytes, padded coordinates, round trip', () => {
  const enc = encodeEccPoint(point);
  assert.equal(enc.length, 70);
  assert.equal(enc.toString('hex', 0, 4), '00440020');
  assert.equal(enc.toString('hex', 36, 38), '0020');
  assert.deepEqual(Buffer.from(decodeEccPoint(enc)), point);
  // A TPM may return a coordinate without its leading zero byte: it is padded back to 32.
  const short = Buffer.concat([Buffer.from([0, 67, 0, 31]), X.subarray(1), Buffer.from([0, 32]), Y]);
  assert.deepEqual(Buffer.from(decodeEccPoint(short)), Buffer.concat([Buffer.from([4, 0]), X.subarray(1), Y]));
  assert.throws(() => encodeEccPoint(point.subarray(1)), (e) => isTpmError(e) && e.kind === 'POINT_NOT_ON_CURVE');
  assert.throws(() => decodeEccPoint(enc.subarray(0, 50)), /truncated/);
});

void test('TPMT_SIGNATURE (ECDSA/SHA-256) → r‖s padded', () => {
  const r = Buffer.alloc(31, 1);
  const s = Buffer.concat([Buffer.from([0]), Buffer.alloc(32, 2)]); // 33 bytes with a leading zero
  const sig = Buffer.concat([Buffer.from([0, 0x18, 0, 0x0b, 0, 31]), r, Buffer.from([0, 33]), s]);
  const raw = decodeEcdsaSignature(sig);
  assert.equal(raw.length, 64);
  assert.deepEqual(raw.subarray(0, 32), Buffer.concat([Buffer.from([0]), r]));
  assert.deepEqual(raw.subarray(32), Buffer.alloc(32, 2));
  const rsa = Buffer.from(sig);
  rsa.writeUInt16BE(0x0014, 0);
  assert.throws(() => decodeEcdsaSignature(rsa), /ECDSA\/SHA-256/);
});

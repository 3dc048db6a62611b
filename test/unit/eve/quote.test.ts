import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { p256 } from '@noble/curves/nist.js';
import { parseQuoteAttest, verifyQuote, QUOTE_RESPONSE_CODE } from '../../../src/eve/quote.js';
import { createCertificate } from '../../../src/eve/x509.js';

const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const d = Buffer.from(privateKey.export({ format: 'jwk' }).d!, 'base64url');

/** Builds a TPMS_ATTEST (quote) the way a TPM lays it out (TPM 2.0 Part 2 §10.12). */
function attest(nonce: Buffer, pcrValues: Buffer[], select = [0xff, 0xff, 0x00]): Buffer {
  const digest = createHash('sha256').update(Buffer.concat(pcrValues)).digest();
  const u16 = (n: number): Buffer => Buffer.from([n >> 8, n & 0xff]);
  const tpm2b = (b: Buffer): Buffer => Buffer.concat([u16(b.length), b]);
  return Buffer.concat([
    Buffer.from('ff544347', 'hex'),
    u16(0x8018),
    tpm2b(Buffer.alloc(34, 1)), // qualifiedSigner (a name)
    tpm2b(nonce),
    Buffer.alloc(8 + 4 + 4), // clock, resetCount, restartCount
    Buffer.from([1]), // safe
    Buffer.alloc(8), // firmwareVersion
    Buffer.from([0, 0, 0, 1]), // one selection
    u16(0x000b),
    Buffer.from([select.length, ...select]),
    tpm2b(digest),
  ]);
}

const pcrs = Array.from({ length: 24 }, (_, i) => ({ index: i, value: createHash('sha256').update(`pcr${i}`).digest() }));
const nonce = Buffer.from('0123456789ab');
const data = attest(nonce, pcrs.slice(0, 16).map((p) => p.value));
const sigDer = sign('sha256', data, privateKey);
const certPem = createCertificate({
  subject: { CN: 'Device Attestation certificate' },
  issuer: 'self',
  publicKey,
  signer: { signDigest: (h) => Promise.resolve(p256.sign(h, d, { prehash: false }).toCompactRawBytes()) },
  notBefore: new Date('2025-01-01T00:00:00Z'),
  notAfter: new Date('2045-01-01T00:00:00Z'),
  isCA: false,
  keyUsage: ['digitalSignature'],
  extKeyUsage: [],
});

void test('parses TPMS_ATTEST: nonce, selection in order, digest', () => {
  const q = parseQuoteAttest(data);
  assert.deepEqual(q.extraData, nonce);
  assert.deepEqual(q.selections, [{ hashAlg: 0x000b, pcrs: Array.from({ length: 16 }, (_, i) => i) }]);
  assert.equal(q.safe, true);
  assert.throws(() => parseQuoteAttest(data.subarray(0, 40)), /truncated/);
  assert.throws(() => parseQuoteAttest(Buffer.concat([Buffer.from([0]), data.subarray(1)])), /magic/);
});

void test('a good quote verifies (DER and raw r‖s signatures; extra PCRs 16-23 ignored)', async () => {
  const attestCertPem = await certPem;
  const ok = verifyQuote({ attestData: data, signatureDer: sigDer, pcrs, nonce, attestCertPem });
  assert.equal(ok.code, 'SUCCESS', ok.reason);
  assert.equal(ok.responseCode, 1);
  const raw = sign('sha256', data, { key: privateKey, dsaEncoding: 'ieee-p1363' });
  assert.equal(verifyQuote({ attestData: data, signatureDer: raw, pcrs, nonce, attestCertPem }).code, 'SUCCESS');
});

void test('each defect gives its code', async () => {
  const attestCertPem = await certPem;
  const base = { attestData: data, signatureDer: sigDer, pcrs, nonce, attestCertPem };
  assert.equal(verifyQuote({ ...base, attestCertPem: null }).code, 'NO_CERT_FOUND');
  assert.equal(verifyQuote({ ...base, nonce: Buffer.from('0123456789ac') }).code, 'NONCE_MISMATCH');
  assert.equal(verifyQuote({ ...base, nonce: Buffer.from('0123456789ac') }).responseCode, 2);
  const tampered = Buffer.from(data);
  tampered[tampered.length - 1] ^= 1;
  assert.equal(verifyQuote({ ...base, attestData: tampered }).code, 'SIGNATURE_INVALID');
  assert.equal(QUOTE_RESPONSE_CODE.SIGNATURE_INVALID, 4);
  const badPcrs = pcrs.map((p) => (p.index === 7 ? { index: 7, value: Buffer.alloc(32) } : p));
  assert.equal(verifyQuote({ ...base, pcrs: badPcrs }).code, 'QUOTE_FAILED');
  assert.equal(verifyQuote({ ...base, pcrs: pcrs.filter((p) => p.index !== 3) }).code, 'QUOTE_FAILED');
  const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  assert.equal(verifyQuote({ ...base, signatureDer: sign('sha256', data, other.privateKey) }).code, 'SIGNATURE_INVALID');
});

void test('a signed structure that is not a quote fails as QUOTE_FAILED', async () => {
  const notQuote = Buffer.from(data);
  notQuote.writeUInt16BE(0x8017, 4); // TPM_ST_ATTEST_CERTIFY
  const r = verifyQuote({
    attestData: notQuote,
    signatureDer: sign('sha256', notQuote, privateKey),
    pcrs,
    nonce,
    attestCertPem: await certPem,
  });
  assert.equal(r.code, 'QUOTE_FAILED');
  assert.match(r.reason, /TPM_ST_ATTEST_QUOTE/);
});

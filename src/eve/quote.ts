/**
 * TPM2_Quote verification, as the controller does it for ATTEST_REQ_QUOTE (eve-api.md §8; `lf-edge/adam:
 * pkg/server/attestation.go`): attestation cert present, ECDSA signature over SHA-256(attestData), TPMS_ATTEST of
 * type quote with extraData == nonce, PCR digest == SHA-256 of the selected PCR values in selection order.
 * Layout of TPMS_ATTEST / TPMS_QUOTE_INFO: TPM 2.0 Part 2 §10.12.
 */
import { createHash, verify, X509Certificate } from 'node:crypto';

/** Result codes; all but SIGNATURE_INVALID mirror Adam's ZAttestResponseCode names. */
export type QuoteVerifyCode = 'SUCCESS' | 'NO_CERT_FOUND' | 'NONCE_MISMATCH' | 'QUOTE_FAILED' | 'SIGNATURE_INVALID';

/** `ZAttestResponseCode` wire values (proto/attest/attest.proto); SIGNATURE_INVALID answers QUOTE_FAILED. */
export const QUOTE_RESPONSE_CODE: Readonly<Record<QuoteVerifyCode, number>> = {
  SUCCESS: 1,
  NONCE_MISMATCH: 2,
  NO_CERT_FOUND: 3,
  QUOTE_FAILED: 4,
  SIGNATURE_INVALID: 4,
};

/** A parsed TPMS_ATTEST of type TPM_ST_ATTEST_QUOTE. */
export interface QuoteInfo {
  qualifiedSigner: Buffer;
  extraData: Buffer;
  clock: bigint;
  resetCount: number;
  restartCount: number;
  safe: boolean;
  firmwareVersion: bigint;
  /** Selected PCRs per bank, in the order they are hashed into pcrDigest. */
  selections: { hashAlg: number; pcrs: number[] }[];
  pcrDigest: Buffer;
}

/** What verifyQuote returns: a code, a reason for logs, and the parsed quote when it could be parsed. */
export interface QuoteVerifyResult {
  code: QuoteVerifyCode;
  /** The ZAttestResponseCode value to answer with. */
  responseCode: number;
  reason: string;
  quote?: QuoteInfo;
}

/** Input of verifyQuote; fields as ZAttestQuote carries them. */
export interface VerifyQuoteInput {
  attestData: Uint8Array;
  /** ECDSA signature over SHA-256(attestData): ASN.1 DER, or raw r‖s (64 bytes) as Adam also accepts. */
  signatureDer: Uint8Array;
  /** PCR values (SHA-256 bank) by index; extra indexes (EVE sends 0-23) are ignored. */
  pcrs: readonly { index: number; value: Uint8Array }[];
  /** The nonce the controller handed out. */
  nonce: Uint8Array;
  /** The device's attestation (CERT_TYPE_DEVICE_RESTRICTED_SIGNING) certificate; absent → NO_CERT_FOUND. */
  attestCertPem?: string | Buffer | null;
}

const TPM_GENERATED_VALUE = 0xff544347;
const TPM_ST_ATTEST_QUOTE = 0x8018;
const TPM_ALG_SHA256 = 0x000b;

/** Quote structure could not be parsed. */
export class QuoteParseError extends Error {
  override readonly name = 'QuoteParseError';
}

/** Parses TPMS_ATTEST (quote) bytes. Throws QuoteParseError on a wrong magic/type or truncation. */
export function parseQuoteAttest(data: Uint8Array): QuoteInfo {
  const b = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  let off = 0;
  const need = (n: number, what: string): void => {
    if (off + n > b.length) throw new QuoteParseError(`TPMS_ATTEST truncated at ${what}`);
  };
  const u8 = (w: string): number => (need(1, w), b.readUInt8((off += 1) - 1));
  const u16 = (w: string): number => (need(2, w), b.readUInt16BE((off += 2) - 2));
  const u32 = (w: string): number => (need(4, w), b.readUInt32BE((off += 4) - 4));
  const u64 = (w: string): bigint => (need(8, w), b.readBigUInt64BE((off += 8) - 8));
  const tpm2b = (w: string): Buffer => {
    const n = u16(w);
    need(n, w);
    return Buffer.from(b.subarray((off += n) - n, off));
  };
  const magic = u32('magic');
  if (magic !== TPM_GENERATED_VALUE) throw new QuoteParseError(`magic 0x${magic.toString(16)} is not TPM_GENERATED_VALUE`);
  const type = u16('type');
  if (type !== TPM_ST_ATTEST_QUOTE) throw new QuoteParseError(`type 0x${type.toString(16)} is not TPM_ST_ATTEST_QUOTE`);
  const qualifiedSigner = tpm2b('qualifiedSigner');
  const extraData = tpm2b('extraData');
  const clock = u64('clockInfo.clock');
  const resetCount = u32('clockInfo.resetCount');
  const restartCount = u32('clockInfo.restartCount');
  const safe = u8('clockInfo.safe') !== 0;
  const firmwareVersion = u64('firmwareVersion');
  const count = u32('pcrSelect.count');
  if (count > 16) throw new QuoteParseError(`pcrSelect.count ${count} is implausible`);
  const selections: QuoteInfo['selections'] = [];
  for (let i = 0; i < count; i++) {
    const hashAlg = u16('pcrSelect.hash');
    const size = u8('pcrSelect.sizeofSelect');
    need(size, 'pcrSelect.pcrSelect');
    const pcrs: number[] = [];
    for (let byte = 0; byte < size; byte++) {
      const bits = b[off + byte];
      for (let bit = 0; bit < 8; bit++) if (bits & (1 << bit)) pcrs.push(byte * 8 + bit);
    }
    off += size;
    selections.push({ hashAlg, pcrs });
  }
  const pcrDigest = tpm2b('pcrDigest');
  return { qualifiedSigner, extraData, clock, resetCount, restartCount, safe, firmwareVersion, selections, pcrDigest };
}

function result(code: QuoteVerifyCode, reason: string, quote?: QuoteInfo): QuoteVerifyResult {
  return { code, responseCode: QUOTE_RESPONSE_CODE[code], reason, ...(quote ? { quote } : {}) };
}

function signatureValid(cert: X509Certificate, data: Uint8Array, sig: Uint8Array): boolean {
  const key = cert.publicKey;
  // DER first (what tpm2_quote -f plain and EVE send); raw r‖s as Adam's fallback.
  try {
    if (verify('sha256', data, { key, dsaEncoding: 'der' }, sig)) return true;
  } catch {
    // not DER
  }
  if (sig.length !== 64) return false;
  try {
    return verify('sha256', data, { key, dsaEncoding: 'ieee-p1363' }, sig);
  } catch {
    return false;
  }
}

/** Verifies a quote; never throws for bad input (the code says what failed). */
export function verifyQuote(input: VerifyQuoteInput): QuoteVerifyResult {
  if (!input.attestCertPem || input.attestCertPem.length === 0) return result('NO_CERT_FOUND', 'no attestation certificate');
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(input.attestCertPem);
  } catch (e) {
    return result('NO_CERT_FOUND', `attestation certificate unreadable: ${(e as Error).message}`);
  }
  if (input.attestData.length === 0 || input.signatureDer.length === 0) {
    return result('QUOTE_FAILED', 'empty attestData or signature');
  }
  if (!signatureValid(cert, input.attestData, input.signatureDer)) {
    return result('SIGNATURE_INVALID', 'signature does not verify with the attestation certificate');
  }
  let quote: QuoteInfo;
  try {
    quote = parseQuoteAttest(input.attestData);
  } catch (e) {
    return result('QUOTE_FAILED', (e as Error).message);
  }
  if (!quote.extraData.equals(Buffer.from(input.nonce))) {
    return result('NONCE_MISMATCH', 'extraData differs from the nonce', quote);
  }
  const byIndex = new Map(input.pcrs.map((p) => [p.index, p.value]));
  const h = createHash('sha256');
  for (const sel of quote.selections) {
    if (sel.hashAlg !== TPM_ALG_SHA256) {
      return result('QUOTE_FAILED', `PCR bank 0x${sel.hashAlg.toString(16)} selected; only SHA-256 values are sent`, quote);
    }
    for (const index of sel.pcrs) {
      const v = byIndex.get(index);
      if (!v) return result('QUOTE_FAILED', `PCR ${index} selected but its value is missing`, quote);
      h.update(v);
    }
  }
  if (!h.digest().equals(quote.pcrDigest)) {
    return result('QUOTE_FAILED', 'PCR digest differs from SHA-256 of the PCR values', quote);
  }
  return result('SUCCESS', 'quote verified', quote);
}

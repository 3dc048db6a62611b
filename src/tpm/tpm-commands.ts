/**
 * The raw TPM 2.0 commands a key operation sends through `tpm2_send`, one command each: TPM2_ECDH_ZGen (Part 3
 * §14.5), TPM2_Sign (§20.2), TPM2_Quote (§18.4) and TPM2_PCR_Read (§22.4). Keys are authorised by a password
 * session (tpm-command-frame.ts), so nothing is left loaded.
 */
import { TpmError } from './errors.js';
import { buildCommand, responseParameters, type TpmCommand } from './tpm-command-frame.js';
import { TpmReader, tpm2b, u16, u32 } from './tpm-marshal.js';
import { encodePcrSelection, readPcrSelection, type PcrSelection } from './tpm-pcr-selection.js';
import { decodeEccPoint, decodeEcdsaSignature, encodeEccPoint } from './tpm-structs.js';

const TPM_CC_ECDH_ZGEN = 0x0154;
const TPM_CC_SIGN = 0x015d;
const TPM_CC_QUOTE = 0x0158;
const TPM_CC_PCR_READ = 0x017e;
const TPM_ST_HASHCHECK = 0x8024;
const TPM_RH_NULL = 0x40000007;
const TPM_ALG_ECDSA = 0x0018;
const TPM_ALG_SHA256 = 0x000b;
const TPM_ALG_NULL = 0x0010;
const NO_AUTH = new Uint8Array(0);

/**
 * TPM2_ECDH_ZGen(keyHandle, inPoint): `peer` is a 65-byte uncompressed SEC1 P-256 point, sent as TPM2B_ECC_POINT
 * with both coordinates padded to 32 bytes (cipher-and-tpm.md §5 step 6). `auth` is the key's password (EVE's
 * ECDH key 0x81000005 has none).
 * @throws TpmError POINT_NOT_ON_CURVE when `peer` is not a 65-byte uncompressed point.
 */
export function ecdhZGenCommand(keyHandle: number, peer: Uint8Array, auth: Uint8Array = NO_AUTH): TpmCommand {
  return buildCommand({ name: 'TPM2_ECDH_ZGen', code: TPM_CC_ECDH_ZGEN, handles: [keyHandle], auth, params: encodeEccPoint(peer) });
}

/**
 * TPM2_Sign(keyHandle, digest, inScheme = ECDSA/SHA-256, validation = null ticket). The null ticket
 * (TPM_ST_HASHCHECK, TPM_RH_NULL, empty digest) is accepted for an unrestricted key such as EVE's device key.
 */
export function signCommand(keyHandle: number, digest: Uint8Array, auth: Uint8Array = NO_AUTH): TpmCommand {
  if (digest.length !== 32) throw new TpmError('TOOL_FAILED', 'TPM2_Sign', `digest must be 32 bytes (SHA-256), got ${digest.length}`);
  const params = Buffer.concat([
    tpm2b(digest),
    u16(TPM_ALG_ECDSA),
    u16(TPM_ALG_SHA256),
    u16(TPM_ST_HASHCHECK),
    u32(TPM_RH_NULL),
    tpm2b(new Uint8Array(0)),
  ]);
  return buildCommand({ name: 'TPM2_Sign', code: TPM_CC_SIGN, handles: [keyHandle], auth, params });
}

/** TPM2_ECDH_ZGen response → outPoint as 0x04 ‖ pad32(X) ‖ pad32(Y). */
export function parseEcdhZGenResponse(cmd: TpmCommand, rsp: Buffer): Uint8Array {
  return decodeEccPoint(responseParameters(cmd, rsp));
}

/** TPM2_Sign response → the ECDSA signature as raw r‖s (each padded to 32 bytes), as the AuthContainer carries it. */
export function parseSignResponse(cmd: TpmCommand, rsp: Buffer): Buffer {
  return decodeEcdsaSignature(responseParameters(cmd, rsp));
}

/**
 * TPM2_Quote(signHandle, qualifyingData = nonce, inScheme = NULL, PCRselect): the key's own scheme signs (EVE's
 * quote key: ECDSA/SHA-256), as `tpm2_quote` and EVE's tpmmgr `getQuote` do (cipher-and-tpm.md §9).
 */
export function quoteCommand(signHandle: number, nonce: Uint8Array, pcrs: readonly PcrSelection[], auth: Uint8Array = NO_AUTH): TpmCommand {
  const params = Buffer.concat([tpm2b(nonce), u16(TPM_ALG_NULL), encodePcrSelection(pcrs)]);
  return buildCommand({ name: 'TPM2_Quote', code: TPM_CC_QUOTE, handles: [signHandle], auth, params });
}

/** A quote as the TPM returned it. */
export interface QuoteResponse {
  /** TPMS_ATTEST (the TPM2B_ATTEST's contents): what is signed. */
  attest: Buffer;
  /** ECDSA signature as raw r‖s, each padded to 32 bytes. */
  signature: Buffer;
}

/** TPM2_Quote response → quoted and signature (ECDSA/SHA-256 only). */
export function parseQuoteResponse(cmd: TpmCommand, rsp: Buffer): QuoteResponse {
  const r = new TpmReader(responseParameters(cmd, rsp), 'TPM2_Quote response');
  const attest = Buffer.from(r.tpm2b('quoted'));
  return { attest, signature: decodeEcdsaSignature(r.bytes(r.remaining, 'signature')) };
}

/** TPM2_PCR_Read(pcrSelectionIn). */
export function pcrReadCommand(pcrs: readonly PcrSelection[]): TpmCommand {
  return buildCommand({ name: 'TPM2_PCR_Read', code: TPM_CC_PCR_READ, handles: [], params: encodePcrSelection(pcrs) });
}

/** What TPM2_PCR_Read answered: the PCRs it read (a TPM returns at most 8 digests per call) and their values. */
export interface PcrReadResponse {
  updateCounter: number;
  selection: PcrSelection[];
  /** One digest per selected PCR, in selection order (bank by bank, ascending index). */
  values: Buffer[];
}

/** TPM2_PCR_Read response → pcrUpdateCounter, pcrSelectionOut, pcrValues. */
export function parsePcrReadResponse(cmd: TpmCommand, rsp: Buffer): PcrReadResponse {
  const r = new TpmReader(responseParameters(cmd, rsp), 'TPM2_PCR_Read response');
  const updateCounter = r.u32('pcrUpdateCounter');
  const selection = readPcrSelection(r);
  const count = r.u32('pcrValues.count');
  const values = Array.from({ length: count }, (_, i) => Buffer.from(r.tpm2b(`pcrValues[${i}]`)));
  r.end();
  if (count !== selection.reduce((n, s) => n + s.pcrs.length, 0)) {
    throw new TpmError('TOOL_FAILED', cmd.name, `${cmd.name}: ${count} digests for ${selection.map((s) => s.pcrs.length).join('+')} selected PCRs`);
  }
  return { updateCounter, selection, values };
}

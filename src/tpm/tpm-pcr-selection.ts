/**
 * TPML_PCR_SELECTION (TPM 2.0 Part 2 §10.9.7, §10.6.2 TPMS_PCR_SELECTION): which PCRs of which bank a quote or a
 * PCR read covers. Bit n of byte k selects PCR 8k+n. Pure.
 */
import { TpmError } from './errors.js';
import { type TpmReader, u16, u32 } from './tpm-marshal.js';

/** PCRs of one bank, ascending. */
export interface PcrSelection {
  /** TPM_ALG_ID of the bank (0x000b SHA-256). */
  hashAlg: number;
  pcrs: number[];
}

/** sizeofSelect for a 24-PCR TPM (PCR_SELECT_MIN), what tpm2-tools sends. */
const SIZEOF_SELECT = 3;

/** Encodes a TPML_PCR_SELECTION. @throws TpmError for a PCR index outside 0-23. */
export function encodePcrSelection(list: readonly PcrSelection[]): Buffer {
  const parts = [u32(list.length)];
  for (const { hashAlg, pcrs } of list) {
    const bits = Buffer.alloc(SIZEOF_SELECT);
    for (const p of pcrs) {
      if (!Number.isInteger(p) || p < 0 || p >= SIZEOF_SELECT * 8) {
        throw new TpmError('TOOL_FAILED', 'encode', `PCR index ${p} outside 0-${SIZEOF_SELECT * 8 - 1}`);
      }
      bits[p >> 3] |= 1 << (p & 7);
    }
    parts.push(u16(hashAlg), Buffer.from([SIZEOF_SELECT]), bits);
  }
  return Buffer.concat(parts);
}

/** Reads a TPML_PCR_SELECTION at the reader's position. */
export function readPcrSelection(r: TpmReader): PcrSelection[] {
  const count = r.u32('pcrSelection.count');
  // TPML_PCR_SELECTION holds at most HASH_COUNT entries; a large count means the bytes are not this structure.
  if (count > 16) throw new TpmError('TOOL_FAILED', 'parse', `TPML_PCR_SELECTION: count ${count} is implausible`);
  const out: PcrSelection[] = [];
  for (let i = 0; i < count; i++) {
    const hashAlg = r.u16('pcrSelection.hash');
    const bits = r.bytes(r.u8('pcrSelection.sizeofSelect'), 'pcrSelection.pcrSelect');
    const pcrs: number[] = [];
    bits.forEach((byte, k) => {
      for (let n = 0; n < 8; n++) if (byte & (1 << n)) pcrs.push(k * 8 + n);
    });
    out.push({ hashAlg, pcrs });
  }
  return out;
}


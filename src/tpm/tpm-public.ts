/**
 * TPMT_PUBLIC / TPM2B_PUBLIC of an ECC key (TPM 2.0 Part 2 §12.2.4, §12.2.3.5 TPMS_ECC_PARMS, §8.3 TPMA_OBJECT):
 * the template TPM2_CreatePrimary takes and the public area TPM2_ReadPublic returns. Pure.
 */
import { TpmError } from './errors.js';
import { TpmReader, tpm2b, u16, u32 } from './tpm-marshal.js';

/** TPM_ALG_ID values used here (Part 2 §6.3). */
export const TPM_ALG = { ECC: 0x0023, SHA256: 0x000b, NULL: 0x0010, ECDSA: 0x0018, ECDAA: 0x001a } as const;
/** TPM_ECC_NIST_P256 (Part 2 §6.4). */
const TPM_ECC_NIST_P256 = 0x0003;

/** TPMA_OBJECT bits by the names tpm2-tools prints (`tpm2_readpublic`) and takes (`-a`), in bit order. */
const ATTRIBUTE_BITS: readonly (readonly [string, number])[] = [
  ['fixedtpm', 1 << 1],
  ['stclear', 1 << 2],
  ['fixedparent', 1 << 4],
  ['sensitivedataorigin', 1 << 5],
  ['userwithauth', 1 << 6],
  ['adminwithpolicy', 1 << 7],
  ['noda', 1 << 10],
  ['encryptedduplication', 1 << 11],
  ['restricted', 1 << 16],
  ['decrypt', 1 << 17],
  ['sign', 1 << 18],
  ['x509sign', 1 << 19],
];

/** TPMA_OBJECT from tpm2-tools names joined by `|` (e.g. `sign|decrypt|noda`). @throws TpmError on an unknown name. */
export function attributeBits(names: string): number {
  let bits = 0;
  for (const n of names.split('|')) {
    const bit = ATTRIBUTE_BITS.find(([name]) => name === n)?.[1];
    if (bit === undefined) throw new TpmError('TOOL_FAILED', 'template', `unknown object attribute '${n}'`);
    bits |= bit;
  }
  return bits >>> 0;
}

/** The tpm2-tools names of the set TPMA_OBJECT bits, in bit order (as `tpm2_readpublic` prints them). */
export function attributeNames(bits: number): string {
  const names = ATTRIBUTE_BITS.filter(([, bit]) => (bits & bit) !== 0).map(([n]) => n);
  const unknown = ATTRIBUTE_BITS.reduce((rest, [, bit]) => rest & ~bit, bits) >>> 0;
  if (unknown) names.push(`0x${unknown.toString(16)}`);
  return names.join('|');
}

/** An ECC P-256 public area with nameAlg SHA-256, no symmetric algorithm and no KDF, as EVE's templates have. */
export interface EccPublic {
  /** TPMA_OBJECT. */
  attributes: number;
  /** TPMT_ECC_SCHEME: TPM_ALG.NULL, or TPM_ALG.ECDSA with SHA-256. */
  scheme: typeof TPM_ALG.NULL | typeof TPM_ALG.ECDSA;
  /** unique.x: in a template, a label that makes the key distinct; in a key's public area, the point's X. */
  x: Uint8Array;
  /** unique.y. */
  y: Uint8Array;
}

/** TPMT_PUBLIC of an ECC key (no TPM2B size; `tpm2_createprimary --template-data` writes these bytes). */
export function encodeEccPublic(p: EccPublic): Buffer {
  const scheme = p.scheme === TPM_ALG.NULL ? u16(TPM_ALG.NULL) : Buffer.concat([u16(TPM_ALG.ECDSA), u16(TPM_ALG.SHA256)]);
  return Buffer.concat([
    u16(TPM_ALG.ECC),
    u16(TPM_ALG.SHA256),
    u32(p.attributes),
    tpm2b(new Uint8Array(0)), // authPolicy
    u16(TPM_ALG.NULL), // symmetric
    scheme,
    u16(TPM_ECC_NIST_P256),
    u16(TPM_ALG.NULL), // kdf
    tpm2b(p.x),
    tpm2b(p.y),
  ]);
}

/** A decoded ECC public area: every field of TPMT_PUBLIC the key store checks. */
export interface DecodedEccPublic {
  nameAlg: number;
  attributes: number;
  authPolicy: Buffer;
  /** TPMT_SYM_DEF_OBJECT.algorithm (NULL for a key that is not a storage parent). */
  symmetric: number;
  scheme: number;
  /** The scheme's hash algorithm, or undefined for TPM_ALG_NULL. */
  schemeHash?: number;
  curve: number;
  kdf: number;
  /** unique as a SEC1 uncompressed point (0x04 ‖ pad32(X) ‖ pad32(Y)). */
  point: Uint8Array;
}

function pad32(b: Buffer, field: string): Buffer {
  let v = b;
  while (v.length > 32 && v[0] === 0) v = v.subarray(1);
  if (v.length > 32) throw new TpmError('TOOL_FAILED', 'parse', `TPMT_PUBLIC: ${field} longer than 32 bytes`);
  return Buffer.concat([Buffer.alloc(32 - v.length), v]);
}

/** Decodes a TPMT_PUBLIC of an ECC key (the contents of a TPM2B_PUBLIC). @throws TpmError for another key type. */
export function decodeEccPublic(buf: Buffer): DecodedEccPublic {
  const r = new TpmReader(buf, 'TPMT_PUBLIC');
  const type = r.u16('type');
  if (type !== TPM_ALG.ECC) throw new TpmError('TOOL_FAILED', 'parse', `TPMT_PUBLIC: type 0x${type.toString(16)} is not ECC`);
  const nameAlg = r.u16('nameAlg');
  const attributes = r.u32('objectAttributes');
  const authPolicy = Buffer.from(r.tpm2b('authPolicy'));
  const symmetric = r.u16('symmetric.algorithm');
  if (symmetric !== TPM_ALG.NULL) r.bytes(4, 'symmetric.keyBits/mode');
  const scheme = r.u16('scheme.scheme');
  const schemeHash = scheme === TPM_ALG.NULL ? undefined : r.u16('scheme.hashAlg');
  if (scheme === TPM_ALG.ECDAA) r.u16('scheme.count');
  const curve = r.u16('curveID');
  const kdf = r.u16('kdf.scheme');
  if (kdf !== TPM_ALG.NULL) r.u16('kdf.hashAlg');
  const x = pad32(r.tpm2b('unique.x'), 'unique.x');
  const y = pad32(r.tpm2b('unique.y'), 'unique.y');
  r.end();
  return {
    nameAlg,
    attributes,
    authPolicy,
    symmetric,
    scheme,
    ...(schemeHash === undefined ? {} : { schemeHash }),
    curve,
    kdf,
    point: Buffer.concat([Buffer.from([4]), x, y]),
  };
}

/**
 * Whether a key's public area was made from `template`: every field but unique (which holds the key's point)
 * equal. The key store compares existing persistent keys with EVE's templates this way.
 */
export function matchesTemplate(pub: DecodedEccPublic, template: EccPublic): boolean {
  return (
    pub.nameAlg === TPM_ALG.SHA256 &&
    pub.attributes === template.attributes &&
    pub.authPolicy.length === 0 &&
    pub.symmetric === TPM_ALG.NULL &&
    pub.scheme === template.scheme &&
    pub.schemeHash === (template.scheme === TPM_ALG.NULL ? undefined : TPM_ALG.SHA256) &&
    pub.curve === TPM_ECC_NIST_P256 &&
    pub.kdf === TPM_ALG.NULL
  );
}

/**
 * Object-level encryption: CipherContext/CipherBlock (cipher-and-tpm.md §3-8). Controller side as Eden encrypts
 * (`lf-edge/eden: pkg/utils/cryptoConfig.go`, `cipher.go`, `x509.go`); device side in EVE's check order
 * (`lf-edge/eve: pkg/pillar/cipher/handlecipher.go`, `pkg/pillar/evetpm/encryptdecypt.go`).
 * Decrypted values never appear in error messages.
 */
import { createCipheriv, createDecipheriv, createHash } from 'node:crypto';
import { common, decode, encode, isWireError } from './codec.js';
import type { EcdhKey } from './keys.js';
import { controllerZCertHash, deviceZCertHash, sha256 } from './pem.js';
import { certPublicKeyPoint } from './soft-keys.js';

/** Why a CipherBlock could not be decrypted; the labels of vectors/cipher/negative.json plus MALFORMED. */
export type CipherErrorKind =
  | 'CIPHER_BLOCK_INCOMPLETE'
  | 'CIPHER_CONTEXT_NOT_FOUND'
  | 'KEY_EXCHANGE_SCHEME_UNSUPPORTED'
  | 'CONTROLLER_CERT_NOT_FOUND'
  | 'DEVICE_CERT_NOT_FOUND'
  | 'ENCRYPTION_SCHEME_UNSUPPORTED'
  | 'INITIAL_VALUE_INVALID'
  | 'CLEARTEXT_SHA256_MISMATCH'
  | 'MALFORMED'; // the plaintext is not a serialized EncryptionBlock, or a cert/key is unusable

/** A CipherBlock that cannot be decrypted (or encrypted). */
export class CipherError extends Error {
  override readonly name = 'CipherError';
  constructor(
    readonly kind: CipherErrorKind,
    message: string,
    /** `cipherContextId` of the block, when known. */
    readonly contextId?: string,
  ) {
    super(message);
  }
}

/** Type guard for CipherError. */
export function isCipherError(e: unknown): e is CipherError {
  return e instanceof CipherError;
}

/** Options of `encryptCipherBlock` (controller side). */
export interface EncryptCipherBlockOptions {
  /** Controller cert PEM whose key does the ECDH (signing cert by default in Eden, or the encrypt cert). */
  controllerCertPem: Uint8Array;
  /** The private key of that cert. */
  controllerEcdh: EcdhKey;
  /** The device's ECDH cert, exactly the `ZCert.cert` bytes it published in ATTEST_REQ_CERT. */
  deviceEcdhCertPem: Uint8Array;
  /** IV override (16 bytes); default Eden's SHA-256(controllerCertHash[:8] ‖ deviceCertHash[:8])[:16]. */
  initialValue?: Uint8Array;
  signal?: AbortSignal;
}

/** A CipherBlock with the context it names (add the context to `EdgeDevConfig.cipherContexts` once). */
export interface EncryptedCipherBlock {
  context: common.ICipherContext;
  block: common.ICipherBlock;
}

/**
 * Encrypts an EncryptionBlock (or raw plaintext bytes) for a device, as Eden does: 16-byte cert hashes,
 * contextId = UUIDv5 layout of SHA-1(16 zero bytes ‖ controllerCertHash ‖ deviceCertHash), IV derived from the
 * hashes, key = SHA-256(X ‖ Y) of the ECDH point, AES-256-CFB-128, clearTextSha256 = SHA-256(plaintext).
 */
export async function encryptCipherBlock(
  plaintext: common.IEncryptionBlock | Uint8Array,
  opts: EncryptCipherBlockOptions,
): Promise<EncryptedCipherBlock> {
  const clear = plaintext instanceof Uint8Array ? Buffer.from(plaintext) : encode(common.EncryptionBlock, plaintext);
  const controllerCertHash = controllerZCertHash(opts.controllerCertPem);
  const deviceCertHash = deviceZCertHash(opts.deviceEcdhCertPem);
  const contextId = cipherContextId(controllerCertHash, deviceCertHash);
  const iv = opts.initialValue ? Buffer.from(opts.initialValue) : cipherInitialValue(controllerCertHash, deviceCertHash);
  if (iv.length !== 16) throw new CipherError('INITIAL_VALUE_INVALID', `initialValue must be 16 bytes, got ${iv.length}`);
  const devicePoint = peerPoint(opts.deviceEcdhCertPem, 'device ECDH certificate');
  const key = aesKeyFromPoint(await opts.controllerEcdh.zgen(devicePoint, opts.signal));
  const cipher = createCipheriv('aes-256-cfb', key, iv);
  const cipherData = Buffer.concat([cipher.update(clear), cipher.final()]);
  return {
    context: {
      contextId,
      hashScheme: common.HashAlgorithm.HASH_ALGORITHM_SHA256_16BYTES,
      keyExchangeScheme: common.KeyExchangeScheme.KEA_ECDH,
      encryptionScheme: common.EncryptionScheme.SA_AES_256_CFB,
      deviceCertHash,
      controllerCertHash,
    },
    block: { cipherContextId: contextId, initialValue: iv, cipherData, clearTextSha256: sha256(clear) },
  };
}

/**
 * `contextId` of Eden (Go `uuid.NewSHA1(uuid.Nil, controllerCertHash ‖ deviceCertHash)`): SHA-1 over 16 zero
 * bytes ‖ both hashes, first 16 bytes, version nibble 5, RFC 4122 variant, in canonical string form.
 */
export function cipherContextId(controllerCertHash: Uint8Array, deviceCertHash: Uint8Array): string {
  const h = createHash('sha1').update(Buffer.alloc(16)).update(controllerCertHash).update(deviceCertHash).digest();
  const b = h.subarray(0, 16);
  b[6] = ((b[6] ?? 0) & 0x0f) | 0x50;
  b[8] = ((b[8] ?? 0) & 0x3f) | 0x80;
  const x = b.toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

/** Eden's IV: SHA-256(controllerCertHash[:8] ‖ deviceCertHash[:8])[:16]. */
export function cipherInitialValue(controllerCertHash: Uint8Array, deviceCertHash: Uint8Array): Buffer {
  return sha256(controllerCertHash.subarray(0, 8), deviceCertHash.subarray(0, 8)).subarray(0, 16);
}

/** What the device needs to decrypt. */
export interface CipherEnv {
  /** The device ECDH key (TPM 0x81000005 or soft `ecdh.key.pem`). */
  ecdhKey: EcdhKey;
  /** Controller certs by `hex(ZCert.certHash)` from `/certs` (VerifiedControllerCerts.certsByHashHex). */
  controllerCertsByHashHex: ReadonlyMap<string, Uint8Array>;
  /** The device's own published certs by `hex(SHA-256(PEM file)[:16])`. */
  deviceCertsByHashHex: ReadonlyMap<string, Uint8Array>;
  signal?: AbortSignal;
}

/**
 * Device side: decrypts a CipherBlock against the config's cipher contexts and parses the EncryptionBlock.
 * @throws CipherError (kinds in EVE's check order; `MALFORMED` when the plaintext is not an EncryptionBlock)
 */
export async function decryptCipherBlock(
  block: common.ICipherBlock,
  contexts: readonly common.ICipherContext[],
  env: CipherEnv,
): Promise<common.EncryptionBlock> {
  const clear = await decryptCipherBlockBytes(block, contexts, env);
  try {
    return decode(common.EncryptionBlock, clear);
  } catch (e) {
    if (isWireError(e)) {
      throw new CipherError('MALFORMED', 'decrypted data is not an EncryptionBlock', block.cipherContextId ?? '');
    }
    throw e;
  }
}

/**
 * Device side: decrypts a CipherBlock and returns the verified clear bytes (EVE `GetCipherData`; also the
 * encrypted AuthContainer of eve-api.md §5.6 with its embedded context passed as `contexts`).
 * @throws CipherError
 */
export async function decryptCipherBlockBytes(
  block: common.ICipherBlock,
  contexts: readonly common.ICipherContext[],
  env: CipherEnv,
): Promise<Buffer> {
  const id = block.cipherContextId ?? '';
  const cipherData = bytes(block.cipherData);
  if (cipherData.length === 0 || id === '') {
    throw new CipherError('CIPHER_BLOCK_INCOMPLETE', 'cipher block has no cipherData or cipherContextId', id);
  }
  const ctx = contexts.find((c) => (c.contextId ?? '') !== '' && c.contextId === id);
  if (!ctx) throw new CipherError('CIPHER_CONTEXT_NOT_FOUND', `cipher context ${id} not found`, id);
  if (ctx.keyExchangeScheme !== common.KeyExchangeScheme.KEA_ECDH) {
    throw new CipherError('KEY_EXCHANGE_SCHEME_UNSUPPORTED', `cipher context ${id}: key exchange scheme is not KEA_ECDH`, id);
  }
  const controllerHashHex = bytes(ctx.controllerCertHash).toString('hex');
  const controllerCert = env.controllerCertsByHashHex.get(controllerHashHex);
  if (!controllerCert) {
    throw new CipherError('CONTROLLER_CERT_NOT_FOUND', `cipher context ${id}: no controller cert ${controllerHashHex}`, id);
  }
  const deviceHashHex = bytes(ctx.deviceCertHash).toString('hex');
  if (!env.deviceCertsByHashHex.has(deviceHashHex)) {
    throw new CipherError('DEVICE_CERT_NOT_FOUND', `cipher context ${id}: no device cert ${deviceHashHex}`, id);
  }
  if (ctx.encryptionScheme !== common.EncryptionScheme.SA_AES_256_CFB) {
    throw new CipherError('ENCRYPTION_SCHEME_UNSUPPORTED', `cipher context ${id}: encryption scheme is not SA_AES_256_CFB`, id);
  }
  const iv = bytes(block.initialValue);
  if (iv.length !== 16) {
    throw new CipherError('INITIAL_VALUE_INVALID', `cipher block ${id}: initialValue has ${iv.length} bytes, expected 16`, id);
  }
  const point = await env.ecdhKey.zgen(peerPoint(controllerCert, 'controller certificate', id), env.signal);
  const decipher = createDecipheriv('aes-256-cfb', aesKeyFromPoint(point), iv);
  const clear = Buffer.concat([decipher.update(cipherData), decipher.final()]);
  const want = bytes(block.clearTextSha256);
  if (clear.length === 0 || want.length === 0 || !sha256(clear).equals(want)) {
    throw new CipherError('CLEARTEXT_SHA256_MISMATCH', `cipher block ${id}: data validation failed`, id);
  }
  return clear;
}

/** AES-256 key of EVE: SHA-256(pad32(X) ‖ pad32(Y)) of the full shared point (0x04 ‖ X ‖ Y). */
export function aesKeyFromPoint(point: Uint8Array): Buffer {
  if (point.length !== 65 || point[0] !== 4) {
    throw new CipherError('MALFORMED', `ECDH returned ${point.length} bytes, expected an uncompressed P-256 point`);
  }
  return sha256(point.subarray(1));
}

function peerPoint(certPem: Uint8Array, what: string, contextId?: string): Uint8Array {
  try {
    return certPublicKeyPoint(certPem);
  } catch {
    throw new CipherError('MALFORMED', `${what} has no usable EC P-256 public key`, contextId ?? '');
  }
}

function bytes(b: Uint8Array | null | undefined): Buffer {
  return b ? Buffer.from(b.buffer, b.byteOffset, b.byteLength) : Buffer.alloc(0);
}

/**
 * Software P-256 keys: load (every PEM form EVE and Eden write), generate, export, and the `Signer`/`EcdhKey`
 * implementations over them. The TPM backends live in src/tpm/; this is the soft fallback and the controller's
 * key handling (cipher-and-tpm.md §7, §11).
 */
import {
  createPrivateKey,
  generateKeyPair,
  generateKeyPairSync,
  sign as cryptoSign,
  X509Certificate,
  type ECKeyPairOptions,
  type JsonWebKey,
  type KeyObject,
} from 'node:crypto';
import { p256 } from '@noble/curves/nist.js';
import type { EcdhKey, Signer } from './keys.js';
import { pemBlocks, toPem } from './pem.js';

/** A P-256 key pair held in memory. */
export interface SoftKey {
  /** Private scalar d, 32 bytes big-endian. */
  readonly privateKey: Uint8Array;
  /** Public key as an uncompressed SEC1 point (0x04 ‖ X ‖ Y, 65 bytes). */
  readonly publicKey: Uint8Array;
  /** The same key as a node:crypto KeyObject when it was loaded as one; generated keys have none (`softKeyObject` imports). */
  readonly keyObject?: KeyObject;
}

/** Why a key could not be used. */
export type KeyErrorKind = 'MALFORMED_PEM' | 'UNSUPPORTED_KEY';

/** A key or certificate that cannot be loaded or is not an ECDSA P-256 key. */
export class KeyError extends Error {
  override readonly name = 'KeyError';
  constructor(
    readonly kind: KeyErrorKind,
    message: string,
  ) {
    super(message);
  }
}

/** Type guard for KeyError. */
export function isKeyError(e: unknown): e is KeyError {
  return e instanceof KeyError;
}

/**
 * Loads a P-256 private key from PEM in any of the forms found on EVE devices and controllers:
 * PKCS#8 `PRIVATE KEY`; SEC1 DER inside a `PRIVATE KEY` label (EVE's `device.key.pem`/`ecdh.key.pem`);
 * `EC PRIVATE KEY`, optionally preceded by `EC PARAMETERS` (Eden).
 * @throws KeyError `MALFORMED_PEM` when no private key block parses, `UNSUPPORTED_KEY` when it is not P-256.
 */
export function loadPrivateKeyPem(pem: Uint8Array | string): SoftKey {
  const blocks = pemBlocks(pem).filter((b) => b.label === 'PRIVATE KEY' || b.label === 'EC PRIVATE KEY');
  const block = blocks[0];
  if (!block) throw new KeyError('MALFORMED_PEM', 'no PRIVATE KEY or EC PRIVATE KEY block in PEM input');
  let key: KeyObject | undefined;
  const tries: Array<'pkcs8' | 'sec1'> = block.label === 'PRIVATE KEY' ? ['pkcs8', 'sec1'] : ['sec1'];
  for (const type of tries) {
    try {
      key = createPrivateKey({ key: block.der, format: 'der', type });
      break;
    } catch {
      // try the next encoding
    }
  }
  if (!key) throw new KeyError('MALFORMED_PEM', `${block.label} block is neither PKCS#8 nor SEC1 DER`);
  return softKeyFromKeyObject(key);
}

/** generateKeyPairSync with JWK encodings (Node supports them; @types/node has no overload returning JWK). */
const generateJwkPair = generateKeyPairSync as unknown as (
  type: 'ec',
  options: ECKeyPairOptions<'jwk', 'jwk'>,
) => { publicKey: JsonWebKey; privateKey: JsonWebKey };

/**
 * Generates a fresh P-256 key pair. The generation job encodes it as JWK itself: exporting the KeyObject that
 * generateKeyPairSync returns deadlocks Node 20 when a GC during the export collects that key's generation job
 * (its destructor takes the key's mutex, which the export holds) — seen after ~2,500 keys, e.g. a 10,000-device run.
 */
export function generateSoftKey(): SoftKey {
  const { privateKey: jwk } = generateJwkPair('ec', {
    namedCurve: 'prime256v1',
    publicKeyEncoding: { type: 'spki', format: 'jwk' },
    privateKeyEncoding: { type: 'pkcs8', format: 'jwk' },
  });
  return softKeyFromJwk(jwk);
}

/** generateKeyPair (the thread-pool form) with JWK encodings, for the same reason as `generateJwkPair`. */
const generateJwkPairOffThread = generateKeyPair as unknown as (
  type: 'ec',
  options: ECKeyPairOptions<'jwk', 'jwk'>,
  callback: (err: Error | null, publicKey: JsonWebKey, privateKey: JsonWebKey) => void,
) => void;

/**
 * `generateSoftKey` on the libuv thread pool: a fleet makes three keys per device, its one thread goes on meanwhile.
 * The job encodes the key as JWK itself, as `generateSoftKey` does (no export of a generated KeyObject). Neither
 * imports it back into OpenSSL: that costs ~70 µs, and only the device key, which signs, ever needs it
 * (`softKeyObject`, once per signer); PEMs are written from the scalar and point (`softKeyToSec1Pem`).
 */
export function generateSoftKeyOffThread(): Promise<SoftKey> {
  return new Promise((resolve, reject) =>
    generateJwkPairOffThread(
      'ec',
      { namedCurve: 'prime256v1', publicKeyEncoding: { type: 'spki', format: 'jwk' }, privateKeyEncoding: { type: 'pkcs8', format: 'jwk' } },
      (err, _publicKey, jwk) => {
        if (err) return reject(err);
        try {
          resolve(softKeyFromJwk(jwk));
        } catch (e) {
          reject(e instanceof Error ? e : new Error(String(e)));
        }
      },
    ),
  );
}

/**
 * SEC1 PEM (`-----BEGIN EC PRIVATE KEY-----`, trailing newline) of a soft key, for 0600 key files and the fleet's
 * state; `loadPrivateKeyPem` reads it. The bytes are OpenSSL's: every P-256 key has the same SEC1 layout (a 32-byte
 * scalar, the named curve, a 65-byte point), so OpenSSL's export of one key is taken once and each key's scalar and
 * point are written into a copy of it. A key without its KeyObject is thus never imported into OpenSSL to be written.
 */
export function softKeyToSec1Pem(key: SoftKey): string {
  if (key.privateKey.length !== 32 || key.publicKey.length !== 65) {
    throw new KeyError('UNSUPPORTED_KEY', `expected a P-256 key (32-byte scalar, 65-byte point), got ${key.privateKey.length} and ${key.publicKey.length} bytes`);
  }
  sec1Layout ??= opensslSec1Layout();
  const der = Buffer.from(sec1Layout.der);
  der.set(key.privateKey, sec1Layout.scalarAt);
  der.set(key.publicKey, sec1Layout.pointAt);
  return toPem(der, 'EC PRIVATE KEY');
}

/** Where a P-256 SEC1 DER (as OpenSSL writes it) holds the scalar and the point; found once per process. */
let sec1Layout: { der: Buffer; scalarAt: number; pointAt: number } | undefined;

function opensslSec1Layout(): { der: Buffer; scalarAt: number; pointAt: number } {
  const key = generateSoftKey();
  const der = softKeyObject(key).export({ format: 'der', type: 'sec1' });
  const scalarAt = der.indexOf(key.privateKey);
  const pointAt = der.indexOf(key.publicKey);
  if (scalarAt < 0 || pointAt < 0) throw new Error('OpenSSL wrote a SEC1 key without its scalar or point');
  return { der, scalarAt, pointAt };
}

/** PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`, trailing newline) of a soft key (the controller's key files). */
export function softKeyToPkcs8Pem(key: SoftKey): string {
  return softKeyObject(key).export({ format: 'pem', type: 'pkcs8' }).toString();
}

/**
 * A Signer over a soft key: ECDSA P-256 over the given digest with an RFC 6979 deterministic nonce and no
 * low-S normalisation (so the test vectors' signatures reproduce byte for byte), returned as raw r‖s (64 bytes).
 */
export function softSigner(key: SoftKey): Signer {
  const priv = key.privateKey;
  return {
    signDigest(digest: Uint8Array): Promise<Uint8Array> {
      const sig = p256.sign(digest, priv, { prehash: false, lowS: false });
      return Promise.resolve(sig.toCompactRawBytes());
    },
  };
}

/**
 * A Signer over a soft key for the hot path: `sign(message)` is OpenSSL's ECDSA over SHA-256 (node:crypto, ~15×
 * faster than pure JS) with a random nonce, raw r‖s. With `offThread` it signs on the libuv thread pool: a fleet
 * signs every request of every device and its one thread goes on meanwhile (~22 µs of it saved per signature, a few
 * µs more CPU in all for the hand-off). `signDigest` (a bare digest, which node:crypto cannot sign) stays the
 * deterministic pure-JS signer. Both verify the same way; only `softSigner` reproduces vectors.
 */
export function opensslSigner(key: SoftKey, opts: { offThread?: boolean } = {}): Signer {
  const keyObject = softKeyObject(key);
  const digestSigner = softSigner(key);
  const signKey = { key: keyObject, dsaEncoding: 'ieee-p1363' } as const;
  return {
    signDigest: (digest, signal) => digestSigner.signDigest(digest, signal),
    sign: opts.offThread
      ? (message) => new Promise((resolve, reject) => cryptoSign('sha256', message, signKey, (err, sig) => (err ? reject(err) : resolve(sig))))
      : (message) => Promise.resolve(cryptoSign('sha256', message, signKey)),
  };
}

/** The node:crypto private KeyObject of a soft key. */
export function softKeyObject(key: SoftKey): KeyObject {
  if (key.keyObject) return key.keyObject;
  const jwk = {
    kty: 'EC',
    crv: 'P-256',
    d: Buffer.from(key.privateKey).toString('base64url'),
    x: Buffer.from(key.publicKey.subarray(1, 33)).toString('base64url'),
    y: Buffer.from(key.publicKey.subarray(33, 65)).toString('base64url'),
  };
  return createPrivateKey({ key: jwk, format: 'jwk' });
}

/** An EcdhKey over a soft key: d · peer, returned as the full uncompressed point (0x04 ‖ X ‖ Y). */
export function softEcdh(key: SoftKey): EcdhKey {
  const priv = key.privateKey;
  return {
    zgen(peerPoint: Uint8Array): Promise<Uint8Array> {
      return Promise.resolve(p256.getSharedSecret(priv, peerPoint, false));
    },
  };
}

/**
 * Public key of the first certificate in `certPem` as an uncompressed SEC1 point.
 * @throws KeyError `MALFORMED_PEM` / `UNSUPPORTED_KEY` (not an EC P-256 key).
 */
export function certPublicKeyPoint(certPem: Uint8Array | string): Uint8Array {
  const [block] = pemBlocks(certPem, 'CERTIFICATE');
  if (!block) throw new KeyError('MALFORMED_PEM', 'no CERTIFICATE block in PEM input');
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(block.der);
  } catch {
    throw new KeyError('MALFORMED_PEM', 'CERTIFICATE block does not parse as X.509');
  }
  return publicPoint(cert.publicKey);
}

/** Uncompressed SEC1 point of an EC P-256 public (or private) KeyObject. */
function publicPoint(key: KeyObject): Uint8Array {
  const jwk = key.export({ format: 'jwk' });
  if (jwk.kty !== 'EC' || jwk.crv !== 'P-256' || !jwk.x || !jwk.y) {
    throw new KeyError('UNSUPPORTED_KEY', `expected an EC P-256 key, got ${jwk.kty ?? '?'} ${jwk.crv ?? ''}`.trim());
  }
  return Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x, 'base64url'), Buffer.from(jwk.y, 'base64url')]);
}

function softKeyFromKeyObject(key: KeyObject): SoftKey {
  return softKeyFromJwk(key.export({ format: 'jwk' }), key);
}

function softKeyFromJwk(jwk: JsonWebKey, key?: KeyObject): SoftKey {
  if (jwk.kty !== 'EC' || jwk.crv !== 'P-256' || !jwk.d) {
    throw new KeyError('UNSUPPORTED_KEY', `expected an EC P-256 private key, got ${jwk.kty ?? '?'} ${jwk.crv ?? ''}`.trim());
  }
  const point = Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x!, 'base64url'), Buffer.from(jwk.y!, 'base64url')]);
  return { privateKey: Buffer.from(jwk.d, 'base64url'), publicKey: point, ...(key ? { keyObject: key } : {}) };
}

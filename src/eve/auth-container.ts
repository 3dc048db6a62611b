/**
 * AuthContainer sealing and opening for both sides (eve-api.md §5;
 * `lf-edge/eve: pkg/pillar/controllerconn/authen.go`, `lf-edge/adam: pkg/server/apiHandlerv2.go`).
 */
import { verify as cryptoVerify, X509Certificate, type KeyObject } from 'node:crypto';
import { auth, common, decode, encode, isWireError } from './codec.js';
import { signMessage, type Signer } from './keys.js';
import { controllerSenderCertHash, deviceSenderCertHash, pemBlocks, sha256 } from './pem.js';

/** Why an AuthContainer was refused; names follow EVE's SenderStatus and Adam's 400/401 causes. */
export type AuthErrorKind =
  | 'MALFORMED' // not an AuthContainer, no payload, or an unparsable certificate (Adam 400)
  | 'HASH_SIZE' // senderCertHash neither 16 nor 32 bytes (SenderStatusHashSizeError)
  | 'ALGO' // algo neither SHA256_16BYTES nor SHA256_32BYTES (SenderStatusAlgoFail)
  | 'CERT_MISS' // senderCertHash does not match the controller signing cert (SenderStatusCertMiss)
  | 'SIGNATURE' // signature does not verify (SenderStatusSignVerifyFail; Adam 401)
  | 'EMPTY_SENDER_HASH' // device request without senderCertHash (Adam 401)
  | 'UNKNOWN_SENDER'; // no device cert with that hash (Adam 401)

/** An AuthContainer that cannot be accepted. */
export class AuthError extends Error {
  override readonly name = 'AuthError';
  constructor(
    readonly kind: AuthErrorKind,
    message: string,
  ) {
    super(message);
  }
}

/** Type guard for AuthError. */
export function isAuthError(e: unknown): e is AuthError {
  return e instanceof AuthError;
}

/** Options of `sealDeviceRequest`. */
export interface DeviceSealOptions {
  /** Signs with the device key (or, for /register, the onboarding key). */
  signer: Signer;
  /** PEM of the sender cert (device cert; onboarding cert for /register); its DER is hashed. */
  senderCertPem: Uint8Array;
  /** Set `senderCert` = base64(PEM) as ASCII; only for POST /register (eve-api.md §5.1 step 5). Default false. */
  includeSenderCert?: boolean;
  signal?: AbortSignal;
}

/**
 * Wraps a serialized request into a device AuthContainer and returns the POST body:
 * `algo` SHA256_32BYTES, `senderCertHash` = SHA-256(DER of the sender cert) (32 bytes),
 * `signatureHash` = r‖s over SHA-256(payload) (eve-api.md §5.1). `payload` may be empty (UuidRequest).
 */
export async function sealDeviceRequest(payload: Uint8Array, opts: DeviceSealOptions): Promise<Buffer> {
  const signature = await signMessage(opts.signer, payload, sha256, opts.signal);
  const ac: auth.IAuthContainer = {
    protectedPayload: { payload },
    algo: common.HashAlgorithm.HASH_ALGORITHM_SHA256_32BYTES,
    senderCertHash: deviceSenderCertHash(opts.senderCertPem),
    signatureHash: signature,
  };
  if (opts.includeSenderCert === true) {
    ac.senderCert = Buffer.from(Buffer.from(opts.senderCertPem).toString('base64'), 'latin1');
  }
  return encodeContainer(ac);
}

/** Options of `sealControllerReply`. */
export interface ControllerSealOptions {
  /** Signs with the controller signing key. */
  signer: Signer;
  /** The signing cert PEM (trimmed before hashing, so file bytes and `ZCert.cert` bytes give the same hash). */
  signingCertPem: Uint8Array;
  /** Length of `senderCertHash`: 32 (Adam, algo SHA256_32BYTES) or 16 (algo SHA256_16BYTES). Default 32. */
  hashLength?: 16 | 32;
  signal?: AbortSignal;
}

/**
 * Wraps a serialized reply into a controller AuthContainer (Adam `prepareEnvelope`, eve-api.md §5.3):
 * `senderCertHash` = SHA-256(trimmed signing PEM), r‖s signature over SHA-256(payload), no `senderCert`.
 */
export async function sealControllerReply(payload: Uint8Array, opts: ControllerSealOptions): Promise<Buffer> {
  const full = controllerSenderCertHash(opts.signingCertPem);
  const short = opts.hashLength === 16;
  const signature = await signMessage(opts.signer, payload, sha256, opts.signal);
  return encodeContainer({
    protectedPayload: { payload },
    algo: short ? common.HashAlgorithm.HASH_ALGORITHM_SHA256_16BYTES : common.HashAlgorithm.HASH_ALGORITHM_SHA256_32BYTES,
    senderCertHash: short ? full.subarray(0, 16) : full,
    signatureHash: signature,
  });
}

/**
 * Parses an AuthContainer without checking it (for `/certs` replies, whose chain is checked instead, §5.4 step 1).
 * @throws AuthError `MALFORMED`
 */
export function parseAuthContainer(bytes: Uint8Array): auth.AuthContainer {
  try {
    return decode(auth.AuthContainer, bytes);
  } catch (e) {
    if (isWireError(e)) throw new AuthError('MALFORMED', e.message);
    throw e;
  }
}

/** The payload of an AuthContainer (empty when absent). */
export function authContainerPayload(ac: auth.IAuthContainer): Buffer {
  const p = ac.protectedPayload?.payload;
  return p ? Buffer.from(p.buffer, p.byteOffset, p.byteLength) : Buffer.alloc(0);
}

/**
 * Device side: verifies a controller reply and returns its payload (EVE `RemoveAndVerifyAuthContainer`, §5.4):
 * hash size 16|32 → `HASH_SIZE`; algo and SHA-256(signing PEM bytes exactly as received)[:len] → `ALGO` /
 * `CERT_MISS`; signature r‖s (ECDSA) or PKCS#1 v1.5 (RSA) over SHA-256(payload) → `SIGNATURE`.
 * @param signingCertPem the single SIGNING `ZCert.cert` bytes from `/certs`, exactly as received.
 * @throws AuthError
 */
export function openControllerReply(bytes: Uint8Array, signingCertPem: Uint8Array): Buffer {
  const ac = parseAuthContainer(bytes);
  const hash = bytesOf(ac.senderCertHash);
  if (hash.length !== 16 && hash.length !== 32) {
    throw new AuthError('HASH_SIZE', `senderCertHash has ${hash.length} bytes, expected 16 or 32`);
  }
  const full = sha256(signingCertPem);
  let expected: Buffer;
  if (ac.algo === common.HashAlgorithm.HASH_ALGORITHM_SHA256_32BYTES) expected = full;
  else if (ac.algo === common.HashAlgorithm.HASH_ALGORITHM_SHA256_16BYTES) expected = full.subarray(0, 16);
  else throw new AuthError('ALGO', `unsupported AuthContainer algo ${String(ac.algo)}`);
  if (!expected.equals(hash)) {
    throw new AuthError('CERT_MISS', 'senderCertHash does not match the controller signing certificate');
  }
  const payload = authContainerPayload(ac);
  verifySignature(certificatePublicKey(signingCertPem), payload, bytesOf(ac.signatureHash), false);
  return payload;
}

/** A device request whose signature verified. */
export interface VerifiedDeviceRequest {
  /** The serialized inner message. */
  payload: Buffer;
  /** `senderCertHash` as sent (32 bytes for EVE devices). */
  senderCertHash: Buffer;
  /** PEM of the cert that verified the signature (looked up, or carried in `senderCert` for /register). */
  senderCertPem: Buffer;
}

/** Finds the device cert PEM whose SHA-256(DER) equals `senderCertHash` (32 bytes); undefined when none. */
export type DeviceCertLookup = (
  senderCertHash: Buffer,
) => Uint8Array | undefined | Promise<Uint8Array | undefined>;

/**
 * Controller side: verifies a device request (Adam `validateAuthContainerAndRecord`, §5.2): empty hash →
 * `EMPTY_SENDER_HASH`; lookup miss → `UNKNOWN_SENDER`; signature over SHA-256(payload), ASN.1 DER first, else
 * raw r‖s (ECDSA) or PKCS#1 v1.5 (RSA) → `SIGNATURE`.
 * @throws AuthError
 */
export async function openDeviceRequest(bytes: Uint8Array, lookup: DeviceCertLookup): Promise<VerifiedDeviceRequest> {
  const ac = parseAuthContainer(bytes);
  const hash = bytesOf(ac.senderCertHash);
  if (hash.length === 0) throw new AuthError('EMPTY_SENDER_HASH', 'AuthContainer has no senderCertHash');
  const certPem = await lookup(hash);
  if (!certPem) throw new AuthError('UNKNOWN_SENDER', `no device certificate with hash ${hash.toString('hex')}`);
  const payload = authContainerPayload(ac);
  // On the libuv thread pool: a controller verifies every request of every device, and its event loop goes on.
  if (!(await verifyOnThreadPool(certificatePublicKey(certPem), payload, bytesOf(ac.signatureHash)))) {
    throw new AuthError('SIGNATURE', 'AuthContainer signature does not verify');
  }
  return { payload, senderCertHash: hash, senderCertPem: bytesOf(certPem) };
}

/**
 * Controller side, POST /register: verifies with the onboarding cert carried in `senderCert`
 * (base64 of its PEM); `senderCertHash` must only be non-empty (Adam, §5.2).
 * @throws AuthError (`MALFORMED` when `senderCert` is missing or does not decode to a certificate)
 */
export function openRegisterRequest(bytes: Uint8Array): VerifiedDeviceRequest {
  const ac = parseAuthContainer(bytes);
  const hash = bytesOf(ac.senderCertHash);
  if (hash.length === 0) throw new AuthError('EMPTY_SENDER_HASH', 'AuthContainer has no senderCertHash');
  const carried = bytesOf(ac.senderCert);
  if (carried.length === 0) throw new AuthError('MALFORMED', 'register AuthContainer has no senderCert');
  const certPem = Buffer.from(carried.toString('latin1'), 'base64');
  const payload = authContainerPayload(ac);
  verifySignature(certificatePublicKey(certPem), payload, bytesOf(ac.signatureHash), true);
  return { payload, senderCertHash: hash, senderCertPem: certPem };
}

function encodeContainer(ac: auth.IAuthContainer): Buffer {
  return encode(auth.AuthContainer, ac);
}

function bytesOf(b: Uint8Array | null | undefined): Buffer {
  return b ? Buffer.from(b.buffer, b.byteOffset, b.byteLength) : Buffer.alloc(0);
}

/** Parsed certificate keys by PEM: every request of a device (and every reply to one) names the same cert. */
const certKeys = new Map<string, KeyObject>();
/** The same keys by PEM object, for callers that keep one buffer per cert (the controller's sender cache): no string built. */
const certKeysByObject = new WeakMap<Uint8Array, KeyObject>();
/** A fleet of 10,000 devices talks to one controller: every device's key stays parsed. */
const CERT_KEY_CACHE_SIZE = 16_384;

/**
 * Public key of the first certificate of a PEM, parsed once per PEM (an X.509 parse costs ~0.1 ms: the controller
 * checks a registering device's cert with this, and that device's every later request then finds its key parsed).
 * @throws AuthError `MALFORMED`
 */
export function certificatePublicKey(pem: Uint8Array): KeyObject {
  const byObject = certKeysByObject.get(pem);
  if (byObject) return byObject;
  const id = Buffer.from(pem).toString('latin1');
  const cached = certKeys.get(id);
  if (cached) {
    certKeysByObject.set(pem, cached);
    return cached;
  }
  const [block] = pemBlocks(pem, 'CERTIFICATE');
  if (!block) throw new AuthError('MALFORMED', 'certificate PEM has no CERTIFICATE block');
  let key: KeyObject;
  try {
    key = new X509Certificate(block.der).publicKey;
  } catch {
    throw new AuthError('MALFORMED', 'certificate does not parse as X.509');
  }
  if (certKeys.size >= CERT_KEY_CACHE_SIZE) certKeys.clear();
  certKeys.set(id, key);
  certKeysByObject.set(pem, key);
  return key;
}

/**
 * Verifies a signature over SHA-256(payload). ECDSA: raw r‖s (halves of the curve size); with `derFirst`
 * (Adam) an ASN.1 DER signature is tried first. RSA: PKCS#1 v1.5 with SHA-256. @throws AuthError `SIGNATURE`
 */
function verifySignature(key: KeyObject, payload: Buffer, signature: Buffer, derFirst: boolean): void {
  let ok = false;
  if (key.asymmetricKeyType === 'ec') {
    if (derFirst) ok = tryVerify(() => cryptoVerify('sha256', payload, { key, dsaEncoding: 'der' }, signature));
    if (!ok) ok = tryVerify(() => cryptoVerify('sha256', payload, { key, dsaEncoding: 'ieee-p1363' }, signature));
  } else if (key.asymmetricKeyType === 'rsa') {
    ok = tryVerify(() => cryptoVerify('sha256', payload, key, signature));
  }
  if (!ok) throw new AuthError('SIGNATURE', 'AuthContainer signature does not verify');
}

/**
 * `verifySignature(…, derFirst = true)` on the thread pool (OpenSSL through node:crypto's async verify): true when
 * any accepted encoding verifies. The encoding the signature looks like is tried first, so a valid one costs one
 * verification (EVE sends raw r‖s).
 */
function verifyOnThreadPool(key: KeyObject, payload: Buffer, signature: Buffer): Promise<boolean> {
  const der = signature.length >= 8 && signature[0] === 0x30 && signature[1] === signature.length - 2;
  const tries: ((cb: (err: Error | null, ok: boolean) => void) => void)[] =
    key.asymmetricKeyType === 'ec'
      ? (der ? (['der', 'ieee-p1363'] as const) : (['ieee-p1363', 'der'] as const)).map(
          (dsaEncoding) => (cb) => cryptoVerify('sha256', payload, { key, dsaEncoding }, signature, cb),
        )
      : key.asymmetricKeyType === 'rsa'
        ? [(cb) => cryptoVerify('sha256', payload, key, signature, cb)]
        : [];
  return new Promise((resolve) => {
    const attempt = (i: number): void => {
      if (i >= tries.length) return resolve(false);
      try {
        tries[i]((err, ok) => (!err && ok ? resolve(true) : attempt(i + 1)));
      } catch {
        attempt(i + 1);
      }
    };
    attempt(0);
  });
}

function tryVerify(f: () => boolean): boolean {
  try {
    return f();
  } catch {
    return false;
  }
}

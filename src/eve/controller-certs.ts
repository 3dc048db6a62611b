/**
 * Device-side verification of the controller's `/certs` reply (eve-api.md §7;
 * `lf-edge/eve: pkg/pillar/controllerconn/authen.go` VerifyProtoLeavesCertChainImpl, VerifyLeavesCertChainWithRootPEM).
 */
import { X509Certificate } from 'node:crypto';
import { certs, decode, isWireError } from './codec.js';
import { pemBlocks, sha256 } from './pem.js';

/** Why a controller cert set was refused. */
export type ControllerCertErrorKind =
  | 'MALFORMED' // not a ZControllerCert, or a cert that does not parse
  | 'SIGNING_COUNT' // not exactly one CERT_TYPE_CONTROLLER_SIGNING
  | 'NO_ECDH' // no CERT_TYPE_CONTROLLER_ECDH_EXCHANGE
  | 'UNEXPECTED_TYPE' // a type other than SIGNING, INTERMEDIATE, ECDH_EXCHANGE
  | 'CHAIN' // a leaf does not chain to the root through the intermediates
  | 'VALIDITY' // a certificate on the chain is outside its validity period
  | 'KEY_USAGE'; // a leaf's extended key usage excludes serverAuth (Go x509.Verify default)

/** A controller certificate set that cannot be trusted. */
export class ControllerCertError extends Error {
  override readonly name = 'ControllerCertError';
  constructor(
    readonly kind: ControllerCertErrorKind,
    message: string,
  ) {
    super(message);
  }
}

/** Type guard for ControllerCertError. */
export function isControllerCertError(e: unknown): e is ControllerCertError {
  return e instanceof ControllerCertError;
}

/** A verified controller cert set. */
export interface VerifiedControllerCerts {
  /** The single SIGNING cert: the exact `ZCert.cert` bytes (verifies every later reply, §5.4). */
  signingCertPem: Buffer;
  /** Every cert (any type) by `hex(ZCert.certHash)` as received: the cipher lookup table (§7 storage). */
  certsByHashHex: Map<string, Buffer>;
  /** Order-independent identity of the set: sorted `hex(certHash)` values joined by `,` (change detection). */
  hashSetKey: string;
}

/** Options of `verifyControllerCerts`. */
export interface VerifyControllerCertsOptions {
  /** Root CA PEM (`/config/root-certificate.pem`); every CERTIFICATE block in it is a trust anchor. */
  rootCaPem: Uint8Array;
  /** Time for the validity check, ms since the epoch (take it from the Clock). */
  nowMs: number;
}

const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const ANY_EKU = '2.5.29.37.0';
const MAX_CHAIN = 8;

/**
 * Verifies a `ZControllerCert` (serialized or decoded): INTERMEDIATE certs form the pool; exactly one SIGNING;
 * at least one ECDH_EXCHANGE; other types rejected; each SIGNING/ECDH leaf must chain to the root, with every
 * cert valid at `nowMs` and leaf EKU allowing serverAuth.
 * @throws ControllerCertError
 */
export function verifyControllerCerts(
  zcert: certs.IZControllerCert | Uint8Array,
  opts: VerifyControllerCertsOptions,
): VerifiedControllerCerts {
  if (!(zcert instanceof Uint8Array)) return verifyOnce(zcert, opts).verified;
  const key = `${sha256(opts.rootCaPem).toString('hex')} ${sha256(zcert).toString('hex')}`;
  const hit = verifiedSets.get(key);
  if (hit && opts.nowMs >= hit.fromMs && opts.nowMs <= hit.toMs) return hit.verified;
  const result = verifyOnce(decodeSet(zcert), opts);
  if (verifiedSets.size >= VERIFIED_SETS_MAX) verifiedSets.delete(verifiedSets.keys().next().value!);
  verifiedSets.set(key, result);
  return result.verified;
}

/**
 * Sets already verified, by SHA-256 of the root PEM and of the serialized set, with the time span in which every
 * certificate of the set is valid: within it the outcome cannot differ, so a fleet's thousands of devices that
 * fetch the same /certs reply verify it once (the result is shared: callers never modify it).
 */
const verifiedSets = new Map<string, { verified: VerifiedControllerCerts; fromMs: number; toMs: number }>();
const VERIFIED_SETS_MAX = 16;

function verifyOnce(msg: certs.IZControllerCert, opts: VerifyControllerCertsOptions): { verified: VerifiedControllerCerts; fromMs: number; toMs: number } {
  const roots = pemBlocks(opts.rootCaPem, 'CERTIFICATE').map((b) => parseCert(b.der, 'root CA'));
  if (roots.length === 0) throw new ControllerCertError('MALFORMED', 'root CA PEM holds no certificate');
  const pool: X509Certificate[] = [];
  const leaves: Array<{ type: string; cert: X509Certificate }> = [];
  const signing: Buffer[] = [];
  let ecdhCount = 0;
  const byHash = new Map<string, Buffer>();
  for (const [i, z] of (msg.certs ?? []).entries()) {
    const pem = Buffer.from(z.cert ?? new Uint8Array());
    const [block] = pemBlocks(pem, 'CERTIFICATE');
    if (!block) throw new ControllerCertError('MALFORMED', `certs[${i}].cert holds no PEM certificate`);
    const cert = parseCert(block.der, `certs[${i}]`);
    switch (z.type) {
      case certs.ZCertType.CERT_TYPE_CONTROLLER_INTERMEDIATE:
        pool.push(cert);
        break;
      case certs.ZCertType.CERT_TYPE_CONTROLLER_SIGNING:
        signing.push(pem);
        leaves.push({ type: 'SIGNING', cert });
        break;
      case certs.ZCertType.CERT_TYPE_CONTROLLER_ECDH_EXCHANGE:
        ecdhCount++;
        leaves.push({ type: 'ECDH_EXCHANGE', cert });
        break;
      default:
        throw new ControllerCertError('UNEXPECTED_TYPE', `certs[${i}] has unexpected type ${String(z.type)}`);
    }
    byHash.set(Buffer.from(z.certHash ?? new Uint8Array()).toString('hex'), pem);
  }
  const [signingCertPem] = signing;
  if (signing.length !== 1 || !signingCertPem) {
    throw new ControllerCertError('SIGNING_COUNT', `expected exactly one SIGNING cert, got ${signing.length}`);
  }
  if (ecdhCount === 0) throw new ControllerCertError('NO_ECDH', 'no ECDH_EXCHANGE cert');
  for (const leaf of leaves) verifyChain(leaf.cert, leaf.type, pool, roots, opts.nowMs);
  const all = [...roots, ...pool, ...leaves.map((l) => l.cert)];
  return {
    verified: { signingCertPem, certsByHashHex: byHash, hashSetKey: [...byHash.keys()].sort().join(',') },
    fromMs: Math.max(...all.map((c) => Date.parse(c.validFrom))),
    toMs: Math.min(...all.map((c) => Date.parse(c.validTo))),
  };
}

function decodeSet(bytes: Uint8Array): certs.ZControllerCert {
  try {
    return decode(certs.ZControllerCert, bytes);
  } catch (e) {
    if (isWireError(e)) throw new ControllerCertError('MALFORMED', e.message);
    throw e;
  }
}

function parseCert(der: Buffer, what: string): X509Certificate {
  try {
    return new X509Certificate(der);
  } catch {
    throw new ControllerCertError('MALFORMED', `${what} does not parse as X.509`);
  }
}

function checkValidity(cert: X509Certificate, what: string, nowMs: number): void {
  if (nowMs < Date.parse(cert.validFrom) || nowMs > Date.parse(cert.validTo)) {
    throw new ControllerCertError('VALIDITY', `${what} (${cert.subject.replace(/\n/g, ', ')}) is not valid now`);
  }
}

function issues(issuer: X509Certificate, cert: X509Certificate): boolean {
  try {
    return cert.checkIssued(issuer) && cert.verify(issuer.publicKey);
  } catch {
    return false;
  }
}

function verifyChain(
  leaf: X509Certificate,
  what: string,
  pool: X509Certificate[],
  roots: X509Certificate[],
  nowMs: number,
): void {
  const eku = leaf.keyUsage as string[] | undefined; // Node: extended key usage OIDs, undefined when absent
  if (eku && !eku.includes(SERVER_AUTH) && !eku.includes(ANY_EKU)) {
    throw new ControllerCertError('KEY_USAGE', `${what} cert does not allow serverAuth`);
  }
  checkValidity(leaf, `${what} cert`, nowMs);
  let cur = leaf;
  for (let depth = 0; depth < MAX_CHAIN; depth++) {
    const root = roots.find((r) => issues(r, cur));
    if (root) {
      checkValidity(root, 'root CA', nowMs);
      return;
    }
    const next = pool.find((p) => p !== cur && p.ca && issues(p, cur));
    if (!next) break;
    checkValidity(next, 'intermediate cert', nowMs);
    cur = next;
  }
  throw new ControllerCertError('CHAIN', `${what} cert does not chain to the root CA`);
}

/**
 * X.509 v3 certificate creation with an abstract signer (TPM or software key), encoded with the @peculiar ASN.1
 * schemas. The layout follows Go's `crypto/x509.CreateCertificate`, which EVE (`lf-edge/eve:
 * pkg/pillar/cmd/tpmmgr/tpmmgr.go`) and Eden use: DN attribute order C, ST, L, O, OU, CN; PrintableString where
 * possible; extensions in the order KeyUsage (critical), ExtKeyUsage, BasicConstraints (critical),
 * SubjectKeyIdentifier (CA only, SHA-1 of the public key bits), AuthorityKeyIdentifier (the issuer's SKI, omitted
 * when self-signed), SubjectAltName; ecdsa-with-SHA256 without parameters; PEM with 64-column lines.
 * Certificates of one shape (a fleet's device, ECDH and attestation certs) reuse one encoded TBSCertificate whose
 * per-certificate fields are written in place (see `TbsTemplate`); the schemas stay the encoder of record.
 */
import { createHash, randomBytes, type KeyObject } from 'node:crypto';
import { AsnConvert, AsnParser, OctetString } from '@peculiar/asn1-schema';
import {
  AttributeTypeAndValue,
  AttributeValue,
  AuthorityKeyIdentifier,
  BasicConstraints,
  Certificate,
  ExtendedKeyUsage,
  Extension,
  Extensions,
  GeneralName,
  KeyIdentifier,
  KeyUsage,
  KeyUsageFlags,
  Name,
  RelativeDistinguishedName,
  SubjectAlternativeName,
  SubjectKeyIdentifier,
  SubjectPublicKeyInfo,
  TBSCertificate,
  Time,
  Validity,
  Version,
  AlgorithmIdentifier,
  id_ce_authorityKeyIdentifier,
  id_ce_basicConstraints,
  id_ce_extKeyUsage,
  id_ce_keyUsage,
  id_ce_subjectAltName,
  id_ce_subjectKeyIdentifier,
  id_kp_clientAuth,
  id_kp_serverAuth,
} from '@peculiar/asn1-x509';
import { ECDSASigValue, ECParameters, id_ecPublicKey, id_ecdsaWithSHA256, id_secp256r1 } from '@peculiar/asn1-ecc';
import { signMessage, type Signer } from './keys.js';
import { toPem } from './pem.js';

/** Distinguished-name fields, encoded in Go's order C, ST, L, O, OU, CN. */
export interface DistinguishedName {
  C?: string;
  ST?: string;
  L?: string;
  O?: string;
  OU?: string;
  CN?: string;
}

/** Key usage bits (RFC 5280 §4.2.1.3), named as in Go's `x509.KeyUsage…`. */
export type KeyUsageName =
  | 'digitalSignature'
  | 'contentCommitment'
  | 'keyEncipherment'
  | 'dataEncipherment'
  | 'keyAgreement'
  | 'certSign'
  | 'crlSign';

/** Extended key usages the simulator issues. */
export type ExtKeyUsageName = 'serverAuth' | 'clientAuth';

/** What a certificate contains apart from its key, issuer and signer (the EVE templates return this). */
export interface CertificateTemplate {
  subject: DistinguishedName;
  /** Validity start; truncated to whole seconds (X.509 times carry no fraction). */
  notBefore: Date;
  /** Validity end; truncated to whole seconds. */
  notAfter: Date;
  /** Sets BasicConstraints cA. */
  isCA: boolean;
  /** Whether a BasicConstraints extension is written at all (Go's BasicConstraintsValid). @default true */
  basicConstraints?: boolean;
  /** BasicConstraints pathLenConstraint; omitted when undefined. */
  pathLen?: number;
  keyUsage: KeyUsageName[];
  extKeyUsage: ExtKeyUsageName[];
  subjectAltNames?: { dns?: string[]; ip?: string[] };
}

/** Everything `createCertificate` needs. */
export interface CertificateOptions extends CertificateTemplate {
  /** 'self' for a self-signed certificate, else the issuer's certificate (its subject and SKI are copied). */
  issuer: 'self' | { certPem: string | Buffer };
  /** The subject's P-256 public key: SEC1 uncompressed point (65 bytes) or a node KeyObject. */
  publicKey: Uint8Array | KeyObject;
  /** The issuer's key (the subject's own key when self-signed). */
  signer: Signer;
  /** Serial number. @default random positive 128-bit integer, as EVE's templates */
  serial?: bigint;
  signal?: AbortSignal;
}

/** Why certificate creation refused its input. */
export type X509ErrorKind = 'INVALID_INPUT' | 'BAD_SIGNATURE';

/** A certificate could not be built; `field` names the offending option. */
export class X509Error extends Error {
  override readonly name = 'X509Error';
  constructor(
    readonly kind: X509ErrorKind,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

/** Type guard for X509Error. */
export function isX509Error(e: unknown): e is X509Error {
  return e instanceof X509Error;
}

const OID = { C: '2.5.4.6', ST: '2.5.4.8', L: '2.5.4.7', O: '2.5.4.10', OU: '2.5.4.11', CN: '2.5.4.3' } as const;
const DN_ORDER = ['C', 'ST', 'L', 'O', 'OU', 'CN'] as const;

const KEY_USAGE_FLAG: Record<KeyUsageName, number> = {
  digitalSignature: KeyUsageFlags.digitalSignature,
  contentCommitment: KeyUsageFlags.nonRepudiation,
  keyEncipherment: KeyUsageFlags.keyEncipherment,
  dataEncipherment: KeyUsageFlags.dataEncipherment,
  keyAgreement: KeyUsageFlags.keyAgreement,
  certSign: KeyUsageFlags.keyCertSign,
  crlSign: KeyUsageFlags.cRLSign,
};
const EKU_OID: Record<ExtKeyUsageName, string> = { serverAuth: id_kp_serverAuth, clientAuth: id_kp_clientAuth };

/** ASN.1 PrintableString alphabet (X.680 §41.4); Go uses it when every character fits, else UTF8String. */
const PRINTABLE = /^[A-Za-z0-9 '()+,\-./:=?]*$/;

/** Names by their fields: the few a process issues under are built and encoded once. */
const nameCache = new Map<string, { name: Name; der: Buffer }>();

/** The Name of `dn` and its DER. */
function encodedName(dn: DistinguishedName): { name: Name; der: Buffer } {
  const key = JSON.stringify(DN_ORDER.map((k) => dn[k] ?? ''));
  let hit = nameCache.get(key);
  if (!hit) {
    const name = buildName(dn);
    hit = { name, der: Buffer.from(AsnConvert.serialize(name)) };
    if (nameCache.size >= 256) nameCache.delete(nameCache.keys().next().value!);
    nameCache.set(key, hit);
  }
  return hit;
}

function buildName(dn: DistinguishedName): Name {
  const rdns: RelativeDistinguishedName[] = [];
  for (const key of DN_ORDER) {
    const v = dn[key];
    if (v === undefined || v === '') continue;
    const value = PRINTABLE.test(v) ? new AttributeValue({ printableString: v }) : new AttributeValue({ utf8String: v });
    rdns.push(new RelativeDistinguishedName([new AttributeTypeAndValue({ type: OID[key], value })]));
  }
  return new Name(rdns);
}

/** Minimal positive two's-complement big-endian encoding of a non-negative integer (DER INTEGER content). */
function derUnsigned(bytes: Uint8Array): ArrayBuffer {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  const trimmed = bytes.subarray(i);
  const out = new Uint8Array(trimmed.length + ((trimmed[0] ?? 0) & 0x80 ? 1 : 0));
  out.set(trimmed, out.length - trimmed.length);
  return out.buffer;
}

/** A random serial in [1, 2^128), like EVE's `rand.Int(rand.Reader, 1<<128)` (zero is not a valid serial). */
function randomSerial(): bigint {
  return BigInt('0x' + randomBytes(16).toString('hex')) || 1n;
}

function bigintBytes(n: bigint): Uint8Array {
  const hex = n.toString(16);
  return Buffer.from(hex.length % 2 ? '0' + hex : hex, 'hex');
}

/** Converts a raw r‖s signature (IEEE P1363, 64 bytes for P-256) into the DER ECDSA-Sig-Value X.509 wants. */
export function rawSignatureToDer(raw: Uint8Array): Buffer {
  if (raw.length === 0 || raw.length % 2 !== 0) {
    throw new X509Error('BAD_SIGNATURE', `signature must be r‖s with two equal halves, got ${raw.length} bytes`);
  }
  const half = raw.length / 2;
  const sig = new ECDSASigValue({ r: derUnsigned(raw.subarray(0, half)), s: derUnsigned(raw.subarray(half)) });
  return Buffer.from(AsnConvert.serialize(sig));
}

/** Converts a DER ECDSA-Sig-Value into raw r‖s, each half left-padded to `size` bytes (32 for P-256). */
export function derSignatureToRaw(der: Uint8Array, size = 32): Buffer {
  const sig = AsnParser.parse(der, ECDSASigValue);
  const pad = (v: ArrayBuffer): Buffer => {
    let b = Buffer.from(v);
    while (b.length > size && b[0] === 0) b = b.subarray(1);
    if (b.length > size) throw new X509Error('BAD_SIGNATURE', `signature integer longer than ${size} bytes`);
    return Buffer.concat([Buffer.alloc(size - b.length), b]);
  };
  return Buffer.concat([pad(sig.r), pad(sig.s)]);
}

/** The SEC1 uncompressed point (0x04 ‖ X ‖ Y) of a P-256 public key. */
export function publicKeyPoint(key: Uint8Array | KeyObject): Uint8Array {
  if (key instanceof Uint8Array) {
    if (key.length !== 65 || key[0] !== 0x04) {
      throw new X509Error('INVALID_INPUT', 'publicKey must be a 65-byte uncompressed SEC1 P-256 point', 'publicKey');
    }
    return key;
  }
  const jwk = key.export({ format: 'jwk' });
  if (jwk.kty !== 'EC' || jwk.crv !== 'P-256' || jwk.x === undefined || jwk.y === undefined) {
    throw new X509Error('INVALID_INPUT', 'publicKey must be a P-256 EC key', 'publicKey');
  }
  return Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x, 'base64url'), Buffer.from(jwk.y, 'base64url')]);
}

function checkedTime(d: Date, field: string): Date {
  if (Number.isNaN(d.getTime())) throw new X509Error('INVALID_INPUT', `${field} is not a valid date`, field);
  // X.509 times carry whole seconds only.
  return new Date(Math.floor(d.getTime() / 1000) * 1000);
}

/** Go: UTCTime for 1950-2049, GeneralizedTime otherwise. */
const isUtcTime = (t: Date): boolean => t.getUTCFullYear() >= 1950 && t.getUTCFullYear() < 2050;

function time(t: Date): Time {
  return isUtcTime(t) ? new Time({ utcTime: t }) : new Time({ generalTime: t });
}

/** The DER content of a UTCTime (YYMMDDHHMMSSZ) or GeneralizedTime (YYYYMMDDHHMMSSZ) of whole seconds. */
function timeText(t: Date): string {
  const iso = t.toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
  const digits = iso.slice(0, 19).replace(/[-T:]/g, '');
  return (isUtcTime(t) ? digits.slice(2) : digits) + 'Z';
}

function ext(id: string, critical: boolean, value: unknown): Extension {
  return new Extension({ extnID: id, critical, extnValue: new OctetString(AsnConvert.serialize(value)) });
}

/** What a certificate needs of its issuer's certificate: subject name, subject key id, validity. */
interface IssuerFacts {
  subject: Name;
  subjectDer: Buffer;
  /** The issuer's SubjectKeyIdentifier, when it has one. */
  ski: ArrayBuffer | undefined;
  notBefore: Date;
  notAfter: Date;
}

/** Parsed issuers by PEM text: a device cert is read four times while its ECDH and attestation certs are issued. */
const issuerCache = new Map<string, IssuerFacts>();
const ISSUER_CACHE_MAX = 512;

/** Parses one PEM certificate (first CERTIFICATE block) into what an issued certificate copies from it. */
function issuerFacts(pem: string | Buffer): IssuerFacts {
  const text = pem.toString();
  const cached = issuerCache.get(text);
  if (cached) return cached;
  const m = /-----BEGIN CERTIFICATE-----([\s\S]+?)-----END CERTIFICATE-----/.exec(text);
  if (!m) throw new X509Error('INVALID_INPUT', 'the certificate PEM holds no CERTIFICATE block', 'certPem');
  const tbs = AsnParser.parse(Buffer.from(m[1].replace(/\s+/g, ''), 'base64'), Certificate).tbsCertificate;
  const skiExt = tbs.extensions?.find((e) => e.extnID === id_ce_subjectKeyIdentifier);
  const facts: IssuerFacts = {
    subject: tbs.subject,
    subjectDer: Buffer.from(AsnConvert.serialize(tbs.subject)),
    ski: skiExt ? AsnParser.parse(skiExt.extnValue.buffer, SubjectKeyIdentifier).buffer : undefined,
    notBefore: tbs.validity.notBefore.getTime(),
    notAfter: tbs.validity.notAfter.getTime(),
  };
  rememberIssuer(text, facts);
  return facts;
}

function rememberIssuer(pem: string, facts: IssuerFacts): void {
  if (issuerCache.size >= ISSUER_CACHE_MAX) issuerCache.delete(issuerCache.keys().next().value!);
  issuerCache.set(pem, facts);
}

/** A DER TLV with a definite length (certificates stay far below 64 KiB). */
function derTlv(tag: number, ...content: Uint8Array[]): Buffer {
  const len = content.reduce((n, c) => n + c.length, 0);
  if (len > 0xffff) throw new X509Error('INVALID_INPUT', `DER element of ${len} bytes is too long`);
  const head = len < 0x80 ? [tag, len] : len < 0x100 ? [tag, 0x81, len] : [tag, 0x82, len >> 8, len & 0xff];
  return Buffer.concat([Buffer.from(head), ...content]);
}

/** What is fixed for every certificate of one shape (template, issuer name, field lengths). */
interface TbsShape {
  subject: Name;
  issuer: Name;
  extensionsBefore: Extension[];
  isCA: boolean;
  extensionsAfter: Extension[];
}

/** The per-certificate values of the TBSCertificate. */
interface TbsValues {
  serial: Uint8Array;
  notBefore: Date;
  notAfter: Date;
  point: Uint8Array;
  authorityKeyId: ArrayBuffer | undefined;
}

const SIG_ALG = (): AlgorithmIdentifier => new AlgorithmIdentifier({ algorithm: id_ecdsaWithSHA256 });
const SIG_ALG_DER = Buffer.from(AsnConvert.serialize(SIG_ALG()));

/** The TBSCertificate, encoded by @peculiar (the encoder of record; templates below are made with it). */
function encodeTbs(shape: TbsShape, v: TbsValues): Buffer {
  const extensions = [...shape.extensionsBefore];
  if (shape.isCA) {
    // Go (before 1.25): SubjectKeyId = SHA-1 of the subjectPublicKey BIT STRING contents, for CA certificates.
    const ski = createHash('sha1').update(v.point).digest();
    extensions.push(ext(id_ce_subjectKeyIdentifier, false, new SubjectKeyIdentifier(ski)));
  }
  if (v.authorityKeyId) {
    const aki = new AuthorityKeyIdentifier({ keyIdentifier: new KeyIdentifier(v.authorityKeyId) });
    extensions.push(ext(id_ce_authorityKeyIdentifier, false, aki));
  }
  extensions.push(...shape.extensionsAfter);
  const tbs = new TBSCertificate({
    version: Version.v3,
    serialNumber: Uint8Array.from(v.serial).buffer,
    signature: SIG_ALG(),
    issuer: shape.issuer,
    validity: new Validity(),
    subject: shape.subject,
    subjectPublicKeyInfo: new SubjectPublicKeyInfo({
      algorithm: new AlgorithmIdentifier({
        algorithm: id_ecPublicKey,
        parameters: AsnConvert.serialize(new ECParameters({ namedCurve: id_secp256r1 })),
      }),
      subjectPublicKey: Uint8Array.from(v.point).buffer,
    }),
  });
  tbs.validity.notBefore = time(v.notBefore);
  tbs.validity.notAfter = time(v.notAfter);
  if (extensions.length > 0) tbs.extensions = new Extensions(extensions);
  return Buffer.from(AsnConvert.serialize(tbs));
}

/**
 * A TBSCertificate of one shape encoded once, with the offsets of its per-certificate fields: a fleet issues
 * thousands of certificates that differ only in serial, validity, key and key ids, and encoding each through the
 * ASN.1 schemas cost a third of its onboarding CPU. Every field is written over bytes of the same length.
 */
interface TbsTemplate {
  der: Buffer;
  serial: number;
  notBefore: number;
  notAfter: number;
  point: number;
  /** Offset of the SubjectKeyIdentifier (CA certificates), else -1. */
  ski: number;
  /** Offset of the AuthorityKeyIdentifier's key id, else -1. */
  aki: number;
}

const templateCache = new Map<string, TbsTemplate | null>();
const TEMPLATE_CACHE_MAX = 64;

/** Where `needle` occurs exactly once in `hay`, else -1 (a placeholder that is not unique cannot be patched). */
function uniqueOffset(hay: Buffer, needle: Uint8Array): number {
  const at = hay.indexOf(needle);
  return at >= 0 && hay.indexOf(needle, at + 1) < 0 ? at : -1;
}

/** Encodes `shape` with random placeholders of the lengths in `v` and finds them; null when that is not possible. */
function buildTemplate(shape: TbsShape, v: TbsValues): TbsTemplate | null {
  // Short serials (tests, fixed small numbers) and sub-second validity cannot be found reliably: encoded per call.
  if (v.serial.length < 8 || timeText(v.notBefore) === timeText(v.notAfter)) return null;
  const serial = randomBytes(v.serial.length);
  serial[0] = 0x01 | (serial[0] & 0x3f); // positive, minimal, same length
  const point = Buffer.concat([Buffer.from([4]), randomBytes(64)]);
  const aki = v.authorityKeyId ? randomBytes(v.authorityKeyId.byteLength) : undefined;
  const der = encodeTbs(shape, { ...v, serial, point, authorityKeyId: aki ? Uint8Array.from(aki).buffer : undefined });
  const t: TbsTemplate = {
    der,
    serial: uniqueOffset(der, serial),
    notBefore: uniqueOffset(der, Buffer.from(timeText(v.notBefore), 'latin1')),
    notAfter: uniqueOffset(der, Buffer.from(timeText(v.notAfter), 'latin1')),
    point: uniqueOffset(der, point),
    ski: shape.isCA ? uniqueOffset(der, createHash('sha1').update(point).digest()) : -1,
    aki: aki ? uniqueOffset(der, aki) : -1,
  };
  const found = t.serial >= 0 && t.notBefore >= 0 && t.notAfter >= 0 && t.point >= 0 && (t.ski >= 0) === shape.isCA && (t.aki >= 0) === !!aki;
  return found ? t : null;
}

/** The TBSCertificate for `v`: patched from the shape's template, or encoded in full when there is none. */
function tbsDer(shapeKey: string, shapeOf: () => TbsShape, v: TbsValues): Buffer {
  let tpl = templateCache.get(shapeKey);
  if (tpl === undefined) {
    tpl = buildTemplate(shapeOf(), v);
    if (templateCache.size >= TEMPLATE_CACHE_MAX) templateCache.delete(templateCache.keys().next().value!);
    templateCache.set(shapeKey, tpl);
  }
  if (!tpl) return encodeTbs(shapeOf(), v);
  const der = Buffer.from(tpl.der);
  der.set(v.serial, tpl.serial);
  der.write(timeText(v.notBefore), tpl.notBefore, 'latin1');
  der.write(timeText(v.notAfter), tpl.notAfter, 'latin1');
  der.set(v.point, tpl.point);
  if (tpl.ski >= 0) der.set(createHash('sha1').update(v.point).digest(), tpl.ski);
  if (tpl.aki >= 0) der.set(new Uint8Array(v.authorityKeyId!), tpl.aki);
  return der;
}

/**
 * Creates an X.509 v3 certificate signed (ECDSA-SHA256) by `opts.signer` and returns it as PEM with a trailing
 * newline. The signer receives SHA-256 of the DER TBSCertificate and returns raw r‖s.
 */
export async function createCertificate(opts: CertificateOptions): Promise<string> {
  const point = publicKeyPoint(opts.publicKey);
  if (opts.notAfter.getTime() <= opts.notBefore.getTime()) {
    throw new X509Error('INVALID_INPUT', 'notAfter must be later than notBefore', 'notAfter');
  }
  if (opts.pathLen !== undefined && (!Number.isInteger(opts.pathLen) || opts.pathLen < 0)) {
    throw new X509Error('INVALID_INPUT', 'pathLen must be a non-negative integer', 'pathLen');
  }
  if (opts.serial !== undefined && opts.serial <= 0n) {
    throw new X509Error('INVALID_INPUT', 'serial must be a positive integer', 'serial');
  }
  const notBefore = checkedTime(opts.notBefore, 'notBefore');
  const notAfter = checkedTime(opts.notAfter, 'notAfter');
  const subject = encodedName(opts.subject);
  let issuer = subject;
  let authorityKeyId: ArrayBuffer | undefined;
  if (opts.issuer !== 'self') {
    const parent = issuerFacts(opts.issuer.certPem);
    issuer = { name: parent.subject, der: parent.subjectDer };
    // Go: AuthorityKeyId = parent.SubjectKeyId unless the issuer and subject names are byte-identical.
    if (parent.ski && !issuer.der.equals(subject.der)) authorityKeyId = parent.ski;
  }
  const dns = opts.subjectAltNames?.dns ?? [];
  const ips = opts.subjectAltNames?.ip ?? [];
  const values: TbsValues = { serial: new Uint8Array(derUnsigned(bigintBytes(opts.serial ?? randomSerial()))), notBefore, notAfter, point, authorityKeyId };
  // Everything that is not patched per certificate, field lengths and time encodings included.
  const shapeKey = JSON.stringify([
    subject.der.toString('hex'),
    issuer.der.toString('hex'),
    opts.isCA,
    opts.basicConstraints ?? true,
    opts.pathLen,
    opts.keyUsage,
    opts.extKeyUsage,
    dns,
    ips,
    values.serial.length,
    isUtcTime(notBefore),
    isUtcTime(notAfter),
    authorityKeyId?.byteLength,
  ]);
  // The ASN.1 objects of the shape: built only when no template serves it.
  const shape = (): TbsShape => {
    const before: Extension[] = [];
    const ku = opts.keyUsage.reduce((acc, k) => acc | KEY_USAGE_FLAG[k], 0);
    if (ku !== 0) before.push(ext(id_ce_keyUsage, true, new KeyUsage(ku)));
    if (opts.extKeyUsage.length > 0) {
      before.push(ext(id_ce_extKeyUsage, false, new ExtendedKeyUsage(opts.extKeyUsage.map((e) => EKU_OID[e]))));
    }
    if (opts.basicConstraints ?? true) {
      const bc = new BasicConstraints({ cA: opts.isCA });
      if (opts.pathLen !== undefined) bc.pathLenConstraint = opts.pathLen;
      before.push(ext(id_ce_basicConstraints, true, bc));
    }
    const after: Extension[] = [];
    if (dns.length + ips.length > 0) {
      const names = [
        ...dns.map((d) => new GeneralName({ dNSName: d })),
        ...ips.map((ip) => new GeneralName({ iPAddress: ip })),
      ];
      after.push(ext(id_ce_subjectAltName, subject.name.length === 0, new SubjectAlternativeName(names)));
    }
    return { subject: subject.name, issuer: issuer.name, extensionsBefore: before, isCA: opts.isCA, extensionsAfter: after };
  };
  const tbs = tbsDer(shapeKey, shape, values);
  const raw = await signMessage(opts.signer, tbs, (m) => createHash('sha256').update(m).digest(), opts.signal);
  const pem = toPem(derTlv(0x30, tbs, SIG_ALG_DER, derTlv(0x03, Buffer.from([0]), rawSignatureToDer(raw))));
  if (opts.isCA) {
    // A CA made here issues next (a device cert its ECDH and attestation certs): remembered, not parsed back.
    const ski = createHash('sha1').update(point).digest();
    rememberIssuer(pem, { subject: subject.name, subjectDer: subject.der, ski: Uint8Array.from(ski).buffer, notBefore, notAfter });
  }
  return pem;
}

const LINUX_FOUNDATION_DEVICE = { C: 'US', ST: 'CA', L: 'San Francisco', O: 'The Linux Foundation' } as const;
const DAY_MS = 24 * 3600 * 1000;

/**
 * EVE's device certificate template (cipher-and-tpm.md §10, `tpmmgr.go` createDeviceCertTemplate):
 * O=The Linux Foundation, CN=EVE, self-signed CA, DigitalSignature+CertSign, EKU clientAuth+serverAuth,
 * NotBefore = now − 1 day, NotAfter = NotBefore + 20 years. `now` is epoch milliseconds (from the Clock).
 */
export function eveDeviceCertTemplate(now: number): CertificateTemplate {
  const notBefore = new Date(now - DAY_MS);
  const notAfter = new Date(notBefore);
  notAfter.setUTCFullYear(notAfter.getUTCFullYear() + 20);
  return {
    subject: { O: 'The Linux Foundation', CN: 'EVE' },
    notBefore,
    notAfter,
    isCA: true,
    keyUsage: ['digitalSignature', 'certSign'],
    extKeyUsage: ['clientAuth', 'serverAuth'],
  };
}

function validityOf(deviceCertPem: string | Buffer): { notBefore: Date; notAfter: Date } {
  const { notBefore, notAfter } = issuerFacts(deviceCertPem);
  return { notBefore, notAfter };
}

/**
 * EVE's ECDH certificate template (`createEcdhTemplate`): CN=Device ECDH certificate under the device cert,
 * validity copied from it, KeyEncipherment+DigitalSignature, EKU serverAuth, BasicConstraints valid (not CA).
 */
export function eveEcdhCertTemplate(deviceCertPem: string | Buffer): CertificateTemplate {
  return {
    subject: { ...LINUX_FOUNDATION_DEVICE, CN: 'Device ECDH certificate' },
    ...validityOf(deviceCertPem),
    isCA: false,
    keyUsage: ['digitalSignature', 'keyEncipherment'],
    extKeyUsage: ['serverAuth'],
  };
}

/**
 * EVE's attestation (quote key) certificate template (`createQuoteTemplate`): CN=Device Attestation certificate,
 * validity copied from the device cert, KeyEncipherment+DigitalSignature, EKU serverAuth, no BasicConstraints.
 */
export function eveAttestCertTemplate(deviceCertPem: string | Buffer): CertificateTemplate {
  return {
    subject: { ...LINUX_FOUNDATION_DEVICE, CN: 'Device Attestation certificate' },
    ...validityOf(deviceCertPem),
    isCA: false,
    basicConstraints: false,
    keyUsage: ['digitalSignature', 'keyEncipherment'],
    extKeyUsage: ['serverAuth'],
  };
}

/**
 * PEM handling and the certificate hashes of the EVE API (eve-api.md §5.5; cipher-and-tpm.md §4).
 * Hashes are taken over exact bytes: callers keep certificates as the Buffers they were read or received as and
 * never re-serialise PEM, because the same bytes must be both published and hashed.
 */
import { createHash } from 'node:crypto';

/** Thrown when a PEM input has no usable block. */
export class PemError extends Error {
  override readonly name = 'PemError';
  constructor(
    readonly kind: 'NO_PEM_BLOCK',
    message: string,
  ) {
    super(message);
  }
}

/** Type guard for PemError. */
export function isPemError(e: unknown): e is PemError {
  return e instanceof PemError;
}

/** One PEM block as found in its input: label, exact text bytes (BEGIN…END line, no surrounding whitespace), DER. */
export interface PemBlock {
  label: string;
  /** The exact bytes from `-----BEGIN` through the closing `-----` of the END line. */
  text: Buffer;
  der: Buffer;
}

const BLOCK_RE = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;

/** SHA-256 of the concatenated parts. */
export function sha256(...parts: Uint8Array[]): Buffer {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
}

/** Every PEM block of `pem` in order; with `label`, only blocks of that label (e.g. `CERTIFICATE`). */
export function pemBlocks(pem: Uint8Array | string, label?: string): PemBlock[] {
  const buf = typeof pem === 'string' ? Buffer.from(pem, 'latin1') : Buffer.from(pem.buffer, pem.byteOffset, pem.byteLength);
  const text = buf.toString('latin1');
  const out: PemBlock[] = [];
  for (const m of text.matchAll(BLOCK_RE)) {
    const blockLabel = m[1] ?? '';
    if (label !== undefined && blockLabel !== label) continue;
    const start = m.index;
    out.push({
      label: blockLabel,
      text: buf.subarray(start, start + m[0].length),
      der: Buffer.from((m[2] ?? '').replace(/[^A-Za-z0-9+/=]/g, ''), 'base64'),
    });
  }
  return out;
}

/** DER → PEM with 64-character lines and a trailing newline (Go's pem.Encode). */
export function toPem(der: Uint8Array, label = 'CERTIFICATE'): string {
  const b64 = Buffer.from(der).toString('base64');
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/** DER of the first CERTIFICATE block. @throws PemError `NO_PEM_BLOCK` */
export function certPemToDer(pem: Uint8Array | string): Buffer {
  const [first] = pemBlocks(pem, 'CERTIFICATE');
  if (!first) throw new PemError('NO_PEM_BLOCK', 'no CERTIFICATE block in PEM input');
  return first.der;
}

/** `pem` with leading and trailing whitespace removed (Go `strings.TrimSpace`, as Adam sends `ZCert.cert`). */
export function trimPem(pem: Uint8Array): Buffer {
  const buf = Buffer.from(pem.buffer, pem.byteOffset, pem.byteLength);
  let start = 0;
  let end = buf.length;
  while (start < end && isSpace(buf[start] ?? 0)) start++;
  while (end > start && isSpace(buf[end - 1] ?? 0)) end--;
  return buf.subarray(start, end);
}

/**
 * Sender hash of a device request: SHA-256 over the DER of the (device or onboarding) cert, all 32 bytes
 * (`lf-edge/eve: pkg/pillar/controllerconn/authen.go` certToSha256; Adam compares all 32).
 */
export function deviceSenderCertHash(certPem: Uint8Array): Buffer {
  let hash = senderHashes.get(certPem);
  if (!hash) {
    hash = sha256(certPemToDer(certPem));
    senderHashes.set(certPem, hash);
  }
  return hash;
}

/** Sender hashes by cert buffer: a device seals every request with the same cert object (callers never mutate it). */
const senderHashes = new WeakMap<Uint8Array, Buffer>();

/**
 * Sender hash of a controller reply: SHA-256 over the signing cert's trimmed PEM text (= `ZCert.cert` bytes),
 * 32 bytes (Adam `prepareEnvelope`). The device compares it with SHA-256 of the received `ZCert.cert` bytes.
 */
export function controllerSenderCertHash(signingCertPem: Uint8Array): Buffer {
  return sha256(trimPem(signingCertPem));
}

/** `ZCert.certHash` of a controller cert in `/certs`: SHA-256(trimmed PEM)[:16] (Adam `getCertChain`). */
export function controllerZCertHash(certPem: Uint8Array): Buffer {
  return controllerSenderCertHash(certPem).subarray(0, 16);
}

/**
 * `ZCert.certHash` of a device cert in `ATTEST_REQ_CERT` (and `CipherContext.deviceCertHash`):
 * SHA-256 over the PEM file bytes exactly as published, trailing newline included, first 16 bytes
 * (`lf-edge/eve: pkg/pillar/cmd/tpmmgr/tpmmgr.go` getCertHash).
 */
export function deviceZCertHash(pemFileBytes: Uint8Array): Buffer {
  return sha256(pemFileBytes).subarray(0, 16);
}

/** Go `unicode.IsSpace` for ASCII: tab, LF, VT, FF, CR, space. */
function isSpace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d);
}

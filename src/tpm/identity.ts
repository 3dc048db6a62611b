/**
 * The device's certificate files (cipher-and-tpm.md §10), shared by both backends: created once, never replaced,
 * returned as the exact file bytes (their SHA-256 is the published certHash).
 */
import { createPublicKey, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Clock, Logger } from '../common/index.js';
import { writeFileAtomic } from '../common/atomic-file.js';
import {
  certPublicKeyPoint,
  createCertificate,
  eveAttestCertTemplate,
  eveDeviceCertTemplate,
  eveEcdhCertTemplate,
  type Signer,
} from '../eve/index.js';
import type { DeviceIdentity, KeyRole } from './types.js';

/** Where a role's certificate lives: `<stateDir>/certs/<role>.cert.pem`. */
export function certPath(stateDir: string, role: KeyRole): string {
  return path.join(stateDir, 'certs', `${role}.cert.pem`);
}

/** Reads a file, or returns undefined when it does not exist. */
export async function readIfExists(file: string): Promise<Buffer | undefined> {
  try {
    return await readFile(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}


/** Where a device's certificates are kept: files under the state dir (agent) or rows of a state store (fleet). */
export interface CertStorage {
  read(role: KeyRole): Promise<Buffer | undefined>;
  /** Stores a new certificate (created once, never replaced). */
  write(role: KeyRole, pem: string): Promise<void>;
  /** Where it lives, for logs. */
  where(role: KeyRole): string;
}

/** Certificates as `<stateDir>/certs/<role>.cert.pem` (0644). */
export function fileCertStorage(stateDir: string): CertStorage {
  return {
    read: (role) => readIfExists(certPath(stateDir, role)),
    write: (role, pem) => writeFileAtomic(certPath(stateDir, role), pem, { mode: 0o644 }),
    where: (role) => certPath(stateDir, role),
  };
}

/** Public keys of the three roles (SEC1 uncompressed points) and the device signer. */
export interface IdentityKeys {
  deviceSigner: Signer;
  publicKeys: Record<KeyRole, Uint8Array>;
}

/**
 * Ensures the device, ECDH and attestation certificates exist: a missing device cert is self-signed from EVE's
 * template; missing ECDH/attestation certs are issued by the device cert. Existing files are kept; a cert whose
 * key no longer matches is reported (logged), not replaced.
 */
export async function ensureCertificates(
  stateDirOrStorage: string | CertStorage,
  keys: IdentityKeys,
  clock: Clock,
  logger: Logger,
  signal?: AbortSignal,
): Promise<DeviceIdentity> {
  const storage = typeof stateDirOrStorage === 'string' ? fileCertStorage(stateDirOrStorage) : stateDirOrStorage;
  const file = (role: KeyRole): string => storage.where(role);
  // Certificates made here carry their key by construction; only those read back are checked against it.
  const created = new Set<KeyRole>();
  let device = await storage.read('device');
  if (!device) {
    const pem = await createCertificate({
      ...eveDeviceCertTemplate(clock.now()),
      issuer: 'self',
      publicKey: keys.publicKeys.device,
      signer: keys.deviceSigner,
      ...(signal ? { signal } : {}),
    });
    await storage.write('device', pem);
    logger.info('device certificate created', { path: file('device') });
    device = Buffer.from(pem);
    created.add('device');
  }
  const issued = async (role: 'ecdh' | 'attest'): Promise<Buffer> => {
    const existing = await storage.read(role);
    if (existing) return existing;
    const template = role === 'ecdh' ? eveEcdhCertTemplate(device) : eveAttestCertTemplate(device);
    const pem = await createCertificate({
      ...template,
      issuer: { certPem: device },
      publicKey: keys.publicKeys[role],
      signer: keys.deviceSigner,
      ...(signal ? { signal } : {}),
    });
    await storage.write(role, pem);
    logger.info('certificate created', { role, path: file(role) });
    created.add(role);
    return Buffer.from(pem);
  };
  const identity = { deviceCertPem: device, ecdhCertPem: await issued('ecdh'), attestCertPem: await issued('attest') };
  for (const [role, pem] of [
    ['device', identity.deviceCertPem],
    ['ecdh', identity.ecdhCertPem],
    ['attest', identity.attestCertPem],
  ] as const) {
    if (created.has(role)) continue;
    if (!Buffer.from(certPublicKeyPoint(pem)).equals(Buffer.from(keys.publicKeys[role]))) {
      logger.error('certificate does not match its key; kept as is (remove the file to re-issue it)', {
        role,
        path: file(role),
      });
    }
  }
  return identity;
}

/** SPKI PEM of a SEC1 P-256 point. */
export function pointToSpkiPem(point: Uint8Array): string {
  const x = Buffer.from(point.subarray(1, 33)).toString('base64url');
  const y = Buffer.from(point.subarray(33, 65)).toString('base64url');
  return createPublicKey({ key: { kty: 'EC', crv: 'P-256', x, y }, format: 'jwk' })
    .export({ type: 'spki', format: 'pem' })
    .toString();
}

/** Subject (one line, comma-separated) and notAfter of a certificate file, for info(). */
export function certSummary(pem: Buffer | undefined): { certSubject?: string; certNotAfter?: string } {
  if (!pem) return {};
  const c = new X509Certificate(pem);
  return { certSubject: c.subject.split('\n').join(', '), certNotAfter: c.validTo };
}

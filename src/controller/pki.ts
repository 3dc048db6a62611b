/**
 * The controller's PKI under `<data-dir>/certs/`, made on first start the way Eden prepares Adam
 * (`lf-edge/eden: pkg/eden/eden.go` GenerateEveCerts; eve-api.md §4): one ECDSA P-256 root CA signs the
 * TLS cert, the signing cert, the encrypt (ECDH) cert and the onboarding cert. File names follow Adam
 * (`server.pem`, `signing.pem`, `encrypt.pem`, `…-key.pem`). Keys are PKCS#8 PEM, mode 0600.
 */
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Clock, Logger } from '../common/index.js';
import { errorMessage } from '../common/index.js';
import {
  createCertificate,
  generateSoftKey,
  loadPrivateKeyPem,
  softKeyToPkcs8Pem,
  softEcdh,
  opensslSigner,
  softSigner,
  type CertificateTemplate,
  type EcdhKey,
  type Signer,
} from '../eve/index.js';
import { ControllerError } from './errors.js';

/** A certificate with its key. `certPem` is the exact file content (one block, trailing newline). */
export interface CertWithKey {
  certPem: Buffer;
  /** PKCS#8 PEM private key. A secret: never log it. */
  keyPem: Buffer;
}

/** Everything the controller signs and serves with. */
export interface ControllerPki {
  dir: string;
  /** The device's `root-certificate.pem`. */
  root: CertWithKey;
  /** HTTPS server cert (SANs: the advertised host, localhost, 127.0.0.1, ::1). */
  tls: CertWithKey;
  /** `CERT_TYPE_CONTROLLER_SIGNING`: signs every AuthContainer the controller sends. */
  signing: CertWithKey & { signer: Signer; ecdh: EcdhKey };
  /** `CERT_TYPE_CONTROLLER_ECDH_EXCHANGE`: default controller side of CipherBlock encryption. */
  encrypt: CertWithKey & { ecdh: EcdhKey };
  /** Onboarding cert and key handed to devices in their config folder. */
  onboard: CertWithKey;
}

/** Options of {@link loadOrCreatePki}. */
export interface PkiOptions {
  /** Folder of the cert and key files (created 0700). */
  dir: string;
  /** Host names and IPs the TLS cert must cover; it is re-issued when they change. */
  tlsHosts: string[];
  clock: Clock;
  logger: Logger;
}

/** Validity of every generated cert: one hour back (clock skew) to 20 years ahead. */
const BACKDATE_MS = 3600_000;
const VALIDITY_MS = 20 * 365 * 24 * 3600_000;

const FILES = {
  root: ['root-certificate.pem', 'root-certificate-key.pem'],
  tls: ['server.pem', 'server-key.pem'],
  signing: ['signing.pem', 'signing-key.pem'],
  encrypt: ['encrypt.pem', 'encrypt-key.pem'],
  onboard: ['onboard.cert.pem', 'onboard.key.pem'],
} as const;
const TLS_HOSTS_FILE = 'server-hosts.json';

async function readPair(dir: string, [cert, key]: readonly [string, string]): Promise<CertWithKey | undefined> {
  try {
    return { certPem: await readFile(path.join(dir, cert)), keyPem: await readFile(path.join(dir, key)) };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ControllerError('PKI', `cannot read ${cert}/${key} in ${dir}: ${errorMessage(e)}`);
  }
}

async function writePair(dir: string, [cert, key]: readonly [string, string], pair: CertWithKey): Promise<void> {
  const keyFile = path.join(dir, key);
  await writeFile(keyFile, pair.keyPem, { mode: 0o600 });
  await chmod(keyFile, 0o600);
  await writeFile(path.join(dir, cert), pair.certPem, { mode: 0o644 });
}

function isIp(h: string): boolean {
  return /^[0-9.]+$/.test(h) || h.includes(':');
}

/**
 * Loads the PKI from `opts.dir`, creating whatever is missing. A missing root re-creates everything
 * issued by it; the TLS cert is also re-issued when `tlsHosts` changed since it was made.
 */
export async function loadOrCreatePki(opts: PkiOptions): Promise<ControllerPki> {
  const { dir, clock, logger } = opts;
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const notBefore = new Date(clock.now() - BACKDATE_MS);
  const notAfter = new Date(clock.now() + VALIDITY_MS);
  const newKey = (): { keyPem: Buffer; publicKey: Uint8Array; signer: Signer } => {
    const k = generateSoftKey();
    return { keyPem: Buffer.from(softKeyToPkcs8Pem(k)), publicKey: k.publicKey, signer: softSigner(k) };
  };
  const signerOf = (keyPem: Buffer): Signer => softSigner(loadPrivateKeyPem(keyPem));

  let root = await readPair(dir, FILES.root);
  const rootFresh = root === undefined;
  if (!root) {
    const k = newKey();
    const certPem = await createCertificate({
      subject: { C: 'US', O: 'edgesim', CN: 'edgesim controller root CA' },
      issuer: 'self',
      publicKey: k.publicKey,
      signer: k.signer,
      isCA: true,
      pathLen: 1,
      keyUsage: ['digitalSignature', 'certSign', 'crlSign'],
      extKeyUsage: [],
      notBefore,
      notAfter,
    });
    root = { certPem: Buffer.from(certPem), keyPem: k.keyPem };
    await writePair(dir, FILES.root, root);
    logger.info('created root CA', { dir });
  }
  const rootSigner = signerOf(root.keyPem);
  const issue = async (template: CertificateTemplate): Promise<CertWithKey> => {
    const k = newKey();
    const certPem = await createCertificate({
      ...template,
      issuer: { certPem: root.certPem },
      publicKey: k.publicKey,
      signer: rootSigner,
    });
    return { certPem: Buffer.from(certPem), keyPem: k.keyPem };
  };
  const leaf = (cn: string, extKeyUsage: CertificateTemplate['extKeyUsage']): CertificateTemplate => ({
    subject: { C: 'US', O: 'edgesim', CN: cn },
    isCA: false,
    keyUsage: ['digitalSignature', 'keyEncipherment'],
    // Go's x509.Verify on the device checks ExtKeyUsage ServerAuth for SIGNING and ECDH leaves (eve-api.md §7).
    extKeyUsage,
    notBefore,
    notAfter,
  });
  const ensure = async (name: 'signing' | 'encrypt' | 'onboard', t: CertificateTemplate): Promise<CertWithKey> => {
    const existing = rootFresh ? undefined : await readPair(dir, FILES[name]);
    if (existing) return existing;
    const pair = await issue(t);
    await writePair(dir, FILES[name], pair);
    logger.info('created certificate', { cert: FILES[name][0] });
    return pair;
  };
  const signing = await ensure('signing', leaf('edgesim controller signing', ['serverAuth']));
  const encrypt = await ensure('encrypt', leaf('edgesim controller encrypt', ['serverAuth']));
  const onboard = await ensure('onboard', leaf('edgesim onboarding', ['clientAuth', 'serverAuth']));

  const hostsKey = JSON.stringify([...opts.tlsHosts].sort());
  let tls = rootFresh ? undefined : await readPair(dir, FILES.tls);
  const oldHosts = await readFile(path.join(dir, TLS_HOSTS_FILE), 'utf8').catch(() => '');
  if (!tls || oldHosts.trim() !== hostsKey) {
    tls = await issue({
      ...leaf(opts.tlsHosts[0] ?? 'localhost', ['serverAuth']),
      subjectAltNames: { dns: opts.tlsHosts.filter((h) => !isIp(h)), ip: opts.tlsHosts.filter(isIp) },
    });
    await writePair(dir, FILES.tls, tls);
    await writeFile(path.join(dir, TLS_HOSTS_FILE), hostsKey + '\n');
    logger.info('issued TLS certificate', { hosts: opts.tlsHosts });
  }
  const ecdhOf = (keyPem: Buffer): EcdhKey => softEcdh(loadPrivateKeyPem(keyPem));
  return {
    dir,
    root,
    tls,
    // Every sealed reply (uuid, attest, config) is signed with this key: OpenSSL, not the pure-JS signer.
    signing: { ...signing, signer: opensslSigner(loadPrivateKeyPem(signing.keyPem)), ecdh: ecdhOf(signing.keyPem) },
    encrypt: { ...encrypt, ecdh: ecdhOf(encrypt.keyPem) },
    onboard,
  };
}

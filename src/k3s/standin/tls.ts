/**
 * Certificates of a stand-in cluster: one P-256 cluster CA made on `--cluster-init` (k3s names it
 * `k3s-server-ca@<unix time>`) and shared with joiners through the join endpoint, and a serving certificate per
 * server node whose SANs cover node-ip, loopback, the `kubernetes` service names and every `tls-san`.
 * Certificates come from src/eve/x509.ts (`createCertificate`), signed with a software key.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import net from 'node:net';
import { p256 } from '@noble/curves/p256';
import { createCertificate } from '../../eve/x509.js';
import type { Signer } from '../../eve/keys.js';
import { StandinError } from './errors.js';

/** A certificate and its PKCS#8 private key, both PEM. */
export interface KeyAndCert {
  certPem: string;
  keyPem: string;
}

const YEAR_MS = 365 * 24 * 3600 * 1000;

// A stand-in process signs two certificates (cluster CA, serving certificate). noble's default 8-bit base-point
// table takes ~0.3 s to build on first use (over a second on a loaded 2-core machine), on the critical path of
// every server start, and pays off only after many signatures; a 2-bit window needs no table worth the name.
p256.Point.BASE.precompute(2);

function softSigner(keyPem: string): Signer {
  const jwk = createPrivateKey(keyPem).export({ format: 'jwk' });
  if (typeof jwk.d !== 'string') throw new StandinError('tls', 'CA key is not an EC private key');
  const d = Buffer.from(jwk.d, 'base64url');
  return {
    signDigest: (digest) => Promise.resolve(p256.sign(digest, d, { prehash: false, lowS: true }).toCompactRawBytes()),
  };
}

/** A fresh P-256 key. The generation job encodes it itself: exporting the KeyObject that generateKeyPairSync returns can
 * deadlock Node 20 when a GC collects the job mid-export (see generateSoftKey in src/eve/soft-keys.ts). */
function newKey(): { keyPem: string; publicKey: KeyObject } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', {
    namedCurve: 'prime256v1',
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  return { keyPem: privateKey, publicKey: createPublicKey(publicKey) };
}

/** Creates the cluster CA (10 years). `now` is epoch ms from the Clock. */
export async function createClusterCa(now: number): Promise<KeyAndCert> {
  const { keyPem, publicKey } = newKey();
  const certPem = await createCertificate({
    subject: { CN: `k3s-server-ca@${Math.floor(now / 1000)}` },
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + 10 * YEAR_MS),
    isCA: true,
    keyUsage: ['digitalSignature', 'keyEncipherment', 'certSign'],
    extKeyUsage: [],
    issuer: 'self',
    publicKey,
    signer: softSigner(keyPem),
  });
  return { certPem, keyPem };
}

/** What a serving certificate must cover. */
export interface ServingCertRequest {
  nodeName: string;
  nodeIp: string;
  /** Extra names from `tls-san`: IPs or DNS names. */
  tlsSans: string[];
  now: number;
}

/** Issues the API server's serving certificate (1 year, serverAuth) signed by the cluster CA. */
export async function issueServingCert(ca: KeyAndCert, req: ServingCertRequest): Promise<KeyAndCert> {
  const ips = new Set(['127.0.0.1', '::1', '10.43.0.1', req.nodeIp]);
  const dns = new Set([
    'localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc',
    'kubernetes.default.svc.cluster.local', req.nodeName,
  ]);
  for (const san of req.tlsSans) (net.isIP(san) ? ips : dns).add(san);
  const { keyPem, publicKey } = newKey();
  const certPem = await createCertificate({
    subject: { O: 'k3s', CN: 'k3s' },
    notBefore: new Date(req.now - 60_000),
    notAfter: new Date(req.now + YEAR_MS),
    isCA: false,
    keyUsage: ['digitalSignature', 'keyEncipherment'],
    extKeyUsage: ['serverAuth'],
    subjectAltNames: { dns: [...dns], ip: [...ips] },
    issuer: { certPem: ca.certPem },
    publicKey,
    signer: softSigner(ca.keyPem),
  });
  return { certPem, keyPem };
}

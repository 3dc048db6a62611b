/**
 * The software key store: EVE's TPM-less device (cipher-and-tpm.md §12). Keys are P-256 PEM files under
 * `<stateDir>/keys/` (0600, directory 0700). NOT hardware-protected: anyone who can read the files has the keys.
 */
import { createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import path from 'node:path';
import { p256 } from '@noble/curves/nist.js';
import type { Clock, Logger } from '../common/index.js';
import type { EcdhKey, Signer } from '../eve/keys.js';
import { publicKeyPoint } from '../eve/x509.js';
import { TpmError } from './errors.js';
import { certPath, certSummary, ensureCertificates, pointToSpkiPem, readIfExists, writeFileAtomic } from './identity.js';
import type { DeviceIdentity, KeyRole, KeyStore, KeyStoreInfo, Quote } from './types.js';

const ROLES: readonly KeyRole[] = ['device', 'ecdh', 'attest'];
const DESCRIPTION = 'soft (NOT hardware-protected)';

/** Where a role's soft key lives: `<stateDir>/keys/<role>.key.pem`. */
export function softKeyPath(stateDir: string, role: KeyRole): string {
  return path.join(stateDir, 'keys', `${role}.key.pem`);
}

/**
 * Parses a P-256 private key PEM in any of the forms found on EVE devices and in Eden (cipher-and-tpm.md §12):
 * PKCS#8 `PRIVATE KEY`, SEC1 `EC PRIVATE KEY` (optionally after `EC PARAMETERS`), and EVE's SEC1 DER inside a
 * `PRIVATE KEY` label.
 */
export function parsePrivateKeyPem(pem: string | Buffer, source: string): KeyObject {
  const text = pem.toString();
  const m = /-----BEGIN ((?:EC )?PRIVATE KEY)-----([\s\S]+?)-----END \1-----/.exec(text);
  if (!m) throw new TpmError('TOOL_FAILED', 'soft:load', `${source}: no PRIVATE KEY or EC PRIVATE KEY block`);
  const der = Buffer.from(m[2].replace(/\s+/g, ''), 'base64');
  const attempts = m[1] === 'PRIVATE KEY' ? (['pkcs8', 'sec1'] as const) : (['sec1', 'pkcs8'] as const);
  for (const type of attempts) {
    try {
      const key = createPrivateKey({ key: der, format: 'der', type });
      if (key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
        throw new TpmError('TOOL_FAILED', 'soft:load', `${source}: not a P-256 key`);
      }
      return key;
    } catch (e) {
      if (e instanceof TpmError) throw e;
    }
  }
  throw new TpmError('TOOL_FAILED', 'soft:load', `${source}: neither PKCS#8 nor SEC1 DER`);
}

/** The private scalar (32 bytes) of a P-256 KeyObject. */
function scalar(key: KeyObject): Uint8Array {
  const d = key.export({ format: 'jwk' }).d;
  if (d === undefined) throw new TpmError('TOOL_FAILED', 'soft:load', 'not a private key');
  return Buffer.from(d, 'base64url');
}

/** A Signer over a software P-256 key: ECDSA with RFC 6979 nonces, raw r‖s. */
export function softSigner(key: KeyObject): Signer {
  const d = scalar(key);
  return { signDigest: (digest) => Promise.resolve(p256.sign(digest, d, { prehash: false }).toCompactRawBytes()) };
}

/** An EcdhKey over a software P-256 key (full shared point, as TPM2_ECDH_ZGen; cipher-and-tpm.md §7). */
export function softEcdh(key: KeyObject): EcdhKey {
  const d = scalar(key);
  return {
    zgen(peerPoint) {
      try {
        return Promise.resolve(p256.getSharedSecret(d, peerPoint, false));
      } catch (e) {
        return Promise.reject(
          new TpmError('POINT_NOT_ON_CURVE', 'soft:zgen', `peer point rejected: ${(e as Error).message}`),
        );
      }
    },
  };
}

class SoftKeyStore implements KeyStore {
  readonly kind = 'soft' as const;
  readonly description = DESCRIPTION;
  readonly deviceSigner: Signer;
  readonly ecdh: EcdhKey;
  private closed = false;
  private readonly keys = new Map<KeyRole, KeyObject>();

  constructor(
    private readonly stateDir: string,
    private readonly logger: Logger,
    private readonly clock: Clock,
  ) {
    this.deviceSigner = {
      signDigest: async (digest, signal) => softSigner(await this.key('device')).signDigest(digest, signal),
    };
    this.ecdh = { zgen: async (peer, signal) => softEcdh(await this.key('ecdh')).zgen(peer, signal) };
  }

  /** Loads (and caches) a role's key; HANDLE_MISSING when the file does not exist. */
  private async key(role: KeyRole): Promise<KeyObject> {
    if (this.closed) throw new TpmError('TOOL_FAILED', 'soft', 'key store is closed');
    const cached = this.keys.get(role);
    if (cached) return cached;
    const file = softKeyPath(this.stateDir, role);
    const pem = await readIfExists(file);
    if (!pem) throw new TpmError('HANDLE_MISSING', `soft:${role}`, `${file} does not exist (run \`edgesim tpm provision\`)`);
    const key = parsePrivateKeyPem(pem, file);
    this.keys.set(role, key);
    return key;
  }

  async provision(signal?: AbortSignal): Promise<DeviceIdentity> {
    for (const role of ROLES) {
      const file = softKeyPath(this.stateDir, role);
      if (await readIfExists(file)) continue;
      const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      await writeFileAtomic(file, privateKey.export({ type: 'pkcs8', format: 'pem' }), 0o600);
      this.logger.info('soft key created (NOT hardware-protected)', { role, path: file });
    }
    const publicKeys = {} as Record<KeyRole, Uint8Array>;
    for (const role of ROLES) publicKeys[role] = publicKeyPoint(await this.key(role));
    return ensureCertificates(this.stateDir, { deviceSigner: this.deviceSigner, publicKeys }, this.clock, this.logger, signal);
  }

  quote(): Promise<Quote | null> {
    return Promise.resolve(null);
  }

  async info(): Promise<KeyStoreInfo> {
    const objects = [];
    for (const role of ROLES) {
      const location = softKeyPath(this.stateDir, role);
      const present = (await readIfExists(location)) !== undefined;
      const cert = await readIfExists(certPath(this.stateDir, role));
      objects.push({
        role,
        location,
        present,
        ...(present ? { publicKeyPem: pointToSpkiPem(publicKeyPoint(await this.key(role))) } : {}),
        certPath: certPath(this.stateDir, role),
        ...certSummary(cert),
      });
    }
    return { kind: 'soft', description: DESCRIPTION, hardwareProtected: false, objects, pcrBank: null };
  }

  close(): Promise<void> {
    this.closed = true;
    this.keys.clear();
    return Promise.resolve();
  }
}

/** Opens the soft key store in `stateDir` (no file is created until `provision()`). */
export function openSoftKeyStore(opts: { stateDir: string; logger: Logger; clock: Clock }): Promise<KeyStore> {
  opts.logger.warn('using software keys: NOT hardware-protected', { stateDir: opts.stateDir });
  return Promise.resolve(new SoftKeyStore(opts.stateDir, opts.logger, opts.clock));
}

/**
 * The software key store: EVE's TPM-less device (cipher-and-tpm.md §12). Keys are P-256 PEMs kept by a
 * `SoftKeyStorage`: files under `<stateDir>/keys/` (0600, directory 0700) for the agent, rows of the fleet's state
 * store for a fleet. NOT hardware-protected: anyone who can read them has the keys.
 * The device key signs through OpenSSL (node:crypto) on the hot path; the deterministic pure-JS signer is kept for
 * bare digests only (see `opensslSigner`).
 */
import { chmod, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Clock, Logger } from '../common/index.js';
import { errorMessage } from '../common/index.js';
import {
  generateSoftKeyOffThread,
  loadPrivateKeyPem,
  opensslSigner,
  softEcdh,
  softKeyToSec1Pem,
  type EcdhKey,
  type Signer,
  type SoftKey,
} from '../eve/index.js';
import { TpmError } from './errors.js';
import {
  certSummary,
  ensureCertificates,
  fileCertStorage,
  pointToSpkiPem,
  readIfExists,
  type CertStorage,
} from './identity.js';
import { writeFileAtomic } from '../common/atomic-file.js';
import type { DeviceIdentity, KeyRole, KeyStore, KeyStoreInfo, Quote } from './types.js';

const ROLES: readonly KeyRole[] = ['device', 'ecdh', 'attest'];
const DESCRIPTION = 'soft (NOT hardware-protected)';

/** Where a role's soft key lives: `<stateDir>/keys/<role>.key.pem`. */
export function softKeyPath(stateDir: string, role: KeyRole): string {
  return path.join(stateDir, 'keys', `${role}.key.pem`);
}

/** Where one device's soft keys and certificates are kept. */
export interface SoftKeyStorage {
  /** The key PEM of a role, or undefined when it does not exist yet. */
  readKey(role: KeyRole): Promise<Buffer | undefined>;
  /** Stores a newly generated key (never replaces one). */
  writeKey(role: KeyRole, pem: string): Promise<void>;
  /** Where a role's key lives, for logs and `info()`. */
  whereKey(role: KeyRole): string;
  /** Called for each existing key at provisioning (the file backend tightens group/world-readable files). */
  checkKey?(role: KeyRole): Promise<void>;
  certs: CertStorage;
}

/** Keys as `<stateDir>/keys/<role>.key.pem` (0600), certificates as `<stateDir>/certs/<role>.cert.pem`. */
export function fileSoftKeyStorage(stateDir: string, logger: Logger): SoftKeyStorage {
  return {
    readKey: (role) => readIfExists(softKeyPath(stateDir, role)),
    writeKey: (role, pem) => writeFileAtomic(softKeyPath(stateDir, role), pem, { mode: 0o600 }),
    whereKey: (role) => softKeyPath(stateDir, role),
    async checkKey(role) {
      const file = softKeyPath(stateDir, role);
      const existing = await stat(file).catch(() => undefined);
      if (existing && existing.mode & 0o077) {
        // A key file readable by others is tightened, not replaced.
        await chmod(file, 0o600);
        logger.warn('soft key file was group/world accessible; set to 0600', { role, path: file });
      }
    },
    certs: fileCertStorage(stateDir),
  };
}

class SoftKeyStore implements KeyStore {
  readonly kind = 'soft' as const;
  readonly description = DESCRIPTION;
  readonly deviceSigner: Signer;
  readonly ecdh: EcdhKey;
  private closed = false;
  private readonly keys = new Map<KeyRole, SoftKey>();
  private signer: Signer | undefined;

  constructor(
    private readonly storage: SoftKeyStorage,
    private readonly logger: Logger,
    private readonly clock: Clock,
  ) {
    this.deviceSigner = {
      signDigest: async (digest, signal) => (await this.deviceKeySigner()).signDigest(digest, signal),
      sign: async (message, signal) => (await this.deviceKeySigner()).sign!(message, signal),
    };
    this.ecdh = {
      zgen: async (peer, signal) => {
        const key = await this.key('ecdh');
        try {
          return await softEcdh(key).zgen(peer, signal);
        } catch (e) {
          throw new TpmError('POINT_NOT_ON_CURVE', 'soft:zgen', `peer point rejected: ${errorMessage(e)}`);
        }
      },
    };
  }

  private async deviceKeySigner(): Promise<Signer> {
    const key = await this.key('device');
    this.signer ??= opensslSigner(key, { offThread: true });
    return this.signer;
  }

  /** Loads (and caches) a role's key; HANDLE_MISSING when it does not exist. */
  private async key(role: KeyRole): Promise<SoftKey> {
    if (this.closed) throw new TpmError('TOOL_FAILED', 'soft', 'key store is closed');
    const cached = this.keys.get(role);
    if (cached) return cached;
    const where = this.storage.whereKey(role);
    const pem = await this.storage.readKey(role);
    if (!pem) throw new TpmError('HANDLE_MISSING', `soft:${role}`, `${where} does not exist (run \`edgesim tpm provision\`)`);
    let key: SoftKey;
    try {
      key = loadPrivateKeyPem(pem);
    } catch (e) {
      throw new TpmError('TOOL_FAILED', `soft:${role}`, `${where}: ${errorMessage(e)}`);
    }
    this.keys.set(role, key);
    return key;
  }

  async provision(signal?: AbortSignal): Promise<DeviceIdentity> {
    for (const role of ROLES) {
      if (await this.storage.readKey(role)) {
        await this.storage.checkKey?.(role);
        continue;
      }
      const key = await generateSoftKeyOffThread();
      await this.storage.writeKey(role, softKeyToSec1Pem(key));
      // Cached as generated: parsing the PEM just written back costs a fleet ~9 % of its onboarding CPU.
      this.keys.set(role, key);
      this.logger.info('soft key created (NOT hardware-protected)', { role, path: this.storage.whereKey(role) });
    }
    const publicKeys = {} as Record<KeyRole, Uint8Array>;
    for (const role of ROLES) publicKeys[role] = (await this.key(role)).publicKey;
    return ensureCertificates(this.storage.certs, { deviceSigner: this.deviceSigner, publicKeys }, this.clock, this.logger, signal);
  }

  quote(): Promise<Quote | null> {
    return Promise.resolve(null);
  }

  async info(): Promise<KeyStoreInfo> {
    const objects = [];
    for (const role of ROLES) {
      const present = (await this.storage.readKey(role)) !== undefined;
      const cert = await this.storage.certs.read(role);
      objects.push({
        role,
        location: this.storage.whereKey(role),
        present,
        ...(present ? { publicKeyPem: pointToSpkiPem((await this.key(role)).publicKey) } : {}),
        certPath: this.storage.certs.where(role),
        ...certSummary(cert),
      });
    }
    return { kind: 'soft', description: DESCRIPTION, hardwareProtected: false, objects, pcrBank: null };
  }

  close(): Promise<void> {
    this.closed = true;
    this.keys.clear();
    this.signer = undefined;
    return Promise.resolve();
  }
}

/** Opens the soft key store in `stateDir` (no file is created until `provision()`). */
export function openSoftKeyStore(opts: { stateDir: string; logger: Logger; clock: Clock }): Promise<KeyStore> {
  opts.logger.warn('using software keys: NOT hardware-protected', { stateDir: opts.stateDir });
  return Promise.resolve(new SoftKeyStore(fileSoftKeyStorage(opts.stateDir, opts.logger), opts.logger, opts.clock));
}

/** A soft key store over any storage (the fleet keeps every device's keys in its state store). */
export function softKeyStoreOver(storage: SoftKeyStorage, opts: { logger: Logger; clock: Clock }): KeyStore {
  return new SoftKeyStore(storage, opts.logger, opts.clock);
}

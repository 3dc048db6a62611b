/**
 * The software key store: EVE's TPM-less device (cipher-and-tpm.md §12). Keys are P-256 PEM files under
 * `<stateDir>/keys/` (0600, directory 0700). NOT hardware-protected: anyone who can read the files has the keys.
 */
import { chmod, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Clock, Logger } from '../common/index.js';
import { errorMessage } from '../common/index.js';
import {
  generateSoftKey,
  loadPrivateKeyPem,
  softEcdh,
  softKeyToPkcs8Pem,
  softSigner,
  type EcdhKey,
  type Signer,
  type SoftKey,
} from '../eve/index.js';
import { TpmError } from './errors.js';
import { certPath, certSummary, ensureCertificates, pointToSpkiPem, readIfExists } from './identity.js';
import { writeFileAtomic } from '../common/atomic-file.js';
import type { DeviceIdentity, KeyRole, KeyStore, KeyStoreInfo, Quote } from './types.js';

const ROLES: readonly KeyRole[] = ['device', 'ecdh', 'attest'];
const DESCRIPTION = 'soft (NOT hardware-protected)';

/** Where a role's soft key lives: `<stateDir>/keys/<role>.key.pem`. */
export function softKeyPath(stateDir: string, role: KeyRole): string {
  return path.join(stateDir, 'keys', `${role}.key.pem`);
}

class SoftKeyStore implements KeyStore {
  readonly kind = 'soft' as const;
  readonly description = DESCRIPTION;
  readonly deviceSigner: Signer;
  readonly ecdh: EcdhKey;
  private closed = false;
  private readonly keys = new Map<KeyRole, SoftKey>();

  constructor(
    private readonly stateDir: string,
    private readonly logger: Logger,
    private readonly clock: Clock,
  ) {
    this.deviceSigner = {
      signDigest: async (digest, signal) => softSigner(await this.key('device')).signDigest(digest, signal),
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

  /** Loads (and caches) a role's key; HANDLE_MISSING when the file does not exist. */
  private async key(role: KeyRole): Promise<SoftKey> {
    if (this.closed) throw new TpmError('TOOL_FAILED', 'soft', 'key store is closed');
    const cached = this.keys.get(role);
    if (cached) return cached;
    const file = softKeyPath(this.stateDir, role);
    const pem = await readIfExists(file);
    if (!pem) throw new TpmError('HANDLE_MISSING', `soft:${role}`, `${file} does not exist (run \`edgesim tpm provision\`)`);
    let key: SoftKey;
    try {
      key = loadPrivateKeyPem(pem);
    } catch (e) {
      throw new TpmError('TOOL_FAILED', `soft:${role}`, `${file}: ${errorMessage(e)}`);
    }
    this.keys.set(role, key);
    return key;
  }

  async provision(signal?: AbortSignal): Promise<DeviceIdentity> {
    for (const role of ROLES) {
      const file = softKeyPath(this.stateDir, role);
      const existing = await stat(file).catch(() => undefined);
      if (existing) {
        if (existing.mode & 0o077) {
          // A key file readable by others is tightened, not replaced.
          await chmod(file, 0o600);
          this.logger.warn('soft key file was group/world accessible; set to 0600', { role, path: file });
        }
        continue;
      }
      await writeFileAtomic(file, softKeyToPkcs8Pem(generateSoftKey()), { mode: 0o600 });
      this.logger.info('soft key created (NOT hardware-protected)', { role, path: file });
    }
    const publicKeys = {} as Record<KeyRole, Uint8Array>;
    for (const role of ROLES) publicKeys[role] = (await this.key(role)).publicKey;
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
        ...(present ? { publicKeyPem: pointToSpkiPem((await this.key(role)).publicKey) } : {}),
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

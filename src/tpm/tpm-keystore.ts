/**
 * The TPM key store: EVE's key layout (cipher-and-tpm.md §9) driven through the tpm2-tools CLI.
 *   0x817FFFFF device key   ECC P-256 sign|decrypt|noDA|sensitiveDataOrigin|userWithAuth, no scheme, empty auth
 *                           ("Simulator choice": EVE uses the owner credential)
 *   0x81000005 ECDH key     same template, empty auth
 *   0x81000004 quote key    ECC P-256 fixedTPM|fixedParent|sensitiveDataOrigin|userWithAuth|restricted|sign|noDA,
 *                           ECDSA-SHA256
 * Keys are primaries in the owner hierarchy made persistent with TPM2_EvictControl; existing handles are kept.
 * Signing and ECDH, the calls on the agent's hot path, are raw commands through the runner's tpm2_send channel
 * (tpm-commands.ts); provisioning, quotes and queries run the tools.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Clock, Logger } from '../common/index.js';
import type { EcdhKey, Signer } from '../eve/index.js';
import { TpmError } from './errors.js';
import { certPath, certSummary, ensureCertificates, pointToSpkiPem, readIfExists } from './identity.js';
import type { DeviceIdentity, KeyRole, KeyStore, KeyStoreInfo, KeyStoreObjectInfo, Quote } from './types.js';
import type { KeyStoreSpec } from './spec.js';
import { ecdhZGenCommand, parseEcdhZGenResponse, parseSignResponse, signCommand } from './tpm-commands.js';
import { encodeUniqueLabel, parseHandleList, parseReadPublic } from './tpm-structs.js';
import { Tpm2Tools } from './tpm2-tools.js';

/** EVE's persistent handles (`lf-edge/eve: pkg/pillar/evetpm/tpm.go`). */
export const TPM_HANDLES: Readonly<Record<KeyRole, number>> = {
  device: 0x817fffff,
  ecdh: 0x81000005,
  attest: 0x81000004,
};

interface Template {
  alg: string;
  attributes: string;
  /**
   * The unique field. Device and ECDH keys share one template, and TPM2_CreatePrimary derives the same key from
   * the same template and seed; a per-role unique value keeps the two keys distinct.
   */
  unique?: string;
}

const TEMPLATES: Readonly<Record<KeyRole, Template>> = {
  device: { alg: 'ecc256:null:null', attributes: 'sign|decrypt|noda|sensitivedataorigin|userwithauth', unique: 'edgesim-device' },
  ecdh: { alg: 'ecc256:null:null', attributes: 'sign|decrypt|noda|sensitivedataorigin|userwithauth', unique: 'edgesim-ecdh' },
  attest: {
    alg: 'ecc256:ecdsa-sha256:null',
    attributes: 'fixedtpm|fixedparent|sensitivedataorigin|userwithauth|restricted|sign|noda',
  },
};

const ROLES: readonly KeyRole[] = ['device', 'ecdh', 'attest'];
/** PCRs 0-15 of the SHA-256 bank, as EVE's tpmmgr quotes them. */
const QUOTE_PCRS = Array.from({ length: 16 }, (_, i) => i);
/** TPM2B_DATA holds at most 64 bytes of qualifying data on common TPMs (sizeof(TPMT_HA) for SHA-512). */
const MAX_NONCE = 64;

const hex = (h: number): string => '0x' + h.toString(16);

/** The tpm2-tools backed KeyStore. */
export class TpmKeyStore implements KeyStore {
  readonly kind = 'tpm' as const;
  readonly description: string;
  readonly deviceSigner: Signer;
  readonly ecdh: EcdhKey;
  /** The serialised runner; also used by the test-only helpers in test-support.ts. */
  readonly tools: Tpm2Tools;
  private closed = false;

  constructor(
    spec: Extract<KeyStoreSpec, { kind: 'tpm' }>,
    private readonly stateDir: string,
    private readonly logger: Logger,
    private readonly clock: Clock,
    timeoutMs: number,
  ) {
    this.description = `tpm ${spec.label}`;
    this.tools = new Tpm2Tools({ tcti: spec.tcti, flush: spec.flush, exclusive: spec.exclusive, timeoutMs, logger });
    this.deviceSigner = { signDigest: (digest, signal) => this.sign(digest, signal) };
    this.ecdh = { zgen: (peer, signal) => this.zgen(peer, signal) };
  }

  private checkOpen(): void {
    if (this.closed) throw new TpmError('TOOL_FAILED', 'tpm', 'key store is closed');
  }

  /**
   * TPM2_Sign(0x817FFFFF, digest, ECDSA/SHA-256) → raw r‖s (cipher-and-tpm.md §9 "device signing"), empty auth
   * ("Simulator choice").
   */
  private async sign(digest: Uint8Array, signal?: AbortSignal): Promise<Uint8Array> {
    this.checkOpen();
    return this.tools.send(signCommand(TPM_HANDLES.device, digest), parseSignResponse, signal);
  }

  /**
   * TPM2_ECDH_ZGen(0x81000005, "", peer) → the full shared point (cipher-and-tpm.md §5 step 6). A point off the
   * curve is answered with TPM_RC_ECC_POINT (0x1e7): TpmError POINT_NOT_ON_CURVE.
   */
  private async zgen(peer: Uint8Array, signal?: AbortSignal): Promise<Uint8Array> {
    this.checkOpen();
    return this.tools.send(ecdhZGenCommand(TPM_HANDLES.ecdh, peer), parseEcdhZGenResponse, signal);
  }

  async quote(nonce: Uint8Array, signal?: AbortSignal): Promise<Quote> {
    this.checkOpen();
    if (nonce.length === 0 || nonce.length > MAX_NONCE) {
      throw new TpmError('TOOL_FAILED', 'tpm2_quote', `nonce must be 1-${MAX_NONCE} bytes, got ${nonce.length}`);
    }
    return this.tools.exclusive(async (run, dir) => {
      const f = (n: string): string => path.join(dir, n);
      await run(
        'tpm2_quote',
        ['-c', hex(TPM_HANDLES.attest), '-l', `sha256:${QUOTE_PCRS.join(',')}`, '-q', Buffer.from(nonce).toString('hex'),
          '-m', f('attest'), '-s', f('sig'), '-f', 'plain', '-o', f('pcrs'), '-F', 'values'],
        signal ? { signal } : {},
      );
      const [attestData, signatureDer, values] = await Promise.all(
        ['attest', 'sig', 'pcrs'].map(async (n) => (await readIfExists(f(n))) ?? Buffer.alloc(0)),
      );
      if (values.length !== QUOTE_PCRS.length * 32) {
        throw new TpmError('TOOL_FAILED', 'tpm2_quote', `expected ${QUOTE_PCRS.length} SHA-256 PCR values, got ${values.length} bytes`);
      }
      const pcrs = QUOTE_PCRS.map((index, i) => ({ index, value: Buffer.from(values.subarray(i * 32, i * 32 + 32)) }));
      return { attestData: attestData, signatureDer: signatureDer, pcrs };
    });
  }

  /** Persistent handles present in the TPM. */
  private async persistentHandles(signal?: AbortSignal): Promise<Set<number>> {
    const out = await this.tools.run('tpm2_getcap', ['handles-persistent'], signal ? { signal } : {});
    return new Set(parseHandleList(out.toString()));
  }

  private async readPublic(role: KeyRole, signal?: AbortSignal): Promise<{ attributes: string; point: Uint8Array }> {
    const out = await this.tools.run('tpm2_readpublic', ['-c', hex(TPM_HANDLES[role])], signal ? { signal } : {});
    return parseReadPublic(out.toString());
  }

  /** TPM2_CreatePrimary in the owner hierarchy + TPM2_EvictControl to the role's handle. */
  private async createPersistent(role: KeyRole, signal?: AbortSignal): Promise<void> {
    const t = TEMPLATES[role];
    await this.tools.exclusive(async (run, dir) => {
      const ctx = path.join(dir, 'primary.ctx');
      const args = ['-C', 'o', '-g', 'sha256', '-G', t.alg, '-a', t.attributes, '-c', ctx];
      if (t.unique) {
        const u = path.join(dir, 'unique.bin');
        await writeFile(u, encodeUniqueLabel(t.unique));
        args.push('-u', u);
      }
      const sig = signal ? { signal } : {};
      await run('tpm2_createprimary', args, { leaks: ['transient'], ...sig });
      await run('tpm2_evictcontrol', ['-C', 'o', '-c', ctx, hex(TPM_HANDLES[role])], { leaks: ['transient'], ...sig });
    });
    this.logger.info('TPM key created and made persistent', { role, handle: hex(TPM_HANDLES[role]) });
  }

  async provision(signal?: AbortSignal): Promise<DeviceIdentity> {
    this.checkOpen();
    const present = await this.persistentHandles(signal);
    const publicKeys = {} as Record<KeyRole, Uint8Array>;
    for (const role of ROLES) {
      if (!present.has(TPM_HANDLES[role])) await this.createPersistent(role, signal);
      const pub = await this.readPublic(role, signal);
      const want = TEMPLATES[role].attributes.split('|').sort().join('|');
      if (pub.attributes.split('|').sort().join('|') !== want) {
        // EVE re-creates such a key (evetpm CreateKey); the simulator never replaces an existing object.
        this.logger.warn('existing TPM key has other attributes than the EVE template; kept', {
          role,
          handle: hex(TPM_HANDLES[role]),
          attributes: pub.attributes,
          expected: TEMPLATES[role].attributes,
        });
      }
      publicKeys[role] = pub.point;
    }
    return ensureCertificates(this.stateDir, { deviceSigner: this.deviceSigner, publicKeys }, this.clock, this.logger, signal);
  }

  async info(signal?: AbortSignal): Promise<KeyStoreInfo> {
    this.checkOpen();
    const present = await this.persistentHandles(signal);
    const objects: KeyStoreObjectInfo[] = [];
    for (const role of ROLES) {
      const has = present.has(TPM_HANDLES[role]);
      const pub = has ? await this.readPublic(role, signal) : undefined;
      objects.push({
        role,
        location: hex(TPM_HANDLES[role]),
        present: has,
        ...(pub ? { publicKeyPem: pointToSpkiPem(pub.point), attributes: pub.attributes } : {}),
        certPath: certPath(this.stateDir, role),
        ...certSummary(await readIfExists(certPath(this.stateDir, role))),
      });
    }
    return { kind: 'tpm', description: this.description, hardwareProtected: true, objects, pcrBank: 'sha256' };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.tools.release();
    await this.tools.idle();
  }
}

/** Opens a TPM key store (no TPM call is made until the first operation). */
export function openTpmKeyStore(opts: {
  spec: Extract<KeyStoreSpec, { kind: 'tpm' }>;
  stateDir: string;
  logger: Logger;
  clock: Clock;
  timeoutMs: number;
}): Promise<KeyStore> {
  return Promise.resolve(new TpmKeyStore(opts.spec, opts.stateDir, opts.logger, opts.clock, opts.timeoutMs));
}

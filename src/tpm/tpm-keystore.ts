/**
 * The TPM key store: EVE's key layout (cipher-and-tpm.md §9) as raw TPM commands through one long-lived
 * `tpm2_send` (tpm-command-runner.ts).
 *   0x817FFFFF device key   ECC P-256 sign|decrypt|noDA|sensitiveDataOrigin|userWithAuth, no scheme, empty auth
 *                           ("Simulator choice": EVE uses the owner credential)
 *   0x81000005 ECDH key     same template, empty auth
 *   0x81000004 quote key    ECC P-256 fixedTPM|fixedParent|sensitiveDataOrigin|userWithAuth|restricted|sign|noDA,
 *                           ECDSA-SHA256
 * Keys are primaries in the owner hierarchy made persistent with TPM2_EvictControl; existing handles are kept.
 */
import { createHash } from 'node:crypto';
import { errorMessage, type Clock, type Logger } from '../common/index.js';
import { parseQuoteAttest, rawSignatureToDer, type EcdhKey, type Signer } from '../eve/index.js';
import { TpmError } from './errors.js';
import { certPath, certSummary, ensureCertificates, pointToSpkiPem, readIfExists } from './identity.js';
import type { DeviceIdentity, KeyRole, KeyStore, KeyStoreInfo, KeyStoreObjectInfo, Quote } from './types.js';
import type { KeyStoreSpec } from './spec.js';
import type { Transmit } from './tpm-command-frame.js';
import {
  ecdhZGenCommand,
  parseEcdhZGenResponse,
  parsePcrReadResponse,
  parseQuoteResponse,
  parseSignResponse,
  pcrReadCommand,
  quoteCommand,
  signCommand,
} from './tpm-commands.js';
import {
  createPrimaryCommand,
  evictControlCommand,
  flushContextCommand,
  HANDLE_RANGE,
  listHandles,
  parseCreatePrimaryResponse,
  parseEmptyResponse,
  parseReadPublicResponse,
  readPublicCommand,
  TPM_RC_NV_DEFINED,
  TPM_RH_OWNER,
  type PublicArea,
} from './tpm-object-commands.js';
import { attributeBits, attributeNames, matchesTemplate, TPM_ALG, type EccPublic } from './tpm-public.js';
import { TpmCommandRunner } from './tpm-command-runner.js';

/** EVE's persistent handles (`lf-edge/eve: pkg/pillar/evetpm/tpm.go`). */
export const TPM_HANDLES: Readonly<Record<KeyRole, number>> = {
  device: 0x817fffff,
  ecdh: 0x81000005,
  attest: 0x81000004,
};

/**
 * EVE's templates (cipher-and-tpm.md §9), byte for byte what `tpm2_createprimary -C o -g sha256` made from
 * `-G ecc256:null:null -a sign|decrypt|noda|sensitivedataorigin|userwithauth -u <label>` (device, ECDH) and
 * `-G ecc256:ecdsa-sha256:null -a fixedtpm|fixedparent|sensitivedataorigin|userwithauth|restricted|sign|noda`
 * (quote key), so keys stay the same on a TPM provisioned by earlier versions. Device and ECDH keys share one
 * template, and TPM2_CreatePrimary derives the same key from the same template and seed; a per-role label in
 * unique.x keeps the two keys distinct.
 */
export const TPM_TEMPLATES: Readonly<Record<KeyRole, EccPublic>> = {
  device: {
    attributes: attributeBits('sign|decrypt|noda|sensitivedataorigin|userwithauth'),
    scheme: TPM_ALG.NULL,
    x: Buffer.from('edgesim-device'),
    y: new Uint8Array(0),
  },
  ecdh: {
    attributes: attributeBits('sign|decrypt|noda|sensitivedataorigin|userwithauth'),
    scheme: TPM_ALG.NULL,
    x: Buffer.from('edgesim-ecdh'),
    y: new Uint8Array(0),
  },
  attest: {
    attributes: attributeBits('fixedtpm|fixedparent|sensitivedataorigin|userwithauth|restricted|sign|noda'),
    scheme: TPM_ALG.ECDSA,
    x: new Uint8Array(0),
    y: new Uint8Array(0),
  },
};

const ROLES: readonly KeyRole[] = ['device', 'ecdh', 'attest'];
/** PCRs 0-15 of the SHA-256 bank, as EVE's tpmmgr quotes them. */
const QUOTE_PCRS = Array.from({ length: 16 }, (_, i) => i);
/** TPM2B_DATA holds at most 64 bytes of qualifying data on common TPMs (sizeof(TPMT_HA) for SHA-512). */
const MAX_NONCE = 64;
/** Quote attempts when a PCR changed between TPM2_Quote and TPM2_PCR_Read. */
const QUOTE_ATTEMPTS = 2;

const hex = (h: number): string => '0x' + h.toString(16);

/** Reads PCRs `pcrs` of the SHA-256 bank; a TPM answers at most 8 per TPM2_PCR_Read, so it asks until all are in. */
async function readPcrs(tx: Transmit, pcrs: readonly number[]): Promise<Map<number, Buffer>> {
  const values = new Map<number, Buffer>();
  while (values.size < pcrs.length) {
    const want = pcrs.filter((p) => !values.has(p));
    const r = await tx(pcrReadCommand([{ hashAlg: TPM_ALG.SHA256, pcrs: want }]), parsePcrReadResponse);
    const got = r.selection.filter((s) => s.hashAlg === TPM_ALG.SHA256).flatMap((s) => s.pcrs);
    if (got.length === 0) throw new TpmError('TOOL_FAILED', 'TPM2_PCR_Read', `no SHA-256 PCR among ${want.join(',')} could be read`);
    got.forEach((p, i) => values.set(p, r.values[i]));
  }
  return values;
}

/** The TPM KeyStore. */
export class TpmKeyStore implements KeyStore {
  readonly kind = 'tpm' as const;
  readonly description: string;
  readonly deviceSigner: Signer;
  readonly ecdh: EcdhKey;
  /** The serialised runner; also used by the test-only helpers in test/helpers/tpm-test-support.ts. */
  readonly runner: TpmCommandRunner;
  private closed = false;

  constructor(
    spec: Extract<KeyStoreSpec, { kind: 'tpm' }>,
    private readonly stateDir: string,
    private readonly logger: Logger,
    private readonly clock: Clock,
    timeoutMs: number,
  ) {
    this.description = `tpm ${spec.label}`;
    this.runner = new TpmCommandRunner({ tcti: spec.tcti, flush: spec.flush, exclusive: spec.exclusive, timeoutMs, logger });
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
    return this.runner.send(signCommand(TPM_HANDLES.device, digest), parseSignResponse, signal);
  }

  /**
   * TPM2_ECDH_ZGen(0x81000005, "", peer) → the full shared point (cipher-and-tpm.md §5 step 6). A point off the
   * curve is answered with TPM_RC_ECC_POINT (0x1e7): TpmError POINT_NOT_ON_CURVE.
   */
  private async zgen(peer: Uint8Array, signal?: AbortSignal): Promise<Uint8Array> {
    this.checkOpen();
    return this.runner.send(ecdhZGenCommand(TPM_HANDLES.ecdh, peer), parseEcdhZGenResponse, signal);
  }

  /**
   * TPM2_Quote(0x81000004, nonce, SHA-256 PCRs 0-15, scheme null) and the quoted PCR values (TPM2_PCR_Read), in
   * the form `tpm2_quote -m -s -f plain -o -F values` wrote: TPMS_ATTEST, DER signature, 16 values. The values are
   * read after the quote and checked against its pcrDigest, as the controller will (src/eve verifyQuote); a PCR
   * extended in between makes one more attempt.
   */
  async quote(nonce: Uint8Array, signal?: AbortSignal): Promise<Quote> {
    this.checkOpen();
    if (nonce.length === 0 || nonce.length > MAX_NONCE) {
      throw new TpmError('TOOL_FAILED', 'TPM2_Quote', `nonce must be 1-${MAX_NONCE} bytes, got ${nonce.length}`);
    }
    const selection = [{ hashAlg: TPM_ALG.SHA256, pcrs: QUOTE_PCRS }];
    return this.runner.sequence(async (tx) => {
      for (let attempt = 1; ; attempt++) {
        const q = await tx(quoteCommand(TPM_HANDLES.attest, nonce, selection), parseQuoteResponse);
        const values = await readPcrs(tx, QUOTE_PCRS);
        const pcrs = QUOTE_PCRS.map((index) => ({ index, value: values.get(index)! }));
        const digest = createHash('sha256').update(Buffer.concat(pcrs.map((p) => p.value))).digest();
        if (parseQuoteAttest(q.attest).pcrDigest.equals(digest)) {
          return { attestData: q.attest, signatureDer: rawSignatureToDer(q.signature), pcrs };
        }
        if (attempt === QUOTE_ATTEMPTS) {
          throw new TpmError('TOOL_FAILED', 'TPM2_Quote', `PCRs changed between quote and read ${QUOTE_ATTEMPTS} times`);
        }
      }
    }, signal);
  }

  /** Persistent handles present in the TPM. */
  private async persistentHandles(signal?: AbortSignal): Promise<Set<number>> {
    return new Set(await this.runner.sequence((tx) => listHandles(tx, HANDLE_RANGE.persistent), signal));
  }

  private readPublic(role: KeyRole, signal?: AbortSignal): Promise<PublicArea> {
    return this.runner.send(readPublicCommand(TPM_HANDLES[role]), parseReadPublicResponse, signal);
  }

  /**
   * TPM2_CreatePrimary in the owner hierarchy, TPM2_EvictControl to the role's handle, TPM2_FlushContext of the
   * transient copy (also when persisting failed), as one sequence. A handle taken meanwhile (TPM_RC_NV_DEFINED:
   * another provisioner was quicker) is kept, never replaced. Returns the key's public area.
   */
  private async createPersistent(role: KeyRole, signal?: AbortSignal): Promise<PublicArea> {
    const handle = TPM_HANDLES[role];
    const made = await this.runner.sequence(async (tx) => {
      const created = await tx(createPrimaryCommand(TPM_RH_OWNER, TPM_TEMPLATES[role]), parseCreatePrimaryResponse);
      try {
        await tx(evictControlCommand(created.handle, handle), parseEmptyResponse);
        return created.pub;
      } catch (e) {
        if (e instanceof TpmError && e.code === TPM_RC_NV_DEFINED) return undefined;
        throw e;
      } finally {
        await tx(flushContextCommand(created.handle), parseEmptyResponse).catch((e: unknown) => {
          // Left loaded: the next command that meets 0x902 flushes it (TpmCommandRunner.sequence).
          this.logger.warn('TPM2_FlushContext of a new primary failed', { role, handle: hex(created.handle), error: errorMessage(e) });
        });
      }
    }, signal);
    if (!made) {
      this.logger.warn('TPM handle taken while provisioning; the existing key is kept', { role, handle: hex(handle) });
      return this.readPublic(role, signal);
    }
    this.logger.info('TPM key created and made persistent', { role, handle: hex(handle) });
    return made;
  }

  async provision(signal?: AbortSignal): Promise<DeviceIdentity> {
    this.checkOpen();
    const present = await this.persistentHandles(signal);
    const publicKeys = {} as Record<KeyRole, Uint8Array>;
    for (const role of ROLES) {
      const pub = present.has(TPM_HANDLES[role]) ? await this.readPublic(role, signal) : await this.createPersistent(role, signal);
      if (!matchesTemplate(pub.decoded, TPM_TEMPLATES[role])) {
        // EVE re-creates such a key (evetpm CreateKey); the simulator never replaces an existing object.
        this.logger.warn('existing TPM key differs from the EVE template; kept', {
          role,
          handle: hex(TPM_HANDLES[role]),
          attributes: attributeNames(pub.decoded.attributes),
          expected: attributeNames(TPM_TEMPLATES[role].attributes),
        });
      }
      publicKeys[role] = pub.decoded.point;
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
        ...(pub ? { publicKeyPem: pointToSpkiPem(pub.decoded.point), attributes: attributeNames(pub.decoded.attributes) } : {}),
        certPath: certPath(this.stateDir, role),
        ...certSummary(await readIfExists(certPath(this.stateDir, role))),
      });
    }
    return { kind: 'tpm', description: this.description, hardwareProtected: true, objects, pcrBank: 'sha256' };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.runner.release();
    await this.runner.idle();
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

/** The KeyStore interface and the data it returns (see index.ts for the backends). */
import type { Clock, Logger } from '../common/index.js';
import type { EcdhKey, Signer } from '../eve/index.js';

/** One device's keys. Obtain with `openKeyStore`; call `close()` when done. */
export interface KeyStore {
  readonly kind: 'soft' | 'tpm';
  /** Human-readable backend, e.g. 'soft (NOT hardware-protected)', 'tpm swtpm:host=127.0.0.1,port=2321'. */
  readonly description: string;
  /** Creates missing keys and certs (idempotent: existing objects are kept, never replaced) and returns them. */
  provision(signal?: AbortSignal): Promise<DeviceIdentity>;
  /** The device key (0x817FFFFF / keys/device.key.pem): AuthContainer and certificate signatures. */
  readonly deviceSigner: Signer;
  /** The ECDH key (0x81000005 / keys/ecdh.key.pem): CipherBlock decryption. */
  readonly ecdh: EcdhKey;
  /** TPM2_Quote over PCRs 0-15 (SHA-256 bank) with `nonce` as qualifying data; null for soft (TPM-less quote). */
  quote(nonce: Uint8Array, signal?: AbortSignal): Promise<Quote | null>;
  /** What exists: handles or key files, public keys, certificate subjects, PCR bank. */
  info(signal?: AbortSignal): Promise<KeyStoreInfo>;
  /** Releases resources; idempotent. Later calls fail. */
  close(): Promise<void>;
}

/** The device's certificates, as the exact file bytes (trailing newline included): hashes are taken over them. */
export interface DeviceIdentity {
  deviceCertPem: Buffer;
  ecdhCertPem: Buffer;
  attestCertPem: Buffer;
}

/** A TPM quote as ZAttestQuote carries it (eve-api.md §8). */
export interface Quote {
  /** TPMS_ATTEST as the TPM returned it (TPM2B size stripped). */
  attestData: Buffer;
  /** ECDSA signature over SHA-256(attestData), ASN.1 DER. */
  signatureDer: Buffer;
  /** The quoted PCRs (SHA-256 bank), in index order. */
  pcrs: { index: number; value: Buffer }[];
}

/** The three EVE key roles. */
export type KeyRole = 'device' | 'ecdh' | 'attest';

/** One key and its certificate as found on disk / in the TPM. */
export interface KeyStoreObjectInfo {
  role: KeyRole;
  /** TPM persistent handle (`0x817fffff`) or key file path (soft). */
  location: string;
  present: boolean;
  /** SPKI PEM of the public key, when present. */
  publicKeyPem?: string;
  /** TPM object attributes as tpm2_readpublic names them (TPM only). */
  attributes?: string;
  certPath: string;
  /** Certificate subject in RFC 2253-ish one-line form, when the certificate exists. */
  certSubject?: string;
  certNotAfter?: string;
}

/** What `info()` reports. */
export interface KeyStoreInfo {
  kind: 'soft' | 'tpm';
  description: string;
  /** False for the soft backend: its keys are plain files. */
  hardwareProtected: boolean;
  objects: KeyStoreObjectInfo[];
  /** The PCR bank quotes use; null when there is no TPM. */
  pcrBank: 'sha256' | null;
}

/** Options of `openKeyStore`. */
export interface KeyStoreOptions {
  /** 'soft' | 'swtpm:host=H,port=N' | 'device:/dev/tpmrm0' | 'device:/dev/tpm0' | 'tabrmd[:conf]'. */
  spec: string;
  /** Device state directory; certificates go to `certs/`, soft keys to `keys/`. */
  stateDir: string;
  logger: Logger;
  clock: Clock;
  /** Per-TPM-command timeout in ms. @default 10000 */
  timeoutMs?: number;
}

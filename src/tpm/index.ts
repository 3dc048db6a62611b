/**
 * The device key store: where the EVE device, ECDH and attestation keys live and what they can do.
 * Two backends behind one interface, chosen by a spec string (cipher-and-tpm.md §9-13):
 *   - `soft`: PEM key files under `<stateDir>/keys/` (NOT hardware-protected; EVE's TPM-less device, §12);
 *   - a TPM through raw commands over tpm2-tools' `tpm2_send`: `swtpm:host=H,port=N`, `device:/dev/tpmrm0`,
 *     `device:/dev/tpm0`, `tabrmd`.
 */
export type {
  DeviceIdentity,
  KeyRole,
  KeyStore,
  KeyStoreInfo,
  KeyStoreOptions,
} from './types.js';
export { openKeyStore } from './open-key-store.js';
export { TpmError, isTpmError } from './errors.js';
export { SwtpmProcess, swtpmPidFile } from './swtpm.js';
export { provisionKeyStore, describeKeyStore } from './key-store-actions.js';
export { softKeyPath, softKeyStoreOver, type SoftKeyStorage } from './soft-keystore.js';
export type { CertStorage } from './identity.js';
export { TPM_HANDLES } from './tpm-keystore.js';


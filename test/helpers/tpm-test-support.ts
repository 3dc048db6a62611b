/**
 * TEST-ONLY helpers, kept under test/ so no production module can import them: they load private key material
 * into the TPM from a file, which defeats the point of a TPM. They exist so tests can run known-answer vectors (whose
 * private keys are public) through the real TPM2_ECDH_ZGen path.
 */
import { createPrivateKey } from 'node:crypto';
import type { EcdhKey } from '../../src/eve/index.js';
import { TpmError } from '../../src/tpm/errors.js';
import type { KeyStore } from '../../src/tpm/types.js';
import { ecdhZGenCommand, parseEcdhZGenResponse } from '../../src/tpm/tpm-commands.js';
import { flushContextCommand, loadExternalEccCommand, parseEmptyResponse, parseLoadExternalResponse } from '../../src/tpm/tpm-object-commands.js';
import { attributeBits } from '../../src/tpm/tpm-public.js';
import { TpmKeyStore } from '../../src/tpm/tpm-keystore.js';

/**
 * TEST-ONLY. An EcdhKey that, per call, loads `privateKeyPem` (P-256, PKCS#8 or SEC1 PEM) into the TPM's null
 * hierarchy with TPM2_LoadExternal and runs TPM2_ECDH_ZGen with it, through `store`'s serialised runner; the
 * transient object is flushed in the same sequence. `store` must be a TPM key store.
 */
export function externalEcdhKeyForTest(store: KeyStore, privateKeyPem: string | Buffer): EcdhKey {
  if (!(store instanceof TpmKeyStore)) throw new TpmError('TOOL_FAILED', 'test-support', 'needs a TPM key store');
  const jwk = createPrivateKey(privateKeyPem).export({ format: 'jwk' });
  if (jwk.crv !== 'P-256' || !jwk.d || !jwk.x || !jwk.y) throw new TpmError('TOOL_FAILED', 'test-support', 'needs a P-256 private key');
  const b = (v: string): Buffer => Buffer.from(v, 'base64url');
  const load = loadExternalEccCommand(b(jwk.d), Buffer.concat([Buffer.from([4]), b(jwk.x), b(jwk.y)]), attributeBits('sign|decrypt|userwithauth'));
  return {
    zgen: (peer, signal) =>
      store.runner.sequence(async (tx) => {
        const handle = await tx(load, parseLoadExternalResponse);
        try {
          return await tx(ecdhZGenCommand(handle, peer), parseEcdhZGenResponse);
        } finally {
          await tx(flushContextCommand(handle), parseEmptyResponse);
        }
      }, signal),
  };
}

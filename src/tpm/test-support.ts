/**
 * TEST-ONLY helpers. Nothing in the agent or controller may use these: they load private key material into the
 * TPM from a file, which defeats the point of a TPM. They exist so tests can run known-answer vectors (whose
 * private keys are public) through the real TPM2_ECDH_ZGen path.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { EcdhKey } from '../eve/index.js';
import { TpmError } from './errors.js';
import type { KeyStore } from './types.js';
import { decodeEccPoint, encodeEccPoint } from './tpm-structs.js';
import { TpmKeyStore } from './tpm-keystore.js';

/**
 * TEST-ONLY. An EcdhKey that, per call, loads `privateKeyPem` (P-256, PKCS#8 or SEC1 PEM) into the TPM's null
 * hierarchy with TPM2_LoadExternal and runs TPM2_ECDH_ZGen with it, through `store`'s serialised runner; the
 * transient object and session are flushed afterwards. `store` must be a TPM key store.
 */
export function externalEcdhKeyForTest(store: KeyStore, privateKeyPem: string | Buffer): EcdhKey {
  if (!(store instanceof TpmKeyStore)) throw new TpmError('TOOL_FAILED', 'test-support', 'needs a TPM key store');
  return {
    zgen: (peer, signal) => {
      const inPoint = encodeEccPoint(peer);
      return store.tools.exclusive(async (run, dir) => {
        const key = path.join(dir, 'key.pem');
        const ctx = path.join(dir, 'key.ctx');
        const inFile = path.join(dir, 'in.point');
        await writeFile(key, privateKeyPem, { mode: 0o600 });
        await writeFile(inFile, inPoint);
        const sig = signal ? { signal } : {};
        await run('tpm2_loadexternal', ['-C', 'n', '-G', 'ecc', '-r', key, '-a', 'sign|decrypt|userwithauth', '-c', ctx], {
          leaks: ['transient'],
          ...sig,
        });
        const outFile = path.join(dir, 'z.point');
        await run('tpm2_ecdhzgen', ['-c', ctx, '-u', inFile, '-o', outFile], { leaks: ['transient', 'loaded-session'], ...sig });
        return decodeEccPoint(await readFile(outFile));
      });
    },
  };
}

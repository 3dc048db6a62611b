/** Chooses and opens a key store backend from its spec string. */
import { openSoftKeyStore } from './soft-keystore.js';
import { parseKeyStoreSpec } from './spec.js';
import { openTpmKeyStore } from './tpm-keystore.js';
import type { KeyStore, KeyStoreOptions } from './types.js';

/** Opens the key store named by `opts.spec`. Does not create keys: call `provision()`. */
export async function openKeyStore(opts: KeyStoreOptions): Promise<KeyStore> {
  const spec = parseKeyStoreSpec(opts.spec);
  const logger = opts.logger.child({ component: 'tpm' });
  if (spec.kind === 'soft') return openSoftKeyStore({ stateDir: opts.stateDir, logger, clock: opts.clock });
  return openTpmKeyStore({ spec, stateDir: opts.stateDir, logger, clock: opts.clock, timeoutMs: opts.timeoutMs ?? 10_000 });
}

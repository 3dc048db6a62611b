/** One-shot key store operations (open, act, close), as `edgesim tpm provision|info` run them. */
import { openKeyStore } from './open-key-store.js';
import type { DeviceIdentity, KeyStoreInfo, KeyStoreOptions } from './types.js';

/** Opens the key store, provisions it (idempotent), and returns the identity plus what now exists. */
export async function provisionKeyStore(
  opts: KeyStoreOptions,
  signal?: AbortSignal,
): Promise<{ identity: DeviceIdentity; info: KeyStoreInfo }> {
  const store = await openKeyStore(opts);
  try {
    const identity = await store.provision(signal);
    return { identity, info: await store.info(signal) };
  } finally {
    await store.close();
  }
}

/** Opens the key store and reports what exists, creating nothing. */
export async function describeKeyStore(opts: KeyStoreOptions, signal?: AbortSignal): Promise<KeyStoreInfo> {
  const store = await openKeyStore(opts);
  try {
    return await store.info(signal);
  } finally {
    await store.close();
  }
}

/**
 * The cluster token: the `EncryptionBlock.cluster_token` inside the cluster block's CipherBlock, decrypted with the
 * device ECDH key (TPM ZGen or soft) against the controller certs (cluster.md §2.3). Decryption lives here, not in
 * the agent; the cache keys on the block's bytes and the controller cert set, so an unchanged block is not
 * decrypted again (a TPM ECDH) on every config, while a cert rotation retries one that failed.
 */
import { createHash } from 'node:crypto';
import { decryptCipherBlock, type CipherEnv, type common } from '../../eve/index.js';
import { registerSecret } from '../../common/index.js';
import type { EncryptedValue } from '../parse-config.js';

/** What decryption needs besides the block; `certSetKey` names the controller cert set (changes on rotation). */
export interface ClusterTokenEnv extends CipherEnv {
  certSetKey: string;
}

/** The protobuf form the cipher layer takes, rebuilt from the plain value. */
function wireForm(v: EncryptedValue): { block: common.ICipherBlock; contexts: common.ICipherContext[] } {
  return {
    block: { cipherContextId: v.contextId, initialValue: v.initialValue, cipherData: v.cipherData, clearTextSha256: v.clearTextSha256 },
    contexts: v.context ? [{ ...v.context }] : [],
  };
}

/** Decrypts an EncryptionBlock (uncached). @throws CipherError, TpmError */
export function decryptEncryptionBlock(v: EncryptedValue, env: CipherEnv): Promise<common.EncryptionBlock> {
  const { block, contexts } = wireForm(v);
  return decryptCipherBlock(block, contexts, env);
}

/** Digest of everything a decryption depends on: the block, its context and the cert set. */
export function tokenCacheKey(v: EncryptedValue, certSetKey: string): string {
  const h = createHash('sha256');
  for (const part of [v.contextId, v.initialValue, v.cipherData, v.clearTextSha256]) h.update(part).update('\0');
  if (v.context) {
    const c = v.context;
    h.update(`${c.hashScheme}/${c.keyExchangeScheme}/${c.encryptionScheme}\0`).update(c.deviceCertHash).update('\0').update(c.controllerCertHash);
  }
  return h.update('\0').update(certSetKey).digest('hex');
}

/** The decrypted token with a digest that identifies it without revealing it (for change detection). */
export interface ClusterToken {
  token: string;
  digest: string;
}

/** Decrypts cluster tokens, remembering the last success (one cluster block per node). */
export class ClusterTokenDecryptor {
  private last: { key: string; token: ClusterToken } | undefined;
  /** Decryptions actually performed (tests, metrics). */
  decryptions = 0;

  constructor(private readonly env: () => ClusterTokenEnv) {}

  /**
   * The token of `v`; decrypted only when the block or the cert set changed since the last success.
   * @throws CipherError, TpmError, or Error when the block holds no cluster_token
   */
  async token(v: EncryptedValue, signal?: AbortSignal): Promise<ClusterToken> {
    const env = this.env();
    const key = tokenCacheKey(v, env.certSetKey);
    if (this.last?.key === key) return this.last.token;
    this.decryptions++;
    const block = await decryptEncryptionBlock(v, signal ? { ...env, signal } : env);
    const token = block.cluster_token;
    if (!token) throw new Error('the decrypted EncryptionBlock holds no cluster_token');
    registerSecret(token);
    const t = { token, digest: createHash('sha256').update(token).digest('hex') };
    this.last = { key, token: t };
    return t;
  }
}

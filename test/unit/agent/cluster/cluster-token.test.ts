/** The token cache key: an unchanged block under the same certs is not decrypted again; any change is. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { tokenCacheKey } from '../../../../src/agent/cluster/cluster-token.js';
import type { EncryptedValue } from '../../../../src/agent/parse-config.js';

const value = (over: Partial<EncryptedValue> = {}): EncryptedValue => ({
  contextId: 'ctx',
  initialValue: Buffer.alloc(16, 1),
  cipherData: Buffer.from('cipher'),
  clearTextSha256: Buffer.alloc(32, 2),
  context: { contextId: 'ctx', hashScheme: 1, keyExchangeScheme: 1, encryptionScheme: 1, deviceCertHash: Buffer.alloc(16, 3), controllerCertHash: Buffer.alloc(32, 4) },
  ...over,
});

test('same block and cert set → same key; block bytes, context or cert set changed → another key', () => {
  const k = tokenCacheKey(value(), 'a,b');
  assert.equal(tokenCacheKey(value(), 'a,b'), k);
  assert.notEqual(tokenCacheKey(value({ cipherData: Buffer.from('cipheR') }), 'a,b'), k);
  assert.notEqual(tokenCacheKey(value({ initialValue: Buffer.alloc(16, 9) }), 'a,b'), k);
  assert.notEqual(tokenCacheKey(value({ context: undefined }), 'a,b'), k);
  assert.notEqual(tokenCacheKey(value(), 'a,c'), k, 'a cert rotation retries the decryption');
});

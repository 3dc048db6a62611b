import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseKeyStoreSpec } from '../../../src/tpm/spec.js';

void test('key store specs: which need flushing, which are opened by one process at a time', () => {
  assert.deepEqual(parseKeyStoreSpec('soft'), { kind: 'soft' });
  assert.deepEqual(parseKeyStoreSpec('swtpm:host=127.0.0.1,port=2321'), {
    kind: 'tpm',
    tcti: 'swtpm:host=127.0.0.1,port=2321',
    flush: true,
    exclusive: false,
    label: 'swtpm:host=127.0.0.1,port=2321',
  });
  assert.deepEqual(parseKeyStoreSpec('swtpm:port=4000'), {
    kind: 'tpm',
    tcti: 'swtpm:host=127.0.0.1,port=4000',
    flush: true,
    exclusive: false,
    label: 'swtpm:host=127.0.0.1,port=4000',
  });
  const rm = parseKeyStoreSpec('device:/dev/tpmrm0');
  assert.ok(rm.kind === 'tpm' && !rm.flush && !rm.exclusive && rm.tcti === 'device:/dev/tpmrm0');
  const raw = parseKeyStoreSpec('device:/dev/tpm0');
  assert.ok(raw.kind === 'tpm' && raw.flush && raw.exclusive);
  const abrmd = parseKeyStoreSpec('tabrmd');
  assert.ok(abrmd.kind === 'tpm' && !abrmd.flush && !abrmd.exclusive);
});

void test('bad specs are refused with the flag named', () => {
  assert.throws(() => parseKeyStoreSpec('swtpm:host=127.0.0.1,port=x'), /--tpm .*port/);
  assert.throws(() => parseKeyStoreSpec('swtpm:port=65535'), /port\+1/);
  assert.throws(() => parseKeyStoreSpec('device:tpm0'), /--tpm/);
  assert.throws(() => parseKeyStoreSpec('hsm'), /expected 'soft'/);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classifyResponseCode, TpmError, isTpmError } from '../../../src/tpm/errors.js';

void test('TPM response codes map to kinds (TPM 2.0 Part 2 §6.6)', () => {
  assert.equal(classifyResponseCode(0x18b), 'HANDLE_MISSING'); // handle 1 + TPM_RC_HANDLE
  assert.equal(classifyResponseCode(0x902), 'OBJECT_MEMORY');
  assert.equal(classifyResponseCode(0x903), 'SESSION_MEMORY');
  assert.equal(classifyResponseCode(0x1e7), 'POINT_NOT_ON_CURVE'); // parameter 1 + TPM_RC_ECC_POINT
  assert.equal(classifyResponseCode(0x9a2), 'AUTH_FAIL'); // session 1 + TPM_RC_BAD_AUTH
  assert.equal(classifyResponseCode(0x98e), 'AUTH_FAIL'); // session 1 + TPM_RC_AUTH_FAIL
  assert.equal(classifyResponseCode(0x921), 'AUTH_FAIL'); // TPM_RC_LOCKOUT
  assert.equal(classifyResponseCode(0xa000a), 'UNREACHABLE'); // TCTI layer, IO error
  assert.equal(classifyResponseCode(0x90006), 'TOOL_FAILED'); // marshalling layer
  assert.equal(classifyResponseCode(0x2d6), 'TOOL_FAILED');
});

void test('TpmError carries its context and a guard', () => {
  const e = new TpmError('HANDLE_MISSING', 'tpm2_sign', 'msg', 0x18b, 'stderr');
  assert.ok(isTpmError(e));
  assert.ok(!isTpmError(new Error('x')));
  assert.equal(e.codeHex, '0x18b');
  assert.equal(e.command, 'tpm2_sign');
  assert.equal(new TpmError('TIMEOUT', 'x', 'y').codeHex, undefined);
});

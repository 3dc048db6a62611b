/** Operator durations (`--duration 30s`). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isAdminError, parseDuration } from '../../../../src/agent/admin/index.js';

test('parseDuration reads ms, s, m, h and bare seconds', () => {
  assert.equal(parseDuration('500ms', '--duration'), 500);
  assert.equal(parseDuration('30s', '--duration'), 30_000);
  assert.equal(parseDuration('1.5s', '--duration'), 1_500);
  assert.equal(parseDuration('2m', '--duration'), 120_000);
  assert.equal(parseDuration('1h', '--duration'), 3_600_000);
  assert.equal(parseDuration('45', '--duration'), 45_000);
});

test('parseDuration rejects junk and zero, naming the flag', () => {
  for (const bad of ['', 'soon', '-5s', '0s', '10d', '1e3']) {
    assert.throws(() => parseDuration(bad, '--duration'), (e: unknown) => isAdminError(e) && e.kind === 'INVALID_ARGUMENT' && e.message.startsWith('--duration'), bad);
  }
});

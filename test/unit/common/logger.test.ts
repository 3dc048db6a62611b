/** The logger's redaction: secrets by field name and registered value; ordinary keys stay readable. */
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { createLogger, registerSecret } from '../../../src/common/index.js';

function capture(): { log: ReturnType<typeof createLogger>; lines: () => Record<string, unknown>[] } {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (c: Buffer) => (text += c.toString()));
  const log = createLogger({ format: 'json', stream, level: 'debug' });
  return { log, lines: () => text.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) };
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

test('queue keys, config item keys and public keys are logged as they are', async () => {
  const { log, lines } = capture();
  log.info('queued', { key: 'clusternode', configKey: 'timer.config.interval', publicKeyPem: 'PUBLIC', hashSetKey: 'a,b' });
  await tick();
  const [l] = lines();
  assert.equal(l?.key, 'clusternode');
  assert.equal(l?.configKey, 'timer.config.interval');
  assert.equal(l?.publicKeyPem, 'PUBLIC');
  assert.equal(l?.hashSetKey, 'a,b');
});

test('fields named as secrets are redacted whatever their value', async () => {
  const { log, lines } = capture();
  log.info('x', { token: 't', clusterToken: 't', password: 'p', privateKey: 'k', keyPem: 'k', aesKey: 'k', rawKey: 'k', clientSecret: 's', count: 3 });
  await tick();
  const [l] = lines();
  for (const f of ['token', 'clusterToken', 'password', 'privateKey', 'keyPem', 'aesKey', 'rawKey', 'clientSecret']) assert.equal(l?.[f], '[REDACTED]', f);
  assert.equal(l?.count, 3);
});

test('a registered secret is masked in messages and in any field', async () => {
  const { log, lines } = capture();
  registerSecret('s3cr3t-cluster-token');
  log.warn('join failed with s3cr3t-cluster-token', { key: 'k s3cr3t-cluster-token', error: new Error('bad s3cr3t-cluster-token') });
  await tick();
  const raw = JSON.stringify(lines());
  assert.doesNotMatch(raw, /s3cr3t/);
  assert.equal(lines()[0]?.key, 'k [REDACTED]');
});

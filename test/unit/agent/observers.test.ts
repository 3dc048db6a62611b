/** The agent's observers: the timed key store, loop passes, and the config-loop-stall fault's wait. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AgentObservers, timedKeyStore, type KeyStoreOp } from '../../../src/agent/observers.js';
import { FaultSet } from '../../../src/agent/index.js';
import { createClock } from '../../../src/common/index.js';
import { TpmError, type KeyStore } from '../../../src/tpm/index.js';

// A key store whose operations the test scripts (no TPM is needed to check the decorator itself).
const fake = (failQuote: boolean): KeyStore =>
  ({
    kind: 'tpm',
    description: 'fake',
    provision: () => Promise.reject(new Error('not used')),
    deviceSigner: { signDigest: async () => new Uint8Array(64) },
    ecdh: { zgen: async () => new Uint8Array(65) },
    quote: async () => {
      await new Promise((r) => setTimeout(r, 20));
      if (failQuote) throw new TpmError('UNREACHABLE', 'tpm2_quote', 'gone');
      return null;
    },
    info: () => Promise.reject(new Error('not used')),
    close: async () => undefined,
  });

test('timedKeyStore reports each operation with its duration and outcome, passing results and errors through', async () => {
  const observers = new AgentObservers();
  const seen: Array<[KeyStoreOp, number, boolean]> = [];
  const off = observers.add({ keyStoreOp: (op, ms, ok) => seen.push([op, ms, ok]) });
  const keys = timedKeyStore(fake(true), observers);
  assert.equal((await keys.deviceSigner.signDigest(new Uint8Array(32))).length, 64);
  assert.equal((await keys.ecdh.zgen(new Uint8Array(65))).length, 65);
  await assert.rejects(keys.quote(new Uint8Array(8)), TpmError);
  assert.deepEqual(seen.map(([op, , ok]) => [op, ok]), [['sign', true], ['ecdh', true], ['quote', false]]);
  assert.ok(seen[2][1] >= 15, `the quote took ${seen[2][1]} ms`);
  off();
  await keys.deviceSigner.signDigest(new Uint8Array(32));
  assert.equal(seen.length, 3, 'a removed observer hears nothing');
});

test('a loop pass is busy from start to end, also when it throws', async () => {
  const observers = new AgentObservers();
  const marks: string[] = [];
  observers.add({ loopPass: (loop, busy) => marks.push(`${loop} ${busy ? 'busy' : 'idle'}`) });
  await observers.pass('config', async () => void marks.push('body'));
  await assert.rejects(observers.pass('device-info', () => Promise.reject(new Error('x'))));
  assert.deepEqual(marks, ['config busy', 'body', 'config idle', 'device-info busy', 'device-info idle']);
});

test('untilCleared waits for the fault to clear, returns at once without it, and rejects on abort', async () => {
  const faults = new FaultSet(createClock(1));
  const ctl = new AbortController();
  await faults.untilCleared('config-loop-stall', ctl.signal);
  faults.inject('config-loop-stall');
  let done = false;
  const waiting = faults.untilCleared('config-loop-stall', ctl.signal).then(() => (done = true));
  await new Promise((r) => setTimeout(r, 20));
  faults.clear('controller-5xx');
  assert.equal(done, false, 'still held');
  faults.clear('config-loop-stall');
  await waiting;
  faults.inject('config-loop-stall');
  const aborted = faults.untilCleared('config-loop-stall', ctl.signal);
  ctl.abort();
  await assert.rejects(aborted, { name: 'AbortError' });
});

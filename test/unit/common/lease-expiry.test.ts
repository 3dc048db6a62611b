import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LeaseObservation } from '../../../src/common/index.js';

test('LeaseObservation: expiry counts from when the record last changed on the local clock, not from its timestamps', () => {
  const o = new LeaseObservation();
  assert.equal(o.expired(15_000, 0), false, 'nothing seen: not expired');
  // A renewTime from long ago (another node's clock) does not make it expired: the duration starts when first seen.
  o.see({ holderIdentity: 'a', renewTime: '2000-01-01T00:00:00.000000Z', leaseDurationSeconds: 15 }, 100_000);
  assert.equal(o.expired(15_000, 114_999), false);
  assert.equal(o.expired(15_000, 115_000), true);
  // The same record read again does not move the observed time.
  o.see({ holderIdentity: 'a', renewTime: '2000-01-01T00:00:00.000000Z', leaseDurationSeconds: 15 }, 110_000);
  assert.equal(o.expired(15_000, 115_000), true);
  // A renewal (any field changed) does.
  o.see({ holderIdentity: 'a', renewTime: '2000-01-01T00:00:02.000000Z', leaseDurationSeconds: 15 }, 116_000);
  assert.equal(o.expired(15_000, 130_999), false);
  assert.equal(o.expired(15_000, 131_000), true);
  o.see({ holderIdentity: 'b', renewTime: '2000-01-01T00:00:02.000000Z', leaseDurationSeconds: 15 }, 131_000);
  assert.equal(o.expired(15_000, 131_000), false, 'a new holder is a change');
});

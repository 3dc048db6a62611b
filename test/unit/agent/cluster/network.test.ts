/**
 * The cluster IP on the cluster interface (src/agent/cluster/network.ts) against the real kernel: loopback
 * addresses 127.N.201.x on `lo` (N random per run, so parallel runs never meet), added and removed with iproute2.
 * The decisions: present with that prefix → nothing to do; the same IP under another prefix → replaced, not
 * doubled; removal uses the prefix the kernel holds; absent → no-op; `ip` refusing → NetworkError naming the
 * command. Needs CAP_NET_ADMIN (the e2e cluster tests need it too).
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { addClusterAddress, addressesOf, hasAddress, NetworkError, removeClusterAddress } from '../../../../src/agent/cluster/network.js';

const NET = 1 + Math.floor(Math.random() * 250);
const ip = (i: number): string => `127.${NET}.201.${i}`;

after(async () => {
  for (const i of [2, 3]) await removeClusterAddress('lo', ip(i)).catch(() => undefined);
});

test('add: added, then present; another prefix replaces the address; remove takes what the kernel holds', async () => {
  const a = ip(2);
  assert.deepEqual(addressesOf('lo', a), [], 'not there before');
  assert.equal(await addClusterAddress('lo', a, 24), 'added');
  assert.deepEqual(addressesOf('lo', a), [`${a}/24`]);
  assert.ok(hasAddress('lo', a) && hasAddress('lo', a, 24) && !hasAddress('lo', a, 25));
  assert.equal(await addClusterAddress('lo', a, 24), 'present', 'same address and prefix: nothing to do');
  assert.equal(await addClusterAddress('lo', a, 25), 'added');
  assert.deepEqual(addressesOf('lo', a), [`${a}/25`], 'the /24 is gone, not kept beside the /25');
  await removeClusterAddress('lo', a);
  assert.deepEqual(addressesOf('lo', a), [], 'removed under the prefix the kernel held');
  await removeClusterAddress('lo', a); // absent: nothing to do, no error
});

test('a second cluster address leaves the first alone; ip refusing is a NetworkError with the command', async () => {
  await addClusterAddress('lo', ip(2), 24);
  await addClusterAddress('lo', ip(3), 24);
  await removeClusterAddress('lo', ip(3));
  assert.deepEqual([hasAddress('lo', ip(2), 24), hasAddress('lo', ip(3))], [true, false]);
  await removeClusterAddress('lo', ip(2));
  const err = await addClusterAddress('edgesim-none0', ip(3), 24).then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(err instanceof NetworkError, `a NetworkError, got ${String(err)}`);
  assert.deepEqual(err.command, ['ip', 'addr', 'add', `${ip(3)}/24`, 'dev', 'edgesim-none0']);
  assert.match(err.message, /edgesim-none0/);
  assert.notEqual(err.stderr, '');
});

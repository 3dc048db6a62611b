/** The config rollback guard's decision, as a table. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkConfigOrder, type ConfigOrderKey } from '../../../src/agent/config-order.js';

const k = (version: string, controllerEpoch = 0): ConfigOrderKey => ({ version, controllerEpoch });

const cases: Array<[string, ConfigOrderKey | undefined, ConfigOrderKey, RegExp | true]> = [
  ['first config ever', undefined, k('8'), true],
  ['newer version', k('8'), k('23'), true],
  ['same version again', k('23'), k('23'), true],
  ['older version, same epoch (the v23 → v8 replay)', k('23'), k('8'), /version 8 is older .*version 23/],
  ['numeric, not lexical order (9 < 10)', k('10'), k('9'), /version 9 is older/],
  ['versions beyond 2^53', k('90071992547409930'), k('90071992547409929'), /older/],
  ['older version under a newer epoch (controller restarted)', k('23', 1), k('2', 2), true],
  ['epoch went backwards', k('2', 2), k('30', 1), /controller epoch went backwards \(2 → 1\)/],
  ['non-numeric versions are not ordered', k('b7f1'), k('a001'), true],
  ['one side non-numeric', k('23'), k('v8'), true],
  ['empty version (no id)', k('23'), k(''), true],
];

for (const [name, current, next, expected] of cases) {
  test(`config order: ${name}`, () => {
    const v = checkConfigOrder(current, next);
    if (expected === true) assert.deepEqual(v, { accept: true });
    else {
      assert.equal(v.accept, false);
      assert.match((v as { reason: string }).reason, expected);
    }
  });
}

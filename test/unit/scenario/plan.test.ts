/** Planning expands chaos with its seed: the same file gives the same kills on every machine. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { seededRandom } from '../../../src/common/index.js';
import { planScenario } from '../../../src/scenario/plan.js';
import { parseScenario } from '../../../src/scenario/spec.js';

const chaos = (seed: number, kills = 50): string =>
  `name: c\ntopology: { nodes: 3 }\nsteps:\n  - wait: 1s\n  - chaos: { kills: ${kills}, seed: ${seed}, every: 10s, down: 2s }\n  - expect: { allReady: true, within: 60s }\n`;

test('a chaos step becomes kill → down → restart → pause per kill, numbered', () => {
  const plan = planScenario(parseScenario(chaos(7)));
  const kills = plan.filter((p) => p.action.kind === 'kill');
  assert.equal(kills.length, 50);
  assert.deepEqual(kills.map((k) => k.chaosKill), Array.from({ length: 50 }, (_, i) => i + 1));
  assert.equal(plan.filter((p) => p.action.kind === 'restart').length, 50);
  assert.equal(plan.length, 1 + 50 * 4 + 1);
  assert.equal(plan[0].ref, 'steps[0]');
  assert.equal(plan.at(-1)!.ref, 'steps[2]');
  for (let i = 1; i < plan.length - 1; i += 4) {
    const [kill, down, restart, pause] = plan.slice(i, i + 4);
    assert.equal(kill.action.kind, 'kill');
    assert.deepEqual(down.action, { kind: 'wait', ms: 2000 });
    assert.equal(restart.action.kind, 'restart');
    assert.equal((restart.action as { node: number }).node, (kill.action as { node: number }).node, 'the killed node restarts');
    const ms = (pause.action as { ms: number }).ms;
    assert.ok(ms >= 5000 && ms <= 15000, `pause ${ms} within [0.5, 1.5] × every`);
  }
});

test('the same seed gives the same plan; another seed another one; every node gets killed', () => {
  const nodes = (seed: number): number[] => planScenario(parseScenario(chaos(seed))).flatMap((p) => (p.action.kind === 'kill' ? [p.action.node] : []));
  assert.deepEqual(nodes(7), nodes(7));
  assert.notDeepEqual(nodes(7), nodes(8));
  assert.deepEqual([...new Set(nodes(7))].sort(), [0, 1, 2]);
});

test('seededRandom is uniform enough and in [0, 1)', () => {
  const r = seededRandom(1);
  const xs = Array.from({ length: 10_000 }, r);
  assert.ok(xs.every((x) => x >= 0 && x < 1));
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  assert.ok(Math.abs(mean - 0.5) < 0.02, `mean ${mean}`);
});

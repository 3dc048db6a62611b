/** Scenario files parse strictly: every shipped file parses; each bad input is one error naming the field. */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { durationMs, parseScenario, ScenarioError } from '../../../src/scenario/spec.js';
import { repoRoot } from '../../helpers/cli.js';

const shipped = readdirSync(path.join(repoRoot, 'scenarios')).filter((f) => f.endsWith('.yaml'));

test('the shipped scenarios parse, and their names match their files', () => {
  assert.ok(shipped.length >= 9, shipped.join(', '));
  for (const f of shipped) {
    const s = parseScenario(readFileSync(path.join(repoRoot, 'scenarios', f), 'utf8'));
    assert.equal(`${s.name}.yaml`, f);
  }
});

test('defaults: 3 loopback nodes, soft TPM, time scale 10, the cluster formed first, every invariant', () => {
  const s = parseScenario('name: x\nsteps:\n  - wait: 1s\n');
  assert.deepEqual(s.topology, { nodes: 3, network: 'loopback', tpm: 'soft', timeScale: 10, configIntervalMs: 10_000, formCluster: true });
  assert.deepEqual(s.invariants, ['one-reporter-per-app', 'one-leader', 'eventually-ready', 'no-stale-cluster-address', 'no-info-lost']);
  assert.deepEqual(s.steps[0].action, { kind: 'wait', ms: 1000 });
});

const bad: Array<[string, string, RegExp]> = [
  ['not YAML', 'name: [x', /^\(file\): not valid YAML/],
  ['unknown top-level key', 'name: x\nstep: []\n', /^step: unknown key/],
  ['bad name', 'name: Fail Over\nsteps: [{ wait: 1s }]\n', /^name: expected lower-case/],
  ['no steps', 'name: x\nsteps: []\n', /^steps: expected a non-empty list/],
  ['too many nodes', 'name: x\ntopology: { nodes: 30 }\nsteps: [{ wait: 1s }]\n', /^topology\.nodes: expected an integer from 1 to 20, got number 30/],
  ['bad network', 'name: x\ntopology: { network: wifi }\nsteps: [{ wait: 1s }]\n', /^topology\.network: expected one of loopback, netns, auto/],
  ['two actions in a step', 'name: x\nsteps: [{ wait: 1s, kill: dev1 }]\n', /^steps\[0\]: expected exactly one action/],
  ['unknown action', 'name: x\nsteps: [{ reboot: dev1 }]\n', /^steps\[0\]\.reboot: unknown key/],
  ['node out of range', 'name: x\ntopology: { nodes: 2 }\nsteps: [{ kill: dev3 }]\n', /^steps\[0\]\.kill: expected a node dev1…dev2, got string "dev3"/],
  ['bad duration', 'name: x\nsteps: [{ expect: { allReady: true, within: soon } }]\n', /^steps\[0\]\.expect\.within: expected a duration/],
  ['zero duration', 'name: x\nsteps: [{ wait: 0s }]\n', /^steps\[0\]\.wait: expected a duration .*more than 0/],
  ['unknown fault', 'name: x\nsteps: [{ fault: { node: dev1, kind: meteor } }]\n', /^steps\[0\]\.fault\.kind: expected one of controller-unreachable/],
  ['partition on loopback', 'name: x\nsteps: [{ partition: dev1 }]\n', /^steps\[0\]\.partition: a partition needs topology\.network netns/],
  ['interface down on loopback', 'name: x\nsteps: [{ fault: { node: dev1, kind: cluster-interface-down } }]\n', /^steps\[0\]\.fault\.kind: cluster-interface-down needs/],
  ['app expected before deployed', 'name: x\nsteps: [{ expect: { app: web, within: 10s } }]\n', /^steps\[0\]\.expect\.app: no app "web" was deployed before this step/],
  ['app deployed twice', 'name: x\nsteps: [{ deployApp: { name: a, designated: dev1 } }, { deployApp: { name: a, designated: dev2 } }]\n', /^steps\[1\]\.deployApp\.name: app "a" is deployed twice/],
  ['unknown expectation key', 'name: x\nsteps: [{ expect: { allReady: true, within: 1s, soon: true } }]\n', /^steps\[0\]\.expect\.soon: unknown key/],
  ['expectation of nothing', 'name: x\nsteps: [{ expect: { within: 1s } }]\n', /^steps\[0\]\.expect: expected one of/],
  ['chaos without a seed', 'name: x\nsteps: [{ chaos: { kills: 3 } }]\n', /^steps\[0\]\.chaos\.seed: expected an integer/],
  ['unknown invariant', 'name: x\nsteps: [{ wait: 1s }]\ninvariants: [no-split-brain]\n', /^invariants\[0\]: expected one of one-reporter-per-app/],
  ['duplicate key', 'name: x\nname: y\nsteps: [{ wait: 1s }]\n', /^\(file\): not valid YAML/],
  ['failover of an app not deployed', 'name: x\nsteps: [{ failover: { kill: dev1, app: web } }]\n', /^steps\[0\]\.failover\.app: no app "web" was deployed before this step/],
  ['failover on one node', 'name: x\ntopology: { nodes: 1 }\nsteps: [{ deployApp: { name: a, designated: dev1 } }, { failover: { kill: dev1, app: a } }]\n', /^steps\[1\]\.failover: a failover needs at least 2 nodes/],
  ['failover of a node out of range', 'name: x\nsteps: [{ deployApp: { name: a, designated: dev1 } }, { failover: { kill: dev4, app: a } }]\n', /^steps\[1\]\.failover\.kill: expected a node dev1…dev3/],
];

test('failover step: the host to kill, the app, the deadline (300 s spec by default)', () => {
  const s = parseScenario('name: x\nsteps:\n  - deployApp: { name: a, designated: dev1 }\n  - failover: { kill: dev1, app: a }\n  - failover: { kill: dev2, app: a, within: 60s }\n');
  assert.deepEqual(s.steps[1].action, { kind: 'failover', node: 0, app: 'a', withinMs: 300_000 });
  assert.deepEqual(s.steps[2].action, { kind: 'failover', node: 1, app: 'a', withinMs: 60_000 });
});
for (const [name, text, expected] of bad) {
  test(`scenario error: ${name}`, () => {
    assert.throws(() => parseScenario(text), (e: unknown) => {
      assert.ok(e instanceof ScenarioError);
      assert.match(e.message, expected);
      assert.ok(!e.message.includes('\n'), 'one line');
      return true;
    });
  });
}

test('durations: units and bare seconds', () => {
  assert.equal(durationMs('50s', 'f'), 50_000);
  assert.equal(durationMs('10m', 'f'), 600_000);
  assert.equal(durationMs('1.5s', 'f'), 1500);
  assert.equal(durationMs('500ms', 'f'), 500);
  assert.equal(durationMs(2, 'f'), 2000);
  assert.equal(durationMs('0s', 'f', true), 0);
});

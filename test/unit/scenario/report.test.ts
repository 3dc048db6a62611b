/** The scenario report's JUnit XML, read back with an XML parser: structure, counts, escaping. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { junitXml } from '../../../src/scenario/report.js';
import type { ScenarioResult } from '../../../src/scenario/runner.js';
import { parseJunit } from '../../helpers/junit.js';

const step = (ref: string, label: string, outcome: 'passed' | 'failed' | 'skipped', detail = '', ms = 0): ScenarioResult['steps'][number] => ({
  ref,
  label,
  outcome,
  startMs: 1000,
  endMs: 1000 + ms,
  specStartMs: 10_000,
  specEndMs: 10_000 + ms * 10,
  detail,
});

const failed: ScenarioResult = {
  name: 'a<&>"b',
  passed: false,
  network: 'loopback',
  timeScale: 10,
  steps: [step('steps[0]', 'kill dev2', 'passed', '', 250), step('steps[1]', 'expect <x> & "y"', 'failed', 'not within 20 s spec: dev2 latest <READY> & "more"', 2000), step('steps[2]', 'heal dev2', 'skipped', 'an earlier step failed')],
  invariants: [
    { invariant: 'one-leader', held: true, detail: 'held throughout' },
    { invariant: 'eventually-ready', held: false, detail: 'not READY: dev2 (down)' },
  ],
  failovers: [],
  workDir: '/tmp/x',
};

const errored: ScenarioResult = { name: 'broken', passed: false, network: 'loopback', timeScale: 10, steps: [], invariants: [], error: 'the cluster did not form', failovers: [], workDir: '/tmp/y' };

test('junitXml: one suite per scenario, one case per step and invariant, counts, escaping, read back by a parser', () => {
  const suites = parseJunit(junitXml([failed, errored]));
  assert.equal(suites.length, 2);
  const [s, e] = suites;
  assert.equal(s.name, failed.name);
  assert.deepEqual([s.tests, s.failures, s.errors, s.skipped], [5, 2, 0, 1]);
  assert.deepEqual(s.cases.map((c) => c.name), ['steps[0] kill dev2', 'steps[1] expect <x> & "y"', 'steps[2] heal dev2', 'invariant one-leader', 'invariant eventually-ready']);
  assert.ok(s.cases.every((c) => c.classname === failed.name));
  assert.equal(s.cases[0].time, 0.25);
  assert.equal(s.cases[0].failure, undefined);
  assert.equal(s.cases[1].failure, 'not within 20 s spec: dev2 latest <READY> & "more"');
  assert.equal(s.cases[2].skipped, true);
  assert.equal(s.cases[2].systemOut, 'an earlier step failed');
  assert.equal(s.cases[4].failure, 'not READY: dev2 (down)');
  assert.deepEqual([e.name, e.tests, e.failures, e.errors], ['broken', 1, 0, 1]);
  assert.equal(e.cases[0].error, 'the cluster did not form');
});

test('junitXml: a passing scenario has no failure, error or skip', () => {
  const ok: ScenarioResult = { ...failed, name: 'ok', passed: true, steps: [step('steps[0]', 'wait 1s', 'passed')], invariants: [{ invariant: 'one-leader', held: true, detail: '' }] };
  const [s] = parseJunit(junitXml([ok]));
  assert.deepEqual([s.tests, s.failures, s.errors, s.skipped], [2, 0, 0, 0]);
  assert.ok(s.cases.every((c) => c.failure === undefined && c.error === undefined && !c.skipped));
});

test('parseJunit rejects what is not JUnit XML (the test helper can fail)', () => {
  assert.throws(() => parseJunit('<testsuites><testsuite></testsuites>'), /not well-formed/);
  assert.throws(() => parseJunit('<?xml version="1.0"?><other/>'), /no <testsuites> root/);
});

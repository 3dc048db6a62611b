/**
 * The shipped scenarios through the CLI (`edgesim scenario run`), real processes: controller, agents, k3s stand-ins
 * on real etcd, soft TPM, loopback (partition-heal: network namespaces, root only). Each must exit 0 with every
 * step and invariant passed, its JUnit XML without a failure, and nothing of it left running. A scenario whose
 * expectation cannot hold must exit 1 with the failure in the JUnit XML (the runner can fail). kill9-chaos (60 kills)
 * runs in `npm run bench` (bench/chaos.ts); CI runs its seeded 8-kill variant.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { netnsUnavailableReason } from '../../../src/demo/index.js';
import { parseScenario } from '../../../src/scenario/index.js';
import { cliCommand, repoRoot } from '../../helpers/cli.js';
import { parseJunit } from '../../helpers/junit.js';

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  junit: string;
  workDir: string;
}

async function run(file: string): Promise<Run> {
  const workDir = await mkdtemp(path.join(os.tmpdir(), 'edgesim-scenario-test-'));
  dirs.push(workDir);
  const junit = path.join(workDir, 'junit.xml');
  const [exe, args] = cliCommand();
  const child = spawn(exe, [...args, 'scenario', 'run', file, '--output', 'json', '--junit', junit, '--work-dir', workDir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  // A bound on the whole run, not a timing assertion (the deadlines are the scenario's own).
  const guard = setTimeout(() => child.kill('SIGKILL'), 6 * 60_000);
  const code = await new Promise<number | null>((r) => child.once('close', (c) => r(c)));
  clearTimeout(guard);
  return { code, stdout, stderr, junit: await readFile(junit, 'utf8').catch(() => ''), workDir };
}

/** Processes whose command line names `dir`. */
async function processesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const pid of (await readdir('/proc')).filter((e) => /^\d+$/.test(e))) {
    const cmd = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).replaceAll('\0', ' ');
    if (cmd.includes(dir)) out.push(`${pid}: ${cmd}`);
  }
  return out;
}

interface Result {
  name: string;
  passed: boolean;
  steps: Array<{ outcome: string; label: string; detail: string }>;
  invariants: Array<{ invariant: string; held: boolean; detail: string }>;
  chaos?: { kills: number; survived: number };
}

const CI = ['form', 'failover-preferred', 'failover-required', 'controller-outage', 'cluster-to-single', 'join-during-config-churn', 'token-rotation', 'kill9-chaos-short', 'partition-heal'];
const netnsSkip = await netnsUnavailableReason();

for (const name of CI) {
  const skip = name === 'partition-heal' && netnsSkip ? `needs network namespaces: ${netnsSkip}` : undefined;
  test(`scenario ${name} passes`, { skip }, async () => {
    const r = await run(path.join(repoRoot, 'scenarios', `${name}.yaml`));
    assert.equal(r.code, 0, `exit code; stderr:\n${r.stderr}\nstdout:\n${r.stdout}`);
    const res = JSON.parse(r.stdout.trim()) as Result;
    assert.equal(res.name, name);
    assert.equal(res.passed, true);
    assert.ok(res.steps.length > 0 && res.steps.every((s) => s.outcome === 'passed'), JSON.stringify(res.steps));
    const file = parseScenario(await readFile(path.join(repoRoot, 'scenarios', `${name}.yaml`), 'utf8'));
    assert.deepEqual(res.invariants.map((i) => i.invariant), file.invariants);
    if (['controller-outage', 'kill9-chaos-short'].includes(name)) assert.ok(file.invariants.includes('no-info-lost'), 'no-info-lost is on in the chaos and outage scenarios');
    assert.ok(res.invariants.every((i) => i.held), JSON.stringify(res.invariants));
    if (name === 'kill9-chaos-short') assert.deepEqual(res.chaos, { kills: 8, survived: 8 });
    const [suite, ...more] = parseJunit(r.junit);
    assert.equal(more.length, 0);
    assert.deepEqual([suite.name, suite.tests, suite.failures, suite.errors, suite.skipped], [name, res.steps.length + res.invariants.length, 0, 0, 0]);
    assert.deepEqual(await processesUnder(r.workDir), [], 'nothing of the scenario left running');
  });
}

test('a scenario whose expectation cannot hold fails: exit 1, the step and the rest reported, JUnit failure', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'edgesim-scenario-bad-'));
  dirs.push(dir);
  const file = path.join(dir, 'impossible.yaml');
  await writeFile(
    file,
    [
      'name: impossible',
      'topology: { nodes: 2, timeScale: 10 }',
      'steps:',
      '  - expect: { leaderSees: dev2, as: NotReady, within: 20s }', // nothing happened to dev2
      '  - kill: dev2',
    ].join('\n'),
  );
  const r = await run(file);
  assert.equal(r.code, 1, r.stderr);
  const res = JSON.parse(r.stdout.trim()) as Result;
  assert.equal(res.passed, false);
  assert.equal(res.steps[0].outcome, 'failed');
  assert.match(res.steps[0].detail, /^not within 20 s spec \(2\.0 s real\): /);
  assert.equal(res.steps[1].outcome, 'skipped');
  const [suite] = parseJunit(r.junit);
  assert.deepEqual([suite.name, suite.tests, suite.failures, suite.errors, suite.skipped], ['impossible', 2 + res.invariants.length, 1 + res.invariants.filter((i) => !i.held).length, 0, 1]);
  assert.match(suite.cases[0].failure ?? '', /^not within 20 s spec/);
  assert.equal(suite.cases[1].skipped, true);
  assert.deepEqual(await processesUnder(r.workDir), []);
});

test('a planted info loss (queue-drop fault: queued infos dropped unsent) fails no-info-lost, and only it', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'edgesim-scenario-bad-'));
  dirs.push(dir);
  const file = path.join(dir, 'planted-loss.yaml');
  await writeFile(
    file,
    [
      'name: planted-loss',
      'topology: { nodes: 1, timeScale: 10 }',
      'steps:',
      '  - fault: { node: dev1, kind: queue-drop }',
      '  - deployApp: { name: lost-app, designated: dev1 }', // its ZInfoApp reports are produced and dropped
      '  - wait: 40s',
      '  - clearFault: { node: dev1, kind: queue-drop }',
      'invariants: [eventually-ready, no-info-lost]',
      'settle: 30s',
    ].join('\n'),
  );
  const r = await run(file);
  assert.equal(r.code, 1, r.stderr);
  const res = JSON.parse(r.stdout.trim()) as Result;
  assert.ok(res.steps.every((s) => s.outcome === 'passed'), JSON.stringify(res.steps));
  const byName = new Map(res.invariants.map((i) => [i.invariant, i]));
  assert.equal(byName.get('eventually-ready')?.held, true, JSON.stringify(res.invariants));
  assert.equal(byName.get('no-info-lost')?.held, false);
  assert.match(byName.get('no-info-lost')?.detail ?? '', /not stored: .*dev1 [0-9a-f-]{36} \(ainfo:[0-9a-f-]{36}, made /);
  const [suite] = parseJunit(r.junit);
  assert.equal(suite.cases.find((c) => c.name === 'invariant no-info-lost')?.failure, byName.get('no-info-lost')?.detail);
  assert.deepEqual(await processesUnder(r.workDir), []);
});

test('a bad scenario file: one line naming the file and the field, exit 1, nothing started', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'edgesim-scenario-bad-'));
  dirs.push(dir);
  const file = path.join(dir, 'bad.yaml');
  await writeFile(file, 'name: bad\nsteps:\n  - kill: dev9\n');
  const r = await run(file);
  assert.equal(r.code, 1);
  assert.match(r.stderr, new RegExp(`${file.replace(/[.]/g, '\\.')}: steps\\[0\\]\\.kill: expected a node dev1…dev3, got string "dev9"`));
  assert.equal(r.stdout, '');
});

/**
 * `edgesim demo --scenario failover` through the CLI, real processes (controller, 3 agents, 3 k3s stand-ins on
 * real etcd, loopback, soft TPM), time scale 10: the JSON result's timeline is complete and in EVE's order
 * (cluster.md §10), the app moved to another node, that node reports it, and nothing of the demo is left running —
 * also when the run is interrupted with SIGINT (Ctrl-C) in the middle of the scenario.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { NODE_LOST_MESSAGE } from '../../src/agent/apps/index.js';
import type { FailoverTimeline } from '../../src/demo/index.js';
import { cliCommand } from '../helpers/cli.js';

const SCALE = 10;
const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the scenario; `interruptOn` sends SIGINT once stderr contains it. */
async function runScenario(workDir: string, interruptOn?: string): Promise<Run> {
  const [exe, args] = cliCommand();
  const child = spawn(
    exe,
    [...args, 'demo', '--scenario', 'failover', '--time-scale', String(SCALE), '--netns', 'off', '--tpm', 'soft', '--output', 'json', '--work-dir', workDir],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  let interrupted = false;
  child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
  child.stderr.on('data', (b: Buffer) => {
    stderr += b.toString();
    if (interruptOn && !interrupted && stderr.includes(interruptOn)) {
      interrupted = true;
      child.kill('SIGINT');
    }
  });
  // A bound on the whole run (formation takes ~1–2 min on a loaded 2-core machine), not a timing assertion.
  const guard = setTimeout(() => child.kill('SIGKILL'), 15 * 60_000);
  const code = await new Promise<number | null>((r) => child.once('close', (c) => r(c)));
  clearTimeout(guard);
  return { code, stdout, stderr };
}

/** Processes whose command line names `dir` (agents, stand-ins, etcd and swtpm all take paths under it). */
async function processesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const pid of (await readdir('/proc')).filter((e) => /^\d+$/.test(e))) {
    const cmd = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).replaceAll('\0', ' ');
    if (cmd.includes(dir)) out.push(`${pid}: ${cmd}`);
  }
  return out;
}

test('failover scenario: complete timeline in order, app moved off node 1, clean teardown', async () => {
  const workDir = await mkdtemp(path.join(os.tmpdir(), 'edgesim-demo-failover-'));
  dirs.push(workDir);
  const run = await runScenario(workDir);
  assert.equal(run.code, 0, `exit code; stderr:\n${run.stderr}`);
  const lines = run.stdout.trim().split('\n');
  assert.equal(lines.length, 1, `one JSON document on stdout, got:\n${run.stdout}`);
  const r = JSON.parse(lines[0]) as { scenario: string; lostNode: string; app: { designatedNode: string }; timeline: FailoverTimeline };
  const tl = r.timeline;
  assert.equal(r.scenario, 'failover');
  assert.equal(r.lostNode, 'edge-dev1');
  assert.equal(r.app.designatedNode, 'edge-dev1');
  assert.equal(tl.timeScale, SCALE);
  assert.equal(tl.complete, true, JSON.stringify(tl));
  const [notReady, evicted, scheduled, running, reporting] = [tl.notReadySeenMs, tl.podEvictedMs, tl.newPodScheduledMs, tl.newPodRunningMs, tl.newHostReportingMs].map(Number);
  assert.ok(notReady < evicted, `NotReady (${notReady} ms) before the eviction (${evicted} ms)`);
  assert.ok(evicted <= scheduled && scheduled <= running, `evicted ${evicted} ≤ scheduled ${scheduled} ≤ running ${running}`);
  assert.ok(evicted <= reporting, `evicted ${evicted} ≤ new host reporting ${reporting}`);
  // The node controller's 40 s grace (cluster.md §4.1) in spec time, counted from the last heartbeat the node left
  // (whole seconds, or the Lease renewed every 10 s): up to 12 s of spec time before the kill, never less.
  assert.ok((tl.spec.notReadySeenMs ?? 0) >= 28_000, `NotReady after the 40 s grace in spec time, got ${tl.spec.notReadySeenMs} ms`);
  assert.equal(tl.notReadyMessage, NODE_LOST_MESSAGE);
  assert.ok(tl.newNode && tl.newNode !== r.lostNode, `new host ${tl.newNode} differs from ${r.lostNode}`);
  assert.equal(tl.newReporter, tl.newNode, 'the node that hosts the new pod reports the app');
  assert.deepEqual(await processesUnder(workDir), [], 'no process of the demo left');
});

test('failover scenario: SIGINT during the scenario stops it and tears everything down', async () => {
  const workDir = await mkdtemp(path.join(os.tmpdir(), 'edgesim-demo-failover-'));
  dirs.push(workDir);
  const run = await runScenario(workDir, 'deployed');
  assert.equal(run.code, 130, `exit code after SIGINT; stderr:\n${run.stderr}`);
  assert.match(run.stderr, /stopped before the failover scenario finished/);
  assert.equal(run.stdout, '', 'no result document');
  assert.deepEqual(await processesUnder(workDir), [], 'no process of the demo left');
});

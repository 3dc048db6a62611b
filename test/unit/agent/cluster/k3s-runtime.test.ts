/**
 * One node's k3s (src/agent/cluster/k3s-runtime.ts): which k3s is launched, and when the process is (re)started.
 * The "k3s" here is a real child process that only sleeps (node -e), so the restart decision is seen in its pid:
 * the same drop-ins keep the process, changed drop-ins restart it, a reset stops it and leaves a blank state.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { K3sRuntime, resolveK3sLaunch, type K3sLaunch } from '../../../../src/agent/cluster/k3s-runtime.js';
import { createClock, silentLogger } from '../../../../src/common/index.js';
import { K3S_DROPIN_DIR } from '../../../../src/k3s/index.js';

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'edgesim-k3srt-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('resolveK3sLaunch: an explicit binary; `standin` forces the stand-in; else k3s on PATH; else the stand-in', () =>
  withDir(async (dir) => {
    const bin = path.join(dir, 'bin');
    await mkdir(bin);
    await writeFile(path.join(bin, 'k3s'), '#!/bin/sh\n');
    await chmod(path.join(bin, 'k3s'), 0o755);
    const self = ['/usr/bin/node', '/opt/edgesim/main.js'];
    const standin: K3sLaunch = { bin: '/usr/bin/node', args: ['/opt/edgesim/main.js', 'k3s'], standin: true };
    const rows: Array<[string, Parameters<typeof resolveK3sLaunch>[0], K3sLaunch]> = [
      ['explicit binary', { bin: '/opt/k3s', selfCommand: self, pathEnv: bin }, { bin: '/opt/k3s', args: [], standin: false }],
      ['stand-in asked for, k3s on PATH', { bin: 'standin', selfCommand: self, pathEnv: bin }, standin],
      ['k3s on PATH', { selfCommand: self, pathEnv: `/nonexistent${path.delimiter}${bin}` }, { bin: path.join(bin, 'k3s'), args: [], standin: false }],
      ['no k3s anywhere', { selfCommand: self, pathEnv: path.join(dir, 'empty') }, standin],
    ];
    for (const [what, opts, want] of rows) assert.deepEqual(await resolveK3sLaunch(opts), want, what);
  }));

// A "k3s" that accepts any arguments and sleeps until stopped.
const sleeper: K3sLaunch = { bin: process.execPath, args: ['-e', 'setInterval(() => {}, 1e6)', '--'], standin: false };
const single = (nodeIp: string): Parameters<K3sRuntime['writeConfig']>[0] => ({ deviceName: 'edge-dev', deviceUuid: 'dev', nodeIp });

test('startProcess: the same drop-ins keep the running process; changed drop-ins restart it; reset leaves a blank state', () =>
  withDir(async (dir) => {
    const rt = new K3sRuntime({ launch: sleeper, dir, clock: createClock(), logger: silentLogger });
    try {
      await assert.rejects(rt.startProcess(), /no config written yet/);
      const w = await rt.writeConfig(single('127.0.0.1'));
      assert.deepEqual(w, { role: 'single', nodeName: 'edge-dev', nodeIp: '127.0.0.1' });
      await rt.startProcess();
      const first = rt.process?.pid;
      assert.ok(first, 'k3s runs');
      await rt.startProcess();
      assert.equal(rt.process?.pid, first, 'nothing changed: not restarted');
      await rt.writeConfig(single('127.0.0.1'));
      await rt.startProcess();
      assert.equal(rt.process?.pid, first, 'the same drop-ins written again: not restarted');
      await rt.writeConfig(single('127.0.0.2'));
      await rt.startProcess();
      const second = rt.process?.pid;
      assert.ok(second && second !== first, 'node-ip changed: restarted');
      assert.throws(() => process.kill(first, 0), /ESRCH/, 'the old process is gone');
      assert.equal(rt.running?.nodeIp, '127.0.0.2');

      assert.equal(await rt.dataOwner(), '', 'no owner recorded yet');
      await rt.setDataOwner('cluster:c1/server/10.0.0.3');
      assert.equal(await rt.dataOwner(), 'cluster:c1/server/10.0.0.3');
      await mkdir(rt.dataDir, { recursive: true });
      await rt.reset();
      assert.equal(rt.process, undefined, 'stopped');
      assert.throws(() => process.kill(second, 0), /ESRCH/);
      assert.equal(rt.running, undefined);
      assert.equal(await rt.dataOwner(), '', 'owner forgotten');
      await assert.rejects(readdir(rt.dataDir), /ENOENT/, 'data wiped');
      const left = await readdir(path.join(rt.configDir, K3S_DROPIN_DIR)).catch(() => []);
      assert.deepEqual(left, [], 'drop-ins removed');
      await assert.rejects(rt.startProcess(), /no config written yet/, 'after a reset the config must be written again');
    } finally {
      await rt.stopProcess();
    }
  }));

test('dry run: drop-ins rendered but not written, no process started', () =>
  withDir(async (dir) => {
    const rt = new K3sRuntime({ launch: sleeper, dir, clock: createClock(), logger: silentLogger, dryRun: true });
    await rt.writeConfig(single('127.0.0.1'));
    const r = await rt.startProcess();
    assert.equal(r.role, 'single');
    assert.equal(rt.process, undefined);
    assert.deepEqual(rt.running, r);
    await assert.rejects(readdir(path.join(rt.configDir, K3S_DROPIN_DIR)), /ENOENT/, 'nothing on disk');
    await rt.setDataOwner('x');
    assert.equal(await rt.dataOwner(), '', 'no owner file in a dry run');
  }));

/**
 * The `edgesim` command's process defaults take effect: a controller started through bin/edgesim.cjs runs libuv's
 * thread pool with one thread (bin/process-defaults.cjs), not Node's four. Counted in /proc: the same command with
 * UV_THREADPOOL_SIZE=4 set by the user has exactly three threads more; every other thread (V8's platform workers,
 * Node's own) is the same in both.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { createClock } from '../../../src/common/index.js';
import { repoRoot } from '../../helpers/cli.js';
import { startControllerProcess } from '../../helpers/controller.js';

const clock = createClock();

/** Threads of a controller started through the entry with `env`, once it listens (its pool has started by then). */
async function controllerThreads(env: Record<string, string>): Promise<number> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'edgesim-threads-'));
  const inherited = { ...process.env };
  delete inherited.UV_THREADPOOL_SIZE;
  const { child } = await startControllerProcess(dir, { command: [process.execPath, [path.join(repoRoot, 'bin/edgesim.cjs')]], env: { ...inherited, ...env } });
  try {
    // The pool starts with all its threads at its first job; a short settle for any thread still being created.
    await clock.sleepReal(500);
    return readdirSync(`/proc/${child.pid}/task`).length;
  } finally {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
    await rm(dir, { recursive: true, force: true });
  }
}

test('a controller started through bin/edgesim.cjs has one libuv thread: three fewer than with UV_THREADPOOL_SIZE=4', { skip: process.platform !== 'linux' && 'counts threads in /proc' }, async () => {
  const byDefault = await controllerThreads({});
  const withFour = await controllerThreads({ UV_THREADPOOL_SIZE: '4' });
  assert.equal(withFour - byDefault, 3, `threads: ${byDefault} by default, ${withFour} with UV_THREADPOOL_SIZE=4`);
});

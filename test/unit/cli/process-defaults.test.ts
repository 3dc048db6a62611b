/**
 * The process defaults the `edgesim` command sets before Node's module loader starts libuv's thread pool
 * (bin/process-defaults.cjs, applied by bin/edgesim.cjs), and that the entry still starts the CLI.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { test } from 'node:test';
import { repoRoot } from '../../helpers/cli.js';

const require = createRequire(import.meta.url);
const { processDefaults } = require(path.join(repoRoot, 'bin/process-defaults.cjs')) as {
  processDefaults: (args: readonly string[], env: Record<string, string | undefined>) => Record<string, string>;
};

test('one libuv thread for the fleet and the controller unless the user chose; nothing for the other commands', () => {
  const cases: [string[], Record<string, string>, Record<string, string>][] = [
    [['fleet', 'run', '--count', '10'], {}, { UV_THREADPOOL_SIZE: '1' }],
    [['controller', 'run'], {}, { UV_THREADPOOL_SIZE: '1' }],
    [['fleet', 'status'], {}, { UV_THREADPOOL_SIZE: '1' }],
    [['fleet', 'run'], { UV_THREADPOOL_SIZE: '8' }, {}],
    [['agent', '--config-dir', '/etc/edgesim'], {}, {}],
    [['demo'], {}, {}],
    [['--help'], {}, {}],
    [[], {}, {}],
  ];
  for (const [args, env, want] of cases) assert.deepEqual(processDefaults(args, env), want, args.join(' '));
});

test('bin/edgesim.cjs starts the compiled CLI', () => {
  const r = spawnSync(process.execPath, [path.join(repoRoot, 'bin/edgesim.cjs'), '--version'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout.trim(), /^\d+\.\d+\.\d+$/);
});

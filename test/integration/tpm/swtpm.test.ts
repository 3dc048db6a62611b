/** swtpm lifecycle (SwtpmProcess and the `edgesim tpm swtpm` / `tpm provision|info` CLI) with a real swtpm. */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { randomBytes } from 'node:crypto';
import { netnsUnavailableReason } from '../../../src/demo/index.js';
import { SwtpmProcess, isTpmError, swtpmPidFile, type KeyStoreInfo } from '../../../src/tpm/index.js';
import { cliCommand } from '../../helpers/cli.js';
import { clock, logger, missingTpmTools, startSwtpm, stopSwtpm, type SwtpmFixture } from './helpers.js';

const run = promisify(execFile);
const skip = missingTpmTools();

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

void describe('swtpm lifecycle', { skip }, () => {
  let f: SwtpmFixture | undefined;
  after(() => stopSwtpm(f));

  void test('create → running; stop is idempotent and removes the pid file; a busy port fails clearly', async () => {
    f = await startSwtpm();
    const sw = f.swtpm;
    assert.equal(sw.state, 'running');
    assert.match(sw.tcti, /^swtpm:host=127\.0\.0\.1,port=\d+$/);
    assert.ok(alive(sw.pid));
    await assert.rejects(
      SwtpmProcess.create({ stateDir: path.join(f.dir, 'other'), port: sw.port, logger, clock }),
      (e) => isTpmError(e) && e.kind === 'UNREACHABLE' && /Address already in use/.test(e.message),
    );
    await sw.stop();
    await sw.stop();
    assert.equal(sw.state, 'stopped');
    assert.ok(!alive(sw.pid));
    await assert.rejects(stat(swtpmPidFile(sw.stateDir)), { code: 'ENOENT' });
  });
});

// The demo's netns mode: swtpm started through `ip netns exec` in a namespace this test creates; readiness comes
// from its listening socket there, since this process cannot connect into the namespace.
void describe('swtpm in a network namespace', { skip: skip ?? (await netnsUnavailableReason()) }, () => {
  const ns = `edgesim-swtpmtest-${randomBytes(3).toString('hex')}`;
  let dir = '';
  const started: SwtpmProcess[] = [];
  after(async () => {
    for (const sw of started) await sw.stop();
    await run('ip', ['netns', 'del', ns]).catch(() => undefined);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  void test('wrapped start answers TPM commands inside the namespace; a port held there fails with swtpm\'s reason', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'edgesim-tpm-ns-'));
    await run('ip', ['netns', 'add', ns]);
    await run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    const wrap = ['ip', 'netns', 'exec', ns];
    const sw = await SwtpmProcess.create({ stateDir: path.join(dir, 'a'), port: 2321, wrap, logger, clock });
    started.push(sw);
    assert.equal(sw.state, 'running');
    assert.equal(sw.tcti, 'swtpm:host=127.0.0.1,port=2321');
    // Ready means usable at once: a TPM2_GetCapability through the TCTI, from inside the namespace.
    const { stdout } = await run('ip', ['netns', 'exec', ns, 'tpm2_getcap', `--tcti=${sw.tcti}`, 'properties-fixed']);
    assert.match(stdout, /TPM2_PT_FAMILY_INDICATOR/);
    await assert.rejects(
      SwtpmProcess.create({ stateDir: path.join(dir, 'b'), port: 2321, wrap, logger, clock }),
      (e) => isTpmError(e) && e.kind === 'UNREACHABLE' && /swtpm exited/.test(e.message),
    );
    await assert.rejects(SwtpmProcess.create({ stateDir: path.join(dir, 'c'), wrap, logger, clock }), /needs a fixed port/);
    // An aborted start (Ctrl-C during a demo start) leaves no swtpm behind.
    const aborted = path.join(dir, 'd');
    await assert.rejects(SwtpmProcess.create({ stateDir: aborted, port: 2323, wrap, logger, clock, signal: AbortSignal.abort() }), { name: 'AbortError' });
    await assert.rejects(run('pgrep', ['-f', `dir=${aborted}`]), (e: { code?: number }) => e.code === 1, 'no swtpm of the aborted start runs');
    await sw.stop();
    assert.ok(!alive(sw.pid));
  });
});

void describe('edgesim tpm CLI', { skip }, () => {
  let dir = '';
  after(async () => {
    if (!dir) return;
    await SwtpmProcess.stopByPidFile(path.join(dir, 'tpm'));
    await rm(dir, { recursive: true, force: true });
  });

  void test('swtpm start → provision → info → swtpm stop', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'edgesim-tpm-cli-'));
    const [node, pre] = cliCommand();
    const cli = async (...args: string[]): Promise<string> => (await run(node, [...pre, ...args])).stdout;
    const started = JSON.parse(await cli('tpm', 'swtpm', 'start', '--state', path.join(dir, 'tpm'), '--output', 'json')) as {
      pid: number;
      tcti: string;
    };
    assert.ok(alive(started.pid), 'swtpm outlives the CLI');
    const provisioned = JSON.parse(await cli('tpm', 'provision', '--tpm', started.tcti, '--state-dir', dir, '--output', 'json')) as KeyStoreInfo;
    assert.deepEqual(provisioned.objects.map((o) => o.present), [true, true, true]);
    const table = await cli('tpm', 'info', '--tpm', started.tcti, '--state-dir', dir);
    assert.match(table, /^device\s+0x817fffff\s+yes\s+sha256:[0-9a-f]{16}\s+O=The Linux Foundation, CN=EVE/m);
    assert.match(table, /^attest\s+0x81000004\s+yes/m);
    assert.match(await cli('tpm', 'swtpm', 'stop', '--state', path.join(dir, 'tpm')), new RegExp(`stopped pid ${started.pid}`));
    assert.ok(!alive(started.pid));
    await assert.rejects(run(node, [...pre, 'tpm', 'info', '--tpm', started.tcti, '--state-dir', dir]), (e: Error & { stderr: string }) =>
      /TPM unreachable/.test(e.stderr) && /\[UNREACHABLE\]/.test(e.stderr),
    );
  });
});

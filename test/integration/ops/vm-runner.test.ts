/**
 * scripts/vm/run.sh's accelerator choice and fail-fast, without KVM or qemu: a fake `qemu-system-x86_64` first on
 * PATH plays the hosts the issue met (KVM that dies at once with qemu's MSR error, KVM that spins without a console
 * line, a working KVM, a qemu that cannot start, a guest whose console stays silent) and records its arguments. The
 * KVM device is a temp file (EDGESIM_VM_KVM_DEV). swtpm is the real one; nothing touches the network.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { repoRoot } from '../../helpers/cli.js';

const skip = spawnSync('sh', ['-c', 'command -v swtpm'], { stdio: 'ignore' }).status !== 0 ? 'swtpm not installed' : undefined;

let dir: string;
const FAKE_QEMU = `#!/usr/bin/env bash
# Fake qemu: behaviour from FAKE_QEMU (<kvm behaviour>,<tcg behaviour>): line | msr | silent | nofile
echo "$*" >>"$FAKE_QEMU_LOG"
serial=""
accel=tcg
prev=""
for a in "$@"; do
  [ "$prev" = -serial ] && serial=\${a#file:}
  case "$a" in *accel=kvm*) accel=kvm ;; esac
  prev=$a
done
IFS=, read -r kvm tcg <<<"$FAKE_QEMU"
mode=$tcg; [ "$accel" = kvm ] && mode=$kvm
case "$mode" in
  msr) echo "qemu-system-x86_64: error: failed to set MSR 0x10a to 0x0" >&2
       echo "qemu-system-x86_64: ../../target/i386/kvm/kvm.c:3213: kvm_buf_set_msrs: Assertion failed." >&2; exit 1 ;;
  nofile) echo "qemu-system-x86_64: -drive file=x: Could not open 'x': No such file or directory" >&2; exit 1 ;;
  line) printf '[    0.000000] Linux version 6.1.0-fake\\r\\n' >>"$serial" ;;
  silent) ;;
esac
trap 'exit 0' TERM
while :; do sleep 0.1; done
`;

before(async () => {
  if (skip) return;
  dir = await mkdtemp(path.join(os.tmpdir(), 'edgesim-vmrun-'));
  await mkdir(path.join(dir, 'bin'));
  await writeFile(path.join(dir, 'bin', 'qemu-system-x86_64'), FAKE_QEMU);
  await writeFile(path.join(dir, 'bin', 'socat'), '#!/bin/sh\nexit 0\n');
  await chmod(path.join(dir, 'bin', 'qemu-system-x86_64'), 0o755);
  await chmod(path.join(dir, 'bin', 'socat'), 0o755);
  await mkdir(path.join(dir, 'image'));
  for (const f of ['edgesim.raw', 'vmlinuz', 'initrd.img']) await writeFile(path.join(dir, 'image', f), '');
  await mkdir(path.join(dir, 'config'));
  await writeFile(path.join(dir, 'kvm'), '');
});
after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  stderr: string;
  ms: number;
  qemuCalls: string[];
}

let n = 0;
/**
 * Runs run.sh with the fake qemu; `stopAfterConsole` ends it (SIGTERM) once the guest console has a line — a guest
 * that boots would run until stopped. Always ends within `limitMs` (SIGKILL to the group).
 */
async function runVm(fake: string, opts: { kvm?: boolean; extra?: string[]; stopAfterConsole?: boolean; limitMs?: number } = {}): Promise<Run> {
  const id = ++n;
  const log = path.join(dir, `qemu-${id}.log`);
  const consoleFile = path.join(dir, `console-${id}.log`);
  const t0 = performance.now();
  const child = spawn(
    path.join(repoRoot, 'scripts/vm/run.sh'),
    ['--device-config', path.join(dir, 'config'), '--controller-port', '20001', '--image-dir', path.join(dir, 'image'),
      '--work-dir', path.join(dir, `work-${id}`), '--console', consoleFile, '--probe-seconds', '2', ...(opts.extra ?? [])],
    {
      detached: true,
      stdio: ['ignore', 'ignore', 'pipe'],
      env: {
        ...process.env,
        PATH: `${path.join(dir, 'bin')}:${process.env.PATH ?? ''}`,
        FAKE_QEMU: fake,
        FAKE_QEMU_LOG: log,
        EDGESIM_VM_KVM_DEV: opts.kvm === false ? path.join(dir, 'no-such-kvm') : path.join(dir, 'kvm'),
      },
    },
  );
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const limit = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), opts.limitMs ?? 15_000);
  let watcher: NodeJS.Timeout | undefined;
  if (opts.stopAfterConsole) {
    watcher = setInterval(() => {
      void readFile(consoleFile, 'utf8').then(
        (t) => t.includes('\n') && child.kill('SIGTERM'),
        () => undefined,
      );
    }, 100);
  }
  const code = await exited;
  clearTimeout(limit);
  clearInterval(watcher);
  try {
    process.kill(-child.pid!, 'SIGKILL'); // anything left in its group (there should be nothing)
  } catch {
    // the group is gone
  }
  const qemuCalls = (await readFile(log, 'utf8').catch(() => '')).split('\n').filter(Boolean);
  return { code, stderr, ms: performance.now() - t0, qemuCalls };
}

const guestAccel = (r: Run): string | undefined => /accel=(\w+)/.exec(r.qemuCalls.find((c) => c.includes('-drive')) ?? '')?.[1];

test('KVM that dies at once (failed to set MSR): the probe says why and the guest boots under TCG', { skip }, async () => {
  const r = await runVm('msr,line', { stopAfterConsole: true });
  assert.match(r.stderr, /accelerator TCG \(the KVM probe failed: qemu exited \(1\): .*failed to set MSR 0x10a/);
  assert.equal(guestAccel(r), 'tcg', r.qemuCalls.join('\n'));
});

test('KVM that spins without a console line: TCG after the probe bound', { skip }, async () => {
  const r = await runVm('silent,line', { stopAfterConsole: true });
  assert.match(r.stderr, /accelerator TCG \(the KVM probe failed: no console line within 2 s\)/);
  assert.equal(guestAccel(r), 'tcg');
});

test('a working KVM is used, and said so', { skip }, async () => {
  const r = await runVm('line,line', { stopAfterConsole: true });
  assert.match(r.stderr, /accelerator KVM \(probe: first console line after \d+\.\d s\)/);
  assert.equal(guestAccel(r), 'kvm');
});

test('no KVM device: TCG without a probe', { skip }, async () => {
  const r = await runVm('msr,line', { kvm: false, stopAfterConsole: true });
  assert.match(r.stderr, /accelerator TCG \(.*no-such-kvm missing or not writable/);
  assert.equal(r.qemuCalls.length, 1, 'no probe run');
});

test('qemu exits at once: run.sh fails fast with qemu\'s own error and code', { skip }, async () => {
  const r = await runVm('nofile,nofile', { kvm: false });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /run: qemu exited with code 1: .*Could not open 'x'/);
  assert.ok(r.ms < 5_000, `failed after ${r.ms.toFixed(0)} ms`);
});

test('a console silent past --console-timeout: run.sh stops qemu and fails', { skip }, async () => {
  const r = await runVm('silent,silent', { kvm: false, extra: ['--console-timeout', '2'] });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /serial console stayed silent for 2 s under tcg/);
  assert.ok(r.ms < 6_000, `failed after ${r.ms.toFixed(0)} ms`);
});

test('bad flags are refused naming the flag', { skip }, async () => {
  const r = await runVm('line,line', { extra: ['--accel', 'hvf'] });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--accel must be auto, kvm or tcg, got "hvf"/);
});

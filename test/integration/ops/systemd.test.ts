/**
 * `edgesim agent` as systemd runs it: a real unix datagram NOTIFY_SOCKET (a python3 listener, since Node has no
 * AF_UNIX datagram sockets), the systemd-notify helper, the embedded controller on loopback. Asserts READY=1 after
 * the first config, STATUS= lines, WATCHDOG=1 pings, the admin socket (`edgesim ctl`), the metrics port, that the
 * pings stop while the config loop is stuck (the config-loop-stall fault) and resume after it, then
 * SIGTERM → STOPPING=1, exit 0, admin.sock removed; and --dump-config of the state left behind.
 * Also `systemd-analyze verify` of deploy/edgesim-agent.service.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { access } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { AdminClient, adminSocketPath } from '../../../src/agent/admin/index.js';
import { cliCommand, repoRoot } from '../../helpers/cli.js';
import { startTestController, type TestController } from '../../helpers/controller.js';
import { waitFor } from '../../helpers/wait.js';

const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
const has = (cmd: string, args: string[]): boolean => spawnSync(cmd, args, { stdio: 'ignore' }).status === 0;
const missing = !has(PYTHON, ['-c', 'import socket; socket.AF_UNIX'])
  ? 'python3 not installed (it stands in for systemd as the notify socket listener)'
  : !has('systemd-notify', ['--version'])
    ? 'systemd-notify not installed'
    : undefined;

// Prints one JSON line per datagram received on the notify socket.
const LISTENER = `
import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print(json.dumps({"bound": True}), flush=True)
while True:
    print(json.dumps({"msg": s.recv(65536).decode()}), flush=True)
`;

let ctl: TestController;
let listener: ChildProcess | undefined;
let agent: ChildProcess | undefined;
const notifications: string[] = [];
/** performance.now() when the latest WATCHDOG=1 arrived. */
let lastPingAt = 0;
const logLines: Array<Record<string, unknown>> = [];
let stateDir: string;
let configDir: string;

function runCli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const [cmd, pre] = cliCommand();
  const r = spawnSync(cmd, [...pre, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

before(async () => {
  if (missing) return;
  ctl = await startTestController();
  configDir = await ctl.deviceFolder('sd');
  stateDir = path.join(ctl.dir, 'sd', 'state');
  const notifySocket = path.join(ctl.dir, 'notify.sock');
  listener = spawn(PYTHON, ['-c', LISTENER, notifySocket], { stdio: ['ignore', 'pipe', 'inherit'] });
  const bound = new Promise<void>((resolve) => {
    createInterface({ input: listener!.stdout! }).on('line', (l) => {
      const m = JSON.parse(l) as { bound?: boolean; msg?: string };
      if (m.bound) resolve();
      if (m.msg !== undefined) notifications.push(m.msg);
      if (m.msg?.includes('WATCHDOG=1')) lastPingAt = performance.now();
    });
  });
  await waitFor('the notify socket listener', () => bound.then(() => true), 20_000);

  const [cmd, pre] = cliCommand();
  agent = spawn(
    cmd,
    [
      ...pre,
      'agent',
      '--config-dir', configDir,
      '--state-dir', stateDir,
      '--no-k3s',
      '--config-interval', '1',
      '--metrics-listen', '127.0.0.1:0',
      '--log-format', 'json',
    ],
    { env: { ...process.env, NOTIFY_SOCKET: notifySocket, WATCHDOG_USEC: '1000000' }, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  createInterface({ input: agent.stdout! }).on('line', (l) => {
    try {
      logLines.push(JSON.parse(l) as Record<string, unknown>);
    } catch {
      // not a log line
    }
  });
});

after(async () => {
  if (agent && agent.exitCode === null) {
    agent.kill('SIGKILL');
    await new Promise((r) => agent!.once('exit', r));
  }
  listener?.kill('SIGKILL');
  await ctl?.dispose();
});

test('the unit file passes systemd-analyze verify', { skip: !has('systemd-analyze', ['--version']) && 'systemd-analyze not installed' }, () => {
  const r = spawnSync('systemd-analyze', ['verify', path.join(repoRoot, 'deploy/edgesim-agent.service')], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr.trim(), '', 'no warnings');
});

test('under a notify socket: STATUS= and WATCHDOG=1 at once, READY=1 after the first config', { skip: missing }, async () => {
  const status = await waitFor('a STATUS= line', () => notifications.find((n) => n.includes('STATUS=')), 30_000);
  assert.match(status, new RegExp(`^MAINPID=${agent!.pid}\\n`), 'every message names the agent as main PID');
  assert.equal(notifications.some((n) => n.includes('READY=1')), false, 'not ready before a config exists');
  await waitFor('admin.sock', () => access(path.join(stateDir, 'admin.sock')).then(() => true), 30_000);
  const admin = new AdminClient(adminSocketPath(stateDir));
  const uuid = await waitFor('onboarding', async () => (await admin.status()).deviceUuid || undefined, 40_000, 200);
  admin.close();
  await ctl.admin.setConfig(uuid, { device_name: 'sd-node' });
  const ready = await waitFor('READY=1', () => notifications.find((n) => n.includes('READY=1')), 30_000);
  assert.match(ready, /STATUS=running; config \S{8} from controller; controller reachable/);
  await waitFor('two watchdog pings', () => notifications.filter((n) => n.includes('WATCHDOG=1')).length >= 2, 10_000);
});

test('ctl verbs and the metrics port answer for the running agent', { skip: missing }, async () => {
  const table = runCli(['ctl', '--state-dir', stateDir, 'status']);
  assert.equal(table.status, 0, table.stderr);
  assert.match(table.stdout, /^FIELD\s+VALUE$/m);
  assert.match(table.stdout, /^phase\s+running$/m);
  assert.match(table.stdout, /^key store\s+soft: /m);

  const bad = runCli(['ctl', '--state-dir', stateDir, 'fault', 'inject', 'no-such-fault']);
  assert.equal(bad.status, 2, 'an unknown fault kind is bad input (INVALID_ARGUMENT → exit 2)');
  assert.match(bad.stderr, /fault "no-such-fault" is not one of/);
  const inj = runCli(['ctl', '--socket', path.join(stateDir, 'admin.sock'), 'fault', 'inject', 'controller-delay', '--value', '10', '--duration', '1h']);
  assert.equal(inj.status, 0, inj.stderr);
  assert.match(inj.stdout, /^controller-delay\s+10\s+\d{4}-/m);
  const none = runCli(['ctl', '--state-dir', path.join(ctl.dir, 'nowhere'), 'status']);
  assert.equal(none.status, 1);
  assert.match(none.stderr, /no agent answers on .*nowhere\/admin\.sock/);

  const url = logLines.find((l) => l.message === 'metrics serving')?.url;
  assert.equal(typeof url, 'string', 'the agent logs the metrics URL');
  const text = await (await fetch(url as string)).text();
  assert.match(text, /^edgesim_agent_phase\{phase="running"\} 1$/m);
  assert.match(text, /^edgesim_controller_reachable 1$/m);
  assert.match(text, /^edgesim_config_results_total\{result="accepted",source="controller"\} [1-9]/m);
  assert.match(text, /^edgesim_info_queue_depth \d+$/m);
  assert.match(text, /^edgesim_info_queue_oldest_age_seconds [\d.]+$/m);
  assert.match(text, /^edgesim_fault_active\{kind="controller-delay"\} 1$/m);
  assert.match(text, /^edgesim_fault_active\{kind="config-tamper"\} 0$/m);
  assert.match(text, /^edgesim_agent_info\{version="\d+\.\d+\.\d+",key_store="soft"\} 1$/m);
  assert.equal((await fetch(String(url).replace('/metrics', '/other'))).status, 404);
});

test('watchdog: a stuck config loop stops the pings while the process lives on; they resume when it moves', { skip: missing }, async () => {
  const pings = (): number => notifications.filter((n) => n.includes('WATCHDOG=1')).length;
  await waitFor('pings every 0.5 s', () => performance.now() - lastPingAt < 1_500, 10_000);
  const admin = new AdminClient(adminSocketPath(stateDir));
  try {
    await admin.injectFault({ kind: 'config-loop-stall' });
    // WATCHDOG_USEC is 1 s: pings are due every 0.5 s, so 3 s of silence is six withheld pings.
    await waitFor('3 s without a ping', () => performance.now() - lastPingAt >= 3_000, 30_000, 100);
    assert.equal(agent!.exitCode, null, 'the process is alive');
    const s = await admin.status();
    assert.equal(s.phase, 'running', 'the admin API still answers: only the loop is stuck');
    assert.ok(notifications.some((n) => /STATUS=.*faults .*config-loop-stall/.test(n)), 'STATUS= names the fault');
    const stuck = logLines.find((l) => l.message === 'agent loop stuck: withholding the watchdog ping');
    assert.equal(stuck?.loop, 'config');
    const before = pings();
    await admin.clearFault('config-loop-stall');
    await waitFor('pings again once the loop moves', () => pings() > before, 10_000);
  } finally {
    admin.close();
  }
});

test('SIGTERM: STOPPING=1, exit 0, admin.sock removed; --dump-config then prints the checkpoint', { skip: missing }, async () => {
  const exited = new Promise<number | null>((r) => agent!.once('exit', (code) => r(code)));
  agent!.kill('SIGTERM');
  assert.equal(await exited, 0);
  assert.ok(notifications.some((n) => n.includes('STOPPING=1')), 'STOPPING=1 sent before exit');
  await assert.rejects(access(path.join(stateDir, 'admin.sock')), { code: 'ENOENT' });

  const dump = runCli(['agent', '--config-dir', configDir, '--state-dir', stateDir, '--dump-config', '--log-level', 'error']);
  assert.equal(dump.status, 0, dump.stderr);
  const d = JSON.parse(dump.stdout) as { configHash: string; config: { deviceName: string } };
  assert.equal(d.config.deviceName, 'sd-node');
  assert.ok(d.configHash.length > 0);
  const empty = runCli(['agent', '--config-dir', configDir, '--state-dir', path.join(ctl.dir, 'empty-state'), '--dump-config', '--log-level', 'error']);
  assert.equal(empty.status, 1);
  assert.match(empty.stderr, /no verified config checkpoint/);
});

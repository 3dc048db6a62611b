/**
 * K3sSupervisor against a real child process: test/fixtures/k3s/fake-k3s.mjs stands in for the k3s binary
 * (it crashes, ignores SIGTERM or leaves a grandchild on demand). Spec durations run 100–200× faster.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createClock } from '../../../src/common/index.js';
import {
  K3sSupervisor,
  isK3sSupervisorError,
  type K3sExitEvent,
  type K3sSupervisorOptions,
  type K3sSupervisorState,
} from '../../../src/k3s/index.js';
import { repoRoot } from '../../helpers/cli.js';
import { captureLogger } from './capture-logger.js';

const fixture = path.join(repoRoot, 'test/fixtures/k3s/fake-k3s.mjs');
const tmp = mkdtempSync(path.join(tmpdir(), 'edgesim-k3s-sup-'));
const live: K3sSupervisor[] = [];

after(async () => {
  await Promise.all(live.map((s) => s.stop()));
  rmSync(tmp, { recursive: true, force: true });
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(10);
  }
}

async function make(
  behaviour: string,
  extraEnv: Record<string, string> = {},
  opts: Partial<K3sSupervisorOptions> = {},
): Promise<{ sup: K3sSupervisor; logger: ReturnType<typeof captureLogger>; states: K3sSupervisorState[]; argsFile: string }> {
  const logger = captureLogger();
  const argsFile = path.join(tmp, `${behaviour}-${live.length}.args`);
  const states: K3sSupervisorState[] = [];
  const sup = await K3sSupervisor.create({
    bin: process.execPath,
    args: [fixture],
    mode: 'server',
    configDir: path.join(tmp, 'cfg'),
    dataDir: path.join(tmp, 'data'),
    env: { ...process.env, FAKE_K3S_BEHAVIOUR: behaviour, FAKE_K3S_ARGS_FILE: argsFile, ...extraEnv },
    logger,
    clock: createClock(100),
    ...opts,
  });
  sup.onStateChange((s) => states.push(s));
  live.push(sup);
  return { sup, logger, states, argsFile };
}

void describe('K3sSupervisor', () => {
  void it('runs the command with mode, --config and --data-dir, captures output, stops idempotently', async () => {
    const { sup, logger, states, argsFile } = await make('run', {}, { mode: 'agent', extraArgs: ['--debug'] });
    assert.equal(sup.state, 'running');
    const pid = sup.pid!;
    assert.ok(alive(pid));
    await until(() => logger.lines.some((l) => l.fields.component === 'k3s.process' && l.fields.stream === 'stderr'));
    const started = JSON.parse(readFileSync(argsFile, 'utf8').trim()) as { argv: string[] };
    assert.deepEqual(started.argv, [
      'agent',
      '--config',
      path.join(tmp, 'cfg', 'config.yaml'),
      '--data-dir',
      path.join(tmp, 'data'),
      '--debug',
    ]);
    assert.ok(logger.lines.some((l) => l.fields.component === 'k3s.process' && l.msg.startsWith('fake k3s agent')));
    await sup.stop();
    assert.equal(sup.state, 'stopped');
    assert.deepEqual(states, ['stopping', 'stopped']);
    assert.ok(!alive(pid));
    assert.ok(sup.recentOutput().includes('got SIGTERM'), 'SIGTERM reached the process');
    await sup.stop();
    assert.equal(sup.state, 'stopped');
    await assert.rejects(sup.resume(), (e) => isK3sSupervisorError(e, 'ILLEGAL_STATE'));
    const transitions = logger.lines.filter((l) => l.msg === 'k3s supervisor state').map((l) => l.fields.to);
    assert.deepEqual(transitions, ['starting', 'running', 'stopping', 'stopped']);
  });

  void it('restarts a crash loop with doubling backoff capped at the maximum', async () => {
    const exits: K3sExitEvent[] = [];
    // A stable threshold no fake run can reach, so node's start-up time on a loaded machine cannot reset it.
    const { sup, states } = await make('crash', {}, { clock: createClock(200), maxBackoffMs: 40_000, stableMs: 3_600_000 });
    sup.onExit((e) => exits.push(e));
    await until(() => exits.length >= 4, 10_000);
    await sup.pause();
    assert.deepEqual(
      exits.slice(0, 4).map((e) => e.nextStartInMs),
      [10_000, 20_000, 40_000, 40_000],
    );
    assert.ok(exits.every((e) => e.code === 3 && !e.expected));
    assert.ok(sup.restarts >= 3);
    assert.deepEqual(states.slice(0, 4), ['backoff', 'starting', 'running', 'backoff']);
  });

  void it('resets the backoff to 5 s after a run longer than 30 s', async () => {
    const exits: K3sExitEvent[] = [];
    // 100× faster: 30 s stable threshold = 300 ms; the fake crashes after 450 ms of real time.
    const { sup } = await make('crash', { FAKE_K3S_CRASH_MS: '450' });
    sup.onExit((e) => exits.push(e));
    await until(() => exits.length >= 2, 10_000);
    await sup.pause();
    assert.deepEqual(
      exits.slice(0, 2).map((e) => e.nextStartInMs),
      [5_000, 5_000],
    );
  });

  void it('SIGKILLs a process that ignores SIGTERM after the grace period', async () => {
    const { sup, logger } = await make('ignore-term');
    const pid = sup.pid!;
    await until(() => sup.recentOutput().includes('SIGTERM handler installed'));
    const t0 = Date.now();
    await sup.stop();
    const took = Date.now() - t0;
    assert.ok(took >= 140, `waited the 15 s (scaled: 150 ms) grace period, took ${took} ms`);
    assert.ok(!alive(pid));
    assert.ok(logger.lines.some((l) => l.msg.includes('SIGKILL')));
    assert.ok(sup.recentOutput().includes('ignoring SIGTERM'));
  });

  void it('kills the whole process group, grandchildren included', async () => {
    const pidFile = path.join(tmp, 'grandchild.pid');
    const { sup } = await make('grandchild', { FAKE_K3S_PID_FILE: pidFile });
    await until(() => {
      try {
        return readFileSync(pidFile, 'utf8').length > 0;
      } catch {
        return false;
      }
    });
    const grandchild = Number(readFileSync(pidFile, 'utf8'));
    assert.ok(alive(grandchild));
    await sup.stop();
    await until(() => !alive(grandchild));
  });

  void it('kill() is a crash: k3s comes back with a new pid and a start event', async () => {
    const starts: number[] = [];
    const { sup } = await make('run');
    sup.onStart((e) => starts.push(e.restarts));
    const first = sup.pid!;
    sup.kill();
    await until(() => starts.length === 1 && sup.state === 'running', 5000);
    assert.notEqual(sup.pid, first);
    assert.ok(!alive(first));
    assert.deepEqual(starts, [1]);
  });

  void it('pause() stops without restart; resume() starts again', async () => {
    const { sup } = await make('run', {}, { clock: createClock(1000) });
    const first = sup.pid!;
    await sup.pause();
    assert.equal(sup.state, 'stopped');
    assert.ok(!alive(first));
    await sleep(100); // 100 s of spec time: well past any backoff
    assert.equal(sup.state, 'stopped');
    assert.equal(sup.pid, undefined);
    await sup.resume();
    assert.equal(sup.state, 'running');
    assert.ok(alive(sup.pid!));
    await sup.restart();
    assert.equal(sup.state, 'running');
  });

  void it('rejects a missing binary and bad options', async () => {
    const base = {
      mode: 'server' as const,
      configDir: tmp,
      dataDir: tmp,
      logger: captureLogger(),
      clock: createClock(100),
    };
    await assert.rejects(
      K3sSupervisor.create({ ...base, bin: path.join(tmp, 'no-such-k3s') }),
      (e) => isK3sSupervisorError(e, 'SPAWN_FAILED') && e.context.command!.includes('no-such-k3s'),
    );
    await assert.rejects(
      K3sSupervisor.create({ ...base, bin: process.execPath, dataDir: '' }),
      (e) => isK3sSupervisorError(e, 'INVALID_OPTIONS') && e.context.field === 'dataDir',
    );
  });
});

/**
 * swtpm lifecycle: a software TPM 2.0 on loopback TCP (cipher-and-tpm.md §13): data port N, control port N+1,
 * `--flags not-need-init,startup-clear` so it is usable at once, state in a directory, pid in
 * `<stateDir>/swtpm.pid`. The process is started detached so it outlives a CLI `start`; `stop()` kills it by pid.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as delay } from 'node:timers/promises';
import { mkdir, open, readdir, readFile, readlink, unlink } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import type { Clock, Logger } from '../common/index.js';
import { errorMessage } from '../common/index.js';
import { TpmError } from './errors.js';
import { getHandlesCommand, HANDLE_RANGE, parseGetHandlesResponse } from './tpm-object-commands.js';
import { TpmCommandRunner } from './tpm-command-runner.js';

/** Lifecycle states, logged on each transition. */
export type SwtpmState = 'starting' | 'running' | 'stopping' | 'stopped' | 'failed';

/** Options of SwtpmProcess.create. */
export interface SwtpmOptions {
  /** TPM state directory (created 0700); also holds swtpm.pid and swtpm.log. */
  stateDir: string;
  /** Data port; the control channel uses port+1. @default random even port in 20000-40000, retried on EADDRINUSE */
  port?: number;
  /**
   * argv prefix that runs swtpm in another network namespace, e.g. `['ip', 'netns', 'exec', 'ns1']` (it must exec,
   * so that the child's pid is swtpm's). Needs a fixed `port`; readiness is then swtpm's listening socket in its own
   * namespace (`/proc/<pid>/net/tcp`), since this process cannot connect there.
   */
  wrap?: string[];
  logger: Logger;
  clock: Clock;
  /** How long to wait until swtpm answers, in real ms. @default 10000 */
  startTimeoutMs?: number;
  signal?: AbortSignal;
}

const PID_FILE = 'swtpm.pid';
const LOG_FILE = 'swtpm.log';
const POLL_MS = 50;
/** A file read per poll, no process: poll often. */
const WRAPPED_POLL_MS = 10;
const PORT_ATTEMPTS = 8;

/** The pid file of a swtpm state directory. */
export function swtpmPidFile(stateDir: string): string {
  return path.join(stateDir, PID_FILE);
}

/** True when 127.0.0.1:`port` can be bound right now. */
function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/**
 * Whether swtpm `pid` itself listens on 127.0.0.1:`port` in its own network namespace. `/proc/<pid>/net/tcp` lists
 * that namespace's sockets (`local_address` hex `0100007F:PORT`, state `0A` = LISTEN, then the inode); the socket
 * must be one of the process's own fds, since another process there may hold the port (swtpm then exits). Until the
 * wrapper has exec'd swtpm (comm) the pid may still be in the starting namespace.
 */
async function swtpmListening(pid: number, port: number): Promise<boolean> {
  if ((await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '')).trim() !== 'swtpm') return false;
  const table = await readFile(`/proc/${pid}/net/tcp`, 'utf8').catch(() => '');
  const local = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  const inodes = new Set(
    table
      .split('\n')
      .map((line) => line.trim().split(/\s+/))
      .filter((f) => f[1] === local && f[3] === '0A')
      .map((f) => `socket:[${f[9]}]`),
  );
  if (inodes.size === 0) return false;
  const fds = await readdir(`/proc/${pid}/fd`).catch(() => [] as string[]);
  for (const fd of fds) {
    if (inodes.has(await readlink(`/proc/${pid}/fd/${fd}`).catch(() => ''))) return true;
  }
  return false;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A running swtpm. */
export class SwtpmProcess {
  private stateValue: SwtpmState = 'starting';

  private constructor(
    readonly pid: number,
    readonly port: number,
    readonly stateDir: string,
    private readonly logger: Logger,
    private readonly clock: Clock,
    private readonly child: ChildProcess,
    private readonly exited: Promise<void>,
  ) {}

  /** The current lifecycle state. */
  get state(): SwtpmState {
    return this.stateValue;
  }

  /** The TCTI string for tpm2-tools and `--tpm`. */
  get tcti(): string {
    return `swtpm:host=127.0.0.1,port=${this.port}`;
  }

  private setState(to: SwtpmState): void {
    this.logger.info('swtpm state', { from: this.stateValue, to, pid: this.pid, port: this.port });
    this.stateValue = to;
  }

  /**
   * Starts swtpm and waits until it answers TPM2_GetCapability (wrapped: until it listens in its namespace, where
   * this process cannot connect). Kills it again on failure, timeout or abort.
   */
  static async create(opts: SwtpmOptions): Promise<SwtpmProcess> {
    const logger = opts.logger.child({ component: 'tpm.swtpm' });
    await mkdir(opts.stateDir, { recursive: true, mode: 0o700 });
    const fixed = opts.port !== undefined;
    if (opts.wrap && !fixed) throw new TpmError('UNREACHABLE', 'swtpm', 'swtpm: a wrapped start (another namespace) needs a fixed port');
    let lastError: unknown;
    for (let attempt = 0; attempt < (fixed ? 1 : PORT_ATTEMPTS); attempt++) {
      const port = opts.port ?? 20000 + 2 * Math.floor(Math.random() * 10000);
      try {
        return await SwtpmProcess.startOn(port, opts, logger);
      } catch (e) {
        lastError = e;
        if (fixed || !/Address already in use/.test(errorMessage(e))) throw e;
        logger.debug('swtpm port in use, trying another', { port });
      }
    }
    throw lastError;
  }

  private static async startOn(port: number, opts: SwtpmOptions, logger: Logger): Promise<SwtpmProcess> {
    // Checked up front: the readiness probe below would otherwise be answered by whoever holds the port. (A wrapped
    // start lands in another namespace, where a held port makes swtpm exit, which the wait below reports.)
    for (const p of opts.wrap ? [] : [port, port + 1]) {
      if (!(await portFree(p))) {
        throw new TpmError('UNREACHABLE', 'swtpm', `cannot start swtpm on 127.0.0.1:${p}: Address already in use`);
      }
    }
    const logPath = path.join(opts.stateDir, LOG_FILE);
    const log = await open(logPath, 'w', 0o600);
    const args = [
      'socket', '--tpm2',
      '--server', `type=tcp,port=${port},bindaddr=127.0.0.1`,
      '--ctrl', `type=tcp,port=${port + 1},bindaddr=127.0.0.1`,
      '--flags', 'not-need-init,startup-clear',
      '--tpmstate', `dir=${opts.stateDir}`,
      '--pid', `file=${swtpmPidFile(opts.stateDir)}`,
      '--log', `file=${logPath},level=1`,
    ];
    let exited: string | undefined;
    const [exe, ...argv] = [...(opts.wrap ?? []), 'swtpm', ...args];
    const child = spawn(exe, argv, { detached: true, stdio: ['ignore', log.fd, log.fd] });
    // Listeners first: 'spawn'/'error' fire on a later tick, possibly while the log file is being closed.
    const started = new Promise<number>((resolve, reject) => {
      child.once('spawn', () => resolve(child.pid!));
      child.once('error', (e) =>
        reject(new TpmError('TOOL_FAILED', 'swtpm', `cannot start swtpm: ${e.message} (install swtpm: scripts/setup.sh)`)),
      );
    });
    const exitPromise = new Promise<void>((resolve) =>
      child.once('exit', (code, sig) => {
        exited = `swtpm exited (${sig ?? `code ${String(code)}`})`;
        resolve();
      }),
    );
    await log.close();
    const spawned = await started;
    // The child stays referenced while we wait for it (clock timers do not keep the process alive); once
    // running it is unreferenced so a CLI `start` can exit and leave swtpm behind.
    const p = new SwtpmProcess(spawned, port, opts.stateDir, logger, opts.clock, child, exitPromise);
    const timeoutMs = opts.startTimeoutMs ?? 10_000;
    const deadline = opts.clock.now() + timeoutMs;
    const probeUntilAnswered = async (): Promise<void> => {
      const runner = new TpmCommandRunner({ tcti: p.tcti, flush: false, timeoutMs: 2000, logger });
      // A probe command through tpm2_send (one process per attempt while swtpm refuses connections).
      try {
        for (;;) {
          await failIfExited();
          try {
            await runner.send(getHandlesCommand(HANDLE_RANGE.persistent), parseGetHandlesResponse, opts.signal);
            if (exited === undefined) return;
          } catch (e) {
            if (opts.clock.now() > deadline || opts.signal?.aborted) throw e;
            await opts.clock.sleepReal(POLL_MS, opts.signal);
          }
        }
      } finally {
        await runner.release();
      }
    };
    const failIfExited = async (): Promise<void> => {
      if (exited === undefined) return;
      const text = (await readFile(logPath, 'utf8').catch(() => '')).trim();
      throw new TpmError('UNREACHABLE', 'swtpm', `${exited} on port ${port}: ${text || 'no log output'}`);
    };
    try {
      if (opts.wrap) {
        for (;;) {
          opts.signal?.throwIfAborted();
          await failIfExited();
          if (await swtpmListening(spawned, port)) break;
          if (opts.clock.now() > deadline) throw new TpmError('UNREACHABLE', 'swtpm', `swtpm did not listen on port ${port} within ${timeoutMs} ms`);
          // Clock timers do not hold the process open; an exit ends the wait at once.
          await Promise.race([opts.clock.sleepReal(WRAPPED_POLL_MS, opts.signal), exitPromise]);
        }
      } else {
        await probeUntilAnswered();
      }
    } catch (e) {
      // Nothing half-started is left behind: not on a timeout, an exit, nor an abort (Ctrl-C during a demo start).
      await p.stop();
      throw e;
    }
    child.unref();
    p.setState('running');
    return p;
  }

  /** Stops swtpm (SIGTERM, then SIGKILL after 3 s) and removes its pid file. Idempotent. */
  async stop(): Promise<void> {
    if (this.stateValue === 'stopped' || this.stateValue === 'stopping') return;
    this.setState('stopping');
    this.child.ref();
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGTERM');
      const timer = this.clock.sleepReal(3000).then(() => 'timeout' as const);
      if ((await Promise.race([this.exited.then(() => 'exited' as const), timer])) === 'timeout') {
        this.child.kill('SIGKILL');
        await this.exited;
      }
    }
    this.child.unref();
    await unlink(swtpmPidFile(this.stateDir)).catch(() => undefined);
    this.setState('stopped');
  }

  /**
   * Stops the swtpm whose pid file is in `stateDir` (CLI `swtpm stop`). Returns the pid stopped, or undefined
   * when no pid file or no such process exists.
   */
  static async stopByPidFile(stateDir: string): Promise<number | undefined> {
    const file = swtpmPidFile(stateDir);
    const text = await readFile(file, 'utf8').catch(() => undefined);
    const pid = text === undefined ? NaN : Number.parseInt(text.trim(), 10);
    if (!Number.isInteger(pid) || pid <= 0) return undefined;
    const wasAlive = alive(pid);
    if (wasAlive) await killAndWait(pid);
    await unlink(file).catch(() => undefined);
    return wasAlive ? pid : undefined;
  }
}

/**
 * Kills a process that is not our child (CLI `swtpm stop`). Real-time referenced waits on purpose: this runs in
 * a short-lived CLI process that must stay alive until the kill is confirmed, and clock timers are unreferenced.
 */
async function killAndWait(pid: number): Promise<void> {
  const signalPid = (sig: NodeJS.Signals): void => {
    try {
      process.kill(pid, sig);
    } catch {
      // already gone
    }
  };
  signalPid('SIGTERM');
  for (let waited = 0; alive(pid) && waited < 3000; waited += POLL_MS) await delay(POLL_MS);
  if (alive(pid)) signalPid('SIGKILL');
  while (alive(pid)) await delay(POLL_MS);
}

/**
 * Runs k3s as a child process the way kube-init does (lf-edge/eve: pkg/kube/kube-init/k3s/supervisor.go,
 * main.go): in its own process group, output captured, restarted after an exit with backoff "5 s → 5 min"
 * (cluster.md §14) computed as kube-init's `computeBackoff`: the delay starts at 5 s, an exit after a run of more
 * than 30 s resets it to 5 s, a shorter run doubles it up to 5 min (so a crash loop waits 10 s, 20 s, 40 s, …).
 * Stopping sends SIGTERM to the whole group, then SIGKILL after a grace period (15 s, `stopGracePeriod`).
 *
 * The command is an option: the real `k3s` binary, or the stand-in as `[process.execPath, <cli main>, 'k3s']`.
 * Either way the child gets `<mode> --config <configDir>/config.yaml --data-dir <dataDir> [extraArgs…]`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { errorMessage, isAbortError, type Clock, type Logger } from '../common/index.js';
import { K3S_CONFIG_FILE } from './drop-ins.js';

/** First restart delay after a stable run (`minBackoff`, kube-init main.go). */
export const K3S_MIN_BACKOFF_MS = 5_000;
/** Longest restart delay (`maxBackoff`). */
export const K3S_MAX_BACKOFF_MS = 5 * 60_000;
/** A run longer than this resets the backoff to the minimum (`stableThreshold`). */
export const K3S_STABLE_MS = 30_000;
/** SIGTERM → SIGKILL grace on stop (`stopGracePeriod`, kube-init k3s/supervisor.go). */
export const K3S_STOP_GRACE_MS = 15_000;

/**
 * Supervisor states: `starting` (spawned, not yet confirmed), `running`, `backoff` (exited, waiting to restart),
 * `stopping` (SIGTERM sent), `stopped` (no process and no restart pending: before start, after `stop()` or
 * during `pause()`).
 */
export type K3sSupervisorState = 'stopped' | 'starting' | 'running' | 'backoff' | 'stopping';

/** Options of {@link K3sSupervisor.create}. Durations are spec milliseconds (divided by the clock's time scale). */
export interface K3sSupervisorOptions {
  /** Executable: `k3s`, or `process.execPath` for the stand-in. */
  bin: string;
  /** Arguments before the mode, e.g. `[<cli main.js>, 'k3s']` for the stand-in. @default [] */
  args?: readonly string[];
  /** `server` or `agent` (agent mode, cluster.md §4.6). */
  mode: 'server' | 'agent';
  /** Directory with `config.yaml` and `config.yaml.d/` (see drop-ins.ts); passed as `--config`. */
  configDir: string;
  /** k3s `--data-dir`. */
  dataDir: string;
  /** Arguments appended after the standard ones. @default [] */
  extraArgs?: readonly string[];
  /** Full environment of the child. @default the parent's environment */
  env?: NodeJS.ProcessEnv;
  logger: Logger;
  clock: Clock;
  /** Start the process in `create()`. @default true */
  autoStart?: boolean;
  /** @default 5000 */
  minBackoffMs?: number;
  /** @default 300000 */
  maxBackoffMs?: number;
  /** @default 30000 */
  stableMs?: number;
  /** @default 15000 */
  stopGraceMs?: number;
  /** Level of the child's output lines in the log (component `k3s.process`). @default 'info' */
  outputLevel?: 'info' | 'debug';
  /** Lines of output kept for {@link K3sSupervisor.recentOutput}. @default 200 */
  keepOutputLines?: number;
}

/** Passed to start listeners: a new k3s process is running. */
export interface K3sStartEvent {
  pid: number;
  /** 0 for the first start, then the number of restarts so far. */
  restarts: number;
}

/** Passed to exit listeners. `expected` is true for exits caused by `stop()`, `pause()` or `restart()`. */
export interface K3sExitEvent {
  pid: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  /** How long the process ran, in real milliseconds. */
  ranMs: number;
  expected: boolean;
  /** Spec ms until the next start; undefined when no restart follows. */
  nextStartInMs?: number;
}

/** Kinds of supervisor failure. */
export type K3sSupervisorErrorKind = 'INVALID_OPTIONS' | 'SPAWN_FAILED' | 'ILLEGAL_STATE';

/** Bad options, a failed first spawn (with the command) or a call in the wrong state. */
export class K3sSupervisorError extends Error {
  override readonly name = 'K3sSupervisorError';
  constructor(
    readonly kind: K3sSupervisorErrorKind,
    message: string,
    readonly context: { field?: string; command?: string; state?: K3sSupervisorState } = {},
  ) {
    super(message);
  }
}

/** Type guard for {@link K3sSupervisorError}, optionally of one kind. */
export function isK3sSupervisorError(e: unknown, kind?: K3sSupervisorErrorKind): e is K3sSupervisorError {
  return e instanceof K3sSupervisorError && (kind === undefined || e.kind === kind);
}

interface Compiled {
  bin: string;
  argv: string[];
  env: NodeJS.ProcessEnv | undefined;
  minBackoffMs: number;
  maxBackoffMs: number;
  stableMs: number;
  stopGraceMs: number;
  outputLevel: 'info' | 'debug';
  keepOutputLines: number;
}

function compile(o: K3sSupervisorOptions): Compiled {
  const bad = (field: string, reason: string): never => {
    throw new K3sSupervisorError('INVALID_OPTIONS', `k3s supervisor: ${field}: ${reason}`, { field });
  };
  if (!o.bin) bad('bin', 'is empty');
  if (o.mode !== 'server' && o.mode !== 'agent') bad('mode', `must be "server" or "agent", got "${String(o.mode)}"`);
  if (!o.configDir) bad('configDir', 'is empty');
  if (!o.dataDir) bad('dataDir', 'is empty');
  const ms = (field: string, v: number | undefined, dflt: number): number => {
    const x = v ?? dflt;
    if (!(x >= 0) || !Number.isFinite(x)) bad(field, `must be a non-negative number of ms, got ${x}`);
    return x;
  };
  const c: Compiled = {
    bin: o.bin,
    argv: [
      ...(o.args ?? []),
      o.mode,
      '--config',
      path.join(o.configDir, K3S_CONFIG_FILE),
      '--data-dir',
      o.dataDir,
      ...(o.extraArgs ?? []),
    ],
    env: o.env,
    minBackoffMs: ms('minBackoffMs', o.minBackoffMs, K3S_MIN_BACKOFF_MS),
    maxBackoffMs: ms('maxBackoffMs', o.maxBackoffMs, K3S_MAX_BACKOFF_MS),
    stableMs: ms('stableMs', o.stableMs, K3S_STABLE_MS),
    stopGraceMs: ms('stopGraceMs', o.stopGraceMs, K3S_STOP_GRACE_MS),
    outputLevel: o.outputLevel ?? 'info',
    keepOutputLines: o.keepOutputLines ?? 200,
  };
  if (c.maxBackoffMs < c.minBackoffMs) bad('maxBackoffMs', `is below minBackoffMs (${c.minBackoffMs})`);
  return c;
}

/** Sends `sig` to the process group `pid` (the child is its leader); a group already gone is fine. */
function killGroup(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pid, sig);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e;
  }
}

/**
 * Supervises one k3s process. Long-lived: `create()` starts it (unless `autoStart: false`), `stop()` ends it
 * for good. Fault injection: `kill()` makes the process die (the supervisor restarts it with backoff),
 * `pause()`/`resume()` stop it without restart and start it again.
 */
export class K3sSupervisor {
  readonly #o: Compiled;
  readonly #log: Logger;
  readonly #out: Logger;
  readonly #clock: Clock;
  #state: K3sSupervisorState = 'stopped';
  #child: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();
  #startedAt = 0;
  #backoffMs: number;
  #restarts = 0;
  #expectedExit = false;
  #closed = false;
  #backoffAbort: AbortController | undefined;
  #recent: string[] = [];
  readonly #startListeners = new Set<(e: K3sStartEvent) => void>();
  readonly #exitListeners = new Set<(e: K3sExitEvent) => void>();
  readonly #stateListeners = new Set<(s: K3sSupervisorState) => void>();

  private constructor(o: Compiled, logger: Logger, clock: Clock) {
    this.#o = o;
    this.#log = logger.child({ component: 'k3s.supervisor' });
    this.#out = logger.child({ component: 'k3s.process' });
    this.#clock = clock;
    this.#backoffMs = o.minBackoffMs;
  }

  /**
   * Validates the options and (by default) spawns k3s. Resolves once the process is running.
   * @throws K3sSupervisorError `INVALID_OPTIONS` naming the field, `SPAWN_FAILED` when the first spawn fails
   *   (e.g. the binary does not exist; no restart is scheduled then)
   */
  static async create(opts: K3sSupervisorOptions): Promise<K3sSupervisor> {
    const s = new K3sSupervisor(compile(opts), opts.logger, opts.clock);
    if (opts.autoStart !== false) {
      try {
        await s.#spawn();
      } catch (e) {
        s.#closed = true;
        throw e;
      }
    }
    return s;
  }

  /** Current state. */
  get state(): K3sSupervisorState {
    return this.#state;
  }

  /** PID of the running process (also the process-group id), or undefined. */
  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** Restarts after unexpected exits so far. */
  get restarts(): number {
    return this.#restarts;
  }

  /** The full command line (executable first) the child is started with. */
  get command(): string[] {
    return [this.#o.bin, ...this.#o.argv];
  }

  /** The last lines of k3s output (both streams, oldest first); handy in an error report after a crash. */
  recentOutput(): string[] {
    return [...this.#recent];
  }

  /** Calls `fn` on every (re)start. Returns an unsubscribe function. */
  onStart(fn: (e: K3sStartEvent) => void): () => void {
    this.#startListeners.add(fn);
    return () => this.#startListeners.delete(fn);
  }

  /** Calls `fn` on every exit of the process. Returns an unsubscribe function. */
  onExit(fn: (e: K3sExitEvent) => void): () => void {
    this.#exitListeners.add(fn);
    return () => this.#exitListeners.delete(fn);
  }

  /** Calls `fn` on every state transition. Returns an unsubscribe function. */
  onStateChange(fn: (s: K3sSupervisorState) => void): () => void {
    this.#stateListeners.add(fn);
    return () => this.#stateListeners.delete(fn);
  }

  /** Starts k3s when it is stopped (used with `autoStart: false`). No-op while running or in backoff. */
  async start(): Promise<void> {
    this.#assertOpen('start');
    if (this.#state === 'stopped') await this.#spawn();
  }

  /**
   * Fault injection "k3s killed": sends `signal` (default SIGKILL) to the whole process group. The exit is
   * treated like a crash: the supervisor restarts k3s after the backoff. No-op when no process runs.
   */
  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    const pid = this.#child?.pid;
    if (pid === undefined || this.#state !== 'running') return;
    this.#log.warn('killing k3s (fault injection)', { pid, signal });
    killGroup(pid, signal);
  }

  /**
   * Fault injection "heartbeats paused": SIGSTOP (`frozen`) or SIGCONT to the whole process group — no node
   * status, no Lease renewals; the API keeps its TCP listen queue but answers nothing.
   */
  freeze(frozen: boolean): void {
    const pid = this.#child?.pid;
    if (pid === undefined) return;
    this.#log.warn(frozen ? 'freezing k3s (fault injection)' : 'thawing k3s', { pid });
    killGroup(pid, frozen ? 'SIGSTOP' : 'SIGCONT');
  }

  /**
   * Fault injection "k3s stopped (no restart)": stops the process (SIGTERM, SIGKILL after the grace period)
   * and cancels any pending restart; state `stopped` until {@link resume}.
   */
  async pause(): Promise<void> {
    this.#assertOpen('pause');
    this.#log.warn('pausing k3s: no restart until resumed');
    await this.#halt();
  }

  /** Starts k3s again after {@link pause}, at once and with the backoff reset. */
  async resume(): Promise<void> {
    this.#assertOpen('resume');
    this.#backoffMs = this.#o.minBackoffMs;
    if (this.#state === 'stopped') await this.#spawn();
  }

  /**
   * Stops k3s and starts it again at once with the backoff reset, as kube-init does for a config change
   * (`d.backoff = minBackoff` before STOPPING_K3S). Nothing in the agent calls it yet.
   */
  async restart(): Promise<void> {
    this.#assertOpen('restart');
    this.#log.info('restarting k3s');
    await this.#halt();
    this.#backoffMs = this.#o.minBackoffMs;
    await this.#spawn();
  }

  /** Stops k3s for good: SIGTERM to the group, SIGKILL after the grace period. Idempotent. */
  async stop(): Promise<void> {
    if (this.#closed) {
      await this.#exited;
      return;
    }
    this.#closed = true;
    await this.#halt();
  }

  #assertOpen(op: string): void {
    if (this.#closed) {
      throw new K3sSupervisorError('ILLEGAL_STATE', `k3s supervisor: ${op}() after stop()`, { state: this.#state });
    }
  }

  #setState(to: K3sSupervisorState, fields: Record<string, unknown> = {}): void {
    const from = this.#state;
    if (from === to) return;
    this.#state = to;
    this.#log.info('k3s supervisor state', { from, to, ...fields });
    for (const fn of this.#stateListeners) fn(to);
  }

  /** Cancels a pending restart, then terminates the running process (if any); ends in `stopped`. */
  async #halt(): Promise<void> {
    this.#backoffAbort?.abort();
    this.#backoffAbort = undefined;
    const child = this.#child;
    if (child?.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      this.#expectedExit = true;
      this.#setState('stopping', { pid: child.pid });
      killGroup(child.pid, 'SIGTERM');
      const grace = new AbortController();
      const timedOut = await Promise.race([
        this.#exited.then(() => false),
        this.#clock.sleep(this.#o.stopGraceMs, grace.signal).then(
          () => true,
          () => false,
        ),
      ]);
      grace.abort();
      if (timedOut) {
        this.#log.warn('k3s did not exit after SIGTERM; SIGKILL to the process group', {
          pid: child.pid,
          graceMs: this.#o.stopGraceMs,
        });
        killGroup(child.pid, 'SIGKILL');
      }
    }
    await this.#exited;
    this.#setState('stopped');
  }

  #spawn(): Promise<void> {
    this.#setState('starting');
    const command = [this.#o.bin, ...this.#o.argv].join(' ');
    let child: ChildProcess;
    try {
      // detached: the child leads a new process group, so one signal to -pid reaches k3s and its children
      // (Setpgid in kube-init's startK3s).
      child = spawn(this.#o.bin, this.#o.argv, {
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
        ...(this.#o.env ? { env: this.#o.env } : {}),
      });
    } catch (e) {
      return Promise.reject(this.#spawnFailed(command, e));
    }
    this.#child = child;
    this.#expectedExit = false;
    let resolveExited!: () => void;
    this.#exited = new Promise((r) => (resolveExited = r));
    for (const [stream, src] of [
      ['stdout', child.stdout],
      ['stderr', child.stderr],
    ] as const) {
      if (!src) continue;
      createInterface({ input: src, crlfDelay: Infinity }).on('line', (line) => this.#onOutput(stream, line));
    }
    return new Promise<void>((resolve, reject) => {
      child.once('spawn', () => {
        this.#startedAt = this.#clock.monotonic();
        const pid = child.pid!;
        this.#setState('running', { pid, restarts: this.#restarts });
        this.#log.info('k3s started', { pid, command });
        const ev: K3sStartEvent = { pid, restarts: this.#restarts };
        for (const fn of this.#startListeners) fn(ev);
        resolve();
      });
      child.once('error', (e) => {
        // 'error' without 'spawn' means the executable could not be started at all.
        if (child.pid === undefined) {
          this.#child = undefined;
          child.removeAllListeners('close');
          resolveExited();
          const err = this.#spawnFailed(command, e);
          if (this.#restarts === 0 && this.#startedAt === 0) {
            this.#setState('stopped');
            reject(err);
          } else {
            this.#log.error('k3s restart failed', { error: err.message });
            this.#backoffMs = Math.min(this.#backoffMs * 2, this.#o.maxBackoffMs);
            this.#scheduleRestart();
            resolve();
          }
        } else {
          this.#log.error('k3s process error', { error: errorMessage(e) });
        }
      });
      // On 'exit' the group goes at once (grandchildren may hold our pipes open); the bookkeeping waits for
      // 'close', when the last output lines have been read.
      child.once('exit', () => killGroup(child.pid!, 'SIGKILL'));
      child.once('close', (code, signal) => this.#onExit(child, code, signal, resolveExited));
    });
  }

  #spawnFailed(command: string, e: unknown): K3sSupervisorError {
    return new K3sSupervisorError('SPAWN_FAILED', `k3s supervisor: cannot start "${command}": ${errorMessage(e)}`, {
      command,
    });
  }

  #onOutput(stream: 'stdout' | 'stderr', line: string): void {
    this.#recent.push(line);
    if (this.#recent.length > this.#o.keepOutputLines) this.#recent.shift();
    this.#out[this.#o.outputLevel](line, { stream });
  }

  #onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null, done: () => void): void {
    const pid = child.pid!;
    this.#child = undefined;
    const ranMs = this.#clock.monotonic() - this.#startedAt;
    const expected = this.#expectedExit;
    const ev: K3sExitEvent = { pid, code, signal, ranMs, expected };
    if (!expected) {
      // computeBackoff: a stable run resets the delay, a short one doubles it up to the maximum.
      this.#backoffMs =
        ranMs > this.#clock.scaled(this.#o.stableMs)
          ? this.#o.minBackoffMs
          : Math.min(this.#backoffMs * 2, this.#o.maxBackoffMs);
      ev.nextStartInMs = this.#backoffMs;
      this.#log.warn('k3s exited', { pid, code, signal, ranMs, nextStartInMs: this.#backoffMs });
    } else {
      this.#log.info('k3s exited', { pid, code, signal, ranMs });
    }
    done();
    for (const fn of this.#exitListeners) fn(ev);
    if (!expected) this.#scheduleRestart();
  }

  #scheduleRestart(): void {
    const delay = this.#backoffMs;
    this.#setState('backoff', { restartInMs: delay });
    const ac = new AbortController();
    this.#backoffAbort = ac;
    this.#clock.sleep(delay, ac.signal).then(
      () => {
        if (ac.signal.aborted || this.#closed) return;
        this.#backoffAbort = undefined;
        this.#restarts++;
        this.#spawn().catch((e: unknown) => this.#log.error('k3s restart failed', { error: errorMessage(e) }));
      },
      (e: unknown) => {
        if (!isAbortError(e)) this.#log.error('k3s backoff timer failed', { error: errorMessage(e) });
      },
    );
  }
}

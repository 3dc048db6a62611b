/**
 * Runs tpm2-tools against one TCTI: one call at a time (a queue: swtpm serves one connection at a time and a raw
 * TPM has few context slots), each with a timeout, with failures turned into TpmError. Two kinds of call:
 *   - raw commands (tpm-commands.ts) through one long-lived `tpm2_send` (tpm2-send.ts): the key operations on the
 *     hot path (TPM2_ECDH_ZGen for the cluster token, TPM2_Sign for every AuthContainer), one command each, no
 *     process start once the channel runs, nothing left loaded;
 *   - tool processes (execFile, no shell) for everything else (provisioning, quotes, capabilities). Without a
 *     resource manager (swtpm, /dev/tpm0) the contexts a tool leaves behind are flushed (cipher-and-tpm.md §13):
 *     the caller names what a command leaks, and the flush runs right after it in the queue, after the caller
 *     already has its result.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Logger } from '../common/index.js';
import { errorMessage, isAbortError } from '../common/index.js';
import { describeKind, toolError, TpmError } from './errors.js';
import type { TpmCommand } from './tpm-commands.js';
import { Tpm2SendChannel } from './tpm2-send.js';

/** Context classes a tool may leave loaded: `tpm2_flushcontext -t`, `-l`, `-s`. */
export type Leak = 'transient' | 'loaded-session' | 'saved-session';
const FLUSH_FLAG: Record<Leak, string> = { transient: '-t', 'loaded-session': '-l', 'saved-session': '-s' };
const ALL_LEAKS: readonly Leak[] = ['transient', 'loaded-session', 'saved-session'];

/** Options of one tool call. */
export interface RunOptions {
  /** Bytes written to the tool's stdin. */
  input?: Buffer;
  /** What this command leaves loaded without a resource manager; flushed after it. @default [] */
  leaks?: readonly Leak[];
  signal?: AbortSignal;
}

/** Options of a Tpm2Tools runner. */
export interface Tpm2ToolsOptions {
  /** TCTI string passed as `--tcti` (e.g. `swtpm:host=127.0.0.1,port=2321`). */
  tcti: string;
  /** Whether leaked contexts must be flushed (no resource manager). */
  flush: boolean;
  /** Per-call timeout in ms. */
  timeoutMs: number;
  logger: Logger;
  /**
   * Only one process may open the TPM at a time (a raw /dev/tpm0): the tpm2_send channel then ends after each
   * command, so tool processes and other programs can open the device. @default false
   */
  exclusive?: boolean;
}

/** Counters for tests and benchmarks. */
export interface Tpm2ToolsStats {
  /** Tool processes run (flushes included). */
  calls: number;
  /** Raw commands sent through tpm2_send. */
  commands: number;
  /** tpm2_send processes started. */
  sendStarts: number;
  /** `tpm2_flushcontext` runs. */
  flushes: number;
  /** OBJECT_MEMORY/SESSION_MEMORY answers recovered by flushing everything. */
  recoveries: number;
}

/** A serialised tpm2-tools runner bound to one TCTI. */
export class Tpm2Tools {
  private readonly counts = { calls: 0, commands: 0, flushes: 0, recoveries: 0 };
  private tail: Promise<unknown> = Promise.resolve();
  private readonly log: Logger;
  private readonly channel: Tpm2SendChannel;

  constructor(private readonly opts: Tpm2ToolsOptions) {
    this.log = opts.logger;
    this.channel = new Tpm2SendChannel({ tcti: opts.tcti, logger: opts.logger });
  }

  /** A snapshot of the counters. */
  get stats(): Tpm2ToolsStats {
    return { ...this.counts, sendStarts: this.channel.starts };
  }

  /** The TCTI string. */
  get tcti(): string {
    return this.opts.tcti;
  }

  /**
   * Runs `fn` alone in the queue with a private temp directory (removed afterwards). `fn` runs tools through the
   * given `run`. Leaks reported by its commands are flushed after `fn` returns, before the next queued task, but
   * without delaying this task's result. On OBJECT_MEMORY/SESSION_MEMORY (contexts leaked by someone else) every
   * context class is flushed and `fn` is retried once.
   */
  exclusive<T>(fn: (run: (tool: string, args: string[], o?: RunOptions) => Promise<Buffer>, dir: string) => Promise<T>): Promise<T> {
    return this.enqueue(async (pending) => {
      const dir = await mkdtemp(path.join(tmpdir(), 'edgesim-tpm-'));
      try {
        return await fn((tool, args, o) => this.exec(tool, args, o ?? {}, pending), dir);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  }

  /**
   * Sends one raw command through the tpm2_send channel, alone in the queue, and returns `parse(response)`.
   * `parse` runs inside the queued task, so an OBJECT_MEMORY/SESSION_MEMORY response code it throws (contexts
   * leaked by someone else) is recovered like a tool's: everything flushed, the command sent once more.
   */
  send<T>(cmd: TpmCommand, parse: (cmd: TpmCommand, rsp: Buffer) => T, signal?: AbortSignal): Promise<T> {
    return this.enqueue(async () => {
      this.counts.commands++;
      const started = process.hrtime.bigint();
      try {
        const out = parse(cmd, await this.channel.transmit(cmd.name, cmd.bytes, this.opts.timeoutMs, signal));
        this.log.debug('TPM command', { command: cmd.name, ms: Math.round(Number(process.hrtime.bigint() - started) / 1e5) / 10 });
        return out;
      } finally {
        if (this.opts.exclusive) await this.channel.close();
      }
    });
  }

  /** Ends the tpm2_send process in queue order (a later command starts a new one). Call when done. */
  release(): Promise<void> {
    return this.enqueue(() => this.channel.close());
  }

  /** Serialises `fn` behind every queued task; recovery from context exhaustion and leak flushing as above. */
  private enqueue<T>(fn: (pending: Set<Leak>) => Promise<T>): Promise<T> {
    const pending = new Set<Leak>();
    const task = async (): Promise<T> => {
      try {
        return await fn(pending);
      } catch (e) {
        if (!(e instanceof TpmError) || (e.kind !== 'OBJECT_MEMORY' && e.kind !== 'SESSION_MEMORY')) throw e;
        this.log.warn('TPM context memory exhausted; flushing all contexts and retrying once', { command: e.command });
        this.counts.recoveries++;
        await this.flush(ALL_LEAKS);
        pending.clear();
        return await fn(pending);
      }
    };
    const result = this.tail.then(task, task);
    // The flush is queued right behind the task; the caller's promise does not wait for it.
    this.tail = result.then(
      () => this.flushQuietly(pending),
      () => this.flushQuietly(pending),
    );
    return result;
  }

  /** Runs one tool alone in the queue (no temp directory). */
  run(tool: string, args: string[], o: RunOptions = {}): Promise<Buffer> {
    return this.exclusive((run) => run(tool, args, o));
  }

  /** Waits until every queued task (and flush) has finished. */
  async idle(): Promise<void> {
    await this.tail;
  }

  /** Flushes the given context classes now (inside a queued task). Skipped with a resource manager. */
  private async flush(leaks: Iterable<Leak>): Promise<void> {
    if (!this.opts.flush) return;
    for (const leak of leaks) {
      this.counts.flushes++;
      await this.exec('tpm2_flushcontext', [FLUSH_FLAG[leak]], {}, undefined);
    }
  }

  private async flushQuietly(pending: Set<Leak>): Promise<void> {
    if (pending.size === 0) return;
    try {
      await this.flush(pending);
    } catch (e) {
      // The next call that hits 0x902/0x903 recovers by flushing everything (see exclusive()).
      this.log.warn('tpm2_flushcontext failed', { error: errorMessage(e) });
    }
  }

  private exec(tool: string, args: string[], o: RunOptions, pending: Set<Leak> | undefined): Promise<Buffer> {
    this.counts.calls++;
    const started = process.hrtime.bigint();
    return new Promise<Buffer>((resolve, reject) => {
      const child = execFile(
        tool,
        [`--tcti=${this.opts.tcti}`, ...args],
        {
          encoding: 'buffer',
          timeout: this.opts.timeoutMs,
          killSignal: 'SIGKILL',
          maxBuffer: 16 * 1024 * 1024,
          ...(o.signal ? { signal: o.signal } : {}),
        },
        (err, stdout, stderrBuf) => {
          const stderr = stderrBuf.toString();
          const ms = Number(process.hrtime.bigint() - started) / 1e6;
          if (pending && o.leaks) for (const l of o.leaks) pending.add(l);
          if (!err) {
            this.log.debug('tpm2-tools call', { tool, ms: Math.round(ms * 10) / 10 });
            resolve(stdout);
            return;
          }
          const e = err as NodeJS.ErrnoException & { killed?: boolean; signal?: string | null };
          if (isAbortError(e)) {
            reject(e);
            return;
          }
          let te: TpmError;
          if (e.code === 'ENOENT') {
            te = new TpmError('TOOL_FAILED', tool, `${tool} not found: install tpm2-tools (scripts/setup.sh)`);
          } else if (e.killed && e.signal === 'SIGKILL') {
            te = new TpmError('TIMEOUT', tool, `${tool}: ${describeKind('TIMEOUT')} after ${this.opts.timeoutMs} ms (TCTI ${this.opts.tcti})`, undefined, stderr);
          } else {
            te = toolError(tool, stderr, `exit ${String(e.code)}`);
            if (te.kind === 'UNREACHABLE') {
              te = new TpmError(te.kind, tool, `${te.message} (TCTI ${this.opts.tcti})`, te.code, te.stderr);
            }
          }
          this.log.debug('tpm2-tools call failed', { tool, kind: te.kind, code: te.codeHex, ms: Math.round(ms) });
          reject(te);
        },
      );
      if (o.input) child.stdin?.end(o.input);
      else child.stdin?.end();
    });
  }
}

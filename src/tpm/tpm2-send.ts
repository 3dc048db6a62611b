/**
 * A long-lived `tpm2_send` (tpm2-tools) that carries raw TPM commands. Since tpm2-tools 5.1 tpm2_send reads
 * commands from stdin in a loop until EOF and writes and flushes each response to stdout (tpm2-tools CHANGELOG 5.1,
 * `tools/tpm2_send.c`; Debian 12 ships 5.4, Debian 13 5.7), so only the first command pays the process start
 * (~25 ms on 2 cores); later ones cost the TPM round trip. The swtpm TCTI connects per command, so an idle channel
 * holds no connection and other tools reach swtpm meanwhile; a TCTI that one process opens at a time (a raw
 * /dev/tpm0) is held for as long as the process lives, so callers close the channel after each command there.
 * One command at a time: the caller (TpmCommandRunner) serialises.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import type { Socket } from 'node:net';
import type { Logger } from '../common/index.js';
import { describeKind, toolError, TpmError } from './errors.js';

const TOOL = 'tpm2_send';
/** Kept tail of the process's stderr: enough for the TCTI's error lines. */
const STDERR_KEEP = 8192;

interface Pending {
  /** The process the command was written to: a killed predecessor's late events must not settle it. */
  child: ChildProcessWithoutNullStreams;
  command: string;
  resolve: (rsp: Buffer) => void;
  reject: (e: Error) => void;
}

/** The signal's reason when it is an Error (an AbortError by default), else a plain AbortError. */
function abortReason(signal: AbortSignal | undefined): Error {
  const reason: unknown = signal?.reason;
  return reason instanceof Error ? reason : new DOMException('The operation was aborted', 'AbortError');
}

/** Options of a Tpm2SendChannel. */
export interface Tpm2SendOptions {
  /** TCTI string passed as `--tcti`. */
  tcti: string;
  logger: Logger;
}

/** One tpm2_send process, started on the first command and again after it ended. */
export class Tpm2SendChannel {
  private started = 0;
  private child: ChildProcessWithoutNullStreams | undefined;
  private exited: Promise<void> = Promise.resolve();
  private pending: Pending | undefined;
  private buf: Buffer = Buffer.alloc(0);
  private stderr = '';

  constructor(private readonly opts: Tpm2SendOptions) {}

  /** How many tpm2_send processes were started (tests and benchmarks). */
  get starts(): number {
    return this.started;
  }

  /**
   * Sends one command and resolves with the TPM's whole response (any response code: the caller parses it).
   * Rejects with TpmError TIMEOUT after `timeoutMs` (the process is killed), with the classified tool error when
   * the process ends first (UNREACHABLE when the TCTI cannot connect), or with the AbortError of `signal`.
   */
  transmit(command: string, bytes: Buffer, timeoutMs: number, signal?: AbortSignal): Promise<Buffer> {
    if (this.pending) return Promise.reject(new TpmError('TOOL_FAILED', command, `${TOOL}: a command is already in flight`));
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    const child = this.child ?? this.start();
    return new Promise<Buffer>((resolve, reject) => {
      const timer = AbortSignal.timeout(timeoutMs);
      const stop = (): void => {
        timer.removeEventListener('abort', onTimeout);
        signal?.removeEventListener('abort', onAbort);
        this.pending = undefined;
        this.setRef(false);
      };
      const onTimeout = (): void => {
        stop();
        this.kill();
        reject(new TpmError('TIMEOUT', command, `${command}: ${describeKind('TIMEOUT')} after ${timeoutMs} ms (TCTI ${this.opts.tcti})`, undefined, this.stderr.trim()));
      };
      const onAbort = (): void => {
        stop();
        this.kill();
        reject(abortReason(signal));
      };
      timer.addEventListener('abort', onTimeout, { once: true });
      signal?.addEventListener('abort', onAbort, { once: true });
      this.pending = {
        child,
        command,
        resolve: (rsp) => {
          stop();
          resolve(rsp);
        },
        reject: (e) => {
          stop();
          reject(e);
        },
      };
      this.setRef(true);
      child.stdin.write(bytes);
    });
  }

  /** Ends the process (EOF on its stdin; killed if it has not exited within `graceMs`). Idempotent. */
  async close(graceMs = 2000): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.setRef(true);
    child.stdin.end();
    const t = AbortSignal.timeout(graceMs);
    const onTimeout = (): void => void child.kill('SIGKILL');
    t.addEventListener('abort', onTimeout, { once: true });
    try {
      await this.exited;
    } finally {
      t.removeEventListener('abort', onTimeout);
    }
  }

  private start(): ChildProcessWithoutNullStreams {
    const child = spawn(TOOL, [`--tcti=${this.opts.tcti}`], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.started++;
    this.child = child;
    this.buf = Buffer.alloc(0);
    this.stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      if (this.child === child) this.onData(d);
    });
    child.stderr.on('data', (d: Buffer) => {
      if (this.child === child) this.stderr = (this.stderr + d.toString()).slice(-STDERR_KEEP);
    });
    // EPIPE when the process died before reading: its exit reports the cause.
    child.stdin.on('error', () => undefined);
    this.exited = new Promise<void>((resolve) => {
      child.once('error', (e: NodeJS.ErrnoException) => {
        // spawn failed (no 'exit' follows) or a kill failed on an exited process.
        if (this.child === child) this.child = undefined;
        if (this.pending?.child !== child) return resolve();
        const te = e.code === 'ENOENT'
          ? new TpmError('TOOL_FAILED', TOOL, `${TOOL} not found: install tpm2-tools ≥ 5.1 (scripts/setup.sh)`)
          : new TpmError('TOOL_FAILED', TOOL, `${TOOL}: ${e.message}`);
        this.pending.reject(te);
        resolve();
      });
      child.once('close', (code, sig) => {
        if (this.child === child) this.child = undefined;
        const p = this.pending;
        if (p?.child === child) {
          let te = toolError(p.command, this.stderr, `${TOOL} exited (${sig ?? `code ${String(code)}`}) without a response`);
          if (te.kind === 'UNREACHABLE') te = new TpmError(te.kind, te.command, `${te.message} (TCTI ${this.opts.tcti})`, te.code, te.stderr);
          this.opts.logger.debug('tpm2_send ended during a command', { command: p.command, kind: te.kind, code: te.codeHex });
          p.reject(te);
        }
        resolve();
      });
    });
    this.setRef(false);
    return child;
  }

  /** Collects stdout until one whole response (size field at offset 2) is in. */
  private onData(d: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
    if (this.buf.length < 6) return;
    const size = this.buf.readUInt32BE(2);
    if (this.buf.length < size) return;
    const rsp = Buffer.from(this.buf.subarray(0, size));
    const rest = this.buf.subarray(size);
    this.buf = Buffer.alloc(0);
    const p = this.pending;
    if (!p || rest.length > 0 || size < 10) {
      // Out of step with the TPM: drop the process rather than match a response to the wrong command.
      this.kill();
      p?.reject(new TpmError('TOOL_FAILED', p.command, `${TOOL}: unexpected output (${size} byte response, ${rest.length} extra)`));
      return;
    }
    p.resolve(rsp);
  }

  private kill(): void {
    const child = this.child;
    if (!child) return;
    this.child = undefined;
    child.kill('SIGKILL');
  }

  /**
   * An idle process must not keep Node running (whoever forgets close() still exits: tpm2_send then reads EOF);
   * a command in flight must, or a one-shot CLI would exit before the answer.
   */
  private setRef(on: boolean): void {
    const c = this.child;
    if (!c) return;
    // The stdio streams are net.Sockets over pipes at run time; the typings only promise streams.
    for (const s of [c.stdin, c.stdout, c.stderr] as Partial<Pick<Socket, 'ref' | 'unref'>>[]) {
      if (on) s.ref?.();
      else s.unref?.();
    }
    if (on) c.ref();
    else c.unref();
  }
}

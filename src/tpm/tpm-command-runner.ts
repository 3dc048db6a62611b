/**
 * Runs raw TPM commands (tpm-commands.ts, tpm-object-commands.ts) against one TCTI through one long-lived
 * `tpm2_send` (tpm2-send.ts): one task at a time (a queue: swtpm serves one connection at a time and a raw TPM has
 * few context slots), each command with a timeout, TPM response codes turned into TpmError. A task is one command
 * or a sequence of them that must not interleave with others (create a transient object, persist it, flush it).
 * Commands authorise with password sessions and every sequence flushes the transients it creates, so nothing is
 * left loaded; contexts leaked by other programs (cipher-and-tpm.md §13) are recovered from when the TPM runs out.
 */
import type { Logger } from '../common/index.js';
import { errorMessage } from '../common/index.js';
import { TpmError } from './errors.js';
import type { TpmCommand, Transmit } from './tpm-command-frame.js';
import { flushContextCommand, HANDLE_RANGE, listHandles, parseEmptyResponse } from './tpm-object-commands.js';
import { Tpm2SendChannel } from './tpm2-send.js';

/** TPM_RC_YIELDED, TPM_RC_TESTING, TPM_RC_RETRY (TPM 2.0 Part 2 §6.6.3): the command was not run; send it again. */
const TRY_AGAIN = new Set([0x908, 0x90a, 0x922]);
/** Submissions of one command in all (tpm2-tss `_ESYS_MAX_SUBMISSIONS`). */
const MAX_SUBMISSIONS = 5;

/** Options of a {@link TpmCommandRunner}. */
export interface TpmCommandRunnerOptions {
  /** TCTI string passed as `--tcti` (e.g. `swtpm:host=127.0.0.1,port=2321`). */
  tcti: string;
  /** Whether contexts leaked by others may be flushed to recover from 0x902/0x903 (no resource manager). */
  flush: boolean;
  /** Per-command timeout in ms. */
  timeoutMs: number;
  logger: Logger;
  /**
   * Only one process may open the TPM at a time (a raw /dev/tpm0): the tpm2_send channel then ends after each
   * command, so other programs can open the device. Without a resource manager a transient object outlives the
   * process, so a sequence still works. @default false
   */
  exclusive?: boolean;
}

/** Counters for tests and benchmarks. */
export interface TpmCommandRunnerStats {
  /** Raw commands sent (recovery flushes included). */
  commands: number;
  /** tpm2_send processes started. */
  sendStarts: number;
  /** Contexts flushed while recovering from 0x902/0x903. */
  flushes: number;
  /** OBJECT_MEMORY/SESSION_MEMORY answers recovered by flushing everything. */
  recoveries: number;
}

/** A serialised raw-command runner bound to one TCTI. */
export class TpmCommandRunner {
  private readonly counts = { commands: 0, flushes: 0, recoveries: 0 };
  private tail: Promise<unknown> = Promise.resolve();
  private readonly log: Logger;
  private readonly channel: Tpm2SendChannel;

  constructor(private readonly opts: TpmCommandRunnerOptions) {
    this.log = opts.logger;
    this.channel = new Tpm2SendChannel({ tcti: opts.tcti, logger: opts.logger });
  }

  /** A snapshot of the counters. */
  get stats(): TpmCommandRunnerStats {
    return { ...this.counts, sendStarts: this.channel.starts };
  }

  /** Sends one command alone in the queue and returns `parse(cmd, response)` (see sequence). */
  send<T>(cmd: TpmCommand, parse: (cmd: TpmCommand, rsp: Buffer) => T, signal?: AbortSignal): Promise<T> {
    return this.sequence((tx) => tx(cmd, parse), signal);
  }

  /**
   * Runs `fn` alone in the queue; its commands go out through `tx`. `fn` must flush every transient object it
   * creates, also when a later command fails. On OBJECT_MEMORY/SESSION_MEMORY (contexts leaked by someone else)
   * every transient object and session is flushed (TPM2_FlushContext) and `fn` is run once more.
   */
  sequence<T>(fn: (tx: Transmit) => Promise<T>, signal?: AbortSignal): Promise<T> {
    const tx: Transmit = (cmd, parse) => this.transmit(cmd, parse, signal);
    const task = async (): Promise<T> => {
      try {
        return await fn(tx);
      } catch (e) {
        if (!(e instanceof TpmError) || (e.kind !== 'OBJECT_MEMORY' && e.kind !== 'SESSION_MEMORY')) throw e;
        this.log.warn('TPM context memory exhausted; flushing all contexts and retrying once', { command: e.command });
        this.counts.recoveries++;
        await this.flushAll(tx);
        return await fn(tx);
      }
    };
    const result = this.tail.then(task, task);
    this.tail = result.catch(() => undefined);
    return result;
  }

  /** Ends the tpm2_send process in queue order (a later command starts a new one). Call when done. */
  release(): Promise<void> {
    const done = this.tail.then(() => this.channel.close());
    this.tail = done.catch(() => undefined);
    return done;
  }

  /** Waits until every queued task has finished. */
  async idle(): Promise<void> {
    await this.tail;
  }

  /**
   * Sends `cmd`; a TPM that answers "try again" (TPM_RC_RETRY, TPM_RC_YIELDED, TPM_RC_TESTING) gets the same
   * command again, up to MAX_SUBMISSIONS times in all, as ESYS does for tpm2-tools (tpm2-tss `_ESYS_MAX_SUBMISSIONS`).
   */
  private async transmit<T>(cmd: TpmCommand, parse: (cmd: TpmCommand, rsp: Buffer) => T, signal?: AbortSignal): Promise<T> {
    const started = process.hrtime.bigint();
    try {
      for (let submission = 1; ; submission++) {
        this.counts.commands++;
        const rsp = await this.channel.transmit(cmd.name, cmd.bytes, this.opts.timeoutMs, signal);
        const rc = rsp.length >= 10 ? rsp.readUInt32BE(6) : 0;
        if (TRY_AGAIN.has(rc) && submission < MAX_SUBMISSIONS) {
          this.log.debug('TPM asks to resubmit', { command: cmd.name, rc: '0x' + rc.toString(16), submission });
          continue;
        }
        const out = parse(cmd, rsp);
        this.log.debug('TPM command', { command: cmd.name, ms: Math.round(Number(process.hrtime.bigint() - started) / 1e5) / 10 });
        return out;
      }
    } finally {
      if (this.opts.exclusive) await this.channel.close();
    }
  }

  /** Flushes every transient object and loaded or saved session (`tpm2_flushcontext -t -l -s`). No-op with a resource manager. */
  private async flushAll(tx: Transmit): Promise<void> {
    if (!this.opts.flush) return;
    for (const first of [HANDLE_RANGE.transient, HANDLE_RANGE.loadedSession, HANDLE_RANGE.savedSession]) {
      for (const h of await listHandles(tx, first)) {
        try {
          await tx(flushContextCommand(h), parseEmptyResponse);
          this.counts.flushes++;
        } catch (e) {
          // Gone meanwhile (its owner flushed it): what matters is that the slot is free.
          this.log.warn('TPM2_FlushContext failed', { handle: '0x' + h.toString(16), error: errorMessage(e) });
        }
      }
    }
  }
}

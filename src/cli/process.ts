/**
 * The CLI's one owner of process signals and exit codes.
 * - {@link cliAction}: a verb's errors become one stderr line and exit code 2 (bad input) or 1.
 * - {@link onInterrupt}: the first SIGINT/SIGTERM calls the command's handler (abort, stop); a second exits at once.
 * - {@link stopOnSignals}: long-running daemons hand their `stop()` here (graceful, bounded by `graceMs`).
 */
import { errorMessage } from '../common/index.js';

/**
 * Wraps the actions of `edgesim <command>`: an error is printed as `edgesim <command>: <message>` (plus the
 * command's `detail`, e.g. a TPM response code) and sets exit code 2 when `badInput` says it was the user's input.
 */
export function cliAction(command: string, o: { badInput: (e: unknown) => boolean; detail?: (e: unknown) => string }) {
  return <A extends unknown[]>(fn: (...args: A) => Promise<void>) =>
    async (...args: A): Promise<void> => {
      try {
        await fn(...args);
      } catch (e) {
        process.stderr.write(`edgesim ${command}: ${errorMessage(e)}${o.detail?.(e) ?? ''}\n`);
        process.exitCode = o.badInput(e) ? 2 : 1;
      }
    };
}

/**
 * Until the returned function is called: the first SIGINT or SIGTERM calls `onFirst`; a second one exits with
 * 130 at once (the user insists).
 */
export function onInterrupt(onFirst: (signal: NodeJS.Signals) => void): () => void {
  let seen = false;
  const onSignal = (sig: NodeJS.Signals): void => {
    if (seen) {
      process.stderr.write(`\n${sig} again: exiting now\n`);
      process.exit(130);
    }
    seen = true;
    onFirst(sig);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
}

/**
 * For daemons: the first SIGINT/SIGTERM stops gracefully and exits 0 (1 when the stop fails or takes longer than
 * `graceMs`); a second one exits at once.
 */
export function stopOnSignals(stop: () => Promise<void>, graceMs = 30_000): void {
  onInterrupt(() => {
    const force = setTimeout(() => {
      process.stderr.write(`graceful stop took longer than ${graceMs} ms; exiting\n`);
      process.exit(1);
    }, graceMs);
    force.unref();
    stop().then(
      () => process.exit(0),
      (e: unknown) => {
        process.stderr.write(`stop failed: ${errorMessage(e)}\n`);
        process.exit(1);
      },
    );
  });
}

/**
 * The one owner of process signals: long-running commands hand their `stop()` here. The first SIGINT/SIGTERM
 * stops gracefully (bounded by `graceMs`); a second one exits at once.
 */
export function stopOnSignals(stop: () => Promise<void>, graceMs = 30_000): void {
  let stopping = false;
  const onSignal = (sig: NodeJS.Signals): void => {
    if (stopping) {
      process.stderr.write(`\n${sig} again: exiting now\n`);
      process.exit(130);
    }
    stopping = true;
    const force = setTimeout(() => {
      process.stderr.write(`graceful stop took longer than ${graceMs} ms; exiting\n`);
      process.exit(1);
    }, graceMs);
    force.unref();
    stop().then(
      () => process.exit(0),
      (e: unknown) => {
        process.stderr.write(`stop failed: ${e instanceof Error ? e.message : String(e)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

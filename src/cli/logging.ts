/** Shared logging flags of long-running commands. */
import type { Command } from 'commander';
import { createLogger, parseLogLevelSpec, type Logger } from '../common/index.js';

/** Adds `--log-level` and `--log-format` to a command. */
export function withLogFlags(cmd: Command, defaultLevel = 'info'): Command {
  return cmd
    .option('--log-level <spec>', 'level, optionally per component: "info,agent.config=debug,tpm=warn"', defaultLevel)
    .option('--log-format <format>', 'json (one object per line, for journald) or text; default: text on a TTY, else json');
}

/** Builds the root logger from those flags; daemons log to stdout (journald), other verbs to stderr. */
export function loggerFromFlags(flags: { logLevel?: string; logFormat?: string }, daemon: boolean, fields: Record<string, unknown> = {}): Logger {
  const { level, componentLevels } = parseLogLevelSpec(flags.logLevel ?? 'info');
  const format = flags.logFormat === 'json' || flags.logFormat === 'text' ? flags.logFormat : undefined;
  return createLogger({
    level,
    componentLevels,
    ...(format ? { format } : {}),
    stream: daemon ? process.stdout : process.stderr,
    fields,
  });
}

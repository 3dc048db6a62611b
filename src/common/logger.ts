/**
 * Structured logging: one Logger interface, child loggers that bind fields (`component`, `node`, ids),
 * per-component levels, and redaction by construction (secrets registered once are masked in every line;
 * fields named as secrets — token, password, secret, private or symmetric key material — are never printed).
 */
import winston from 'winston';

export type LogLevel = 'error' | 'warn' | 'info' | 'debug';
const RANK: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };

export type LogFields = Record<string, unknown>;

export interface Logger {
  error(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  debug(msg: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every line; `component` selects the per-component level. */
  child(fields: LogFields & { component?: string }): Logger;
}

export interface LoggerOptions {
  /** Default level. @default 'info' */
  level?: LogLevel;
  /** Per-component levels, matched by prefix: `{ 'agent.config': 'debug', tpm: 'warn' }`. */
  componentLevels?: Record<string, LogLevel>;
  /** 'json' (one JSON object per line, for journald and tests) or 'text'. @default json unless the stream is a TTY */
  format?: 'json' | 'text';
  /** Where lines go. @default process.stderr */
  stream?: NodeJS.WritableStream;
  /** Fields bound to every line (e.g. `{ node: 'dev1' }`). */
  fields?: LogFields;
}

/**
 * Field names that hold secrets: tokens, passwords, private or symmetric key material (`privateKey`, `keyPem`,
 * `aesKey`, `rawKey`). Not the bare word `key`: queue keys, config item keys and map keys are not secrets.
 */
const SECRET_FIELD = /(token|passw(or)?d|secret|private|credential|(raw|aes|shared|session|symmetric)key|keypem)/i;
const PUBLIC_FIELD = /^public/i;
const REDACTED = '[REDACTED]';

/** Process-wide set of secret values that must never reach a log line. */
const secrets = new Set<string>();

/** Registers a secret (cluster token, key material) so every later log line masks it. */
export function registerSecret(value: string): void {
  if (value.length >= 4) secrets.add(value);
}

/** Masks registered secrets in `text`. Exported for error messages that leave the process. */
export function redact(text: string): string {
  let out = text;
  for (const s of secrets) if (out.includes(s)) out = out.split(s).join(REDACTED);
  return out;
}

function redactFields(fields: LogFields): LogFields {
  const out: LogFields = {};
  for (const [k, v] of Object.entries(fields)) {
    if (SECRET_FIELD.test(k) && !PUBLIC_FIELD.test(k) && typeof v !== 'number' && typeof v !== 'boolean') out[k] = REDACTED;
    else if (typeof v === 'string') out[k] = redact(v);
    else if (v instanceof Error) out[k] = redact(v.message);
    else out[k] = v;
  }
  return out;
}

/** Parses `info,agent.config=debug,tpm=warn` into a level and per-component levels. */
export function parseLogLevelSpec(spec: string): { level: LogLevel; componentLevels: Record<string, LogLevel> } {
  let level: LogLevel = 'info';
  const componentLevels: Record<string, LogLevel> = {};
  for (const part of spec.split(',').map((p) => p.trim()).filter(Boolean)) {
    const [a, b] = part.split('=');
    const lv = (b ?? a) as LogLevel;
    if (!(lv in RANK)) throw new Error(`log level "${lv}" is not one of error, warn, info, debug`);
    if (b === undefined) level = lv;
    else componentLevels[a] = lv;
  }
  return { level, componentLevels };
}

/** Creates the root logger of a process. Construct once at start-up and pass it down. */
export function createLogger(opts: LoggerOptions = {}): Logger {
  const stream = opts.stream ?? process.stderr;
  const isTty = (stream as { isTTY?: boolean }).isTTY === true;
  const format = opts.format ?? (isTty ? 'text' : 'json');
  const w = winston.createLogger({
    level: 'debug',
    format:
      format === 'json'
        ? winston.format.combine(winston.format.timestamp(), winston.format.json())
        : winston.format.combine(
            winston.format.timestamp({ format: 'HH:mm:ss.SSS' }),
            winston.format.printf((i) => {
              const { level, message, timestamp, component, ...rest } = i as Record<string, unknown>;
              const extra = Object.keys(rest).length ? ' ' + JSON.stringify(rest) : '';
              const tag = typeof component === 'string' ? component : '-';
              return `${String(timestamp)} ${String(level).padEnd(5)} [${tag}] ${String(message)}${extra}`;
            }),
          ),
    transports: [new winston.transports.Stream({ stream })],
  });
  const base = opts.level ?? 'info';
  const comp = Object.entries(opts.componentLevels ?? {}).sort((a, b) => b[0].length - a[0].length);
  const levelFor = (component: unknown): LogLevel => {
    if (typeof component === 'string') {
      for (const [prefix, lv] of comp) if (component === prefix || component.startsWith(prefix + '.')) return lv;
    }
    return base;
  };
  const make = (bound: LogFields): Logger => {
    const threshold = RANK[levelFor(bound.component)];
    const emit = (lv: LogLevel) => (msg: string, fields?: LogFields) => {
      if (RANK[lv] > threshold) return;
      w.log(lv, redact(msg), redactFields({ ...bound, ...fields }));
    };
    return {
      error: emit('error'),
      warn: emit('warn'),
      info: emit('info'),
      debug: emit('debug'),
      child: (fields) => make({ ...bound, ...fields }),
    };
  };
  return make(opts.fields ?? {});
}

/** A logger that drops everything (library defaults, tests that do not look at logs). */
export const silentLogger: Logger = {
  error() {},
  warn() {},
  info() {},
  debug() {},
  child: () => silentLogger,
};

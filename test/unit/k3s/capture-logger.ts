/** A Logger that keeps every line in memory so k3s tests can assert what was logged (and what was not). */
import type { LogFields, Logger } from '../../../src/common/index.js';

/** One captured log line: level, message and all bound + call fields. */
export interface CapturedLine {
  level: 'error' | 'warn' | 'info' | 'debug';
  msg: string;
  fields: LogFields;
}

/** Creates a capturing logger; `lines` fills as the code under test logs. */
export function captureLogger(): Logger & { lines: CapturedLine[] } {
  const lines: CapturedLine[] = [];
  const make = (bound: LogFields): Logger => {
    const emit = (level: CapturedLine['level']) => (msg: string, fields?: LogFields) => {
      lines.push({ level, msg, fields: { ...bound, ...fields } });
    };
    return {
      error: emit('error'),
      warn: emit('warn'),
      info: emit('info'),
      debug: emit('debug'),
      child: (fields) => make({ ...bound, ...fields }),
    };
  };
  return Object.assign(make({}), { lines });
}

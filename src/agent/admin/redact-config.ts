/**
 * The device config as an operator may see it: plain JSON (Maps become objects), with every secret replaced.
 * Redacted: encrypted blocks (the cluster token's CipherBlock and its contexts), raw bytes (key or cipher material),
 * values under secret-looking names (token, password, secret, private, key), and any registered runtime secret.
 */
import { redact } from '../../common/index.js';
import type { DeviceConfig } from '../index.js';

/** What replaces a secret value. */
export const REDACTED = '[REDACTED]';

// Same rule as the logger's field redaction (src/common/logger.ts), applied to object keys and config item names.
const SECRET_NAME = /(token|password|passwd|secret|private|^key$|key$|encrypted)/i;

function clean(value: unknown, name: string): unknown {
  if (name && SECRET_NAME.test(name) && value !== undefined && value !== null && value !== '') return REDACTED;
  if (value instanceof Uint8Array) return REDACTED;
  if (typeof value === 'string') return redact(value);
  if (value instanceof Map) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of value as Map<unknown, unknown>) out[String(k)] = clean(v, String(k));
    return out;
  }
  if (Array.isArray(value)) return value.map((v) => clean(v, ''));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = clean(v, k);
    return out;
  }
  return value;
}

/** Returns a JSON-safe copy of `cfg` with secrets replaced by "[REDACTED]"; `cfg` is not changed. */
export function redactConfig(cfg: DeviceConfig): Record<string, unknown> {
  return clean(cfg, '') as Record<string, unknown>;
}

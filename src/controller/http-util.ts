/**
 * Small HTTP helpers shared by the device API, the admin API and the dashboard: listen-address parsing, a
 * size-capped body reader, JSON replies and query parameters.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import net from 'node:net';
import { ControllerError } from './errors.js';

/** A parsed `host:port` (IPv6 hosts in brackets: `[::1]:8080`). Port 0 = any free port. */
export interface HostPort {
  host: string;
  port: number;
}

/** Parses `host:port`; throws ControllerError('INVALID_INPUT') naming `field`. */
export function parseHostPort(value: string, field: string): HostPort {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(value.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) {
    throw new ControllerError('INVALID_INPUT', `${field}: "${value}" is not host:port (e.g. 127.0.0.1:8080)`, { field });
  }
  return { host: (m[1] ?? m[2]), port };
}

/** Formats host and port for a URL or the device `server` file (brackets around IPv6). */
export function formatHostPort(host: string, port: number): string {
  return net.isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
}

/** True for 127.0.0.0/8, ::1 and `localhost`. */
export function isLoopbackHost(host: string): boolean {
  if (host === 'localhost' || host === '::1') return true;
  return net.isIPv4(host) && host.startsWith('127.');
}

/** Outcome of {@link readBody}: the bytes, or 'too-large' when more than `maxBytes` arrived. */
export type BodyResult = { ok: true; body: Buffer } | { ok: false; reason: 'too-large' | 'aborted' };

/**
 * Reads the request body up to `maxBytes`. A declared Content-Length above the cap is refused before
 * reading; otherwise reading stops as soon as the cap is passed.
 */
export function readBody(req: IncomingMessage, maxBytes: number): Promise<BodyResult> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (Number.isFinite(declared) && declared > maxBytes) {
    req.resume();
    return Promise.resolve({ ok: false, reason: 'too-large' });
  }
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (r: BodyResult): void => {
      if (done) return;
      done = true;
      resolve(r);
    };
    req.on('data', (c: Buffer) => {
      if (done) return;
      size += c.length;
      if (size > maxBytes) {
        req.pause();
        finish({ ok: false, reason: 'too-large' });
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => finish({ ok: true, body: Buffer.concat(chunks) }));
    req.on('error', () => finish({ ok: false, reason: 'aborted' }));
    req.on('close', () => finish({ ok: false, reason: 'aborted' }));
  });
}

/** Sends a JSON reply. */
export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = Buffer.from(JSON.stringify(value) + '\n');
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': body.length });
  res.end(body);
}

/** An integer query parameter in [min, max], `dflt` when absent; throws ControllerError('INVALID_INPUT') naming it. */
export function intParam(q: URLSearchParams, name: string, dflt: number, min: number, max: number): number {
  const raw = q.get(name);
  if (raw === null || raw === '') return dflt;
  const v = Number(raw);
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new ControllerError('INVALID_INPUT', `${name}: must be an integer from ${min} to ${max}, got "${raw}"`, { field: name });
  }
  return v;
}

/** Most devices one page of a device listing returns. */
export const DEVICE_PAGE_MAX = 500;

/** `search`, `limit` (default 50) and `offset` of a paged device listing (admin API and dashboard). */
export function devicePageParams(q: URLSearchParams): { search: string; limit: number; offset: number } {
  return {
    search: (q.get('search') ?? '').slice(0, 200),
    limit: intParam(q, 'limit', 50, 1, DEVICE_PAGE_MAX),
    offset: intParam(q, 'offset', 0, 0, Number.MAX_SAFE_INTEGER),
  };
}

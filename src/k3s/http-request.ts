/**
 * One small HTTP(S) request with a whole-request timeout and an AbortSignal, as Go's `http.Client{Timeout}` does
 * it for the join probes and the peer `/app` fan-out (lf-edge/eve: pkg/kube/kube-init/k3s/config.go,
 * pkg/pillar/cmd/zedkube/clusterstatus.go). Internal to src/k3s.
 */
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';

/** Result of {@link httpRequest}: status and the body as text. */
export interface HttpResult {
  status: number;
  body: string;
}

/** Options of {@link httpRequest}. */
export interface HttpRequestOptions {
  method?: string;
  /** Whole-request timeout in real milliseconds (connect, TLS, headers and body). */
  timeoutMs: number;
  signal?: AbortSignal | undefined;
  /** Skip TLS verification (the bootstrap API probe: its CA is what the join is going to fetch). */
  insecureTls?: boolean;
  /** Name resolution override (e.g. for a network namespace's resolver); @default the system resolver */
  lookup?: LookupFunction | undefined;
  /** Largest body read; longer bodies fail the request. @default 10 MiB (`maxClusterAppInfoSize`) */
  maxBodyBytes?: number;
}

/** Raised when the whole-request timeout fires; `code` is `ETIMEDOUT` so callers can tell it from refusals. */
export class HttpTimeoutError extends Error {
  override readonly name = 'HttpTimeoutError';
  readonly code = 'ETIMEDOUT';
  constructor(url: string, ms: number) {
    super(`${url}: no complete answer within ${ms} ms`);
  }
}

/**
 * Sends one request and reads the whole body. Rejects with the socket/TLS error (its `code` intact), an
 * {@link HttpTimeoutError}, or the signal's AbortError.
 */
export function httpRequest(url: string, opts: HttpRequestOptions): Promise<HttpResult> {
  const u = new URL(url);
  const lib = u.protocol === 'https:' ? https : http;
  const max = opts.maxBodyBytes ?? 10 << 20;
  // The timeout is an AbortSignal, so one abort path covers both the caller's cancel and the deadline.
  const deadline = AbortSignal.timeout(opts.timeoutMs);
  const signal = opts.signal ? AbortSignal.any([opts.signal, deadline]) : deadline;
  return new Promise<HttpResult>((resolve, reject) => {
    let settled = false;
    const fail = (e: unknown): void => {
      if (settled) return;
      settled = true;
      if (deadline.aborted && !opts.signal?.aborted) reject(new HttpTimeoutError(url, opts.timeoutMs));
      else if (opts.signal?.aborted) reject(opts.signal.reason as Error);
      else reject(e instanceof Error ? e : new Error(String(e)));
    };
    if (signal.aborted) {
      fail(signal.reason);
      return;
    }
    const req = lib.request(
      u,
      {
        method: opts.method ?? 'GET',
        agent: false,
        signal,
        ...(u.protocol === 'https:' ? { rejectUnauthorized: opts.insecureTls !== true } : {}),
        ...(opts.lookup ? { lookup: opts.lookup } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > max) {
            req.destroy(new Error(`${url}: body exceeds ${max} bytes`));
            return;
          }
          chunks.push(c);
        });
        res.on('end', () => {
          if (settled) return;
          settled = true;
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') });
        });
        res.on('error', fail);
        res.on('close', () => fail(new Error(`${url}: connection closed before the body ended`)));
      },
    );
    req.on('error', fail);
    req.end();
  });
}

/**
 * A small HTTPS JSON client for the stand-in's own API calls: the kubelet emulation (which, like a real
 * kubelet, talks to a server's API and never to etcd) and the join request. Errors carry the HTTP status and
 * the `Status` reason.
 */
import https from 'node:https';
import type { Clock } from '../../common/index.js';

/** An API call that answered with a non-2xx status, or did not answer. */
export class KubeClientError extends Error {
  override readonly name = 'KubeClientError';
  constructor(
    message: string,
    /** HTTP status, 0 when there was no answer. */
    readonly code: number,
    /** `Status.reason` when the body was a Status. */
    readonly reason: string | undefined,
    readonly url: string,
  ) {
    super(message);
  }
}

/** Type guard for {@link KubeClientError}. */
export function isKubeClientError(e: unknown): e is KubeClientError {
  return e instanceof KubeClientError;
}

/** Options of {@link KubeClient}. */
export interface KubeClientOptions {
  /** `https://<ip>:<port>` */
  baseUrl: string;
  /** CA to verify the server with; without it the server is not verified (join before the CA is known). */
  caPem?: string;
  /** `Authorization` header value. */
  authorization: string;
  /** Per-request timeout, spec ms (never below 2 s real). @default 10000 */
  timeoutMs?: number;
  clock: Clock;
}

/** JSON over HTTPS against one API server. */
export class KubeClient {
  private readonly agent: https.Agent;
  constructor(private readonly opts: KubeClientOptions) {
    this.agent = new https.Agent({
      keepAlive: true,
      maxSockets: 4,
      ...(opts.caPem ? { ca: opts.caPem } : { rejectUnauthorized: false }),
    });
  }

  /** Sends one request and returns the parsed JSON body; non-2xx answers throw {@link KubeClientError}. */
  async request<T = unknown>(method: string, path: string, body?: unknown, contentType = 'application/json', signal?: AbortSignal): Promise<T> {
    const url = this.opts.baseUrl + path;
    const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    // At least 2 s real: the datastore answers in real time whatever the time scale.
    const timeout = AbortSignal.timeout(Math.max(2_000, this.opts.clock.scaled(this.opts.timeoutMs ?? 10_000)));
    const sig = signal ? AbortSignal.any([signal, timeout]) : timeout;
    return new Promise<T>((resolve, reject) => {
      const req = https.request(
        url,
        {
          method,
          agent: this.agent,
          signal: sig,
          headers: {
            Authorization: this.opts.authorization,
            Accept: 'application/json',
            ...(data ? { 'Content-Type': contentType, 'Content-Length': data.length } : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', (e) => reject(new KubeClientError(e.message, 0, undefined, url)));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown = text;
            try {
              parsed = text ? JSON.parse(text) : undefined;
            } catch {
              // Not JSON (e.g. /cacerts); hand back the text.
            }
            const code = res.statusCode ?? 0;
            if (code >= 200 && code < 300) resolve(parsed as T);
            else {
              const st = parsed as { message?: string; reason?: string } | undefined;
              reject(new KubeClientError(`${method} ${path}: ${code} ${st?.message ?? text}`, code, st?.reason, url));
            }
          });
        },
      );
      req.on('error', (e) => reject(new KubeClientError(`${method} ${path}: ${e.message}`, 0, undefined, url)));
      req.end(data);
    });
  }

  /**
   * Watches `path` (a list path whose query asks for `watch=1`, ideally with `timeoutSeconds`): calls `onEvent` for
   * every event line until the server ends the stream or `signal` fires (then it resolves). A non-200 answer, an
   * `ERROR` event, a line that is not JSON, a broken connection or `idleMs` without a byte reject with
   * {@link KubeClientError}.
   */
  watch(path: string, onEvent: (ev: { type: string; object: unknown }) => void, signal: AbortSignal, idleMs: number): Promise<void> {
    const url = this.opts.baseUrl + path;
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const fail = (message: string, code = 0): void => {
        if (settled) return;
        settled = true;
        reject(new KubeClientError(`WATCH ${path}: ${message}`, code, undefined, url));
        req.destroy();
      };
      const end = (): void => {
        if (settled) return;
        settled = true;
        resolve();
      };
      const req = https.request(url, { method: 'GET', agent: this.agent, signal, headers: { Authorization: this.opts.authorization, Accept: 'application/json' } }, (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          fail(`HTTP ${String(res.statusCode)}`, res.statusCode ?? 0);
          return;
        }
        let buffered = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buffered += chunk;
          for (let nl = buffered.indexOf('\n'); nl >= 0 && !settled; nl = buffered.indexOf('\n')) {
            const line = buffered.slice(0, nl).trim();
            buffered = buffered.slice(nl + 1);
            if (!line) continue;
            let ev: { type: string; object: unknown };
            try {
              ev = JSON.parse(line) as { type: string; object: unknown };
            } catch {
              fail(`not a watch event: ${line.slice(0, 80)}`);
              return;
            }
            if (ev.type === 'ERROR') fail((ev.object as { message?: string } | undefined)?.message ?? 'error event');
            else onEvent(ev);
          }
        });
        res.on('end', end);
        res.on('error', (e) => (signal.aborted ? end() : fail(e.message)));
      });
      req.setTimeout(idleMs, () => fail(`no data for ${Math.round(idleMs / 1000)} s`));
      req.on('error', (e) => (signal.aborted ? end() : fail(e.message)));
      req.end();
    });
  }

  /** Releases pooled connections. */
  close(): void {
    this.agent.destroy();
  }
}

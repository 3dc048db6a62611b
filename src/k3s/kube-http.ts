/**
 * JSON over HTTPS against one Kubernetes API server: the transport of the agent's {@link ../kube.ts KubeClient}
 * and of the stand-in's own calls (its kubelet emulation, which like a real kubelet talks to a server's API and
 * never to etcd, and its join request). Errors carry the HTTP status, the `Status` reason and, when there was no
 * answer, the socket error as `cause`.
 *
 * Why not @kubernetes/client-node here: loading it costs ~80 MB of RSS per process (its serializer pulls in every
 * model of the API) and about a second of CPU, more than the whole agent's memory budget, for the 18 plain REST
 * calls the agent makes. Its types are still the ones used for the objects.
 */
import http from 'node:http';
import https from 'node:https';
import type { Clock } from '../common/index.js';

/** An API call that answered with a non-2xx status, or did not answer. */
export class KubeHttpError extends Error {
  override readonly name = 'KubeHttpError';
  constructor(
    message: string,
    /** HTTP status, 0 when there was no answer. */
    readonly code: number,
    /** `Status.reason` when the body was a Status. */
    readonly reason: string | undefined,
    readonly url: string,
    cause?: unknown,
  ) {
    super(message, cause === undefined ? undefined : { cause });
  }
}

/** Whether a request failed because its deadline fired (not the caller's abort, not an answer). */
export function isDeadlineError(e: unknown): boolean {
  let c: unknown = e;
  for (let i = 0; i < 3 && c instanceof Error; i++, c = c.cause) if (c.name === 'TimeoutError') return true;
  return false;
}

/** Type guard for {@link KubeHttpError}. */
export function isKubeHttpError(e: unknown): e is KubeHttpError {
  return e instanceof KubeHttpError;
}

/** One request as a {@link KubeTransport} carries it: JSON text, as on the wire. */
export interface KubeTransportRequest {
  method: string;
  /** Path and query. */
  path: string;
  headers: Record<string, string>;
  body?: string;
  /**
   * The caller's cancel and the request's deadline. Over a transport it is made when first read (a getter): an
   * answer from memory needs no timer, only a request that waits (a frozen endpoint) does.
   */
  readonly signal: AbortSignal;
}

/**
 * An answer over a {@link KubeTransport}: the body text, or (from memory) the JSON value itself — a fresh object
 * that no one else holds, so the caller owns it as it would own a parsed copy (no JSON text round trip).
 */
export type KubeTransportAnswer = { status: number; body: string } | { status: number; value: unknown };

/**
 * Carries requests to an API server in this process instead of over HTTP(S) (the in-process clusters of a fleet).
 * Request bodies stay JSON text (the caller keeps its objects); answers are text or fresh values, so objects are
 * copies either way, as over the wire.
 */
export interface KubeTransport {
  /** Resolves with the status and body; rejects with an Error whose `code` is e.g. 'ECONNREFUSED' when nothing answers. */
  request(req: KubeTransportRequest): Promise<KubeTransportAnswer>;
  /**
   * Streams a watch: `onData` gets the body text as it comes. Resolves with the status: at once when it is not 200,
   * else when the server ends the stream or the signal fires. Rejects like {@link request} when nothing answers.
   */
  watch(req: KubeTransportRequest, onData: (text: string) => void): Promise<number>;
}

/** Options of {@link KubeHttpClient}. */
export interface KubeHttpClientOptions {
  /** `https://<ip>:<port>` */
  baseUrl: string;
  /** CA to verify the server with; without it the server is not verified (join before the CA is known). */
  caPem?: string;
  /** Client certificate and key (k3s's own kubeconfig authenticates so), PEM. */
  certPem?: string;
  keyPem?: string;
  /** `Authorization` header value (a bearer token), when the credential is not a client certificate. */
  authorization?: string;
  /** Per-request timeout, spec ms. @default 10000 */
  timeoutMs?: number;
  /** Shortest real per-request timeout, whatever the time scale (the server answers in real time). @default 2000 */
  minRealTimeoutMs?: number;
  clock: Clock;
  /**
   * Applied to every parsed answer (the agent turns timestamps into Dates, as client-node's types say). A walk after
   * JSON.parse, not a JSON.parse reviver: V8 calls a reviver for every value, ~2.5× the parse.
   */
  revive?: (parsed: unknown) => unknown;
  /** JSON.stringify replacer for bodies. */
  replacer?: (this: unknown, key: string, value: unknown) => unknown;
  /** Carries the requests instead of HTTP(S) (`baseUrl` then only names the server in errors). */
  transport?: KubeTransport;
}

/** JSON over HTTPS against one API server. */
export class KubeHttpClient {
  private readonly agent: http.Agent;
  private readonly transport: typeof http | typeof https;
  private readonly auth: Record<string, string>;
  constructor(private readonly opts: KubeHttpClientOptions) {
    this.auth = opts.authorization ? { Authorization: opts.authorization } : {};
    const plain = opts.baseUrl.startsWith('http:');
    this.transport = plain ? http : https;
    this.agent = plain ? new http.Agent({ keepAlive: true, maxSockets: 4 }) : new https.Agent({
      keepAlive: true,
      maxSockets: 4,
      ...(opts.caPem ? { ca: opts.caPem } : { rejectUnauthorized: false }),
      ...(opts.certPem && opts.keyPem ? { cert: opts.certPem, key: opts.keyPem } : {}),
    });
  }

  /**
   * Sends one request and returns the parsed JSON body; non-2xx answers throw {@link KubeHttpError}. `deadlineMs`
   * (real ms) replaces the client's timeout for this request; when it fires, the error's `cause` is the
   * TimeoutError (see {@link isDeadlineError}).
   */
  async request<T = unknown>(method: string, path: string, body?: unknown, contentType = 'application/json', signal?: AbortSignal, deadlineMs?: number): Promise<T> {
    const url = this.opts.baseUrl + path;
    const text = body === undefined ? undefined : JSON.stringify(body, this.opts.replacer);
    // Held here while the request runs: Node 20's AbortSignal.any keeps its sources only weakly, so a timeout
    // signal nothing else refers to can be collected before it fires, and a request to a frozen server then waits
    // forever (test/unit/inproc/endpoint-deadline.test.ts).
    let timeout: AbortSignal | undefined;
    const deadline = (): AbortSignal => {
      timeout = AbortSignal.timeout(deadlineMs ?? Math.max(this.opts.minRealTimeoutMs ?? 2_000, this.opts.clock.scaled(this.opts.timeoutMs ?? 10_000)));
      return signal ? AbortSignal.any([signal, timeout]) : timeout;
    };
    if (this.opts.transport) return this.viaTransport<T>(this.opts.transport, method, path, text, contentType, signal, deadline);
    const data = text === undefined ? undefined : Buffer.from(text);
    const sig = deadline();
    return new Promise<T>((resolve, reject) => {
      const req = this.transport.request(
        url,
        {
          method,
          agent: this.agent,
          signal: sig,
          headers: {
            ...this.auth,
            Accept: 'application/json',
            ...(data ? { 'Content-Type': contentType, 'Content-Length': data.length } : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', (e) => reject(new KubeHttpError(e.message, 0, undefined, url, e)));
          res.on('end', () => {
            try {
              resolve(this.answer<T>(method, path, res.statusCode ?? 0, Buffer.concat(chunks).toString('utf8')));
            } catch (e) {
              reject(e instanceof Error ? e : new Error(String(e)));
            }
          });
        },
      );
      req.on('error', (e) => reject(new KubeHttpError(`${method} ${path}: ${e.message}`, 0, undefined, url, e)));
      req.end(data);
    });
  }

  private async viaTransport<T>(
    t: KubeTransport,
    method: string,
    path: string,
    data: string | undefined,
    contentType: string,
    signal: AbortSignal | undefined,
    deadline: () => AbortSignal,
  ): Promise<T> {
    const headers: Record<string, string> = { ...this.auth, Accept: 'application/json', ...(data !== undefined ? { 'Content-Type': contentType } : {}) };
    let res: KubeTransportAnswer;
    try {
      signal?.throwIfAborted();
      let sig: AbortSignal | undefined;
      const req: KubeTransportRequest = {
        method,
        path,
        headers,
        ...(data !== undefined ? { body: data } : {}),
        get signal() {
          return (sig ??= deadline());
        },
      };
      res = await t.request(req);
    } catch (e) {
      throw new KubeHttpError(`${method} ${path}: ${(e as Error).message}`, 0, undefined, this.opts.baseUrl + path, e);
    }
    return 'value' in res ? this.settle<T>(method, path, res.status, res.value, undefined) : this.answer<T>(method, path, res.status, res.body);
  }

  /** The parsed body of a 2xx answer; else the {@link KubeHttpError} it is. */
  private answer<T>(method: string, path: string, code: number, text: string): T {
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // Not JSON (e.g. /cacerts); hand back the text.
    }
    return this.settle<T>(method, path, code, parsed, text);
  }

  /** A 2xx answer's body (revived); else the {@link KubeHttpError} it is. */
  private settle<T>(method: string, path: string, code: number, parsed: unknown, text: string | undefined): T {
    if (code >= 200 && code < 300) return (this.opts.revive && parsed !== null && typeof parsed === 'object' ? this.opts.revive(parsed) : parsed) as T;
    const st = parsed as { message?: string; reason?: string } | undefined;
    throw new KubeHttpError(`${method} ${path}: ${code} ${st?.message ?? text ?? JSON.stringify(parsed)}`, code, st?.reason, this.opts.baseUrl + path);
  }

  /**
   * Watches `path` (a list path whose query asks for `watch=1`, ideally with `timeoutSeconds`): calls `onEvent` for
   * every event line until the server ends the stream or `signal` fires (then it resolves). A non-200 answer, an
   * `ERROR` event, a line that is not JSON, a broken connection or `idleMs` without a byte reject with
   * {@link KubeHttpError}.
   */
  watch(path: string, onEvent: (ev: { type: string; object: unknown }) => void, signal: AbortSignal, idleMs: number): Promise<void> {
    const url = this.opts.baseUrl + path;
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      // The HTTP request, once made (fail() ends it).
      const conn: { req?: http.ClientRequest } = {};
      let buffered = '';
      const onText = (chunk: string): void => {
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
      };
      const fail = (message: string, code = 0): void => {
        if (settled) return;
        settled = true;
        reject(new KubeHttpError(`WATCH ${path}: ${message}`, code, undefined, url));
        conn.req?.destroy();
      };
      const end = (): void => {
        if (settled) return;
        settled = true;
        resolve();
      };
      const t = this.opts.transport;
      if (t) {
        // In memory nothing is partitioned silently (a killed member ends its watches), so no idle timer.
        const inner = new AbortController();
        const stop = (): void => inner.abort();
        signal.addEventListener('abort', stop, { once: true });
        if (signal.aborted) inner.abort();
        t.watch({ method: 'GET', path, headers: { ...this.auth, Accept: 'application/json' }, signal: inner.signal }, onText).then(
          (code) => (code === 200 ? end() : fail(`HTTP ${String(code)}`, code)),
          (e: unknown) => (signal.aborted ? end() : fail((e as Error).message)),
        ).finally(() => {
          inner.abort();
          signal.removeEventListener('abort', stop);
        });
        return;
      }
      const req = this.transport.request(url, { method: 'GET', agent: this.agent, signal, headers: { ...this.auth, Accept: 'application/json' } }, (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          fail(`HTTP ${String(res.statusCode)}`, res.statusCode ?? 0);
          return;
        }
        res.setEncoding('utf8');
        res.on('data', onText);
        res.on('end', end);
        res.on('error', (e) => (signal.aborted ? end() : fail(e.message)));
      });
      conn.req = req;
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

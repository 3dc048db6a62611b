/**
 * A server node's API port in memory: requests go straight into the node's {@link ApiRouter} (the stand-in's
 * request handling, the same code its HTTPS server runs), the request body as JSON text, the answer as the router's
 * own fresh value (no text round trip: the router hands out objects nobody else holds). While the node is down the
 * endpoint refuses, as a closed port does (ECONNREFUSED), and closing it ends the watches it serves.
 */
import type { KubeTransport, KubeTransportAnswer, KubeTransportRequest } from '../k3s/kube-http.js';
import type { ApiReply, ApiRouter } from '../k3s/standin/api-router.js';
import { ApiError } from '../k3s/standin/errors.js';

/** A connection error as a socket reports it (`code` is what the clients branch on). */
export function connectError(code: 'ECONNREFUSED' | 'EHOSTUNREACH', where: string): Error {
  return Object.assign(new Error(`connect ${code} ${where}`), { code });
}

function parseBody(text: string | undefined): Promise<unknown> {
  if (text === undefined || text === '') return Promise.resolve(undefined);
  try {
    return Promise.resolve(JSON.parse(text) as unknown);
  } catch {
    return Promise.reject(new ApiError('BadRequest', 'the request body is not valid JSON'));
  }
}

/** The API port of one server node. */
export class InprocEndpoint {
  private open = false;
  private readonly watches = new Set<AbortController>();
  /** While frozen: resolves at the thaw (or close). */
  private gate: { promise: Promise<void>; release: () => void } | undefined;

  constructor(
    private readonly router: ApiRouter,
    /** `ip:6443`, for error messages. */
    readonly address: string,
  ) {}

  /** Starts answering. */
  listen(): void {
    this.open = true;
  }

  /** Refuses from now on and ends the open watches (a killed or stopped server). Idempotent. */
  close(): void {
    this.open = false;
    this.endWatches();
    this.freeze(false);
  }

  /**
   * A frozen server (SIGSTOP) answers nothing: requests wait until the thaw or their own deadline, and its open
   * watches go quiet (they are ended; the clients' new ones wait too).
   */
  freeze(frozen: boolean): void {
    if (frozen && !this.gate) {
      let release = (): void => undefined;
      const promise = new Promise<void>((resolve) => (release = resolve));
      this.gate = { promise, release };
      this.endWatches();
    } else if (!frozen && this.gate) {
      this.gate.release();
      this.gate = undefined;
    }
  }

  private endWatches(): void {
    for (const w of this.watches) w.abort();
    this.watches.clear();
  }

  /** Waits while the endpoint is frozen (the request's signal, and so its deadline timer, is read only then). */
  private async thawed(req: KubeTransportRequest): Promise<void> {
    while (this.gate) {
      const signal = req.signal;
      const gate = this.gate.promise;
      await new Promise<void>((resolve, reject) => {
        const onAbort = (): void => reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
        if (signal.aborted) return onAbort();
        signal.addEventListener('abort', onAbort, { once: true });
        void gate.then(() => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        });
      });
    }
  }

  get listening(): boolean {
    return this.open;
  }

  private async reply(req: KubeTransportRequest): Promise<ApiReply> {
    if (!this.open) throw connectError('ECONNREFUSED', this.address);
    await this.thawed(req);
    if (!this.open) throw Object.assign(new Error(`read ECONNRESET ${this.address}`), { code: 'ECONNRESET' });
    return this.router.handle({
      method: req.method,
      url: req.path,
      authorization: req.headers.Authorization,
      accept: req.headers.Accept,
      contentType: req.headers['Content-Type'],
      body: () => parseBody(req.body),
      remote: 'inproc',
    });
  }

  /** One request. */
  async request(req: KubeTransportRequest): Promise<KubeTransportAnswer> {
    const r = await this.reply(req);
    if (r.kind === 'json') return { status: r.code, value: r.body };
    if (r.kind === 'text') return { status: r.code, body: r.text };
    return { status: 400, value: new ApiError('BadRequest', 'a watch needs a streaming client').status() };
  }

  /** One watch, streamed until it ends, the client aborts or the endpoint closes. */
  async watch(req: KubeTransportRequest, onData: (text: string) => void): Promise<number> {
    const r = await this.reply(req);
    if (r.kind !== 'watch') {
      if (r.kind === 'json' && r.code === 200) return 400;
      return r.code;
    }
    const ac = new AbortController();
    const stop = (): void => ac.abort();
    req.signal.addEventListener('abort', stop, { once: true });
    if (req.signal.aborted) ac.abort();
    this.watches.add(ac);
    try {
      await r.run(onData, ac.signal);
    } finally {
      this.watches.delete(ac);
      req.signal.removeEventListener('abort', stop);
    }
    return 200;
  }
}

/** A transport to whatever endpoint `resolve` names at the time of each request (none: refused). */
export function endpointTransport(resolve: () => InprocEndpoint | undefined, where: string): KubeTransport {
  const pick = (): InprocEndpoint => {
    const e = resolve();
    if (!e) throw connectError('ECONNREFUSED', where);
    return e;
  };
  return {
    request: async (req) => pick().request(req),
    watch: async (req, onData) => pick().watch(req, onData),
  };
}

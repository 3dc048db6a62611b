/**
 * HTTPS transport of the EVE API v2 (eve-api.md §1, §4): URL building, headers, TLS trust, content-type rules.
 * It moves bytes only; signing and verification live in src/eve, decisions in the callers.
 * Source: lf-edge/eve: pkg/pillar/controllerconn/send.go (URLPathString, SendOnIntf), tls.go.
 */
import type http from 'node:http';
import https from 'node:https';
import tls from 'node:tls';
import { randomUUID } from 'node:crypto';

/** Result of one exchange with the controller: any HTTP answer, including error statuses. */
export interface ControllerResponse {
  status: number;
  body: Buffer;
  contentType: string | undefined;
  /** Round-trip time in ms. */
  elapsedMs: number;
}

/** The request never got an HTTP answer (connection refused, TLS failure, timeout, abort). */
export class ControllerUnreachableError extends Error {
  override readonly name = 'ControllerUnreachableError';
  constructor(
    readonly url: string,
    readonly reason: string,
    /** The request's deadline passed (a frozen or overloaded controller, a black-holed network). */
    readonly timedOut = false,
  ) {
    super(`controller unreachable: ${url}: ${reason}`);
  }
}

/** Faults the admin API can inject into the transport (see the operability issue). */
export interface TransportFaults {
  /** Fail every request as if the network were down. */
  unreachable?: boolean;
  /** Answer every request with this 5xx status without sending it. */
  status5xx?: number;
  /** Delay every request by this many ms before sending. */
  delayMs?: number;
}

export interface ControllerClientOptions {
  /** `host[:port]` from the config folder's `server` file. */
  server: string;
  /** Trusted roots (the config folder's root-certificate.pem), added to the system pool as EVE does. */
  rootCertPem: Buffer;
  /**
   * Deadline of one request in ms, from the call to the last byte of the answer: waiting for a pooled connection,
   * connecting, TLS, sending and the answer all count (EVE `timer.send.timeout` 120 s). @default 120000
   */
  timeoutMs?: number;
  /** Returns the active faults, consulted on every request. */
  faults?: () => TransportFaults;
  /** Waits `ms` (through the Clock) for the delay fault. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /**
   * Most requests in flight at once (connections of the keep-alive pool); further requests wait for a free one.
   * @default 4
   */
  maxInFlight?: number;
  /**
   * Arms a one-shot timer of `ms` real milliseconds and returns its cancel function: every request's deadline is one.
   * A fleet passes its scheduler clock's (one heap for all deadlines); the default is an unref'd setTimeout.
   */
  deadlineTimer?: (ms: number, fire: () => void) => () => void;
}

/** An unref'd setTimeout: a pending deadline keeps nothing alive. */
function processTimer(ms: number, fire: () => void): () => void {
  const t = setTimeout(fire, ms);
  t.unref();
  return () => clearTimeout(t);
}

/** Per-request options. */
export interface RequestOptions {
  onboarding?: OnboardingHeaders;
  signal?: AbortSignal;
  /** This request's sender's faults (a fleet shares one client among devices with their own faults). */
  faults?: TransportFaults;
}

/** Headers sent only while the device has no UUID (onboarding), eve-api.md §1. */
export interface OnboardingHeaders {
  serial: string;
  softSerial: string;
}

/**
 * One controller endpoint set with its HTTPS keep-alive pool: at most `maxInFlight` connections, reused across
 * requests (and across devices when a fleet shares the client). EVE itself opens a connection per request; the
 * controller cannot tell the difference, and a fleet of thousands could not afford a TLS handshake per request.
 */
export class ControllerClient {
  /** Built once: parsing the system pool's ~140 roots for every request would cost more than the request. */
  private readonly secureContext: tls.SecureContext;
  private readonly timeoutMs: number;
  private readonly faults: () => TransportFaults;
  private readonly pool: https.Agent;
  private readonly deadlineTimer: (ms: number, fire: () => void) => () => void;

  constructor(private readonly opts: ControllerClientOptions) {
    this.secureContext = tls.createSecureContext({
      ca: [...tls.rootCertificates, opts.rootCertPem.toString('utf8')],
      minVersion: 'TLSv1.2',
    });
    this.timeoutMs = opts.timeoutMs ?? 120_000;
    this.faults = opts.faults ?? (() => ({}));
    this.deadlineTimer = opts.deadlineTimer ?? processTimer;
    const maxInFlight = opts.maxInFlight ?? 4;
    if (!(Number.isInteger(maxInFlight) && maxInFlight > 0)) throw new RangeError('maxInFlight must be a positive integer');
    this.pool = new https.Agent({ keepAlive: true, maxSockets: maxInFlight, maxFreeSockets: maxInFlight, scheduling: 'lifo' });
  }

  /** Closes the pool's idle connections (requests in flight finish). */
  close(): void {
    this.pool.destroy();
  }

  /** `https://<server>/api/v2/edgedevice/[id/<uuid>/]<action>` (URLPathString). */
  url(action: string, deviceUuid?: string): string {
    const base = `https://${this.opts.server}/api/v2/edgedevice/`;
    return deviceUuid && deviceUuid !== '00000000-0000-0000-0000-000000000000'
      ? `${base}id/${deviceUuid}/${action}`
      : `${base}${action}`;
  }

  /**
   * GET when there is no body, POST otherwise (send.go). POST bodies are AuthContainers with
   * Content-Type application/x-proto-binary.
   */
  async request(url: string, body: Uint8Array | undefined, opts: RequestOptions = {}): Promise<ControllerResponse> {
    const faults = opts.faults ?? this.faults();
    if (faults.delayMs && this.opts.sleep) await this.opts.sleep(faults.delayMs, opts.signal);
    if (faults.unreachable) throw new ControllerUnreachableError(url, 'injected fault: controller unreachable');
    if (faults.status5xx) {
      return { status: faults.status5xx, body: Buffer.alloc(0), contentType: undefined, elapsedMs: 0 };
    }
    if (opts.signal?.aborted) throw abortErrorOf(opts.signal);
    const headers: Record<string, string> = { 'X-Request-Id': randomUUID() };
    if (body) headers['Content-Type'] = 'application/x-proto-binary';
    if (opts.onboarding) {
      if (opts.onboarding.serial) headers['X-Serial-Number'] = opts.onboarding.serial;
      if (opts.onboarding.softSerial) headers['X-Soft-Serial'] = opts.onboarding.softSerial;
    }
    // One deadline for the whole request, the queue for a pooled connection and the stale-connection retry included.
    // A plain timer and one listener on the caller's signal, not AbortSignal.timeout/any: at thousands of requests
    // per second those cost ~28 µs each and keep every request's signal reachable from the caller's long-lived one.
    const call: Call = { req: undefined, ended: undefined };
    const end = (err: Error): void => {
      call.ended ??= err;
      call.req?.destroy(call.ended);
    };
    const cancelDeadline = this.deadlineTimer(this.timeoutMs, () =>
      end(new ControllerUnreachableError(url, `no answer within ${this.timeoutMs} ms`, true)),
    );
    const signal = opts.signal;
    const onAbort = signal ? (): void => end(abortErrorOf(signal)) : undefined;
    if (signal && onAbort) signal.addEventListener('abort', onAbort, { once: true });
    const buf = body ? Buffer.from(body.buffer, body.byteOffset, body.byteLength) : undefined;
    try {
      try {
        return await this.exchange(url, buf, headers, call);
      } catch (e) {
        // A pooled connection the server closed while idle fails at once with ECONNRESET. Its idle siblings are as old
        // (a burst after a busy stretch finds them all closed): drop them, and retry once on a fresh connection.
        if (!(e instanceof StaleConnectionError) || call.ended) throw e;
        this.dropIdleConnections();
        return await this.exchange(url, buf, headers, call, true);
      }
    } finally {
      cancelDeadline();
      if (signal && onAbort) signal.removeEventListener('abort', onAbort);
    }
  }

  /** Closes the pool's idle connections (the ones in use finish their request). */
  private dropIdleConnections(): void {
    for (const sockets of Object.values(this.pool.freeSockets)) for (const s of sockets ?? []) s.destroy();
  }

  private exchange(url: string, body: Buffer | undefined, headers: Record<string, string>, call: Call, retried = false): Promise<ControllerResponse> {
    const started = performance.now();
    return new Promise<ControllerResponse>((resolve, reject) => {
      if (call.ended) return reject(call.ended);
      const fail = (e: Error): void => reject(call.ended ?? e);
      const req = https.request(
        url,
        {
          method: body ? 'POST' : 'GET',
          headers,
          // tls.connect takes the prebuilt context; https.RequestOptions' type omits it.
          ...({ secureContext: this.secureContext } satisfies tls.ConnectionOptions),
          agent: this.pool,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', (e) => fail(new ControllerUnreachableError(url, e.message)));
          // Destroyed mid-answer (the deadline, an abort, a reset): no 'end', and not always an 'error'.
          res.on('close', () => {
            if (!res.complete) fail(new ControllerUnreachableError(url, 'connection closed before the end of the answer'));
          });
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              body: chunks.length === 1 ? chunks[0] : Buffer.concat(chunks),
              contentType: res.headers['content-type'],
              elapsedMs: performance.now() - started,
            }),
          );
        },
      );
      call.req = req;
      req.on('error', (e) => {
        const stale = !retried && !call.ended && req.reusedSocket && (e as NodeJS.ErrnoException).code === 'ECONNRESET';
        fail(stale ? new StaleConnectionError() : new ControllerUnreachableError(url, e.message));
      });
      req.end(body);
    });
  }
}

/** The request in progress of one call (the retry replaces it) and, once the deadline or an abort ended it, why. */
interface Call {
  req: http.ClientRequest | undefined;
  ended: Error | undefined;
}

/** The signal's reason when it is an Error, else a plain AbortError. */
function abortErrorOf(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new DOMException('The operation was aborted', 'AbortError');
}

/** A reused keep-alive connection was found closed by the server (retried once, never surfaces). */
class StaleConnectionError extends Error {}

/**
 * A non-empty body must be application/x-proto-binary (ValidateProtoContentType); returns a reason or undefined.
 */
export function protoContentTypeProblem(res: ControllerResponse): string | undefined {
  if (res.body.length === 0) return undefined;
  const ct = (res.contentType ?? '').split(';')[0].trim();
  return ct === 'application/x-proto-binary' ? undefined : `unexpected Content-Type "${ct || '(none)'}"`;
}

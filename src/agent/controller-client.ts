/**
 * HTTPS transport of the EVE API v2 (eve-api.md §1, §4): URL building, headers, TLS trust, content-type rules.
 * It moves bytes only; signing and verification live in src/eve, decisions in the callers.
 * Source: lf-edge/eve: pkg/pillar/controllerconn/send.go (URLPathString, SendOnIntf), tls.go.
 */
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

  constructor(private readonly opts: ControllerClientOptions) {
    this.secureContext = tls.createSecureContext({
      ca: [...tls.rootCertificates, opts.rootCertPem.toString('utf8')],
      minVersion: 'TLSv1.2',
    });
    this.timeoutMs = opts.timeoutMs ?? 120_000;
    this.faults = opts.faults ?? (() => ({}));
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
    // One deadline for the whole request, the queue for a pooled connection and the stale-connection retry included.
    const deadline = AbortSignal.timeout(this.timeoutMs);
    const signal = opts.signal ? AbortSignal.any([opts.signal, deadline]) : deadline;
    const headers: Record<string, string> = { 'X-Request-Id': randomUUID() };
    if (body) headers['Content-Type'] = 'application/x-proto-binary';
    if (opts.onboarding) {
      if (opts.onboarding.serial) headers['X-Serial-Number'] = opts.onboarding.serial;
      if (opts.onboarding.softSerial) headers['X-Soft-Serial'] = opts.onboarding.softSerial;
    }
    try {
      try {
        return await this.exchange(url, body, headers, signal);
      } catch (e) {
        // A pooled connection the server closed while idle fails at once with ECONNRESET: retry once on a new one.
        if (!(e instanceof StaleConnectionError)) throw e;
        return await this.exchange(url, body, headers, signal, true);
      }
    } catch (e) {
      if (deadline.aborted && !opts.signal?.aborted) {
        throw new ControllerUnreachableError(url, `no answer within ${this.timeoutMs} ms`, true);
      }
      throw e;
    }
  }

  private exchange(
    url: string,
    body: Uint8Array | undefined,
    headers: Record<string, string>,
    signal: AbortSignal | undefined,
    retried = false,
  ): Promise<ControllerResponse> {
    const started = performance.now();
    return new Promise<ControllerResponse>((resolve, reject) => {
      const req = https.request(
        url,
        {
          method: body ? 'POST' : 'GET',
          headers,
          // tls.connect takes the prebuilt context; https.RequestOptions' type omits it.
          ...({ secureContext: this.secureContext } satisfies tls.ConnectionOptions),
          agent: this.pool,
          ...(signal ? { signal } : {}),
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', (e) => reject(new ControllerUnreachableError(url, e.message)));
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              body: Buffer.concat(chunks),
              contentType: res.headers['content-type'],
              elapsedMs: performance.now() - started,
            }),
          );
        },
      );
      req.on('error', (e) => {
        const stale = !retried && req.reusedSocket && (e as NodeJS.ErrnoException).code === 'ECONNRESET';
        reject(stale ? new StaleConnectionError() : new ControllerUnreachableError(url, e.message));
      });
      req.end(body ? Buffer.from(body) : undefined);
    });
  }
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

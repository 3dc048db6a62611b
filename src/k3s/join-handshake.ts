/**
 * A joining node's wait for the bootstrap server before its first cluster start (cluster.md §5.3;
 * lf-edge/eve: pkg/kube/kube-init/k3s/config.go `waitForBootstrapServer`). Each round probes
 * `https://<join>:6443` (any answer counts, TLS unverified: the cluster CA is what the join will fetch) and then
 * `http://<join>:12346/status`, which must answer 2xx with the trimmed body `cluster:<own cluster_id>`.
 * The first round runs at once, then one every 10 s; every request has a 2 s timeout.
 */
import type { LookupFunction } from 'node:net';
import { errorMessage, type Clock, type Logger } from '../common/index.js';
import { K3S_API_PORT } from './drop-ins.js';
import { httpRequest } from './http-request.js';
import { CLUSTER_STATUS_PORT } from './status-server.js';

/** Rounds are this far apart (`joinPollInterval`). */
export const JOIN_PROBE_INTERVAL_MS = 10_000;
/** Timeout of each probe request (`joinHTTPClientTimeout`). */
export const JOIN_PROBE_TIMEOUT_MS = 2_000;
/** Consecutive non-transient failures that end the wait (`nonTransientThreshold`). */
export const JOIN_NON_TRANSIENT_LIMIT = 6;
/** Rounds between info-level progress lines (`logEveryNAttempts(…, 30, …)`); the others log at debug. */
const LOG_EVERY = 30;

/** What one round found. `ready` ends the wait. */
export type JoinProbeOutcome =
  | 'ready'
  | 'api-unreachable' // probe 1 failed
  | 'status-unreachable' // probe 2 failed or answered non-2xx
  | 'not-clustered' // empty body or no `cluster:` prefix: the bootstrap is still single-node
  | 'wrong-cluster'; // `cluster:<other id>`

/** Reported after every round through {@link JoinHandshakeOptions.onProbe}. */
export interface JoinProbeReport {
  attempt: number;
  outcome: JoinProbeOutcome;
  /** Error text, status code or body seen (never a secret: the probes carry no credentials). */
  detail: string;
  /** Failure class of the error, when there was one. */
  errorClass?: JoinProbeErrorClass;
}

/** `transient` (connection refused, timeout, non-2xx…) or `non-transient` (DNS NXDOMAIN, x509 trust/name). */
export type JoinProbeErrorClass = 'transient' | 'non-transient';

/** Options of {@link waitForBootstrapServer}. */
export interface JoinHandshakeOptions {
  /** `join_server_ip` (an IP; a host name works too). */
  joinServerIp: string;
  /** This node's `cluster_id`; the bootstrap must answer `cluster:<it>`. */
  clusterId: string;
  /** @default 6443 */
  apiPort?: number;
  /** @default 12346 */
  statusPort?: number;
  /**
   * Whether this node still has its cluster status; checked before every round. When it turns false the wait
   * ends with `CLUSTER_STATUS_WITHDRAWN` (the controller removed the cluster). @default always true
   */
  clusterStatusPresent?: () => boolean;
  /** Called after each round (join watchdog progress, reporting). */
  onProbe?: (r: JoinProbeReport) => void;
  /** Name resolution for a host name (e.g. a namespace's resolver). @default system resolver */
  lookup?: LookupFunction;
  /** Spec ms between rounds. @default 10000 */
  intervalMs?: number;
  /**
   * Real ms per request. A network timeout, not a step of EVE's timeline, so --time-scale does not shorten it
   * (scaled, a loaded machine's TLS handshake would not fit). @default 2000
   */
  timeoutMs?: number;
  /** @default 6 */
  nonTransientLimit?: number;
  clock: Clock;
  logger: Logger;
  /** Ends the wait with the signal's AbortError. */
  signal?: AbortSignal;
}

/** Why the wait failed. */
export type JoinHandshakeErrorKind = 'BOOTSTRAP_UNREACHABLE' | 'CLUSTER_STATUS_WITHDRAWN';

/** `ErrBootstrapUnreachable` / `ErrClusterStatusWithdrawn`, with the join server and the attempt count. */
export class JoinHandshakeError extends Error {
  override readonly name = 'JoinHandshakeError';
  constructor(
    readonly kind: JoinHandshakeErrorKind,
    message: string,
    readonly context: { joinServerIp: string; attempts: number; lastError?: string },
  ) {
    super(message);
  }
}

/** Type guard for {@link JoinHandshakeError}, optionally of one kind. */
export function isJoinHandshakeError(e: unknown, kind?: JoinHandshakeErrorKind): e is JoinHandshakeError {
  return e instanceof JoinHandshakeError && (kind === undefined || e.kind === kind);
}

/** Node error codes for an unknown certificate authority (Go `x509.UnknownAuthorityError`). */
const UNKNOWN_AUTHORITY = new Set([
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
]);

/**
 * EVE's `classifyHTTPErr`: DNS "not found" and x509 unknown-authority / host-name errors are non-transient;
 * everything else (refused, reset, timeout, non-2xx) is transient — better over-retry than fail a slow bootstrap.
 */
export function classifyProbeError(e: unknown): JoinProbeErrorClass {
  let cur: unknown = e;
  for (let depth = 0; cur && depth < 4; depth++) {
    const code = (cur as { code?: unknown }).code;
    if (code === 'ENOTFOUND' || code === 'EAI_NONAME') return 'non-transient';
    if (typeof code === 'string' && (UNKNOWN_AUTHORITY.has(code) || code === 'ERR_TLS_CERT_ALTNAME_INVALID')) {
      return 'non-transient';
    }
    cur = (cur as { cause?: unknown }).cause;
  }
  return 'transient';
}

const hostPort = (host: string, port: number): string => (host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`);

function abortError(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new DOMException('The operation was aborted', 'AbortError');
}

/**
 * Waits until the bootstrap server answers both probes in one round with this cluster's id.
 * @returns the number of rounds it took
 * @throws JoinHandshakeError `BOOTSTRAP_UNREACHABLE` after 6 consecutive non-transient failures,
 *   `CLUSTER_STATUS_WITHDRAWN` when `clusterStatusPresent()` turns false; the signal's AbortError when aborted
 */
export async function waitForBootstrapServer(opts: JoinHandshakeOptions): Promise<{ attempts: number }> {
  const log = opts.logger.child({ component: 'k3s.join', joinServer: opts.joinServerIp });
  const clock = opts.clock;
  const intervalMs = opts.intervalMs ?? JOIN_PROBE_INTERVAL_MS;
  const limit = opts.nonTransientLimit ?? JOIN_NON_TRANSIENT_LIMIT;
  const timeoutMs = opts.timeoutMs ?? JOIN_PROBE_TIMEOUT_MS;
  const apiUrl = `https://${hostPort(opts.joinServerIp, opts.apiPort ?? K3S_API_PORT)}`;
  const statusUrl = `http://${hostPort(opts.joinServerIp, opts.statusPort ?? CLUSTER_STATUS_PORT)}/status`;
  const want = `cluster:${opts.clusterId.toLowerCase()}`;
  const req = { timeoutMs, signal: opts.signal, lookup: opts.lookup };
  let nonTransient = 0;
  let lastError: string | undefined;

  log.info('waiting for the bootstrap server', { apiUrl, statusUrl });
  const round = async (attempt: number): Promise<JoinProbeReport> => {
    const failed = (outcome: JoinProbeOutcome, e: unknown): JoinProbeReport => {
      if (opts.signal?.aborted) throw abortError(opts.signal);
      const errorClass = classifyProbeError(e);
      nonTransient = errorClass === 'non-transient' ? nonTransient + 1 : 0;
      lastError = errorMessage(e);
      return { attempt, outcome, detail: lastError, errorClass };
    };
    try {
      await httpRequest(apiUrl, { ...req, insecureTls: true });
    } catch (e) {
      return failed('api-unreachable', e);
    }
    let body: string;
    try {
      const r = await httpRequest(statusUrl, req);
      if (r.status < 200 || r.status > 299) throw new Error(`status endpoint returned HTTP ${r.status}`);
      body = r.body.trim();
    } catch (e) {
      return failed('status-unreachable', e);
    }
    nonTransient = 0;
    if (!body.startsWith('cluster:')) return { attempt, outcome: 'not-clustered', detail: body };
    if (body.toLowerCase() !== want) return { attempt, outcome: 'wrong-cluster', detail: body };
    return { attempt, outcome: 'ready', detail: body };
  };

  for (let attempt = 1; ; attempt++) {
    if (opts.signal?.aborted) throw abortError(opts.signal);
    if (opts.clusterStatusPresent && !opts.clusterStatusPresent()) {
      throw new JoinHandshakeError('CLUSTER_STATUS_WITHDRAWN', 'cluster status withdrawn during the join wait', {
        joinServerIp: opts.joinServerIp,
        attempts: attempt - 1,
      });
    }
    const startedAt = clock.monotonic();
    const r = await round(attempt);
    opts.onProbe?.(r);
    if (r.outcome === 'ready') {
      log.info('bootstrap server ready with matching cluster id', { attempts: attempt });
      return { attempts: attempt };
    }
    const fields = { attempt, outcome: r.outcome, detail: r.detail, ...(r.errorClass ? { errorClass: r.errorClass } : {}) };
    if (attempt % LOG_EVERY === 1) log.info('bootstrap server not ready', fields);
    else log.debug('bootstrap server not ready', fields);
    if (nonTransient >= limit) {
      throw new JoinHandshakeError(
        'BOOTSTRAP_UNREACHABLE',
        `bootstrap server ${opts.joinServerIp} unreachable after ${nonTransient} consecutive non-transient probe errors: ${lastError}`,
        { joinServerIp: opts.joinServerIp, attempts: attempt, ...(lastError ? { lastError } : {}) },
      );
    }
    // Ticker cadence: the next round starts one interval after this one started, not after it ended.
    const spentSpecMs = clock.specMs(clock.monotonic() - startedAt);
    await clock.sleep(Math.max(0, intervalMs - spentSpecMs), opts.signal);
  }
}

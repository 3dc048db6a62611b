/**
 * Joining a cluster, k3s style. The joiner POSTs to `https://<server>:6443/v1-k3s/join` with basic auth
 * `server:<token>` (agents: `node:<token>`); the server checks the token, adds a joining server as an etcd
 * learner (etcd-membership.ts: one at a time, promoted once in sync) and answers with the cluster CA, the admin
 * credential and the etcd `initial-cluster`. The joiner then starts etcd with `initial-cluster-state=existing`.
 * A wrong token is a 401 and the joiner gives up at once; an unreachable server or a join the server cannot take
 * yet (another node joining, etcd not ready) is retried with a short backoff.
 */
import type { Clock, Logger } from '../../common/index.js';
import { errorMessage } from '../../common/index.js';
import { ApiError, StandinError } from './errors.js';
import { KubeHttpClient, isKubeHttpError, type KubeTransport } from '../kube-http.js';
import type { EtcdMembership } from './etcd-membership.js';
import type { KeyAndCert } from './tls.js';

/** What a joiner sends. */
export interface JoinRequest {
  name: string;
  role: 'server' | 'agent';
  /** etcd peer URL of a joining server. */
  peerUrl?: string;
}

/** What the join server answers. */
export interface JoinResponse {
  clusterId: string;
  ca: KeyAndCert;
  adminToken: string;
  /** `name=peerURL,...` including the joiner (servers only). */
  initialCluster?: string;
}

/** Shared secrets and identity of a cluster, kept in `<data-dir>/server/bootstrap.json` (0600). */
export interface BootstrapData {
  clusterId: string;
  ca: KeyAndCert;
  adminToken: string;
}

function isJoinRequest(b: unknown): b is JoinRequest {
  const r = b as Partial<JoinRequest> | undefined;
  return !!r && typeof r.name === 'string' && (r.role === 'server' || r.role === 'agent') && (r.peerUrl === undefined || typeof r.peerUrl === 'string');
}

/**
 * Server side of the join (the token is already checked): a joining server becomes an etcd learner (or finds
 * its learner from an earlier attempt), and every joiner gets the bootstrap data.
 */
export async function handleJoin(body: unknown, boot: BootstrapData, membership: EtcdMembership | undefined, log: Logger): Promise<JoinResponse> {
  if (!isJoinRequest(body)) throw new ApiError('BadRequest', 'join request needs {name, role: server|agent, peerUrl?}');
  const out: JoinResponse = { clusterId: boot.clusterId, ca: { ...boot.ca }, adminToken: boot.adminToken };
  const jlog = log.child({ component: 'k3s.standin.join' });
  jlog.info('join request', { node: body.name, role: body.role, ...(body.peerUrl !== undefined ? { peerUrl: body.peerUrl } : {}) });
  if (body.role === 'agent' || body.peerUrl === undefined || membership === undefined) {
    jlog.info('node joined', { node: body.name, role: body.role });
    return out;
  }
  out.initialCluster = await membership.join(body.name, body.peerUrl);
  return out;
}

/** Options of {@link requestJoin}. */
export interface JoinClientOptions {
  server: string;
  token: string;
  request: JoinRequest;
  /** Spec ms before the first retry, doubled per attempt up to {@link JOIN_RETRY_MAX_MS}. @default 250 */
  retryMs?: number;
  /** Carries the request to a server in this process (in-process clusters). @default HTTPS */
  transport?: KubeTransport;
  clock: Clock;
  logger: Logger;
  signal?: AbortSignal;
}

/** Spec ms cap of the join retry backoff. */
export const JOIN_RETRY_MAX_MS = 1_000;

/** Joins through `server`, retrying transient failures until `signal` aborts; a wrong token fails at once. */
export async function requestJoin(opts: JoinClientOptions): Promise<JoinResponse> {
  const user = opts.request.role === 'server' ? 'server' : 'node';
  const client = new KubeHttpClient({
    baseUrl: opts.server,
    authorization: `Basic ${Buffer.from(`${user}:${opts.token}`).toString('base64')}`,
    timeoutMs: 10_000,
    clock: opts.clock,
    ...(opts.transport ? { transport: opts.transport } : {}),
  });
  const log = opts.logger.child({ component: 'k3s.standin.join' });
  try {
    for (let attempt = 1; ; attempt++) {
      try {
        const res = await client.request<JoinResponse>('POST', '/v1-k3s/join', opts.request, 'application/json', opts.signal);
        log.info('joined cluster', { server: opts.server, clusterId: res.clusterId, attempt });
        return res;
      } catch (e) {
        if (isKubeHttpError(e) && e.code === 401) {
          throw new StandinError('join-refused', `join refused by ${opts.server}: the token does not match the cluster's token`, { server: opts.server });
        }
        if (isKubeHttpError(e) && e.code >= 400 && e.code < 500) {
          throw new StandinError('join-failed', `join rejected by ${opts.server}: ${e.message}`, { server: opts.server, code: e.code });
        }
        // Joiners start with the bootstrap (EVE nodes boot together): a refused connection is expected for a while.
        log[attempt % 10 === 1 ? 'info' : 'debug']('join server not ready, retrying', { server: opts.server, attempt, error: errorMessage(e) });
      }
      await opts.clock.sleep(Math.min(JOIN_RETRY_MAX_MS, (opts.retryMs ?? 250) * 2 ** (attempt - 1)), opts.signal);
    }
  } finally {
    client.close();
  }
}

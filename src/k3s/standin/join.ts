/**
 * Joining a cluster, k3s style. The joiner POSTs to `https://<server>:6443/v1-k3s/join` with basic auth
 * `server:<token>` (agents: `node:<token>`); the server checks the token, adds a joining server as an etcd
 * member (MemberAdd) and answers with the cluster CA, the admin credential and the etcd `initial-cluster`.
 * The joiner then starts etcd with `initial-cluster-state=existing`. A wrong token is a 401 and the joiner gives
 * up at once; an unreachable server or a refused MemberAdd (etcd allows one unstarted member at a time) is
 * retried.
 */
import type { Clock, Logger } from '../../common/index.js';
import { errorMessage } from '../../common/index.js';
import { ApiError, StandinError } from './errors.js';
import { KubeClient, isKubeClientError } from './kube-client.js';
import type { KubeStore } from './store.js';
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
 * Server side of the join (the token is already checked): adds the joiner as an etcd member unless a member
 * with its peer URL exists (a retried join), and returns the bootstrap data.
 */
export async function handleJoin(body: unknown, boot: BootstrapData, store: KubeStore | undefined, clock: Clock, log: Logger): Promise<JoinResponse> {
  if (!isJoinRequest(body)) throw new ApiError('BadRequest', 'join request needs {name, role: server|agent, peerUrl?}');
  const out: JoinResponse = { clusterId: boot.clusterId, ca: boot.ca, adminToken: boot.adminToken };
  if (body.role === 'agent' || body.peerUrl === undefined || store === undefined) {
    log.info('node joined', { node: body.name, role: body.role });
    return out;
  }
  const deadline = { deadline: clock.now() + 5_000 };
  try {
    let { members } = await store.client.cluster.memberList({ linearizable: true }, deadline);
    if (!members.some((m) => m.peerURLs.includes(body.peerUrl!))) {
      ({ members } = await store.client.cluster.memberAdd({ peerURLs: [body.peerUrl] }, deadline));
      log.info('etcd member added', { node: body.name, peerUrl: body.peerUrl });
    }
    out.initialCluster = members
      .map((m) => `${m.name || (m.peerURLs.includes(body.peerUrl!) ? body.name : '')}=${m.peerURLs[0]}`)
      .filter((s) => !s.startsWith('='))
      .join(',');
    return out;
  } catch (e) {
    throw new ApiError('ServiceUnavailable', `cannot add etcd member: ${errorMessage(e)}`);
  }
}

/** Options of {@link requestJoin}. */
export interface JoinClientOptions {
  server: string;
  token: string;
  request: JoinRequest;
  /** Spec ms between attempts. @default 2000 */
  retryMs?: number;
  clock: Clock;
  logger: Logger;
  signal?: AbortSignal;
}

/** Joins through `server`, retrying transient failures until `signal` aborts; a wrong token fails at once. */
export async function requestJoin(opts: JoinClientOptions): Promise<JoinResponse> {
  const user = opts.request.role === 'server' ? 'server' : 'node';
  const client = new KubeClient({
    baseUrl: opts.server,
    authorization: `Basic ${Buffer.from(`${user}:${opts.token}`).toString('base64')}`,
    timeoutMs: 10_000,
    clock: opts.clock,
  });
  const log = opts.logger.child({ component: 'k3s.standin.join' });
  try {
    for (let attempt = 1; ; attempt++) {
      try {
        const res = await client.request<JoinResponse>('POST', '/v1-k3s/join', opts.request, 'application/json', opts.signal);
        log.info('joined cluster', { server: opts.server, clusterId: res.clusterId, attempt });
        return res;
      } catch (e) {
        if (isKubeClientError(e) && e.code === 401) {
          throw new StandinError('join-refused', `join refused by ${opts.server}: the token does not match the cluster's token`, { server: opts.server });
        }
        if (isKubeClientError(e) && e.code >= 400 && e.code < 500) {
          throw new StandinError('join-failed', `join rejected by ${opts.server}: ${e.message}`, { server: opts.server, code: e.code });
        }
        log.info('join server not ready, retrying', { server: opts.server, attempt, error: errorMessage(e) });
      }
      await opts.clock.sleep(opts.retryMs ?? 2_000, opts.signal);
    }
  } finally {
    client.close();
  }
}

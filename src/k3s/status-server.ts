/**
 * The cluster status server every cluster node runs on `<cluster IP>:12346` (cluster.md §6;
 * lf-edge/eve: pkg/pillar/cmd/zedkube/clusterstatus.go). Joiners read `/status` in the join handshake (§5.3):
 * it says `cluster:<cluster_id>` only once this node is a control-plane + etcd member. EVE's `/app/<uuid>` and
 * `/cluster-app/<uuid>` App-Tracker debug summaries are not served: edgesim has no App-Tracker, and no part of the
 * protocol reads them (they answer 404 like any unknown path).
 *
 * The membership answer comes from a callback, so this file holds only the HTTP contract.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { errorMessage, type Clock, type Logger } from '../common/index.js';

/** `types.ClusterStatusPort`. */
export const CLUSTER_STATUS_PORT = 12346;
/** Graceful shutdown bound (`stopClusterStatusServer`: 5 s), then open connections are cut. */
export const STATUS_SERVER_SHUTDOWN_MS = 5_000;

/** Node labels that make `/status` answer `cluster:<id>` (k3s sets them on embedded-etcd servers, §4.5). */
export const LABEL_CONTROL_PLANE = 'node-role.kubernetes.io/control-plane';
export const LABEL_MASTER = 'node-role.kubernetes.io/master';
export const LABEL_ETCD = 'node-role.kubernetes.io/etcd';

/**
 * EVE's `/status` rule on a node's labels: (`control-plane=true` **or** a `master` label) **and** an `etcd` label
 * (`clusterStatusHTTPHandler`). An agent-mode node or a single-node k3s (no etcd) fails it.
 */
export function isControlPlaneEtcdNode(labels: Readonly<Record<string, string>>): boolean {
  const controlPlane = labels[LABEL_CONTROL_PLANE] === 'true' || LABEL_MASTER in labels;
  return controlPlane && LABEL_ETCD in labels;
}

/**
 * The body of `GET /status`: `cluster:<id>` while this node is a control-plane + etcd member, else empty (also
 * when membership cannot be read: API down, node missing), as EVE answers. Shared by the HTTP server and the
 * in-process clusters.
 */
export async function clusterStatusBody(
  clusterId: string,
  isClusterMember: (signal: AbortSignal) => Promise<boolean>,
  signal: AbortSignal,
  log: Logger,
): Promise<string> {
  let member = false;
  try {
    member = await isClusterMember(signal);
  } catch (e) {
    log.debug('status: membership unknown, answering empty', { error: errorMessage(e) });
  }
  return member ? `cluster:${clusterId}` : '';
}

/** Options of {@link ClusterStatusServer.create}. */
export interface ClusterStatusServerOptions {
  /** The cluster IP to bind (never the wildcard: the server is reachable on the cluster network only). */
  host: string;
  /** @default 12346; 0 picks a free port (tests) */
  port?: number;
  /** `cluster_id` returned in `cluster:<id>`. */
  clusterId: string;
  /**
   * Whether this node is a control-plane + etcd member right now (see {@link isControlPlaneEtcdNode}); called per
   * `GET /status`. A rejection (API down, node missing) gives the empty answer, as in EVE.
   */
  isClusterMember: (signal: AbortSignal) => Promise<boolean>;
  logger: Logger;
  clock: Clock;
}

/** Server lifecycle: `listening`, `stopping` (draining), `stopped`. */
export type ClusterStatusServerState = 'listening' | 'stopping' | 'stopped';

/** Kinds of status-server failure. */
export type ClusterStatusServerErrorKind = 'LISTEN_FAILED';

/** The listener could not be opened (address not on this host yet, port taken…). */
export class ClusterStatusServerError extends Error {
  override readonly name = 'ClusterStatusServerError';
  constructor(
    readonly kind: ClusterStatusServerErrorKind,
    message: string,
    readonly context: { address: string; code?: string },
  ) {
    super(message);
  }
}

/** Type guard for {@link ClusterStatusServerError}. */
export function isClusterStatusServerError(e: unknown): e is ClusterStatusServerError {
  return e instanceof ClusterStatusServerError;
}

/** Go's `http.Error`: text/plain, nosniff, message plus newline. */
function httpError(res: http.ServerResponse, status: number, msg: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' });
  res.end(msg + '\n');
}

/** The cluster status HTTP server of one node. */
export class ClusterStatusServer {
  readonly #o: ClusterStatusServerOptions;
  readonly #log: Logger;
  readonly #server: http.Server;
  readonly #abort = new AbortController();
  #state: ClusterStatusServerState = 'listening';
  #stopped: Promise<void> | undefined;
  #port = 0;

  private constructor(o: ClusterStatusServerOptions, log: Logger) {
    this.#o = o;
    this.#log = log;
    this.#server = http.createServer((req, res) => {
      this.#handle(req, res).catch((e: unknown) => {
        log.error('status request failed', { path: req.url, error: errorMessage(e) });
        if (!res.headersSent) httpError(res, 500, 'Internal Server Error');
        else res.destroy();
      });
    });
  }

  /**
   * Opens the listener on `host:port` and serves until {@link stop}.
   * @throws ClusterStatusServerError `LISTEN_FAILED` with the address and errno code
   */
  static async create(opts: ClusterStatusServerOptions): Promise<ClusterStatusServer> {
    const log = opts.logger.child({ component: 'k3s.status-server', clusterId: opts.clusterId });
    const self = new ClusterStatusServer(opts, log);
    const server = self.#server;
    const port = opts.port ?? CLUSTER_STATUS_PORT;
    const address = `${opts.host}:${port}`;
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ host: opts.host, port, exclusive: true }, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } catch (e) {
      server.close();
      const code = (e as NodeJS.ErrnoException).code;
      throw new ClusterStatusServerError('LISTEN_FAILED', `cluster status server: cannot listen on ${address}: ${errorMessage(e)}`, {
        address,
        ...(code ? { code } : {}),
      });
    }
    self.#port = (server.address() as AddressInfo).port;
    log.info('cluster status server listening', { address: `${opts.host}:${self.#port}` });
    return self;
  }

  /** The bound port (useful with `port: 0`); kept after stop. */
  get port(): number {
    return this.#port;
  }

  /** Current state. */
  get state(): ClusterStatusServerState {
    return this.#state;
  }

  /**
   * Stops accepting, lets running requests finish for up to 5 s (scaled), then cuts what is left; resolves once
   * the listener is closed. Idempotent.
   */
  stop(): Promise<void> {
    this.#stopped ??= this.#doStop();
    return this.#stopped;
  }

  async #doStop(): Promise<void> {
    this.#setState('stopping');
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    this.#server.closeIdleConnections();
    const grace = new AbortController();
    const timedOut = await Promise.race([
      closed.then(() => false),
      this.#o.clock.sleep(STATUS_SERVER_SHUTDOWN_MS, grace.signal).then(
        () => true,
        () => false,
      ),
    ]);
    grace.abort();
    this.#abort.abort();
    if (timedOut) {
      this.#log.warn('cluster status server: requests still open after the grace period; closing them');
      this.#server.closeAllConnections();
    }
    await closed;
    this.#setState('stopped');
  }

  #setState(to: ClusterStatusServerState): void {
    const from = this.#state;
    this.#state = to;
    this.#log.info('cluster status server state', { from, to });
  }

  async #handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const pathname = new URL(req.url ?? '/', 'http://x').pathname;
    if (pathname === '/status') return this.#status(req, res);
    httpError(res, 404, '404 page not found');
  }

  async #status(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    if (req.method !== 'GET') {
      res.writeHead(405, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('405 - Method Not Allowed');
      return;
    }
    const body = await clusterStatusBody(this.#o.clusterId, this.#o.isClusterMember, this.#abort.signal, this.#log);
    res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
    res.end(body);
  }
}

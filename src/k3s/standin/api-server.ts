/**
 * The HTTPS front of a server node: node-ip:6443 (and loopback) carrying requests to the node's
 * {@link ./api-router.ts ApiRouter} (the Kubernetes API subset, `/cacerts`, `/v1-k3s/join`) and its answers back,
 * watches as chunked JSON lines.
 */
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../../common/index.js';
import { ApiError } from './errors.js';
import { ApiRouter, type ApiRouterOptions } from './api-router.js';

/** Options of {@link ApiServer.create}: the router's (its discovery address is derived from `hosts[0]:port`) and the listener's. */
export interface ApiServerOptions extends Omit<ApiRouterOptions, 'serverAddress'> {
  /** Addresses to listen on (node-ip, and loopback when node-ip is not loopback). */
  hosts: string[];
  port: number;
  certPem: string;
  keyPem: string;
}

const MAX_BODY = 3 * 1024 * 1024;

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > MAX_BODY) throw new ApiError('BadRequest', 'request body too large');
    chunks.push(c);
  }
  if (size === 0) return undefined;
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch {
    throw new ApiError('BadRequest', 'the request body is not valid JSON (the stand-in speaks JSON only, not protobuf or YAML)');
  }
}

type State = 'listening' | 'stopping' | 'stopped';

/** The HTTPS API server of one node. */
export class ApiServer {
  private state: State = 'listening';
  private readonly watches = new Set<AbortController>();

  private constructor(
    private readonly servers: https.Server[],
    private readonly router: ApiRouter,
    private readonly log: Logger,
  ) {}

  /** Starts listening on every host; fails (and closes what it opened) if one address cannot be bound. */
  static async create(opts: ApiServerOptions): Promise<ApiServer> {
    const log = opts.logger.child({ component: 'k3s.standin.apiserver' });
    const host = opts.hosts[0] ?? '127.0.0.1';
    const router = new ApiRouter({
      api: opts.api,
      serverAddress: `${host}:${opts.port}`,
      caPem: opts.caPem,
      adminToken: opts.adminToken,
      clusterToken: opts.clusterToken,
      onJoin: opts.onJoin,
      clock: opts.clock,
      logger: opts.logger,
    });
    const servers: https.Server[] = [];
    const self = new ApiServer(servers, router, log);
    try {
      for (const h of opts.hosts) {
        const srv = https.createServer({ cert: opts.certPem, key: opts.keyPem }, (req, res) => {
          void self.handle(req, res);
        });
        srv.keepAliveTimeout = 30_000;
        await new Promise<void>((resolve, reject) => {
          srv.once('error', reject);
          srv.listen(opts.port, h, () => {
            srv.off('error', reject);
            resolve();
          });
        });
        servers.push(srv);
      }
    } catch (e) {
      await self.stop();
      throw e;
    }
    log.info('api server listening', { hosts: opts.hosts, port: opts.port });
    return self;
  }

  /** Stops accepting, ends open watches and closes connections. Idempotent. */
  async stop(): Promise<void> {
    if (this.state !== 'listening') return;
    this.state = 'stopping';
    for (const w of this.watches) w.abort();
    await Promise.all(
      this.servers.map(
        (s) =>
          new Promise<void>((resolve) => {
            s.close(() => resolve());
            s.closeAllConnections();
          }),
      ),
    );
    this.state = 'stopped';
    this.log.info('api server stopped');
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const reply = await this.router.handle({
      method: req.method ?? 'GET',
      url: req.url ?? '/',
      authorization: req.headers.authorization,
      accept: req.headers.accept,
      contentType: req.headers['content-type'],
      body: () => readBody(req),
      remote: req.socket.remoteAddress,
    });
    switch (reply.kind) {
      case 'json': {
        const text = JSON.stringify(reply.body);
        res.writeHead(reply.code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
        res.end(text);
        return;
      }
      case 'text':
        res.writeHead(reply.code, { 'Content-Type': 'text/plain' });
        res.end(reply.text);
        return;
      case 'watch': {
        const ac = new AbortController();
        this.watches.add(ac);
        req.socket.once('close', () => ac.abort());
        res.once('close', () => ac.abort());
        res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked', 'Cache-Control': 'no-cache' });
        res.flushHeaders();
        try {
          await reply.run((line) => res.write(line), ac.signal);
        } finally {
          ac.abort();
          this.watches.delete(ac);
          res.end();
        }
      }
    }
  }
}

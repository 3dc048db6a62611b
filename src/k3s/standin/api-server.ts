/**
 * The HTTPS front of a server node: the Kubernetes API subset (discovery, CRUD, patch, watch, server-side
 * Table output) on node-ip:6443 (and loopback), authenticated with the kubeconfig's bearer token, plus k3s's
 * own endpoints: `/cacerts` (anonymous) and the join endpoint `/v1-k3s/join` (authenticated with the cluster
 * token, as k3s authenticates `/v1-k3s/*` with `server:<token>` basic auth).
 */
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import type { Clock, Logger } from '../../common/index.js';
import { errorMessage } from '../../common/index.js';
import { ApiError, isApiError } from './errors.js';
import type { KubeApi, ListFilter, DeleteOptions } from './kube-api.js';
import { patchTypeOf } from './patch.js';
import { RESOURCES, apiGroups, apiVersionOf, findResource, type ResourceType } from './resources.js';
import { parseFieldSelector, parseLabelSelector } from './selectors.js';
import { toTable, type IncludeObject } from './tables.js';

/** The Kubernetes version the stand-in claims (a k3s release of the 1.31 line). */
export const KUBE_VERSION = { major: '1', minor: '31', gitVersion: 'v1.31.4+k3s1' } as const;

/** Handles `POST /v1-k3s/join` after the token was checked. */
export type JoinHandler = (body: unknown) => Promise<unknown>;

/** Options of {@link ApiServer.create}. */
export interface ApiServerOptions {
  api: KubeApi;
  /** Addresses to listen on (node-ip, and loopback when node-ip is not loopback). */
  hosts: string[];
  port: number;
  certPem: string;
  keyPem: string;
  caPem: string;
  /** Bearer token of the admin kubeconfig. */
  adminToken: string;
  /** The k3s cluster token (join endpoint). */
  clusterToken: string;
  onJoin: JoinHandler;
  clock: Clock;
  logger: Logger;
}

const MAX_BODY = 3 * 1024 * 1024;

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Extracts the password of a k3s token (`K10<ca hash>::server:<password>` or the bare password). */
export function tokenPassword(token: string): string {
  const m = /^K10[0-9a-f]+::[a-z]+:(.+)$/.exec(token);
  return m ? m[1] : token;
}

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

function send(res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

type State = 'listening' | 'stopping' | 'stopped';

/** The HTTPS API server of one node. */
export class ApiServer {
  private state: State = 'listening';
  private readonly watches = new Set<AbortController>();

  private constructor(
    private readonly servers: https.Server[],
    private readonly opts: ApiServerOptions,
    private readonly log: Logger,
  ) {}

  /** Starts listening on every host; fails (and closes what it opened) if one address cannot be bound. */
  static async create(opts: ApiServerOptions): Promise<ApiServer> {
    const log = opts.logger.child({ component: 'k3s.standin.apiserver' });
    const servers: https.Server[] = [];
    const self = new ApiServer(servers, opts, log);
    try {
      for (const host of opts.hosts) {
        const srv = https.createServer({ cert: opts.certPem, key: opts.keyPem }, (req, res) => {
          void self.handle(req, res);
        });
        srv.keepAliveTimeout = 30_000;
        await new Promise<void>((resolve, reject) => {
          srv.once('error', reject);
          srv.listen(opts.port, host, () => {
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

  private authorized(req: IncomingMessage): boolean {
    const h = req.headers.authorization ?? '';
    return h.startsWith('Bearer ') && safeEqual(h.slice(7).trim(), this.opts.adminToken);
  }

  private joinAuthorized(req: IncomingMessage): boolean {
    const h = req.headers.authorization ?? '';
    const want = tokenPassword(this.opts.clusterToken);
    if (h.startsWith('Bearer ')) return safeEqual(tokenPassword(h.slice(7).trim()), want);
    if (h.startsWith('Basic ')) {
      const decoded = Buffer.from(h.slice(6), 'base64').toString('utf8');
      const i = decoded.indexOf(':');
      return i >= 0 && safeEqual(tokenPassword(decoded.slice(i + 1)), want);
    }
    return false;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://x');
    try {
      await this.route(req, res, url);
    } catch (e) {
      const err = isApiError(e) ? e : new ApiError('InternalError', errorMessage(e));
      if (err.code >= 500) this.log.warn('request failed', { method: req.method, path: url.pathname, code: err.code, error: err.message });
      if (!res.headersSent) send(res, err.code, err.status());
      else res.end();
    }
  }

  private async route(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const method = req.method ?? 'GET';
    // Anonymous endpoints, as k3s allows them.
    if (method === 'GET' && path === '/cacerts') {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end(this.opts.caPem);
      return;
    }
    if (method === 'GET' && ['/healthz', '/livez', '/readyz', '/ping'].includes(path)) {
      const ok = await this.opts.api.store.healthy();
      res.writeHead(ok ? 200 : 503, { 'Content-Type': 'text/plain' });
      res.end(ok ? 'ok' : '[-]etcd failed: datastore unavailable\nhealthz check failed');
      return;
    }
    if (path === '/v1-k3s/join') {
      if (method !== 'POST') throw new ApiError('MethodNotAllowed', 'use POST');
      if (!this.joinAuthorized(req)) {
        this.log.warn('join refused: bad token', { remote: req.socket.remoteAddress });
        throw new ApiError('Unauthorized', 'Unauthorized: the token does not match this cluster');
      }
      send(res, 200, await this.opts.onJoin(await readBody(req)));
      return;
    }
    if (!this.authorized(req)) throw new ApiError('Unauthorized', 'Unauthorized');
    if (method === 'GET' && path === '/version') {
      send(res, 200, { ...KUBE_VERSION, gitCommit: '0000000000000000000000000000000000000000', gitTreeState: 'clean', buildDate: '2024-12-13T00:00:00Z', goVersion: 'go1.22.9', compiler: 'gc', platform: 'linux/amd64' });
      return;
    }
    if (method === 'GET' && this.discovery(res, path)) return;
    const target = this.parsePath(path);
    if (!target) throw new ApiError('NotFound', 'the server could not find the requested resource');
    await this.serveResource(req, res, url, target);
  }

  private discovery(res: ServerResponse, path: string): boolean {
    if (path === '/api') {
      send(res, 200, { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: `${this.opts.hosts[0]}:${this.opts.port}` }] });
      return true;
    }
    if (path === '/apis') {
      send(res, 200, {
        kind: 'APIGroupList',
        apiVersion: 'v1',
        groups: apiGroups().map((g) => ({
          name: g.name,
          versions: g.versions.map((v) => ({ groupVersion: `${g.name}/${v}`, version: v })),
          preferredVersion: { groupVersion: `${g.name}/${g.versions[0]}`, version: g.versions[0] },
        })),
      });
      return true;
    }
    const group = /^\/apis\/([^/]+)$/.exec(path);
    if (group) {
      const g = apiGroups().find((x) => x.name === group[1]);
      if (!g) return false;
      const versions = g.versions.map((v) => ({ groupVersion: `${g.name}/${v}`, version: v }));
      send(res, 200, { kind: 'APIGroup', apiVersion: 'v1', name: g.name, versions, preferredVersion: versions[0] });
      return true;
    }
    const gv = path === '/api/v1' ? ['', 'v1'] : /^\/apis\/([^/]+)\/([^/]+)$/.exec(path)?.slice(1);
    if (gv) {
      const types = RESOURCES.filter((r) => r.group === gv[0] && r.version === gv[1]);
      if (types.length === 0) return false;
      const resources: Record<string, unknown>[] = [];
      for (const t of types) {
        resources.push({
          name: t.resource, singularName: t.kind.toLowerCase(), namespaced: t.namespaced, kind: t.kind,
          verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'], shortNames: t.shortNames,
        });
        for (const s of t.subresources) {
          resources.push({
            name: `${t.resource}/${s}`, singularName: '', namespaced: t.namespaced, kind: s === 'binding' ? 'Binding' : t.kind,
            verbs: s === 'binding' ? ['create'] : ['get', 'patch', 'update'],
          });
        }
      }
      send(res, 200, { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: apiVersionOf(types[0]), resources });
      return true;
    }
    return false;
  }

  private parsePath(path: string): { t: ResourceType; ns?: string; name?: string; sub?: string; watchPath: boolean } | undefined {
    let m = /^\/api\/v1\/(.*)$/.exec(path);
    let group = '';
    let version = 'v1';
    if (!m) {
      const a = /^\/apis\/([^/]+)\/([^/]+)\/(.*)$/.exec(path);
      if (!a) return undefined;
      group = a[1]!;
      version = a[2]!;
      m = [a[0], a[3]] as unknown as RegExpExecArray;
    }
    let segs = m[1].split('/').map(decodeURIComponent);
    let watchPath = false;
    if (segs[0] === 'watch') {
      watchPath = true;
      segs = segs.slice(1);
    }
    let ns: string | undefined;
    if (segs[0] === 'namespaces' && segs.length >= 3 && findResource(group, version, segs[2])?.namespaced) {
      ns = segs[1];
      segs = segs.slice(2);
    }
    const t = findResource(group, version, segs[0]);
    if (!t || segs.length > 3) return undefined;
    const out: { t: ResourceType; ns?: string; name?: string; sub?: string; watchPath: boolean } = { t, watchPath };
    if (ns !== undefined) out.ns = ns;
    if (segs[1] !== undefined) out.name = segs[1];
    if (segs[2] !== undefined) out.sub = segs[2];
    if (out.sub !== undefined && !(t.subresources as string[]).includes(out.sub)) return undefined;
    return out;
  }

  private async serveResource(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    target: { t: ResourceType; ns?: string; name?: string; sub?: string; watchPath: boolean },
  ): Promise<void> {
    const { t, ns, name, sub } = target;
    const api = this.opts.api;
    const method = req.method ?? 'GET';
    const q = url.searchParams;
    const filter: ListFilter = {};
    if (q.get('labelSelector')) filter.labels = parseLabelSelector(q.get('labelSelector')!);
    const fields = q.get('fieldSelector') ? parseFieldSelector(q.get('fieldSelector')!) : [];
    if (name !== undefined && method === 'GET' && (q.get('watch') === 'true' || q.get('watch') === '1' || target.watchPath)) {
      fields.push({ key: 'metadata.name', op: '=', values: [name] });
    }
    if (fields.length) filter.fields = fields;
    const accept = req.headers.accept ?? '';
    const wantTable = /as=Table/.test(accept);
    const include = (q.get('includeObject') as IncludeObject | null) ?? 'Metadata';
    const scopeNs = t.namespaced ? ns : undefined;
    if (!t.namespaced && ns !== undefined) throw new ApiError('NotFound', 'the server could not find the requested resource');

    switch (method) {
      case 'GET': {
        if (q.get('watch') === 'true' || q.get('watch') === '1' || target.watchPath) {
          await this.serveWatch(req, res, t, scopeNs, filter, q);
          return;
        }
        if (name !== undefined) {
          const obj = await api.get(t, scopeNs, name);
          send(res, 200, wantTable ? toTable(t, [obj], { now: this.opts.clock.now(), includeObject: include }) : obj);
          return;
        }
        const { items, revision } = await api.list(t, scopeNs, filter);
        if (wantTable) {
          send(res, 200, toTable(t, items, { now: this.opts.clock.now(), resourceVersion: revision, includeObject: include }));
        } else {
          send(res, 200, { kind: `${t.kind}List`, apiVersion: apiVersionOf(t), metadata: { resourceVersion: revision }, items });
        }
        return;
      }
      case 'POST': {
        const body = await readBody(req);
        if (name !== undefined && sub === 'binding') {
          const target = (body as { target?: { name?: string } } | undefined)?.target?.name;
          if (!target) throw new ApiError('Invalid', 'Binding is invalid: target.name: Required value');
          await api.patch(t, scopeNs, name, 'merge', { spec: { nodeName: target } });
          send(res, 201, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 });
          return;
        }
        if (name !== undefined) throw new ApiError('MethodNotAllowed', `POST is not supported on a named ${t.kind}`);
        send(res, 201, await api.create(t, scopeNs, body));
        return;
      }
      case 'PUT': {
        if (name === undefined) throw new ApiError('MethodNotAllowed', 'PUT needs an object name');
        send(res, 200, await api.update(t, scopeNs, name, await readBody(req), sub === 'status' ? 'status' : undefined));
        return;
      }
      case 'PATCH': {
        if (name === undefined) throw new ApiError('MethodNotAllowed', 'PATCH needs an object name');
        const type = patchTypeOf(req.headers['content-type']);
        if (!type) {
          throw new ApiError('UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json`);
        }
        send(res, 200, await api.patch(t, scopeNs, name, type, await readBody(req), sub === 'status' ? 'status' : undefined));
        return;
      }
      case 'DELETE': {
        if (name === undefined) throw new ApiError('MethodNotAllowed', 'deleting a collection is not served by the stand-in');
        const body = ((await readBody(req)) ?? {}) as DeleteOptions;
        const opts: DeleteOptions = {};
        const g = q.get('gracePeriodSeconds') ?? (body.gracePeriodSeconds !== undefined ? String(body.gracePeriodSeconds) : null);
        if (g !== null) opts.gracePeriodSeconds = Number(g);
        if (body.preconditions) opts.preconditions = body.preconditions;
        send(res, 200, await api.delete(t, scopeNs, name, opts));
        return;
      }
      default:
        throw new ApiError('MethodNotAllowed', `method ${method} is not allowed`);
    }
  }

  private async serveWatch(req: IncomingMessage, res: ServerResponse, t: ResourceType, ns: string | undefined, filter: ListFilter, q: URLSearchParams): Promise<void> {
    const ac = new AbortController();
    this.watches.add(ac);
    const timeout = Number(q.get('timeoutSeconds') ?? '0');
    // timeoutSeconds is the client's real time, not the stand-in's scaled time.
    if (timeout > 0) {
      this.opts.clock.sleepReal(timeout * 1000, ac.signal).then(() => ac.abort(), () => undefined);
    }
    req.socket.once('close', () => ac.abort());
    res.once('close', () => ac.abort());
    let started = false;
    const start = (): void => {
      if (started) return;
      started = true;
      res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked', 'Cache-Control': 'no-cache' });
      res.flushHeaders();
    };
    start();
    try {
      await this.opts.api.watch(t, ns, filter, q.get('resourceVersion') ?? undefined, (ev) => {
        res.write(JSON.stringify(ev) + '\n');
      }, ac.signal);
    } catch (e) {
      res.write(JSON.stringify({ type: 'ERROR', object: (isApiError(e) ? e : new ApiError('InternalError', errorMessage(e))).status() }) + '\n');
    } finally {
      ac.abort();
      this.watches.delete(ac);
      res.end();
    }
  }
}

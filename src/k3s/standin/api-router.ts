/**
 * The request handling of a server node's API, apart from any transport: authentication (the kubeconfig's bearer
 * token; the cluster token for `/v1-k3s/join`), `/cacerts`, health, `/version`, discovery, CRUD, patch, bindings,
 * Table output and watches. The HTTPS server (api-server.ts) feeds it requests off the socket; an in-process
 * cluster feeds it the same requests from memory. Either way the answer is the same {@link ApiReply}.
 */
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

/** One request as the router needs it. */
export interface ApiRequest {
  method: string;
  /** Path and query, e.g. `/api/v1/nodes?labelSelector=a%3Db`. */
  url: string;
  authorization?: string | undefined;
  accept?: string | undefined;
  contentType?: string | undefined;
  /** The body, parsed from JSON (undefined when empty); rejects with a 400 ApiError when it is not JSON. */
  body: () => Promise<unknown>;
  /** Who asked (logs only). */
  remote?: string | undefined;
}

/** What the router answers: JSON, text, or a watch to stream. */
export type ApiReply =
  /** `body` is plain JSON data made for this answer alone (no part shared with the store or constants): an in-process caller may keep and change it. */
  | { kind: 'json'; code: number; body: unknown }
  | { kind: 'text'; code: number; text: string }
  | {
      kind: 'watch';
      /** Streams the watch: `write` gets one JSON line per event; resolves when it ends or `signal` fires. */
      run: (write: (line: string) => void, signal: AbortSignal) => Promise<void>;
    };

/** Options of {@link ApiRouter}. */
export interface ApiRouterOptions {
  api: KubeApi;
  /** The address discovery names (`serverAddressByClientCIDRs`), `host:port`. */
  serverAddress: string;
  caPem: string;
  /** Bearer token of the admin kubeconfig. */
  adminToken: string;
  /** The k3s cluster token (join endpoint). */
  clusterToken: string;
  onJoin: JoinHandler;
  clock: Clock;
  logger: Logger;
}

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

const json = (code: number, body: unknown): ApiReply => ({ kind: 'json', code, body });

interface Target {
  t: ResourceType;
  ns?: string;
  name?: string;
  sub?: string;
  watchPath: boolean;
}

/** The API of one server node, without a transport. */
export class ApiRouter {
  private readonly log: Logger;
  constructor(private readonly opts: ApiRouterOptions) {
    this.log = opts.logger.child({ component: 'k3s.standin.apiserver' });
  }

  /** Answers one request; failures become the `Status` answer of their ApiError. */
  async handle(req: ApiRequest): Promise<ApiReply> {
    const url = new URL(req.url, 'https://x');
    try {
      return await this.route(req, url);
    } catch (e) {
      const err = isApiError(e) ? e : new ApiError('InternalError', errorMessage(e));
      if (err.code >= 500) this.log.warn('request failed', { method: req.method, path: url.pathname, code: err.code, error: err.message });
      return json(err.code, err.status());
    }
  }

  private authorized(req: ApiRequest): boolean {
    const h = req.authorization ?? '';
    return h.startsWith('Bearer ') && safeEqual(h.slice(7).trim(), this.opts.adminToken);
  }

  private joinAuthorized(req: ApiRequest): boolean {
    const h = req.authorization ?? '';
    const want = tokenPassword(this.opts.clusterToken);
    if (h.startsWith('Bearer ')) return safeEqual(tokenPassword(h.slice(7).trim()), want);
    if (h.startsWith('Basic ')) {
      const decoded = Buffer.from(h.slice(6), 'base64').toString('utf8');
      const i = decoded.indexOf(':');
      return i >= 0 && safeEqual(tokenPassword(decoded.slice(i + 1)), want);
    }
    return false;
  }

  private async route(req: ApiRequest, url: URL): Promise<ApiReply> {
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const method = req.method;
    // Anonymous endpoints, as k3s allows them.
    if (method === 'GET' && path === '/cacerts') return { kind: 'text', code: 200, text: this.opts.caPem };
    if (method === 'GET' && ['/healthz', '/livez', '/readyz', '/ping'].includes(path)) {
      const ok = await this.opts.api.store.healthy();
      return { kind: 'text', code: ok ? 200 : 503, text: ok ? 'ok' : '[-]etcd failed: datastore unavailable\nhealthz check failed' };
    }
    if (path === '/v1-k3s/join') {
      if (method !== 'POST') throw new ApiError('MethodNotAllowed', 'use POST');
      if (!this.joinAuthorized(req)) {
        this.log.warn('join refused: bad token', { remote: req.remote });
        throw new ApiError('Unauthorized', 'Unauthorized: the token does not match this cluster');
      }
      return json(200, await this.opts.onJoin(await req.body()));
    }
    if (!this.authorized(req)) throw new ApiError('Unauthorized', 'Unauthorized');
    if (method === 'GET' && path === '/version') {
      return json(200, { ...KUBE_VERSION, gitCommit: '0000000000000000000000000000000000000000', gitTreeState: 'clean', buildDate: '2024-12-13T00:00:00Z', goVersion: 'go1.22.9', compiler: 'gc', platform: 'linux/amd64' });
    }
    if (method === 'GET') {
      const d = this.discovery(path);
      if (d) return d;
    }
    const target = this.parsePath(path);
    if (!target) throw new ApiError('NotFound', 'the server could not find the requested resource');
    return this.serveResource(req, url, target);
  }

  private discovery(path: string): ApiReply | undefined {
    if (path === '/api') {
      return json(200, { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: this.opts.serverAddress }] });
    }
    if (path === '/apis') {
      return json(200, {
        kind: 'APIGroupList',
        apiVersion: 'v1',
        groups: apiGroups().map((g) => ({
          name: g.name,
          versions: g.versions.map((v) => ({ groupVersion: `${g.name}/${v}`, version: v })),
          preferredVersion: { groupVersion: `${g.name}/${g.versions[0]}`, version: g.versions[0] },
        })),
      });
    }
    const group = /^\/apis\/([^/]+)$/.exec(path);
    if (group) {
      const g = apiGroups().find((x) => x.name === group[1]);
      if (!g) return undefined;
      const versions = g.versions.map((v) => ({ groupVersion: `${g.name}/${v}`, version: v }));
      return json(200, { kind: 'APIGroup', apiVersion: 'v1', name: g.name, versions, preferredVersion: { ...versions[0] } });
    }
    const gv = path === '/api/v1' ? ['', 'v1'] : /^\/apis\/([^/]+)\/([^/]+)$/.exec(path)?.slice(1);
    if (gv) {
      const types = RESOURCES.filter((r) => r.group === gv[0] && r.version === gv[1]);
      if (types.length === 0) return undefined;
      const resources: Record<string, unknown>[] = [];
      for (const t of types) {
        resources.push({
          name: t.resource, singularName: t.kind.toLowerCase(), namespaced: t.namespaced, kind: t.kind,
          verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'], shortNames: [...t.shortNames],
        });
        for (const s of t.subresources) {
          resources.push({
            name: `${t.resource}/${s}`, singularName: '', namespaced: t.namespaced, kind: s === 'binding' ? 'Binding' : t.kind,
            verbs: s === 'binding' ? ['create'] : ['get', 'patch', 'update'],
          });
        }
      }
      return json(200, { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: apiVersionOf(types[0]), resources });
    }
    return undefined;
  }

  private parsePath(path: string): Target | undefined {
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
    const out: Target = { t, watchPath };
    if (ns !== undefined) out.ns = ns;
    if (segs[1] !== undefined) out.name = segs[1];
    if (segs[2] !== undefined) out.sub = segs[2];
    if (out.sub !== undefined && !(t.subresources as string[]).includes(out.sub)) return undefined;
    return out;
  }

  private async serveResource(req: ApiRequest, url: URL, target: Target): Promise<ApiReply> {
    const { t, ns, name, sub } = target;
    const api = this.opts.api;
    const method = req.method;
    const q = url.searchParams;
    const filter: ListFilter = {};
    if (q.get('labelSelector')) filter.labels = parseLabelSelector(q.get('labelSelector')!);
    const fields = q.get('fieldSelector') ? parseFieldSelector(q.get('fieldSelector')!) : [];
    if (name !== undefined && method === 'GET' && (q.get('watch') === 'true' || q.get('watch') === '1' || target.watchPath)) {
      fields.push({ key: 'metadata.name', op: '=', values: [name] });
    }
    if (fields.length) filter.fields = fields;
    const accept = req.accept ?? '';
    const wantTable = /as=Table/.test(accept);
    const include = (q.get('includeObject') as IncludeObject | null) ?? 'Metadata';
    const scopeNs = t.namespaced ? ns : undefined;
    if (!t.namespaced && ns !== undefined) throw new ApiError('NotFound', 'the server could not find the requested resource');

    switch (method) {
      case 'GET': {
        if (q.get('watch') === 'true' || q.get('watch') === '1' || target.watchPath) {
          return this.watchReply(t, scopeNs, filter, q);
        }
        if (name !== undefined) {
          const obj = await api.get(t, scopeNs, name);
          return json(200, wantTable ? toTable(t, [obj], { now: this.opts.clock.now(), includeObject: include }) : obj);
        }
        const { items, revision } = await api.list(t, scopeNs, filter);
        if (wantTable) return json(200, toTable(t, items, { now: this.opts.clock.now(), resourceVersion: revision, includeObject: include }));
        return json(200, { kind: `${t.kind}List`, apiVersion: apiVersionOf(t), metadata: { resourceVersion: revision }, items });
      }
      case 'POST': {
        const body = await req.body();
        if (name !== undefined && sub === 'binding') {
          const target = (body as { target?: { name?: string } } | undefined)?.target?.name;
          if (!target) throw new ApiError('Invalid', 'Binding is invalid: target.name: Required value');
          await api.patch(t, scopeNs, name, 'merge', { spec: { nodeName: target } });
          return json(201, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 });
        }
        if (name !== undefined) throw new ApiError('MethodNotAllowed', `POST is not supported on a named ${t.kind}`);
        return json(201, await api.create(t, scopeNs, body));
      }
      case 'PUT': {
        if (name === undefined) throw new ApiError('MethodNotAllowed', 'PUT needs an object name');
        return json(200, await api.update(t, scopeNs, name, await req.body(), sub === 'status' ? 'status' : undefined));
      }
      case 'PATCH': {
        if (name === undefined) throw new ApiError('MethodNotAllowed', 'PATCH needs an object name');
        const type = patchTypeOf(req.contentType);
        if (!type) {
          throw new ApiError('UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json`);
        }
        return json(200, await api.patch(t, scopeNs, name, type, await req.body(), sub === 'status' ? 'status' : undefined));
      }
      case 'DELETE': {
        if (name === undefined) throw new ApiError('MethodNotAllowed', 'deleting a collection is not served by the stand-in');
        const body = ((await req.body()) ?? {}) as DeleteOptions;
        const opts: DeleteOptions = {};
        const g = q.get('gracePeriodSeconds') ?? (body.gracePeriodSeconds !== undefined ? String(body.gracePeriodSeconds) : null);
        if (g !== null) opts.gracePeriodSeconds = Number(g);
        if (body.preconditions) opts.preconditions = body.preconditions;
        return json(200, await api.delete(t, scopeNs, name, opts));
      }
      default:
        throw new ApiError('MethodNotAllowed', `method ${method} is not allowed`);
    }
  }

  private watchReply(t: ResourceType, ns: string | undefined, filter: ListFilter, q: URLSearchParams): ApiReply {
    const timeout = Number(q.get('timeoutSeconds') ?? '0');
    const resourceVersion = q.get('resourceVersion') ?? undefined;
    return {
      kind: 'watch',
      run: async (write, signal) => {
        const ac = new AbortController();
        const stop = (): void => ac.abort();
        signal.addEventListener('abort', stop);
        if (signal.aborted) ac.abort();
        // timeoutSeconds is the client's real time, not the stand-in's scaled time.
        if (timeout > 0) this.opts.clock.sleepReal(timeout * 1000, ac.signal).then(stop, () => undefined);
        try {
          await this.opts.api.watch(t, ns, filter, resourceVersion, (ev) => write(JSON.stringify(ev) + '\n'), ac.signal);
        } catch (e) {
          write(JSON.stringify({ type: 'ERROR', object: (isApiError(e) ? e : new ApiError('InternalError', errorMessage(e))).status() }) + '\n');
        } finally {
          ac.abort();
          signal.removeEventListener('abort', stop);
        }
      },
    };
  }
}

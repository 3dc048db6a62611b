/**
 * A tiny real HTTP server that answers the handful of Kubernetes API paths kube.ts uses, from in-memory JSON
 * objects (nodes, pods, leases, replicasets) with resourceVersion conflicts and JSON merge patches. Used because
 * the k3s stand-in (src/k3s/standin) had not landed when these tests were written; it is not a Kubernetes.
 */
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import path from 'node:path';

type Obj = Record<string, unknown> & { metadata?: Record<string, unknown> };

/** One request as the fake saw it. */
export interface SeenRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  contentType: string | undefined;
}

/** Handle of a running fake API server. */
export interface FakeKubeApi {
  url: string;
  /** A kubeconfig file pointing at the fake. */
  kubeconfig: string;
  nodes: Map<string, Obj>;
  pods: Obj[];
  leases: Map<string, Obj>;
  replicasets: Map<string, Obj>;
  requests: SeenRequest[];
  /** `ok` serves; `forbidden` answers 403; `unavailable` 503; `hang` never answers. */
  mode: 'ok' | 'forbidden' | 'unavailable' | 'hang';
  close(): Promise<void>;
}

function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> =
    target && typeof target === 'object' && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [k, v] of Object.entries(patch as Record<string, unknown>)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

function status(code: number, reason: string, message: string): Obj {
  return { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason, code, message };
}

/** Starts the fake on `host:0` and writes `<dir>/kubeconfig`. */
export async function startFakeKubeApi(host: string, dir: string): Promise<FakeKubeApi> {
  let rv = 100;
  const sockets = new Set<Socket>();
  const api: Omit<FakeKubeApi, 'url' | 'kubeconfig' | 'close'> = {
    nodes: new Map(),
    pods: [],
    leases: new Map(),
    replicasets: new Map(),
    requests: [],
    mode: 'ok',
  };
  const stamp = (o: Obj): Obj => ({ ...o, metadata: { ...o.metadata, resourceVersion: String(++rv) } });

  /** CRUD on one keyed collection with optimistic concurrency. */
  const crud = (store: Map<string, Obj>, method: string, name: string | undefined, body: Obj | undefined, kind: string): [number, Obj] => {
    if (method === 'GET' && !name) return [200, { kind: `${kind}List`, apiVersion: 'v1', metadata: {}, items: [...store.values()] }];
    if (method === 'POST') {
      const n = String(body?.metadata?.name);
      if (store.has(n)) return [409, status(409, 'AlreadyExists', `${kind} "${n}" already exists`)];
      const o = stamp({ ...body, metadata: { ...body?.metadata, uid: `uid-${n}`, creationTimestamp: '2026-08-20T10:00:00Z' } });
      store.set(n, o);
      return [201, o];
    }
    const cur = name ? store.get(name) : undefined;
    if (!cur) return [404, status(404, 'NotFound', `${kind} "${name}" not found`)];
    if (method === 'GET') return [200, cur];
    if (method === 'DELETE') {
      store.delete(name!);
      return [200, cur];
    }
    if (method === 'PUT') {
      if (body?.metadata?.resourceVersion !== cur.metadata?.resourceVersion) {
        return [409, status(409, 'Conflict', `the object has been modified; please apply your changes to the latest version`)];
      }
      const o = stamp(body!);
      store.set(name!, o);
      return [200, o];
    }
    if (method === 'PATCH') {
      const o = stamp(mergePatch(cur, body) as Obj);
      store.set(name!, o);
      return [200, o];
    }
    return [405, status(405, 'MethodNotAllowed', method)];
  };

  const route = (method: string, p: string, q: URLSearchParams, body: Obj | undefined): [number, Obj] => {
    let m: RegExpMatchArray | null;
    if ((m = p.match(/^\/api\/v1\/nodes(?:\/([^/]+))?$/))) return crud(api.nodes, method, m[1], body, 'Node');
    if ((m = p.match(/^\/api\/v1\/namespaces\/([^/]+)\/pods$/)) && method === 'GET') {
      const ns = m[1];
      const sel = q.get('labelSelector');
      const field = q.get('fieldSelector');
      const items = api.pods.filter((pod) => {
        const md = pod.metadata as { namespace?: string; labels?: Record<string, string> };
        if (md.namespace !== ns) return false;
        if (sel) for (const [k, v] of sel.split(',').map((s) => s.split('='))) if (md.labels?.[k] !== v) return false;
        if (field) {
          const [, node] = field.split('=');
          if ((pod.spec as { nodeName?: string } | undefined)?.nodeName !== node) return false;
        }
        return true;
      });
      return [200, { kind: 'PodList', apiVersion: 'v1', metadata: {}, items }];
    }
    if ((m = p.match(/^\/apis\/coordination\.k8s\.io\/v1\/namespaces\/([^/]+)\/leases(?:\/([^/]+))?$/))) {
      return crud(api.leases, method, m[2], body, 'Lease');
    }
    if ((m = p.match(/^\/apis\/apps\/v1\/namespaces\/([^/]+)\/replicasets(?:\/([^/]+))?$/))) {
      return crud(api.replicasets, method, m[2], body, 'ReplicaSet');
    }
    return [404, status(404, 'NotFound', `no route ${method} ${p}`)];
  };

  const server = http.createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (raw += c));
    req.on('end', () => {
      const u = new URL(req.url ?? '/', 'http://x');
      api.requests.push({ method: req.method!, path: u.pathname, query: u.searchParams, contentType: req.headers['content-type'] });
      if (api.mode === 'hang') return;
      const [code, body] =
        api.mode === 'forbidden'
          ? [403, status(403, 'Forbidden', 'forbidden')]
          : api.mode === 'unavailable'
            ? [503, status(503, 'ServiceUnavailable', 'apiserver not ready')]
            : route(req.method!, u.pathname, u.searchParams, raw ? (JSON.parse(raw) as Obj) : undefined);
      res.writeHead(code, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(body));
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, host, r));
  const url = `http://${host}:${(server.address() as AddressInfo).port}`;
  const kubeconfig = path.join(dir, 'kubeconfig');
  writeFileSync(
    kubeconfig,
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      // client-node refuses plain http unless TLS verification is declared off.
      `- name: fake\n  cluster:\n    server: ${url}\n    insecure-skip-tls-verify: true`,
      'contexts:',
      '- name: fake\n  context:\n    cluster: fake\n    user: fake',
      'current-context: fake',
      'users:',
      '- name: fake\n  user:\n    token: fake-token',
      '',
    ].join('\n'),
  );
  return Object.assign(api, {
    url,
    kubeconfig,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        for (const s of sockets) s.destroy();
      }),
  });
}

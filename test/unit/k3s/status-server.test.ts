/**
 * The cluster status server on real loopback sockets (127.0.31.x stand for cluster IPs): EVE's /status,
 * /app and /cluster-app contract (cluster.md §6). Peers in the /cluster-app test are real status servers on
 * other loopback addresses, one raw socket server that never answers (timeout entry) and one address where
 * nothing listens (skipped).
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { after, describe, it } from 'node:test';
import { createClock } from '../../../src/common/index.js';
import {
  ClusterStatusServer,
  isClusterStatusServerError,
  isControlPlaneEtcdNode,
  type AppInfoSummary,
  type ClusterStatusServerOptions,
} from '../../../src/k3s/index.js';
import { captureLogger } from './capture-logger.js';

const CLUSTER_ID = '5b2b5e1c-8a46-4c5f-9a57-7f3c1c2e0d11';
const APP = '0e7a9f00-1111-4222-8333-944455566677';
const PEER_PORT = 42346; // shared by the /cluster-app peers, on distinct loopback addresses
const servers: { stop(): Promise<void> }[] = [];
after(async () => {
  await Promise.all(servers.map((s) => s.stop()));
});

async function start(opts: Partial<ClusterStatusServerOptions> = {}): Promise<ClusterStatusServer> {
  const s = await ClusterStatusServer.create({
    host: '127.0.31.1',
    port: 0,
    clusterId: CLUSTER_ID,
    isClusterMember: () => Promise.resolve(false),
    logger: captureLogger(),
    clock: createClock(100),
    ...opts,
  });
  servers.push(s);
  return s;
}

function request(
  host: string,
  port: number,
  path: string,
  method = 'GET',
): Promise<{ status: number; body: string; type: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host, port, path, method, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, body, type: res.headers['content-type'] }));
    });
    req.on('error', reject);
    req.end();
  });
}

const summary = (hostname: string): AppInfoSummary => ({
  hostname,
  collectTime: '2026-08-20T10:00:00Z',
  appInfo: [{ key: 'appName', value: 'nginx' }],
});

void describe('isControlPlaneEtcdNode', () => {
  const cases: [Record<string, string>, boolean][] = [
    [{ 'node-role.kubernetes.io/control-plane': 'true', 'node-role.kubernetes.io/etcd': 'true' }, true],
    [{ 'node-role.kubernetes.io/master': 'true', 'node-role.kubernetes.io/etcd': 'true' }, true],
    [{ 'node-role.kubernetes.io/master': '', 'node-role.kubernetes.io/etcd': '' }, true],
    [{ 'node-role.kubernetes.io/control-plane': 'false', 'node-role.kubernetes.io/etcd': 'true' }, false],
    [{ 'node-role.kubernetes.io/control-plane': 'true' }, false],
    [{ 'node-role.kubernetes.io/etcd': 'true' }, false],
    [{}, false],
  ];
  for (const [labels, want] of cases) {
    void it(`${JSON.stringify(labels)} → ${want}`, () => assert.equal(isControlPlaneEtcdNode(labels), want));
  }
});

void describe('ClusterStatusServer', () => {
  void it('GET /status: cluster:<id> only for a member; empty otherwise and when the check fails; 405 for non-GET', async () => {
    let member: boolean | Error = false;
    const s = await start({
      isClusterMember: () => (member instanceof Error ? Promise.reject(member) : Promise.resolve(member)),
    });
    assert.deepEqual(await request('127.0.31.1', s.port, '/status'), {
      status: 200,
      body: '',
      type: 'text/plain; charset=utf-8',
    });
    member = true;
    const ok = await request('127.0.31.1', s.port, '/status');
    assert.equal(ok.status, 200);
    assert.equal(ok.body, `cluster:${CLUSTER_ID}`);
    member = new Error('kube API unreachable');
    assert.equal((await request('127.0.31.1', s.port, '/status')).body, '');
    for (const method of ['POST', 'PUT', 'DELETE']) {
      const r = await request('127.0.31.1', s.port, '/status', method);
      assert.equal(r.status, 405);
      assert.equal(r.body, '405 - Method Not Allowed');
    }
    assert.equal((await request('127.0.31.1', s.port, '/other')).status, 404);
  });

  void it('/app/<uuid>: indented JSON for a known app (any method), 404 "App not found" otherwise', async () => {
    const s = await start({ appInfo: (id) => Promise.resolve(id === APP ? summary('edge-dev1') : undefined) });
    for (const method of ['GET', 'POST']) {
      const r = await request('127.0.31.1', s.port, `/app/${APP}`, method);
      assert.equal(r.status, 200);
      assert.equal(r.body, JSON.stringify(summary('edge-dev1'), null, 2));
    }
    const missing = await request('127.0.31.1', s.port, '/app/00000000-0000-0000-0000-000000000001');
    assert.equal(missing.status, 404);
    assert.equal(missing.body, 'App not found\n');
  });

  void it('/cluster-app/<uuid>: local summary plus each peer /app, timeouts as error entries, failures skipped', async () => {
    const peerA = await start({
      host: '127.0.31.3',
      port: PEER_PORT,
      appInfo: () => Promise.resolve(summary('edge-dev2')),
    });
    // A peer whose socket accepts and never answers: its request times out (5 s spec = 250 ms floor here).
    const conns: net.Socket[] = [];
    const silent = net.createServer((c) => conns.push(c));
    await new Promise<void>((r) => silent.listen(PEER_PORT, '127.0.31.4', r));
    servers.push({
      stop: () =>
        new Promise<void>((r) => {
          silent.close(() => r());
          for (const c of conns) c.destroy();
        }),
    });
    const s = await start({
      host: '127.0.31.2',
      port: PEER_PORT,
      appInfo: () => Promise.resolve(summary('edge-dev1')),
      peerAddresses: () => Promise.resolve(['127.0.31.3', '127.0.31.4', '127.0.31.5']),
    });
    const r = await request('127.0.31.2', s.port, `/cluster-app/${APP}`);
    assert.equal(r.status, 200);
    assert.equal(r.type, 'application/json');
    assert.ok(r.body.startsWith('{\n  "key": "cluster-app",\n  "value": [{\n'), r.body);
    assert.ok(r.body.endsWith(']\n}\n'));
    const parsed = JSON.parse(r.body) as { key: string; value: { hostname: string; errors?: string }[] };
    assert.deepEqual(
      parsed.value.map((v) => v.hostname),
      ['edge-dev1', 'edge-dev2', '127.0.31.4'],
    );
    assert.match(parsed.value[2].errors!, /within/);
    assert.equal(peerA.state, 'listening');
  });

  void it('stops idempotently; a second listener on a taken address fails with LISTEN_FAILED', async () => {
    const s = await start({ host: '127.0.31.6' });
    await assert.rejects(
      ClusterStatusServer.create({
        host: '127.0.31.6',
        port: s.port,
        clusterId: CLUSTER_ID,
        isClusterMember: () => Promise.resolve(true),
        logger: captureLogger(),
        clock: createClock(),
      }),
      (e) => isClusterStatusServerError(e) && e.kind === 'LISTEN_FAILED' && e.context.code === 'EADDRINUSE',
    );
    await s.stop();
    await s.stop();
    assert.equal(s.state, 'stopped');
    await assert.rejects(request('127.0.31.6', s.port, '/status'), /ECONNREFUSED/);
  });

  void it('stop() cuts a request still open after the 5 s (scaled) grace period', async () => {
    const s = await start({
      host: '127.0.31.7',
      isClusterMember: (signal) => new Promise((resolve) => signal.addEventListener('abort', () => resolve(true))),
    });
    const pending = request('127.0.31.7', s.port, '/status').catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 50));
    const t0 = Date.now();
    await s.stop();
    assert.ok(Date.now() - t0 >= 40, 'waited for the grace period');
    await pending;
    assert.equal(s.state, 'stopped');
  });
});

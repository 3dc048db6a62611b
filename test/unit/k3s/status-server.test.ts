/**
 * The cluster status server on real loopback sockets (127.0.31.x stand for cluster IPs): EVE's /status contract
 * (cluster.md §6); the App-Tracker paths /app and /cluster-app are not served.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, describe, it } from 'node:test';
import { createClock } from '../../../src/common/index.js';
import {
  ClusterStatusServer,
  isClusterStatusServerError,
  isControlPlaneEtcdNode,
  type ClusterStatusServerOptions,
} from '../../../src/k3s/index.js';
import { captureLogger } from './capture-logger.js';

const CLUSTER_ID = '5b2b5e1c-8a46-4c5f-9a57-7f3c1c2e0d11';
const APP = '0e7a9f00-1111-4222-8333-944455566677';
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

  void it('/app and /cluster-app are not served (no App-Tracker): 404 like any unknown path', async () => {
    const s = await start({ host: '127.0.31.2' });
    for (const p of [`/app/${APP}`, `/cluster-app/${APP}`]) assert.equal((await request('127.0.31.2', s.port, p)).status, 404, p);
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

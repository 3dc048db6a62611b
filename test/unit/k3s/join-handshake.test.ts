/**
 * The joiner's wait for the bootstrap server (cluster.md §5.3) against real servers on loopback: a real
 * ClusterStatusServer plays the bootstrap's :12346, and a real HTTPS server (the vector root-CA certificate,
 * answering 401 like an anonymous call to k3s) plays the bootstrap's k3s API on :6443. 10 s rounds run 100×
 * faster. The DNS case injects a `lookup` that fails with ENOTFOUND, because a real NXDOMAIN would need a DNS
 * query off the host.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo, LookupFunction } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createClock, isAbortError } from '../../../src/common/index.js';
import {
  ClusterStatusServer,
  classifyProbeError,
  isJoinHandshakeError,
  waitForBootstrapServer,
  type JoinHandshakeOptions,
  type JoinProbeReport,
} from '../../../src/k3s/index.js';
import { vectorsDir } from '../../helpers/cli.js';
import { captureLogger } from './capture-logger.js';

const CLUSTER_ID = '5b2b5e1c-8a46-4c5f-9a57-7f3c1c2e0d11';
const OTHER_ID = '6c3c6f2d-9b57-4d60-8b68-803d2d3f1e22';
const HOST = '127.0.32.1';
let api: https.Server;
let apiPort: number;
let member = false;
let status: ClusterStatusServer;
const closers: (() => Promise<void>)[] = [];

before(async () => {
  api = https.createServer(
    {
      cert: readFileSync(path.join(vectorsDir, 'certs/root-ca.pem')),
      key: readFileSync(path.join(vectorsDir, 'certs/root-ca.key.pem')),
    },
    (_req, res) => {
      res.writeHead(401, { 'Content-Type': 'application/json' });
      res.end('{"kind":"Status","code":401}');
    },
  );
  await new Promise<void>((r) => api.listen(0, HOST, r));
  closers.push(() => new Promise((r) => api.close(() => r())));
  apiPort = (api.address() as AddressInfo).port;
  status = await ClusterStatusServer.create({
    host: HOST,
    port: 0,
    clusterId: CLUSTER_ID,
    isClusterMember: () => Promise.resolve(member),
    logger: captureLogger(),
    clock: createClock(100),
  });
  closers.push(() => status.stop());
});
after(async () => {
  for (const c of closers.reverse()) await c();
});

function opts(extra: Partial<JoinHandshakeOptions> = {}): JoinHandshakeOptions & { reports: JoinProbeReport[] } {
  const reports: JoinProbeReport[] = [];
  return {
    joinServerIp: HOST,
    clusterId: CLUSTER_ID,
    apiPort,
    statusPort: status.port,
    clock: createClock(100),
    logger: captureLogger(),
    onProbe: (r) => reports.push(r),
    reports,
    ...extra,
  };
}

void describe('classifyProbeError', () => {
  const cases: [unknown, string][] = [
    [Object.assign(new Error('getaddrinfo ENOTFOUND x'), { code: 'ENOTFOUND' }), 'non-transient'],
    [Object.assign(new Error('self-signed'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }), 'non-transient'],
    [Object.assign(new Error('issuer'), { code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' }), 'non-transient'],
    [Object.assign(new Error('altname'), { code: 'ERR_TLS_CERT_ALTNAME_INVALID' }), 'non-transient'],
    [new Error('wrapped', { cause: Object.assign(new Error('dns'), { code: 'ENOTFOUND' }) }), 'non-transient'],
    [Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }), 'transient'],
    [Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' }), 'transient'],
    [new Error('status endpoint returned HTTP 503'), 'transient'],
    ['odd', 'transient'],
  ];
  for (const [e, want] of cases) {
    void it(`${e instanceof Error ? e.message : String(e)} → ${want}`, () => assert.equal(classifyProbeError(e), want));
  }
});

void describe('waitForBootstrapServer', () => {
  void it('waits while the bootstrap is single-node, resolves once /status says cluster:<own id>', async () => {
    member = false;
    const o = opts();
    const report = o.onProbe!;
    // The bootstrap's node gets its etcd label after the joiner's second round.
    o.onProbe = (r) => {
      report(r);
      if (o.reports.length === 2) member = true;
    };
    const t0 = Date.now();
    const { attempts } = await waitForBootstrapServer(o);
    assert.equal(attempts, 3);
    assert.ok(Date.now() - t0 >= 190, 'two 10 s (scaled: 100 ms) intervals');
    assert.deepEqual(
      o.reports.map((r) => r.outcome),
      ['not-clustered', 'not-clustered', 'ready'],
    );
    assert.equal(o.reports.at(-1)!.detail, `cluster:${CLUSTER_ID}`);
  });

  void it('keeps waiting on the wrong cluster id and on an unreachable API; abort ends the wait', async () => {
    member = true;
    const ac = new AbortController();
    const wrong = opts({ clusterId: OTHER_ID, signal: ac.signal });
    const down = opts({ apiPort: 1, signal: ac.signal }); // nothing listens on port 1: connection refused
    // Abort once both kept waiting for three rounds (10 s scaled: 100 ms each); the timer only bounds a hang.
    for (const o of [wrong, down]) {
      const report = o.onProbe!;
      o.onProbe = (r) => {
        report(r);
        if (wrong.reports.length >= 3 && down.reports.length >= 3) ac.abort();
      };
    }
    const hang = setTimeout(() => ac.abort(), 20_000);
    const results = await Promise.allSettled([waitForBootstrapServer(wrong), waitForBootstrapServer(down)]);
    clearTimeout(hang);
    for (const r of results) assert.ok(r.status === 'rejected' && isAbortError(r.reason), String(r.status));
    assert.ok(wrong.reports.length >= 3 && wrong.reports.every((r) => r.outcome === 'wrong-cluster'), JSON.stringify(wrong.reports));
    assert.ok(
      down.reports.length >= 3 &&
        down.reports.every((r) => r.outcome === 'api-unreachable' && r.errorClass === 'transient'),
    );
  });

  void it('treats a non-2xx /status as transient', async () => {
    const bad = http.createServer((_q, res) => {
      res.writeHead(503);
      res.end();
    });
    await new Promise<void>((r) => bad.listen(0, HOST, r));
    closers.push(() => new Promise((r) => bad.close(() => r())));
    const ac = new AbortController();
    const o = opts({ statusPort: (bad.address() as AddressInfo).port, signal: ac.signal });
    setTimeout(() => ac.abort(), 250);
    await assert.rejects(waitForBootstrapServer(o), (e) => isAbortError(e));
    assert.ok(o.reports.length >= 2);
    assert.ok(o.reports.every((r) => r.outcome === 'status-unreachable' && r.errorClass === 'transient'));
    assert.match(o.reports[0].detail, /HTTP 503/);
  });

  void it('fails with BOOTSTRAP_UNREACHABLE after 6 consecutive non-transient errors', async () => {
    const nxdomain: LookupFunction = (hostname, _o, cb) =>
      cb(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }), '', 4);
    const o = opts({ joinServerIp: 'bootstrap.cluster.invalid', lookup: nxdomain, clock: createClock(1000) });
    await assert.rejects(
      waitForBootstrapServer(o),
      (e) => isJoinHandshakeError(e, 'BOOTSTRAP_UNREACHABLE') && e.context.attempts === 6,
    );
    assert.equal(o.reports.length, 6);
  });

  void it('fails with CLUSTER_STATUS_WITHDRAWN when the cluster status disappears', async () => {
    member = false;
    let present = 2;
    const o = opts({ clusterStatusPresent: () => present-- > 0 });
    await assert.rejects(
      waitForBootstrapServer(o),
      (e) => isJoinHandshakeError(e, 'CLUSTER_STATUS_WITHDRAWN') && e.context.attempts === 2,
    );
  });
});

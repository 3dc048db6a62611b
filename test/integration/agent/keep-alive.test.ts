/**
 * The keep-alive race ("socket hang up" on /certs under a burst): the server closes a pooled connection that sat idle
 * past its keepAliveTimeout while the client's event loop was busy, so the client has not read the close yet and
 * hands the connection to a request. Every pooled connection idled as long, so a retry on the next pooled one fails
 * the same way; the client must retry once on a fresh connection. All on loopback (127.104.0.1, a real HTTPS server).
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { ControllerClient } from '../../../src/agent/controller-client.js';
import { createCertificate, generateSoftKey, softKeyToPkcs8Pem, softSigner } from '../../../src/eve/index.js';

const HOST = '127.104.0.1';
const cleanups: Array<() => Promise<unknown> | void> = [];
after(async () => {
  for (const c of cleanups.reverse()) await Promise.resolve(c()).catch(() => undefined);
});

/**
 * An HTTPS server on loopback answering 200 "ok", closing connections idle for `keepAliveMs`. It runs in a worker
 * thread: its event loop goes on (and closes idle connections) while the client's is blocked, as a controller's does.
 */
async function shortKeepAliveServer(keepAliveMs: number): Promise<{ port: number; rootPem: Buffer; connections: () => Promise<number> }> {
  const key = generateSoftKey();
  const now = Date.now();
  const certPem = await createCertificate({
    subject: { CN: HOST },
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + 3_600_000),
    isCA: false,
    keyUsage: ['digitalSignature'],
    extKeyUsage: ['serverAuth'],
    subjectAltNames: { ip: [HOST] },
    issuer: 'self',
    publicKey: key.publicKey,
    signer: softSigner(key),
  });
  const worker = new Worker(
    `const { parentPort, workerData: w } = require('node:worker_threads');
     const srv = require('node:https').createServer({ cert: w.cert, key: w.key }, (_req, res) => res.writeHead(200).end('ok'));
     srv.keepAliveTimeout = w.keepAliveMs;
     let connections = 0;
     srv.on('secureConnection', () => connections++);
     parentPort.on('message', () => parentPort.postMessage(connections));
     srv.listen(0, w.host, () => parentPort.postMessage(srv.address().port));`,
    { eval: true, workerData: { cert: certPem, key: softKeyToPkcs8Pem(key), keepAliveMs, host: HOST } },
  );
  cleanups.push(() => worker.terminate());
  const next = (): Promise<number> => new Promise((resolve) => worker.once('message', resolve));
  const port = await next();
  return {
    port,
    rootPem: Buffer.from(certPem),
    connections: () => {
      const n = next();
      worker.postMessage('count');
      return n;
    },
  };
}

/** Blocks the event loop for `ms` (a fleet busy signing and verifying): the client reads no close meanwhile. */
function busy(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // spin
  }
}

test('a burst after the pooled connections went stale succeeds: one retry on a fresh connection', async () => {
  // Node's client drops an idle pooled connection 1 s before the server's announced keep-alive timeout (2 s here),
  // unless its event loop is busy: then it still holds connections the server has closed.
  const server = await shortKeepAliveServer(2_000);
  const client = new ControllerClient({ server: `${HOST}:${server.port}`, rootCertPem: server.rootPem, maxInFlight: 8, timeoutMs: 10_000 });
  cleanups.push(() => client.close());
  const burst = async (n: number): Promise<string[]> => {
    const results = await Promise.allSettled(Array.from({ length: n }, () => client.request(client.url('certs'), undefined)));
    return results.filter((r) => r.status === 'rejected').map((r) => String(r.reason));
  };
  assert.deepEqual(await burst(8), [], 'eight pooled connections');
  await new Promise((r) => setTimeout(r, 100)); // they return to the pool
  busy(4_000); // the server closes them meanwhile; the client reads none of it
  // Two requests take two stale connections; a retry through the pool would take the two other stale ones.
  assert.deepEqual(await burst(2), [], 'every request of the burst gets its answer');
  assert.deepEqual(await burst(8), []);
  assert.ok((await server.connections()) > 8, 'the server did close the idle connections (the race was exercised)');
});

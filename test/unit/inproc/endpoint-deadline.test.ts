/**
 * The agent's KubeClient over an in-process endpoint: an answer needs no deadline timer, but a frozen server
 * (SIGSTOP) still costs the call its deadline (UNREACHABLE "no answer"), and the caller's abort still wins.
 * The deadline outlives a garbage collection while the call waits with a caller's signal (Node 20's
 * AbortSignal.any holds its sources weakly: a lost timeout left the cluster monitor waiting forever).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createClock, isAbortError, silentLogger } from '../../../src/common/index.js';
import { KubeClient, isKubeError } from '../../../src/k3s/index.js';
import type { ApiRouter } from '../../../src/k3s/standin/api-router.js';
import { InprocEndpoint, endpointTransport } from '../../../src/inproc/endpoint.js';

test('over an in-process endpoint: answers, a frozen server times the call out, an abort stays an AbortError', async () => {
  const node = { metadata: { name: 'edge-dev1', creationTimestamp: '2026-01-01T00:00:00Z' }, status: { conditions: [{ type: 'Ready', status: 'True' }] } };
  const router = { handle: () => Promise.resolve({ kind: 'json', code: 200, body: node }) } as unknown as ApiRouter;
  // AbortSignal.timeout's timer does not hold the event loop open (a fleet's other timers do): hold it here.
  const hold = setInterval(() => undefined, 1_000);
  const ep = new InprocEndpoint(router, '10.0.0.1:6443');
  ep.listen();
  // 30 s per call, 100× faster, but at least 1 s of real time.
  const kube = KubeClient.overTransport(endpointTransport(() => ep, ep.address), { server: 'https://10.0.0.1:6443', token: 't' }, { logger: silentLogger, clock: createClock(100) });
  assert.equal((await kube.getNode('edge-dev1')).ready, 'True');
  ep.freeze(true);
  const t0 = Date.now();
  await assert.rejects(kube.getNode('edge-dev1'), (e) => isKubeError(e, 'UNREACHABLE') && /no answer/.test(e.message));
  assert.ok(Date.now() - t0 >= 950, 'the deadline, not earlier');
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 30);
  await assert.rejects(kube.getNode('edge-dev1', ac.signal), (e) => isAbortError(e));
  ep.freeze(false);
  assert.equal((await kube.getNode('edge-dev1')).ready, 'True');
  ep.close();
  await assert.rejects(kube.getNode('edge-dev1'), (e) => isKubeError(e, 'UNREACHABLE') && !/no answer/.test(e.message));
  kube.close();
  clearInterval(hold);
});

test('a frozen server still times the call out when a garbage collection runs while it waits with a caller signal', async () => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const router = { handle: () => Promise.resolve({ kind: 'json', code: 200, body: {} }) } as unknown as ApiRouter;
  const hold = setInterval(() => undefined, 1_000);
  const ep = new InprocEndpoint(router, '10.0.0.1:6443');
  ep.listen();
  ep.freeze(true);
  const kube = KubeClient.overTransport(endpointTransport(() => ep, ep.address), { server: 'https://10.0.0.1:6443', token: 't' }, { logger: silentLogger, clock: createClock(100) });
  // The monitor's long-lived signal: the deadline's timeout is then combined with it by AbortSignal.any.
  const loop = new AbortController();
  const call = kube.getNode('edge-dev1', loop.signal);
  const collect = setInterval(gc, 100);
  // A lost deadline never settles: bound the wait so the test fails instead of hanging.
  const bound = new Promise((_, reject) => setTimeout(() => reject(new Error('the call did not time out within 5 s')), 5_000).unref());
  try {
    await assert.rejects(Promise.race([call, bound]), (e) => isKubeError(e, 'UNREACHABLE') && /no answer/.test(e.message));
  } finally {
    clearInterval(collect);
    clearInterval(hold);
    ep.close();
    kube.close();
  }
});

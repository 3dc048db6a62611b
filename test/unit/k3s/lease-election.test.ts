/**
 * Lease leader election for eve-kube-stats-leader against the fake Kubernetes API (fake-kube-api.ts: a tiny real
 * HTTP server with resourceVersion conflicts; the k3s stand-in had not landed). Spec timings (lease 300 s,
 * renew deadline 180 s, retry 15 s) run 1000× faster.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createClock } from '../../../src/common/index.js';
import { KubeClient, LeaseLeaderElector, type LeaseLeaderElectorOptions } from '../../../src/k3s/index.js';
import { captureLogger } from './capture-logger.js';
import { startFakeKubeApi, type FakeKubeApi } from './fake-kube-api.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'edgesim-lease-'));
const clock = createClock(1000);
let api: FakeKubeApi;
let kube: KubeClient;

before(async () => {
  api = await startFakeKubeApi('127.0.34.1', tmp);
  kube = KubeClient.fromKubeconfigFile(api.kubeconfig, { logger: captureLogger(), clock });
});
beforeEach(() => {
  api.leases.clear();
  api.mode = 'ok';
});
after(async () => {
  await api.close();
  rmSync(tmp, { recursive: true, force: true });
});

function elector(identity: string, extra: Partial<LeaseLeaderElectorOptions> = {}) {
  const events: string[] = [];
  const e = new LeaseLeaderElector({
    client: kube,
    identity,
    clock,
    logger: captureLogger(),
    onStartedLeading: () => events.push('started'),
    onStoppedLeading: () => events.push('stopped'),
    onNewLeader: (id) => events.push(`leader:${id}`),
    ...extra,
  });
  return { e, events };
}

async function until(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(5);
  }
}

void describe('LeaseLeaderElector', () => {
  void it('creates eve-kube-stats-leader in eve-kube-app with EVE timings; a second candidate waits', async () => {
    const a = elector('edge-dev1');
    const b = elector('edge-dev2');
    assert.equal(await a.e.tryAcquireOrRenew(), true);
    const lease = api.leases.get('eve-kube-stats-leader')!;
    assert.deepEqual(lease.metadata?.namespace, 'eve-kube-app');
    const spec = lease.spec as { holderIdentity: string; leaseDurationSeconds: number; leaseTransitions: number };
    assert.equal(spec.holderIdentity, 'edge-dev1');
    assert.equal(spec.leaseDurationSeconds, 300);
    assert.equal(spec.leaseTransitions, 0);
    assert.equal(await b.e.tryAcquireOrRenew(), false);
    assert.equal(b.e.observedLeader, 'edge-dev1');
    assert.equal(await a.e.tryAcquireOrRenew(), true, 'the holder renews');
    assert.deepEqual(a.events, ['leader:edge-dev1', 'started']);
  });

  void it('takes over a lease that was not renewed for its duration, counting the transition', async () => {
    // 100× here (lease = 3 s real) so the margins survive a loaded machine.
    const slow = createClock(100);
    const a = elector('edge-dev1', { clock: slow });
    const b = elector('edge-dev2', { clock: slow });
    await a.e.tryAcquireOrRenew();
    assert.equal(await b.e.tryAcquireOrRenew(), false);
    await sleep(1500); // 150 s: still inside the 300 s lease
    assert.equal(await b.e.tryAcquireOrRenew(), false);
    await sleep(1700); // > 300 s since b first saw this record
    assert.equal(await b.e.tryAcquireOrRenew(), true);
    const spec = api.leases.get('eve-kube-stats-leader')!.spec as { holderIdentity: string; leaseTransitions: number };
    assert.equal(spec.holderIdentity, 'edge-dev2');
    assert.equal(spec.leaseTransitions, 1);
    assert.equal(await a.e.tryAcquireOrRenew(), false, 'the old holder sees the new one');
    assert.equal(a.e.isLeader, false);
  });

  void it('run(): leads, releases on cancel, and the other candidate takes over at once', async () => {
    const a = elector('edge-dev1');
    const b = elector('edge-dev2');
    const acA = new AbortController();
    const acB = new AbortController();
    const runA = a.e.run(acA.signal);
    await until(() => a.e.isLeader);
    const runB = b.e.run(acB.signal);
    await sleep(60); // several 15 s retry periods
    assert.equal(b.e.isLeader, false);
    acA.abort();
    await runA;
    assert.equal((api.leases.get('eve-kube-stats-leader')!.spec as { holderIdentity: string }).holderIdentity !== 'edge-dev1', true);
    await until(() => b.e.isLeader, 1000);
    acB.abort();
    await runB;
    assert.deepEqual(a.events, ['leader:edge-dev1', 'started', 'leader:', 'stopped']);
    assert.ok(b.events.includes('started') && b.events.at(-1) === 'stopped');
  });

  void it('run(): steps down when it cannot renew within the renew deadline', async () => {
    const a = elector('edge-dev1');
    const ac = new AbortController();
    const run = a.e.run(ac.signal);
    await until(() => a.e.isLeader);
    api.mode = 'unavailable';
    const t0 = Date.now();
    await run; // returns by itself once the 180 s (180 ms) deadline has passed
    assert.ok(Date.now() - t0 >= 170, 'held on for the renew deadline');
    assert.equal(a.e.isLeader, false);
    assert.deepEqual(a.events.slice(-1), ['stopped']);
  });
});

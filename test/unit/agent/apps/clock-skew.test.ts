/**
 * The app reconciler's timers under the clock-skew fault: durations run on `clock.monotonic()`, so a wall clock
 * stepped an hour forward does not declare the API down at once, and one stepped back does not hold a download
 * for an hour. The reconciler runs for real at time scale 100 with a fake kube API (pod list only) and the agent's
 * own skewed clock (faults.ts); each test ends with the timer firing when it should, so it cannot pass by never
 * firing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { APP_API_DOWN_MS } from '../../../../src/agent/apps/app-reconciler.js';
import { AppReconciler } from '../../../../src/agent/apps/index.js';
import { FaultSet, skewedClock } from '../../../../src/agent/faults.js';
import type { DeviceConfig } from '../../../../src/agent/index.js';
import { createClock, silentLogger } from '../../../../src/common/index.js';
import { info } from '../../../../src/eve/index.js';
import type { KubeClient } from '../../../../src/k3s/index.js';

const SCALE = 100;
const HOUR = 3_600_000;

function config(over: Partial<DeviceConfig>): DeviceConfig {
  return {
    deviceUuid: 'dev',
    version: '1',
    deviceName: 'dev',
    controllerEpoch: 0,
    controllerCertConfigHash: '',
    configItems: new Map(),
    cluster: { kind: 'absent' },
    apps: [],
    volumes: [],
    contentTrees: [],
    ...over,
  };
}

async function until<T>(what: string, probe: () => T | undefined, timeoutMs: number): Promise<T> {
  const end = performance.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    assert.ok(performance.now() < end, `${what}: not within ${timeoutMs} ms`);
    await sleep(10);
  }
}

test('API-down timer: a wall clock stepped 1 h forward does not make the API unreachable; 120 s of failures do', async () => {
  const base = createClock(SCALE);
  const faults = new FaultSet(base);
  let apiUp = true;
  let failedLists = 0;
  let lastGoodList = 0;
  const kube = {
    listPods: () => {
      if (apiUp) {
        lastGoodList = performance.now();
        return Promise.resolve([]);
      }
      failedLists++;
      return Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:6443'));
    },
  } as unknown as KubeClient;
  const r = AppReconciler.create({
    cluster: { status: () => ({ nodeName: 'edge-dev', role: 'server' }), runtime: { kube: () => kube } },
    deviceUuid: () => 'dev',
    publishInfo: () => Promise.resolve(),
    emit: () => undefined,
    clock: skewedClock(base, faults),
    logger: silentLogger,
  });
  const kubeStatus = (): string | undefined => r.status().apps[0]?.kubeStatus;
  try {
    // Designated elsewhere: this node only observes the app (no workload to create through the fake).
    const app = { uuid: 'a', version: '1', displayName: 'a', activate: true, designatedNodeId: 'other', affinity: 'preferred', purgeCounter: 0, restartCounter: 0, volumeRefs: [], cpus: 1, memoryKb: 1024 } as const;
    await r.onConfig(config({ apps: [{ ...app, volumeRefs: [] }] }));
    await until('the first pod list', () => (kubeStatus() === 'NotInCluster' ? true : undefined), 5_000);
    apiUp = false;
    faults.inject('clock-skew', { value: HOUR });
    const downAfter = APP_API_DOWN_MS / SCALE; // real ms
    // Passes run every 20–100 ms real: several fail inside the first third of the 120 s.
    await until('three failed pod lists', () => (failedLists >= 3 ? true : undefined), downAfter / 3);
    assert.notEqual(kubeStatus(), 'APIUnreachable', 'the skew alone must not count as two minutes of failures');
    await until('APIUnreachable after 120 s (spec) of failed pod lists', () => (kubeStatus() === 'APIUnreachable' ? true : undefined), 5_000);
    assert.ok(performance.now() - lastGoodList >= downAfter, 'not before 120 s after the last good pod list');
  } finally {
    await r.stop();
  }
});

test('content-tree download: a wall clock stepped 1 h back neither restarts nor holds it; it completes on time', async () => {
  const base = createClock(SCALE);
  const faults = new FaultSet(base);
  const downloadMs = 100_000; // spec: 1 s real at scale 100
  const r = AppReconciler.create({
    cluster: { status: () => ({ nodeName: 'edge-dev', role: 'server' }), runtime: { kube: () => undefined } },
    deviceUuid: () => 'dev',
    publishInfo: () => Promise.resolve(),
    emit: () => undefined,
    clock: skewedClock(base, faults),
    logger: silentLogger,
    downloadMs,
  });
  const tree = (): { state: info.ZSwState; progress: number } | undefined => r.status().contentTrees[0];
  try {
    const started = performance.now();
    await r.onConfig(config({ contentTrees: [{ uuid: 't', displayName: 't', designatedNodeId: '', isContainer: true }] }));
    await until('the download started', () => (tree()?.state === info.ZSwState.DOWNLOAD_STARTED ? true : undefined), 5_000);
    faults.inject('clock-skew', { value: -HOUR });
    await until('LOADED one download time after the start, skew or not', () => (tree()?.state === info.ZSwState.LOADED ? true : undefined), 5_000);
    assert.ok(performance.now() - started >= downloadMs / SCALE, 'not before the download time');
  } finally {
    await r.stop();
  }
});

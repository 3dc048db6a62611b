/**
 * An app deleted from the config while a pass can run: the pass must not take the removal and then ensure the app
 * from the config being replaced (found in the apps e2e, "delete of A": one node deleted the ReplicaSet, another
 * node's pass re-created it, and nothing removed it again). The app reconciler runs for real at time scale 100
 * against an in-memory ReplicaSet store; the UUID-only delete report is held until passes have run in between.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppReconciler } from '../../../../src/agent/apps/index.js';
import type { DeviceConfig } from '../../../../src/agent/index.js';
import { createClock, silentLogger } from '../../../../src/common/index.js';
import type { info } from '../../../../src/eve/index.js';
import { KubeError, type KubeClient } from '../../../../src/k3s/index.js';
import type { V1ReplicaSet } from '@kubernetes/client-node';

const app: DeviceConfig['apps'][number] = {
  uuid: 'a0000000-0000-4000-8000-00000000000a',
  version: '1',
  displayName: 'app-a',
  activate: true,
  designatedNodeId: '',
  affinity: 'preferred',
  purgeCounter: 0,
  restartCounter: 0,
  volumeRefs: [],
  cpus: 1,
  memoryKb: 1024,
};
const config = (apps: DeviceConfig['apps']): DeviceConfig => ({
  deviceUuid: 'dev',
  version: String(apps.length),
  deviceName: 'dev',
  controllerEpoch: 0,
  controllerCertConfigHash: '',
  configItems: new Map(),
  cluster: { kind: 'absent' },
  apps,
  volumes: [],
  contentTrees: [],
});

test('an app deleted while passes run is removed and stays removed', async () => {
  const replicaSets = new Map<string, V1ReplicaSet>();
  let lists = 0;
  const notFound = (name: string): KubeError => new KubeError('NOT_FOUND', `kube: ${name}: HTTP 404`, { op: 'getReplicaSet', target: name, status: 404 });
  const kube = {
    listPods: () => {
      lists++;
      return Promise.resolve([]);
    },
    listNodes: () => Promise.resolve([]),
    getReplicaSet: (name: string) => {
      const rs = replicaSets.get(name);
      return rs ? Promise.resolve(rs) : Promise.reject(notFound(name));
    },
    createReplicaSet: (rs: V1ReplicaSet) => {
      replicaSets.set(rs.metadata!.name!, rs);
      return Promise.resolve(rs);
    },
    replaceReplicaSet: (rs: V1ReplicaSet) => Promise.resolve(rs),
    deleteReplicaSet: (name: string) => (replicaSets.delete(name) ? Promise.resolve() : Promise.reject(notFound(name))),
  } as unknown as KubeClient;
  let release: () => void = () => undefined;
  const held = new Promise<void>((r) => (release = r));
  const r = AppReconciler.create({
    cluster: { status: () => ({ nodeName: 'edge-dev', role: 'server' }), runtime: { kube: () => kube } },
    deviceUuid: () => 'dev',
    publishInfo: (_key, msg: info.IZInfoMsg) => (msg.ainfo && msg.ainfo.state === undefined ? held : Promise.resolve()),
    emit: () => undefined,
    clock: createClock(100),
    logger: silentLogger,
  });
  const until = async (what: string, cond: () => boolean): Promise<void> => {
    for (let i = 0; i < 500 && !cond(); i++) await sleep(10);
    assert.ok(cond(), what);
  };
  try {
    await r.onConfig(config([app]));
    await until('the workload created', () => replicaSets.size === 1);
    const deleting = r.onConfig(config([]));
    const mark = lists;
    await until('passes while the delete report is held', () => lists >= mark + 3);
    release();
    await deleting;
    const after = lists;
    await until('more passes', () => lists >= after + 3);
    assert.deepEqual([...replicaSets.keys()], [], 'the ReplicaSet is gone and was not re-created');
    assert.deepEqual(r.status().apps, [], 'the app is forgotten');
  } finally {
    release();
    await r.stop();
  }
});

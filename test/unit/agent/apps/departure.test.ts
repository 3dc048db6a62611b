/**
 * Departure suppression (cluster.md §2.3, §5.5): the pure rule, and the app reconciler keeping objects while the
 * node leaves the cluster, then forgetting them without a delete once it runs single-node. The reconciler runs
 * without a kube API here (a fake cluster view: no k3s), which is all this rule needs; the clock is real.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyDeparture, withoutRetained } from '../../../../src/agent/apps/departure.js';
import { AppReconciler } from '../../../../src/agent/apps/index.js';
import type { DeviceConfig } from '../../../../src/agent/index.js';
import { createClock, silentLogger } from '../../../../src/common/index.js';
import type { info } from '../../../../src/eve/index.js';

const valid = { kind: 'valid' } as unknown as DeviceConfig['cluster']; // the rule looks only at `kind`
const app = (uuid: string): DeviceConfig['apps'][number] => ({
  uuid,
  version: '1',
  displayName: uuid,
  activate: true,
  designatedNodeId: '',
  affinity: 'preferred',
  purgeCounter: 0,
  restartCounter: 0,
  volumeRefs: [],
  cpus: 1,
  memoryKb: 1024,
});
const vol = (uuid: string): DeviceConfig['volumes'][number] => ({ uuid, displayName: uuid, designatedNodeId: '', generationCount: 0, contentTreeId: '', maxSizeBytes: 0 });
function config(cluster: DeviceConfig['cluster'], apps: string[], vols: string[] = []): DeviceConfig {
  return {
    deviceUuid: 'dev',
    version: '1',
    deviceName: 'dev',
    controllerEpoch: 0,
    controllerCertConfigHash: '',
    configItems: new Map(),
    cluster,
    apps: apps.map(app),
    volumes: vols.map(vol),
    contentTrees: [],
  };
}
const ids = (l: { uuid: string }[]): string[] => l.map((x) => x.uuid).sort();

test('applyDeparture: valid → absent arms and keeps what vanishes; invalid neither arms nor cancels; valid cancels', () => {
  const first = applyDeparture({ effective: undefined, departing: false }, config(valid, ['a', 'b'], ['v']));
  assert.equal(first.departing, false);
  // Apps leave together with the cluster block: kept.
  const leaving = applyDeparture({ effective: first.effective, departing: false }, config({ kind: 'absent' }, ['a']));
  assert.equal(leaving.departing, true);
  assert.deepEqual([ids(leaving.retained.apps), ids(leaving.retained.volumes)], [['b'], ['v']]);
  assert.deepEqual([ids(leaving.effective.apps), ids(leaving.effective.volumes)], [['a', 'b'], ['v']]);
  // Still no block, and `a` goes too: kept as well (the state carries over absent → absent).
  const later = applyDeparture({ effective: leaving.effective, departing: true }, config({ kind: 'absent' }, []));
  assert.deepEqual([later.departing, ids(later.effective.apps)], [true, ['a', 'b']]);
  // An invalid block is no departure: nothing kept.
  const bad = applyDeparture({ effective: first.effective, departing: false }, config({ kind: 'invalid', field: 'cluster.cluster_id', reason: 'not a UUID' }, []));
  assert.deepEqual([bad.departing, ids(bad.effective.apps)], [false, []]);
  // ...and it does not cancel an armed one.
  const badWhileLeaving = applyDeparture({ effective: leaving.effective, departing: true }, config({ kind: 'invalid', field: 'cluster.cluster_id', reason: 'x' }, []));
  assert.deepEqual([badWhileLeaving.departing, ids(badWhileLeaving.effective.apps)], [true, ['a', 'b']]);
  // A valid block comes back: cancelled, the config is taken as it is (deletes happen again).
  const back = applyDeparture({ effective: leaving.effective, departing: true }, config(valid, ['a']));
  assert.deepEqual([back.departing, ids(back.effective.apps), ids(back.retained.apps)], [false, ['a'], []]);
  // A single-node device (no block from the start) deletes normally.
  const single = applyDeparture({ effective: config({ kind: 'absent' }, ['a']), departing: false }, config({ kind: 'absent' }, []));
  assert.deepEqual([single.departing, ids(single.effective.apps)], [false, []]);
  assert.deepEqual(ids(withoutRetained(leaving.effective, leaving.retained).apps), ['a']);
});

test('AppReconciler: no delete report while leaving; after the single-node restart the kept app is forgotten silently', async () => {
  let role = 'server';
  const sent: info.IZInfoMsg[] = [];
  const r = AppReconciler.create({
    cluster: { status: () => ({ nodeName: 'edge-dev', role }), runtime: { kube: () => undefined } },
    deviceUuid: () => 'dev',
    publishInfo: (_key, msg) => {
      sent.push(msg);
      return Promise.resolve();
    },
    emit: () => undefined,
    clock: createClock(100),
    logger: silentLogger,
  });
  try {
    await r.onConfig(config(valid, ['a', 'b']));
    await waitUntil(() => r.status().apps.length === 2);
    await r.onConfig(config({ kind: 'absent' }, ['a']));
    const deletes = (): info.IZInfoMsg[] => sent.filter((m) => m.ainfo && m.ainfo.state === undefined);
    assert.deepEqual(deletes(), [], 'b left the config while leaving the cluster: no UUID-only delete');
    assert.deepEqual(ids(r.status().apps), ['a', 'b'], 'b still known');
    role = 'single'; // the cluster reconciler finished leaving (§5.5)
    await waitUntil(() => r.status().apps.length === 1);
    assert.deepEqual(ids(r.status().apps), ['a']);
    assert.deepEqual(deletes(), [], 'forgotten, not deleted');
    // Departure is over: an app leaving now is deleted as usual.
    await r.onConfig(config({ kind: 'absent' }, []));
    assert.deepEqual(deletes().map((m) => m.ainfo?.AppID), ['a']);
  } finally {
    await r.stop();
  }
});

async function waitUntil(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((res) => setTimeout(res, 25));
  assert.ok(cond(), 'condition not reached within 5 s');
}

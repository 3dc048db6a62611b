/**
 * Issue 13: ten in-process three-node clusters in one process, each with a PREFERRED app on its first member; the
 * first member of every cluster is killed at once → in each cluster the app is reported running (ZInfoApp
 * `cluster_app_running`, RUNNING) by exactly one survivor, the one that hosts its new pod.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createClock, silentLogger } from '../../../src/common/index.js';
import { info } from '../../../src/eve/index.js';
import { toK8sNodeName } from '../../../src/k3s/index.js';
import { InprocSegment } from '../../../src/inproc/segment.js';
import { configureCluster, startInprocCluster, type InprocDevice } from '../../helpers/inproc.js';
import { waitFor } from '../../helpers/wait.js';

const CLUSTERS = 10;
const SCALE = 20;

test(`a member killed in each of ${CLUSTERS} clusters at once: each app is reported running by exactly one survivor`, async (t) => {
  const keepAlive = setInterval(() => undefined, 1_000);
  const clock = createClock(SCALE);
  const clusters: { devices: InprocDevice[]; app: string }[] = [];
  t.after(async () => {
    await Promise.all(clusters.flatMap((c) => c.devices.map((d) => d.stop().catch(() => undefined))));
    clearInterval(keepAlive);
  });
  for (let c = 0; c < CLUSTERS; c++) {
    const spec = { clusterId: `9a9a9a9a-0000-4000-8000-${c.toString(16).padStart(12, '0')}`, net: '127.100.3.', token: `failovers-${c}` };
    const devices = startInprocCluster(new InprocSegment(), spec, 3, { index: 10 + c, clock, logger: silentLogger });
    const app = `a1b2c3d4-0000-4000-8000-${c.toString(16).padStart(12, '0')}`;
    configureCluster(devices, { ...spec, apps: [{ uuid: app, name: `app-${c}`, designated: devices[0].uuid }] }, 1);
    clusters.push({ devices, app });
  }
  const running = (d: InprocDevice, app: string): boolean => {
    const a = d.published.filter((p) => p.key === app && p.msg.ainfo).at(-1)?.msg.ainfo;
    return !!a?.cluster_app_running && a.state === info.ZSwState.RUNNING;
  };
  for (const { devices, app } of clusters) {
    await waitFor(`${devices[0].name} runs ${app}`, () => Promise.resolve(running(devices[0], app)), 180_000, 100);
  }
  await Promise.all(clusters.map(({ devices }) => devices[0].kill()));
  for (const { devices, app } of clusters) {
    const survivors = devices.slice(1);
    await waitFor(`a survivor of ${devices[0].name}'s cluster reports ${app}`, () => Promise.resolve(survivors.some((d) => running(d, app))), 180_000, 100);
  }
  // Three app passes (10 s spec each) more: a second reporter would have shown by then.
  await clock.sleep(30_000);
  for (const { devices, app } of clusters) {
    const reporters = devices.slice(1).filter((d) => running(d, app));
    assert.equal(reporters.length, 1, `exactly one survivor reports ${app}: ${reporters.map((d) => d.name).join(', ')}`);
    const kube = reporters[0].seams.k3s.kube()!;
    const pods = (await kube.listPods()).filter((p) => p.phase === 'Running' && !p.deletionTimestamp);
    assert.deepEqual(pods.map((p) => p.nodeName), [toK8sNodeName(reporters[0].name)], `the reporter hosts the one running pod of ${app}`);
  }
});

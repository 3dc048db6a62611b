/**
 * The cluster faults of the catalogue on in-process cluster members, through each device's own fault set and
 * the agent's fault code (cluster-faults.ts), with the effects on the reports that the full path has
 * (test/e2e/cluster-faults.test.ts, partition.test.ts): k3s killed → restarted by its supervisor, READY again;
 * k3s stopped and heartbeats paused → DOWN after 2 min without the API, READY once cleared; cluster interface down
 * → the majority sees the node not Ready and stays READY, READY everywhere after the clear.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createClock, createLogger, silentLogger } from '../../../src/common/index.js';
import { info } from '../../../src/eve/index.js';
import { toK8sNodeName } from '../../../src/k3s/index.js';
import { InprocSegment } from '../../../src/inproc/segment.js';
import { configureCluster, startInprocCluster, type InprocDevice } from '../../helpers/inproc.js';
import { waitFor } from '../../helpers/wait.js';

const SCALE = 20;
const logger = process.env.INPROC_DEBUG ? createLogger({ level: 'debug', format: 'text' }) : silentLogger;
const clock = createClock(SCALE);
let devices: InprocDevice[] = [];
let keepAlive: NodeJS.Timeout | undefined;

const statusSince = (d: InprocDevice, sinceMs: number): string | undefined => {
  const s = d.published.filter((p) => p.key === 'clusternode' && p.atMs >= sinceMs).at(-1)?.msg.cluster_node?.node_status;
  return s === undefined || s === null ? undefined : info.ZInfoClusterNodeStatus[s].replace('Z_INFO_CLUSTER_NODE_STATUS_', '');
};
const waitStatus = (d: InprocDevice, want: string, sinceMs = 0): Promise<unknown> =>
  waitFor(`${d.name} reports ${want}`, () => Promise.resolve(statusSince(d, sinceMs) === want), 60_000, 50);

before(async () => {
  keepAlive = setInterval(() => undefined, 1_000);
  const segment = new InprocSegment();
  const spec = { clusterId: '7c3c6f2d-9b57-4d6a-8b68-8a4d2d3f1e22', net: '127.100.1.', token: 'inproc-faults-token' };
  devices = startInprocCluster(segment, spec, 3, { index: 2, clock, logger });
  configureCluster(devices, spec, 1);
  for (const d of devices) await waitStatus(d, 'READY');
});

after(async () => {
  await Promise.all(devices.map((d) => d.stop().catch(() => undefined)));
  clearInterval(keepAlive);
});

test('k3s killed: its supervisor restarts it and the node reports READY again', async () => {
  const d = devices[1];
  const proc = d.seams.k3s.process!;
  const before = proc.restarts;
  const since = clock.now();
  d.faults.inject('k3s-killed');
  await waitFor('a k3s restart', () => Promise.resolve(proc.restarts > before), 30_000, 50);
  assert.equal(d.faults.has('k3s-killed'), false, 'a one-shot fault');
  await waitStatus(d, 'READY', since);
});

for (const fault of ['k3s-stopped', 'heartbeats-paused'] as const) {
  test(`${fault}: DOWN after 2 min without the API (scaled), READY after clearing`, async () => {
    const d = devices[2];
    const since = clock.now();
    d.faults.inject(fault);
    await waitStatus(d, 'DOWN', since);
    assert.ok(clock.specMs(clock.now() - since) >= 110_000, 'DOWN only after the 2 min');
    const kube = devices[0].seams.k3s.kube()!;
    await waitFor(`the others see ${d.name} not Ready`, async () => (await kube.getNode(toK8sNodeName(d.name))).ready !== 'True', 30_000, 50);
    const cleared = clock.now();
    d.faults.clear(fault);
    await waitStatus(d, 'READY', cleared);
    await waitFor(`${d.name} Ready again`, async () => (await kube.getNode(toK8sNodeName(d.name))).ready === 'True', 30_000, 50);
  });
}

test('cluster interface down: the majority sees the node not Ready and stays READY; cleared: READY', async () => {
  const d = devices[2];
  const kube = devices[0].seams.k3s.kube()!;
  const since = clock.now();
  d.faults.inject('cluster-interface-down');
  await waitFor(`${d.name} not Ready for the majority`, async () => (await kube.getNode(toK8sNodeName(d.name))).ready !== 'True', 30_000, 50);
  await waitFor(`${d.name} reports it is not READY`, () => Promise.resolve(['NOTREADY', 'DOWN'].includes(statusSince(d, since) ?? '')), 60_000, 50);
  for (const o of devices.slice(0, 2)) assert.equal(statusSince(o, 0), 'READY', `${o.name} stays READY`);
  const cleared = clock.now();
  d.faults.clear('cluster-interface-down');
  await waitStatus(d, 'READY', cleared);
  await waitFor('3 Ready nodes', async () => (await kube.listNodes()).every((n) => n.ready === 'True'), 30_000, 50);
});

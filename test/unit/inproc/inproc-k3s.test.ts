/**
 * InprocK3s reads the drop-ins exactly as rendered for disk (base config.yaml + config.yaml.d) through the stand-in's
 * config merge: EVE's timings, the role's flags (cluster-init / server + token) and the node name and IP.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createClock, silentLogger } from '../../../src/common/index.js';
import { InprocK3s } from '../../../src/inproc/k3s.js';
import { InprocSegment } from '../../../src/inproc/segment.js';

const cluster = (clusterIp: string) => ({
  clusterId: '5b2b5e1c-8a46-4c5f-9a57-7f3c1c2e0d11',
  clusterIp,
  joinServerIp: '127.100.0.2',
  token: 'tok-123',
  clusterIfName: 'eth1',
  bootstrap: clusterIp === '127.100.0.2',
});

test('the compiled config of each role', async () => {
  const k3s = new InprocK3s({ host: new InprocSegment().host('h'), clock: createClock(1), logger: silentLogger, extraConfig: { 'pod-start-delay': '1s' } });
  const table = [
    { ip: '127.100.0.2', role: 'bootstrap', clusterInit: true, server: undefined },
    { ip: '127.100.0.3', role: 'server', clusterInit: false, server: 'https://127.100.0.2:6443' },
  ];
  for (const row of table) {
    const r = await k3s.writeConfig({ deviceName: 'Edge-Dev', deviceUuid: 'a0000000-0000-4000-8000-000000000001', nodeIp: row.ip, cluster: cluster(row.ip) });
    assert.deepEqual(r, { role: row.role, nodeName: 'edge-dev', nodeIp: row.ip });
    const c = k3s.config!;
    assert.deepEqual(
      [c.role, c.nodeName, c.nodeIp, c.clusterInit, c.server, c.token, c.nodeStatusUpdateMs, c.nodeMonitorPeriodMs, c.nodeMonitorGraceMs, c.podStartDelayMs],
      ['server', 'edge-dev', row.ip, row.clusterInit, row.server, 'tok-123', 2_000, 10_000, 40_000, 1_000],
      row.role,
    );
  }
  await k3s.writeConfig({ deviceName: 'solo', deviceUuid: 'a0000000-0000-4000-8000-000000000001', nodeIp: '127.0.0.9' });
  assert.deepEqual([k3s.config!.nodeIp, k3s.config!.clusterInit, k3s.config!.server], ['127.0.0.9', false, undefined], 'single-node');
});

/** The metrics exporter: loopback-only address check, metric values from the agent's status, events and config. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { agentMetricsRegistry, isAdminError, MetricsExporter, parseMetricsListen } from '../../../../src/agent/admin/index.js';
import type { AgentStatus, DeviceConfig } from '../../../../src/agent/index.js';
import { createClock, silentLogger } from '../../../../src/common/index.js';
import { StubAgent } from './stub-agent.js';

test('parseMetricsListen accepts loopback host:port (or a port) only, naming the flag; remote IPs only when allowed', () => {
  assert.deepEqual(parseMetricsListen('127.0.0.1:9464'), { host: '127.0.0.1', port: 9464, loopback: true });
  assert.deepEqual(parseMetricsListen('127.0.3.4:0'), { host: '127.0.3.4', port: 0, loopback: true });
  assert.deepEqual(parseMetricsListen('[::1]:9464'), { host: '::1', port: 9464, loopback: true });
  assert.deepEqual(parseMetricsListen('localhost:1'), { host: 'localhost', port: 1, loopback: true });
  assert.deepEqual(parseMetricsListen('9470'), { host: '127.0.0.1', port: 9470, loopback: true });
  assert.deepEqual(parseMetricsListen('9470', { remote: true }), { host: '127.0.0.1', port: 9470, loopback: true });
  for (const bad of ['0.0.0.0:9464', '10.0.2.15:9464', '[::]:9464', '127.0.0.1', '127.0.0.1:70000', 'example.com:80']) {
    assert.throws(() => parseMetricsListen(bad), (e: unknown) => isAdminError(e) && e.kind === 'INVALID_ARGUMENT' && /--metrics-listen/.test(e.message), bad);
  }
  assert.deepEqual(parseMetricsListen('0.0.0.0:9470', { remote: true }), { host: '0.0.0.0', port: 9470, loopback: false });
  assert.deepEqual(parseMetricsListen('[::]:9470', { remote: true }), { host: '::', port: 9470, loopback: false });
  assert.deepEqual(parseMetricsListen('10.0.2.15:9470', { remote: true }), { host: '10.0.2.15', port: 9470, loopback: false });
  for (const bad of ['example.com:80', ':9470', '0.0.0.0:70000']) {
    assert.throws(() => parseMetricsListen(bad, { remote: true }), (e: unknown) => isAdminError(e) && /--metrics-listen/.test(e.message), bad);
  }
});

test('the registry reads status at scrape time and counts config events', async () => {
  const agent = new StubAgent(createClock(1));
  const registry = agentMetricsRegistry(agent, '1.2.3');
  agent.statusValue = {
    ...agent.statusValue,
    phase: 'attesting',
    controllerReachable: false,
    attested: false,
    lastConfigError: 'config rejected',
    queueDepth: 7,
    queueOldestAgeMs: 2_500,
    cluster: {
      role: 'server',
      clusterId: 'c',
      clusterIp: '10.244.244.3',
      nodeName: 'n',
      nodeStatus: 'READY',
      isLeader: false,
      leader: 'm',
      nodes: [
        { name: 'm', ready: true, internalIp: '10.244.244.2', nodeId: 'a', schedulable: true },
        { name: 'n', ready: true, internalIp: '10.244.244.3', nodeId: 'b', schedulable: true },
        { name: 'o', ready: false, internalIp: '10.244.244.4', nodeId: 'c', schedulable: true },
      ],
      error: undefined,
      phase: 'running',
    },
  };
  agent.faults.inject('controller-5xx');
  agent.emit('config.accepted', 'v1', { source: 'checkpoint' });
  agent.emit('config.accepted', 'v2', { source: 'controller' });
  agent.emit('config.rejected', 'bad');
  agent.statusValue.apps = [
    { activated: true, state: 'RUNNING' },
    { activated: false, state: 'RUNNING' },
    { activated: false, state: 'HALTED' },
  ] as NonNullable<AgentStatus['apps']>;
  for (const o of agent.observers) {
    o.configFetch?.('accepted', 40);
    o.configFetch?.('unchanged', 3);
    o.configFetch?.('unchanged', 7);
    o.keyStoreOp?.('quote', 120, true);
    o.keyStoreOp?.('sign', 0.3, false);
  }
  const apps = [true, true, false].map((activate, i) => ({ uuid: `u${i}`, activate }));
  for (const l of agent.configListeners) await l({ apps } as unknown as DeviceConfig);
  const text = await registry.metrics();
  const expect = [
    'edgesim_agent_info{version="1.2.3",key_store="soft"} 1',
    'edgesim_agent_phase{phase="attesting"} 1',
    'edgesim_agent_phase{phase="running"} 0',
    'edgesim_controller_reachable 0',
    'edgesim_agent_attested 0',
    'edgesim_config_results_total{result="accepted",source="checkpoint"} 1',
    'edgesim_config_results_total{result="accepted",source="controller"} 1',
    'edgesim_config_results_total{result="rejected",source="controller"} 1',
    'edgesim_config_rejected 1',
    'edgesim_config_last_accepted_timestamp_seconds 1700000000',
    'edgesim_info_queue_depth 7',
    'edgesim_info_queue_oldest_age_seconds 2.5',
    'edgesim_fault_active{kind="controller-5xx"} 1',
    'edgesim_fault_active{kind="config-tamper"} 0',
    'edgesim_cluster_role{role="server"} 1',
    'edgesim_cluster_role{role="none"} 0',
    'edgesim_cluster_node_ready 1',
    'edgesim_cluster_leader 0',
    'edgesim_cluster_nodes{ready="true"} 2',
    'edgesim_cluster_nodes{ready="false"} 1',
    'edgesim_apps_configured{activate="true"} 2',
    'edgesim_apps_configured{activate="false"} 1',
    'edgesim_apps_running 1',
    'edgesim_apps_state{state="RUNNING"} 2',
    'edgesim_apps_state{state="HALTED"} 1',
    'edgesim_config_fetch_duration_seconds_count{result="accepted"} 1',
    'edgesim_config_fetch_duration_seconds_count{result="unchanged"} 2',
    'edgesim_config_fetch_duration_seconds_sum{result="unchanged"} 0.01',
    'edgesim_config_fetch_duration_seconds_bucket{le="0.005",result="unchanged"} 1',
    'edgesim_config_fetch_duration_seconds_bucket{le="0.05",result="accepted"} 1',
    'edgesim_config_fetch_duration_seconds_bucket{le="0.025",result="accepted"} 0',
    'edgesim_tpm_op_duration_seconds_count{op="quote",result="ok"} 1',
    'edgesim_tpm_op_duration_seconds_bucket{le="0.1",op="quote",result="ok"} 0',
    'edgesim_tpm_op_duration_seconds_bucket{le="0.25",op="quote",result="ok"} 1',
    'edgesim_tpm_op_duration_seconds_count{op="sign",result="error"} 1',
  ];
  for (const line of expect) assert.ok(text.split('\n').includes(line), `missing: ${line}`);
  assert.match(text, /^edgesim_agent_process_cpu_seconds_total /m, 'process metrics are there too');
});

test('the exporter serves GET /metrics on loopback and stops idempotently', async () => {
  const agent = new StubAgent(createClock(1));
  const m = await MetricsExporter.create({ agent, listen: '127.0.0.1:0', version: '1.2.3', logger: silentLogger });
  try {
    assert.match(m.url, /^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    const res = await fetch(m.url);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    assert.match(await res.text(), /^edgesim_info_queue_depth 2$/m);
    assert.equal((await fetch(m.url, { method: 'POST' })).status, 404);
  } finally {
    await Promise.all([m.stop(), m.stop()]);
  }
  await assert.rejects(fetch(m.url));
});

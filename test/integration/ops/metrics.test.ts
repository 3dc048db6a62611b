/**
 * The Prometheus metrics of a real agent, scraped over HTTP from its loopback port: config request results and
 * latency, TPM operation latency (a real swtpm when installed: TPM2_Sign and TPM2_Quote through tpm2-tools; else the
 * soft key store), info queue depth and age, cluster and app series. The agent runs against the embedded controller
 * on loopback; faults (controller-unreachable, tpm-unavailable) produce the failure series. Timers scaled ×20.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { Agent } from '../../../src/agent/index.js';
import { Operations } from '../../../src/agent/admin/index.js';
import { createClock, silentLogger } from '../../../src/common/index.js';
import { info } from '../../../src/eve/index.js';
import { SwtpmProcess } from '../../../src/tpm/index.js';
import { startTestController, type TestController } from '../../helpers/controller.js';
import { waitFor } from '../../helpers/wait.js';

const TIME_SCALE = 20;
const haveSwtpm = ['swtpm', 'tpm2_quote'].every((c) => spawnSync('sh', ['-c', `command -v ${c}`], { stdio: 'ignore' }).status === 0);
const clock = createClock(TIME_SCALE);
let ctl: TestController;
let swtpm: SwtpmProcess | undefined;
let agent: Agent | undefined;
let ops: Operations | undefined;
let url: string;
let uuid: string;

/** One scraped sample: metric name, labels, value. */
interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

async function scrape(): Promise<Sample[]> {
  const res = await fetch(url);
  assert.equal(res.status, 200);
  const samples: Sample[] = [];
  for (const line of (await res.text()).split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(m, `not a Prometheus text line: ${line}`);
    const labels = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
    samples.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return samples;
}

/** The value of the one sample named `name` whose labels include `labels`; undefined when there is none. */
function value(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const hits = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  assert.ok(hits.length <= 1, `${name} ${JSON.stringify(labels)} matches ${hits.length} samples`);
  return hits[0]?.value;
}

/** Checks a histogram series: cumulative buckets, +Inf = count, a sane mean; returns the count. */
function histogram(samples: Sample[], name: string, labels: Record<string, string>, maxMeanS: number): number {
  const count = value(samples, `${name}_count`, labels) ?? 0;
  const sum = value(samples, `${name}_sum`, labels) ?? 0;
  const buckets = samples.filter((s) => s.name === `${name}_bucket` && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (count === 0) return 0;
  assert.ok(buckets.length > 1, `${name} ${JSON.stringify(labels)} has buckets`);
  for (let i = 1; i < buckets.length; i++) assert.ok(buckets[i].value >= buckets[i - 1].value, `${name} buckets are cumulative`);
  assert.equal(buckets.at(-1)!.labels.le, '+Inf');
  assert.equal(buckets.at(-1)!.value, count, `${name} +Inf bucket = count`);
  assert.ok(sum > 0 && sum / count < maxMeanS, `${name} ${JSON.stringify(labels)}: mean ${(sum / count).toFixed(4)} s over ${count}`);
  return count;
}

before(async () => {
  ctl = await startTestController();
  if (haveSwtpm) swtpm = await SwtpmProcess.create({ stateDir: path.join(ctl.dir, 'swtpm'), logger: silentLogger, clock: createClock(1) });
  const configDir = await ctl.deviceFolder('m');
  const stateDir = path.join(ctl.dir, 'm', 'state');
  agent = await Agent.create({ configDir, stateDir, ...(swtpm ? { tpm: swtpm.tcti } : {}), configIntervalMs: 5_000, clock, logger: silentLogger });
  ops = await Operations.create({ agent, stateDir, metricsListen: '127.0.0.1:0', env: {}, pid: process.pid, version: 'test', clock, logger: silentLogger });
  url = ops.metrics!.url;
  void agent.run();
  uuid = await waitFor('onboarding', () => agent!.status().deviceUuid, 60_000);
  await ctl.admin.setConfig(uuid, { device_name: 'm-v1' });
  await waitFor('the first config from the controller', () => agent!.status().configSource === 'controller', 60_000);
});
after(async () => {
  await ops?.stop();
  await agent?.stop();
  await swtpm?.stop();
  await ctl?.dispose();
});

test('config requests: accepted and unchanged results with their latency', async () => {
  const s = await waitFor('an unchanged poll after the config', async () => {
    const x = await scrape();
    return (value(x, 'edgesim_config_fetch_duration_seconds_count', { result: 'unchanged' }) ?? 0) >= 1 ? x : undefined;
  });
  assert.ok(histogram(s, 'edgesim_config_fetch_duration_seconds', { result: 'accepted' }, 30) >= 1);
  assert.ok(histogram(s, 'edgesim_config_fetch_duration_seconds', { result: 'unchanged' }, 30) >= 1);
  assert.equal(value(s, 'edgesim_config_results_total', { result: 'accepted', source: 'controller' }), 1);
  assert.equal(value(s, 'edgesim_controller_reachable'), 1);
  assert.equal(value(s, 'edgesim_agent_phase', { phase: 'running' }), 1);
  const last = value(s, 'edgesim_config_last_accepted_timestamp_seconds') ?? 0;
  assert.ok(Math.abs(last - Date.now() / 1000) < 300, `last accepted ${last}`);
});

test('TPM operations: sign (every request) and quote (attestation) latency by op', async (t) => {
  await waitFor('attestation', () => agent!.status().attested, 60_000);
  const s = await scrape();
  const signs = histogram(s, 'edgesim_tpm_op_duration_seconds', { op: 'sign', result: 'ok' }, 10);
  assert.ok(signs >= 3, `${signs} signatures (register is soft-signed; uuid, attest and config requests use the device key)`);
  assert.equal(value(s, 'edgesim_agent_info', { key_store: swtpm ? 'tpm' : 'soft' }), 1);
  if (swtpm) assert.ok(histogram(s, 'edgesim_tpm_op_duration_seconds', { op: 'quote', result: 'ok' }, 10) >= 1, 'TPM2_Quote timed');
  else t.diagnostic('swtpm/tpm2-tools not installed: soft key store, no TPM2_Quote');
  const mean = (op: string): string => {
    const sum = value(s, 'edgesim_tpm_op_duration_seconds_sum', { op, result: 'ok' }) ?? 0;
    return `${((1000 * sum) / (value(s, 'edgesim_tpm_op_duration_seconds_count', { op, result: 'ok' }) ?? 1)).toFixed(1)} ms`;
  };
  t.diagnostic(`mean sign ${mean('sign')}, quote ${mean('quote')} (${swtpm ? 'swtpm' : 'soft'})`);
});

test('failures: unreachable and tpm-error requests, TPM errors, queue depth and age while the controller is away', async () => {
  agent!.faults.inject('controller-unreachable');
  const key = '33333333-3333-4333-8333-000000000001';
  await agent!.publishInfo(key, { ztype: info.ZInfoTypes.ZiApp, devId: uuid, ainfo: { AppID: key, AppName: 'm-app', state: info.ZSwState.RUNNING } });
  const held = await waitFor('an unreachable poll and a queued item older than 0.5 s', async () => {
    const x = await scrape();
    const ok = (value(x, 'edgesim_config_fetch_duration_seconds_count', { result: 'unreachable' }) ?? 0) >= 1;
    return ok && (value(x, 'edgesim_info_queue_oldest_age_seconds') ?? 0) >= 0.5 ? x : undefined;
  });
  assert.ok((value(held, 'edgesim_info_queue_depth') ?? 0) >= 1);
  assert.ok((value(held, 'edgesim_info_queue_oldest_age_seconds') ?? 0) < 120);
  assert.equal(value(held, 'edgesim_controller_reachable'), 0);
  assert.equal(value(held, 'edgesim_fault_active', { kind: 'controller-unreachable' }), 1);
  agent!.faults.clear('controller-unreachable');

  agent!.faults.inject('tpm-unavailable');
  const failed = await waitFor('a config request the TPM could not sign', async () => {
    const x = await scrape();
    return (value(x, 'edgesim_config_fetch_duration_seconds_count', { result: 'tpm-error' }) ?? 0) >= 1 ? x : undefined;
  });
  assert.ok((value(failed, 'edgesim_tpm_op_duration_seconds_count', { op: 'sign', result: 'error' }) ?? 0) >= 1);
  agent!.faults.clear('tpm-unavailable');

  const drained = await waitFor('the queue drained', async () => {
    const x = await scrape();
    return value(x, 'edgesim_info_queue_depth') === 0 ? x : undefined;
  }, 30_000);
  assert.equal(value(drained, 'edgesim_info_queue_oldest_age_seconds'), 0);
});

test('cluster and app series of an agent without k3s', async () => {
  const s = await scrape();
  assert.equal(value(s, 'edgesim_cluster_role', { role: 'none' }), 1);
  assert.equal(value(s, 'edgesim_cluster_node_ready'), 0);
  assert.equal(value(s, 'edgesim_cluster_nodes', { ready: 'true' }), 0);
  assert.equal(value(s, 'edgesim_apps_running'), 0);
  assert.equal(value(s, 'edgesim_apps_configured', { activate: 'true' }), 0);
});

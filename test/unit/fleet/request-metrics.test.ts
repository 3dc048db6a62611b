/** Request metrics: endpoint names, percentiles, per-period rates; the live view renders them. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { RequestMetrics, endpointOf, percentile } from '../../../src/fleet/request-metrics.js';
import { snapshotJsonLine, snapshotTable } from '../../../src/fleet/live-view.js';

void describe('request metrics', () => {
  void it('names the EVE endpoint of a URL', () => {
    assert.equal(endpointOf('https://h:1/api/v2/edgedevice/certs'), 'certs');
    assert.equal(endpointOf('https://h:1/api/v2/edgedevice/id/7e0a/config'), 'config');
    assert.equal(endpointOf('https://h:1/api/v2/edgedevice/id/7e0a/info?x=1'), 'info');
  });

  void it('takes nearest-rank percentiles', () => {
    const a = Array.from({ length: 100 }, (_, i) => i + 1);
    assert.equal(percentile(a, 0.5), 50);
    assert.equal(percentile(a, 0.99), 99);
    assert.equal(percentile([7], 0.99), 7);
    assert.ok(Number.isNaN(percentile([], 0.5)));
  });

  void it('counts by endpoint and outcome, in Prometheus too, and starts a new period on each take', async () => {
    const registry = new Registry();
    const m = new RequestMetrics(registry);
    for (let i = 1; i <= 100; i++) m.record('config', i % 10 === 0 ? '404' : '304', i);
    m.record('info', 'unreachable', 5);
    const p = m.takePeriod();
    assert.deepEqual(Object.keys(p), ['config', 'info']);
    assert.equal(p.config.p50Ms, 50);
    assert.equal(p.config.p99Ms, 99);
    assert.ok(p.config.perSecond['304'] > p.config.perSecond['404']);
    assert.deepEqual(m.takePeriod(), {});
    assert.equal(m.total('config'), 100);
    assert.equal(m.total('config', '404'), 10);
    const text = await registry.metrics();
    assert.match(text, /edgesim_fleet_requests_total\{endpoint="config",status="304"\} 90/);
    assert.match(text, /edgesim_fleet_requests_total\{endpoint="info",status="unreachable"\} 1/);
  });

  void it('renders a snapshot as a table and as one JSON line', () => {
    const s = {
      atMs: Date.UTC(2026, 0, 1, 12, 0, 0),
      state: 'running' as const,
      shard: '0/1',
      devices: 3,
      byPhase: { running: 2, onboarding: 1 },
      onboarded: 2,
      queueDepth: 1,
      requests: { config: { perSecond: { '304': 2.5 }, p50Ms: 3, p99Ms: 9 } },
      faults: { 'controller-delay': 1 },
      restarts: 0,
      clusters: { planned: 0, requested: 0, failed: 0 },
      scheduler: { pending: 15, maxLateMs: 2 },
      rssMiB: 90,
      heapUsedMiB: 40,
    };
    const table = snapshotTable(s);
    assert.match(table, /^12:00:00 {2}fleet running {2}shard 0\/1 {2}devices 3 \(onboarded 2\): onboarding 1 · running 2/);
    assert.match(table, /config +304:2\.5 +3 +9/);
    assert.match(table, /faults: controller-delay 1/);
    const json = JSON.parse(snapshotJsonLine(s)) as Record<string, unknown>;
    assert.equal(json.at, '2026-01-01T12:00:00.000Z');
    assert.equal(json.atMs, undefined);
    assert.deepEqual(json.byPhase, s.byPhase);
  });
});

/**
 * The systemd notifier's decisions (status line, watchdog interval) and its quiet modes; the messages on a real
 * notify socket are asserted in test/integration/ops/systemd.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SystemdNotifier, statusLine, watchdogIntervalMs } from '../../../../src/agent/admin/index.js';
import { createClock, silentLogger } from '../../../../src/common/index.js';
import { StubAgent } from './stub-agent.js';

test('statusLine sums up phase, config, connectivity, queue, cluster and faults', () => {
  const agent = new StubAgent(createClock(1));
  assert.equal(statusLine(agent), 'running; config abc123 from controller; controller reachable; queue 2');
  agent.statusValue = { ...agent.statusValue, phase: 'onboarding', lastConfigHash: '', controllerReachable: false, queueDepth: 0 };
  agent.faults.inject('controller-unreachable');
  assert.equal(statusLine(agent), 'onboarding; no config yet; controller unreachable; queue 0; faults controller-unreachable');
  agent.faults.clear('all');
  agent.statusValue = {
    ...agent.statusValue,
    lastConfigHash: '0123456789abcdef',
    lastConfigError: 'x',
    cluster: { role: 'bootstrap', clusterId: '', clusterIp: '', nodeName: '', nodeStatus: 'READY', isLeader: true, leader: '', nodes: [], error: undefined, phase: 'running' },
  };
  assert.equal(
    statusLine(agent),
    'onboarding; config 01234567 from controller; last config rejected; controller unreachable; queue 0; cluster bootstrap READY',
  );
});

test('watchdogIntervalMs is half of WATCHDOG_USEC, and only for our PID', () => {
  assert.equal(watchdogIntervalMs({ WATCHDOG_USEC: '60000000' }, 42), 30_000);
  assert.equal(watchdogIntervalMs({ WATCHDOG_USEC: '60000000', WATCHDOG_PID: '42' }, 42), 30_000);
  assert.equal(watchdogIntervalMs({ WATCHDOG_USEC: '60000000', WATCHDOG_PID: '43' }, 42), undefined);
  assert.equal(watchdogIntervalMs({}, 42), undefined);
  assert.equal(watchdogIntervalMs({ WATCHDOG_USEC: 'x' }, 42), undefined);
  assert.equal(watchdogIntervalMs({ WATCHDOG_USEC: '0' }, 42), undefined);
});

test('without NOTIFY_SOCKET the notifier does nothing at all', async () => {
  const agent = new StubAgent(createClock(1));
  const n = SystemdNotifier.create({ agent, env: { WATCHDOG_USEC: '1000' }, pid: process.pid, clock: createClock(1), logger: silentLogger, command: '/nonexistent' });
  assert.equal(n.enabled, false);
  assert.equal(agent.events.size, 0, 'no event listener registered');
  assert.equal(agent.configListeners.length, 0, 'no config listener registered');
  await n.stop();
});

test('a missing notify helper is logged, never thrown, and stop still resolves', async () => {
  const agent = new StubAgent(createClock(1));
  const warnings: string[] = [];
  const logger = { ...silentLogger, warn: (m: string) => void warnings.push(m), child: () => logger };
  const n = SystemdNotifier.create({ agent, env: { NOTIFY_SOCKET: '/nonexistent/notify.sock' }, pid: process.pid, clock: createClock(1), logger, command: '/nonexistent/systemd-notify' });
  assert.equal(n.enabled, true);
  for (const l of agent.configListeners) await l({} as never);
  await n.stop();
  await n.stop();
  assert.deepEqual(warnings, ['systemd notification failed'], 'one warning, later failures at debug');
});

/**
 * The admin gRPC server and client over a real unix socket. The agent behind it is a stand-in (stub-agent.ts):
 * this test is about the RPC mapping, status codes and the socket's lifecycle; test/integration/ops/ runs the same
 * server in front of a real agent.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { DeviceConfig } from '../../../../src/agent/index.js';
import { AdminClient, AdminServer, isAdminError, REDACTED, type EventMsg } from '../../../../src/agent/admin/index.js';
import { createClock, silentLogger } from '../../../../src/common/index.js';
import { StubAgent } from './stub-agent.js';

const clock = createClock(1);

const config: DeviceConfig = {
  deviceUuid: '6ba7b810-9dad-11d1-80b4-00c04fd430c8',
  version: '7',
  deviceName: 'dev1',
  controllerEpoch: 1,
  controllerCertConfigHash: 'h',
  configItems: new Map([
    ['timer.config.interval', '60'],
    ['cluster.join.token', 'hunter2'],
  ]),
  cluster: {
    kind: 'valid',
    config: {
      clusterName: 'c',
      clusterId: '11111111-2222-4333-8444-555555555555',
      clusterInterface: 'ethernet1',
      clusterIp: '10.244.244.2',
      prefixLength: 24,
      joinServerIp: '10.244.244.2',
      role: 'bootstrap',
      clusterType: 1,
      tieBreakerNodeId: '',
      encryptedToken: {
        contextId: 'ctx',
        initialValue: Buffer.alloc(16),
        cipherData: Buffer.from('secret-bytes'),
        clearTextSha256: Buffer.alloc(32),
        context: undefined,
      },
    },
  },
  apps: [
    {
      uuid: 'aaaaaaaa-0000-4000-8000-000000000001',
      version: '1',
      displayName: 'nginx',
      activate: true,
      designatedNodeId: '',
      affinity: 'required',
      purgeCounter: 0,
      restartCounter: 0,
      volumeRefs: [],
      cpus: 1,
      memoryKb: 1024,
    },
  ],
  volumes: [],
  contentTrees: [],
};

let dir: string;
let agent: StubAgent;
let server: AdminServer;
let client: AdminClient;

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'edgesim-admin-'));
  agent = new StubAgent(clock);
  server = await AdminServer.create({
    agent: agent,
    socketPath: path.join(dir, 'admin.sock'),
    version: '9.9.9',
    logger: silentLogger,
    clock,
  });
  client = new AdminClient(server.socketPath);
});
after(async () => {
  client?.close();
  await server?.stop();
  await rm(dir, { recursive: true, force: true });
});

test('the socket is owner-only (0600)', async () => {
  assert.equal((await stat(server.socketPath)).mode & 0o777, 0o600);
});

test('Status carries every AgentStatus field, the key store, the version and the active faults', async () => {
  agent.faults.inject('controller-delay', { value: 250 });
  const s = await client.status();
  agent.faults.clear('all');
  assert.equal(s.phase, 'running');
  assert.equal(s.deviceUuid, agent.statusValue.deviceUuid);
  assert.deepEqual(s.keyStore, { kind: 'soft', description: 'soft (NOT hardware-protected)' });
  assert.equal(s.controllerReachable, true);
  assert.equal(s.attested, true);
  assert.equal(s.lastConfigHash, 'abc123');
  assert.equal(s.lastConfigAtMs, 1_700_000_000_000);
  assert.equal(s.configSource, 'controller');
  assert.equal(s.lastConfigError, '');
  assert.equal(s.queueDepth, 2);
  assert.equal(s.queueOldestAgeMs, 1235);
  assert.equal(s.version, '9.9.9');
  assert.deepEqual(s.activeFaults, [{ kind: 'controller-delay', value: 250 }]);
  assert.equal(s.cluster, null, 'no cluster status until the reconciler reports');
});

test('Config is NOT_FOUND before the first config, then the redacted JSON', async () => {
  await assert.rejects(client.config(), (e: unknown) => isAdminError(e) && e.kind === 'NOT_FOUND');
  for (const l of agent.configListeners) await l(config);
  const reply = await client.config();
  assert.equal(reply.configHash, 'abc123');
  assert.equal(reply.source, 'controller');
  const json = JSON.parse(reply.json) as {
    deviceName: string;
    configItems: Record<string, string>;
    cluster: { config: { encryptedToken: unknown; clusterIp: string } };
  };
  assert.equal(json.deviceName, 'dev1');
  assert.equal(json.configItems['timer.config.interval'], '60');
  assert.equal(json.configItems['cluster.join.token'], REDACTED);
  assert.equal(json.cluster.config.encryptedToken, REDACTED);
  assert.equal(json.cluster.config.clusterIp, '10.244.244.2');
  assert.equal(reply.json.includes('hunter2'), false);
});

test('Apps lists the config apps; ClusterNodes is empty without a cluster', async () => {
  const apps = await client.apps();
  assert.deepEqual(
    apps.map((a) => [a.uuid, a.displayName, a.activate, a.affinity, a.state]),
    [['aaaaaaaa-0000-4000-8000-000000000001', 'nginx', true, 'required', '']],
  );
  assert.deepEqual(await client.clusterNodes(), []);
});

test('with a cluster, Status carries its view and ClusterNodes its nodes', async () => {
  const saved = agent.statusValue;
  agent.statusValue = {
    ...saved,
    cluster: {
      role: 'bootstrap',
      clusterId: '11111111-2222-4333-8444-555555555555',
      clusterIp: '10.244.244.2',
      nodeName: 'node-a',
      nodeStatus: 'READY',
      isLeader: true,
      leader: 'node-a',
      nodes: [
        { name: 'node-a', ready: true, internalIp: '10.244.244.2', nodeId: 'aaaa', schedulable: true },
        { name: 'node-b', ready: false, internalIp: '10.244.244.3', nodeId: 'bbbb', schedulable: false },
      ],
      error: undefined,
      phase: 'running',
    },
  };
  try {
    const s = await client.status();
    assert.deepEqual(s.cluster, {
      role: 'bootstrap',
      clusterId: '11111111-2222-4333-8444-555555555555',
      clusterIp: '10.244.244.2',
      nodeName: 'node-a',
      nodeStatus: 'READY',
      isLeader: true,
      leader: 'node-a',
      phase: 'running',
      error: '',
    });
    assert.deepEqual(
      (await client.clusterNodes()).map((n) => [n.name, n.nodeId, n.ready, n.internalIp, n.schedulable]),
      [
        ['node-a', 'aaaa', true, '10.244.244.2', true],
        ['node-b', 'bbbb', false, '10.244.244.3', false],
      ],
    );
  } finally {
    agent.statusValue = saved;
  }
});

test('faults: unknown kind and bad duration are INVALID_ARGUMENT; inject, list and clear round-trip', async () => {
  await assert.rejects(client.injectFault({ kind: 'no-such-fault' }), (e: unknown) => isAdminError(e) && e.kind === 'INVALID_ARGUMENT');
  await assert.rejects(
    client.injectFault({ kind: 'controller-5xx', durationMs: -5 }),
    (e: unknown) => isAdminError(e) && e.kind === 'INVALID_ARGUMENT' && /duration/.test(e.message),
  );
  const before = clock.now();
  const f = await client.injectFault({ kind: 'controller-5xx', value: 502, durationMs: 60_000 });
  assert.equal(f.kind, 'controller-5xx');
  assert.equal(f.value, 502);
  assert.ok(f.untilMs! >= before + 60_000 && f.untilMs! < before + 70_000);
  assert.equal(agent.faults.get('controller-5xx')?.value, 502, 'the agent FaultSet holds it');
  await client.injectFault({ kind: 'config-tamper' });
  assert.deepEqual((await client.listFaults()).map((x) => x.kind).sort(), ['config-tamper', 'controller-5xx']);
  assert.deepEqual(await client.clearFault('config-tamper'), ['config-tamper']);
  assert.deepEqual(await client.clearFault('config-tamper'), [], 'clearing an inactive fault clears nothing');
  assert.deepEqual(await client.clearFault('all'), ['controller-5xx']);
  assert.deepEqual(await client.listFaults(), []);
});

test('Watch streams agent events and fault changes, filtered by kind prefix', async () => {
  const ctl = new AbortController();
  const all: EventMsg[] = [];
  const configOnly: EventMsg[] = [];
  const drain = async (it: AsyncGenerator<EventMsg>, into: EventMsg[]): Promise<void> => {
    for await (const e of it) into.push(e);
  };
  const p1 = drain(client.watch([], ctl.signal), all);
  const p2 = drain(client.watch(['config.'], ctl.signal), configOnly);
  // The stream is open once the server has registered the listeners (one per watcher).
  for (let i = 0; i < 100 && agent.events.size < 2; i++) await new Promise((r) => setTimeout(r, 20));
  agent.emit('config.accepted', 'config version 7 from the controller', { version: '7' });
  agent.faults.inject('controller-unreachable');
  agent.faults.clear('controller-unreachable');
  for (let i = 0; i < 100 && all.length < 3; i++) await new Promise((r) => setTimeout(r, 20));
  ctl.abort();
  await Promise.all([p1, p2]);
  assert.deepEqual(
    all.map((e) => `${e.kind}: ${e.message}`),
    ['config.accepted: config version 7 from the controller', 'fault: controller-unreachable injected', 'fault: controller-unreachable cleared'],
  );
  assert.deepEqual(JSON.parse(all[0].fieldsJson), { version: '7' });
  assert.deepEqual(configOnly.map((e) => e.kind), ['config.accepted']);
  for (let i = 0; i < 100 && agent.events.size > 0; i++) await new Promise((r) => setTimeout(r, 20));
  assert.equal(agent.events.size, 0, 'cancelled watchers unsubscribe');
});

test('a second server on a live socket is refused; a stale socket file is replaced', async () => {
  await assert.rejects(
    AdminServer.create({ agent: agent, socketPath: server.socketPath, version: 'x', logger: silentLogger, clock }),
    (e: unknown) => isAdminError(e) && e.kind === 'SOCKET_IN_USE',
  );
  const notSocket = path.join(dir, 'plain-file');
  await writeFile(notSocket, 'keep me');
  await assert.rejects(
    AdminServer.create({ agent: agent, socketPath: notSocket, version: 'x', logger: silentLogger, clock }),
    (e: unknown) => isAdminError(e) && e.kind === 'SOCKET_IN_USE',
  );
  // A socket file nobody listens on (what a crashed agent leaves behind).
  const stale = path.join(dir, 'stale.sock');
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(stale, r));
  await new Promise<void>((r) => {
    // Close without unlinking, as a killed process would.
    (s as unknown as { _handle: { close(): void } | null })._handle?.close();
    r();
  });
  const second = await AdminServer.create({ agent: agent, socketPath: stale, version: 'x', logger: silentLogger, clock });
  const c2 = new AdminClient(stale);
  assert.equal((await c2.status()).version, 'x');
  c2.close();
  await second.stop();
});

test('stop ends watch streams, removes the socket, and is idempotent; then clients get UNAVAILABLE', async () => {
  const extra = await AdminServer.create({
    agent: agent,
    socketPath: path.join(dir, 'extra.sock'),
    version: 'x',
    logger: silentLogger,
    clock,
  });
  const c = new AdminClient(extra.socketPath);
  const events: EventMsg[] = [];
  const watching = (async () => {
    for await (const e of c.watch()) events.push(e);
  })();
  for (let i = 0; i < 100 && agent.events.size < 1; i++) await new Promise((r) => setTimeout(r, 20));
  const t0 = Date.now();
  await Promise.all([extra.stop(), extra.stop()]);
  await watching;
  assert.ok(Date.now() - t0 < 2_000, 'an open watch stream does not hold the stop for the whole grace period');
  assert.equal(extra.state, 'stopped');
  await assert.rejects(stat(extra.socketPath), { code: 'ENOENT' });
  await assert.rejects(c.status(), (e: unknown) => isAdminError(e) && e.kind === 'UNAVAILABLE');
  c.close();
});

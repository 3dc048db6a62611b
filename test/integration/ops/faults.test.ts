/**
 * Faults injected through the admin API into a real agent, each shown by what the agent does: its status over the
 * admin socket, its info queue, and what the controller received. One agent against the embedded controller on
 * loopback; timers scaled ×20 (the queue's 1 min retry delay lasts 3 s).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { Agent } from '../../../src/agent/index.js';
import { AdminClient, Operations, type EventMsg } from '../../../src/agent/admin/index.js';
import { createClock, silentLogger } from '../../../src/common/index.js';
import { info } from '../../../src/eve/index.js';
import { startTestController, type TestController } from '../../helpers/controller.js';
import { waitFor } from '../../helpers/wait.js';

const TIME_SCALE = 20;
let ctl: TestController;
let agent: Agent | undefined;
let ops: Operations | undefined;
let client: AdminClient;
let uuid: string;

before(async () => {
  ctl = await startTestController();
  const configDir = await ctl.deviceFolder('f');
  const stateDir = path.join(ctl.dir, 'f', 'state');
  const clock = createClock(TIME_SCALE);
  agent = await Agent.create({ configDir, stateDir, configIntervalMs: 5_000, clock, logger: silentLogger });
  ops = await Operations.create({ agent, stateDir, env: {}, pid: process.pid, version: 'test', clock, logger: silentLogger });
  client = new AdminClient(ops.admin.socketPath);
  void agent.run();
  uuid = await waitFor('onboarding', async () => (await client.status()).deviceUuid || undefined, 30_000);
  await ctl.admin.setConfig(uuid, { device_name: 'f-v1' });
  await waitFor('the first config', async () => (await client.status()).configSource === 'controller', 30_000);
});
after(async () => {
  client?.close();
  await ops?.stop();
  await agent?.stop();
  await ctl?.dispose();
});

const appInfo = (app: string, version: string): info.IZInfoMsg => ({
  ztype: info.ZInfoTypes.ZiApp,
  devId: uuid,
  ainfo: { AppID: app, AppName: `app-${app.slice(-1)}`, appVersion: version, state: info.ZSwState.RUNNING },
});
const app = (n: number): string => `22222222-2222-4222-8222-00000000000${n}`;

/** Versions of `appId` the controller received, oldest first. */
async function received(appId: string): Promise<string[]> {
  const items = await ctl.admin.info(uuid, { types: ['ZiApp'] });
  return items
    .map((i) => (i.info as { ainfo: { AppID: string; appVersion: string } }).ainfo)
    .filter((a) => a.AppID === appId)
    .map((a) => a.appVersion);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('controller-unreachable: status says unreachable, the queue holds the info, then drains after clear', async () => {
  await client.injectFault({ kind: 'controller-unreachable' });
  await waitFor('controllerReachable false', async () => !(await client.status()).controllerReachable);
  await agent!.publishInfo(app(1), appInfo(app(1), '1'));
  await sleep(1_000);
  const held = await client.status();
  assert.ok(held.queueDepth >= 1, `queue depth ${held.queueDepth}`);
  assert.ok(held.queueOldestAgeMs >= 900, `oldest queued item is ${held.queueOldestAgeMs} ms old`);
  assert.deepEqual(await received(app(1)), [], 'nothing reached the controller');

  assert.deepEqual(await client.clearFault('controller-unreachable'), ['controller-unreachable']);
  await waitFor('controllerReachable true', async () => (await client.status()).controllerReachable);
  await waitFor('the queue drained', async () => (await client.status()).queueDepth === 0, 20_000);
  assert.deepEqual(await received(app(1)), ['1']);
});

test('controller-5xx: every exchange answers 503, queued info is kept, then delivered after clear', async () => {
  await client.injectFault({ kind: 'controller-5xx', value: 503 });
  await agent!.publishInfo(app(2), appInfo(app(2), '1'));
  const s = await waitFor('the config poll to fail with 503', async () => {
    const st = await client.status();
    return /503/.test(st.lastConfigError) ? st : undefined;
  });
  assert.match(s.lastConfigError, /keeping the previous config/);
  assert.ok(s.queueDepth >= 1, 'the refused info stays queued (retry, never dropped)');
  assert.deepEqual(await received(app(2)), []);
  await client.clearFault('all');
  // The refused item waits out its retry delay (1 min spec = 3 s here) before it is sent again.
  await waitFor('the queue drained', async () => (await client.status()).queueDepth === 0, 20_000);
  assert.deepEqual(await received(app(2)), ['1']);
});

test('controller-delay: every exchange waits `value` ms (measured on info delivery)', async (t) => {
  const deliver = async (version: string): Promise<number> => {
    const t0 = performance.now();
    await agent!.publishInfo(app(3), appInfo(app(3), version));
    await waitFor(`version ${version} at the controller`, async () => (await received(app(3))).includes(version), 20_000, 20);
    return performance.now() - t0;
  };
  const baseline = await deliver('1');
  const delaySpecMs = 20_000; // 1 s real at ×20
  await client.injectFault({ kind: 'controller-delay', value: delaySpecMs });
  const delayed = await deliver('2');
  await client.clearFault('controller-delay');
  t.diagnostic(`info delivery: ${baseline.toFixed(0)} ms without, ${delayed.toFixed(0)} ms with a ${delaySpecMs / TIME_SCALE} ms delay`);
  assert.ok(delayed >= delaySpecMs / TIME_SCALE, `delayed delivery took ${delayed.toFixed(0)} ms`);
  assert.ok(delayed > baseline, `baseline ${baseline.toFixed(0)} ms, delayed ${delayed.toFixed(0)} ms`);
});

test('config-tamper: the new config is rejected, the previous kept, lastConfigError set; recovery after clear', async (t) => {
  const watch = new AbortController();
  const events: EventMsg[] = [];
  const watching = (async () => {
    for await (const e of client.watch(['config.', 'fault'], watch.signal)) events.push(e);
  })();
  await sleep(200); // the stream is open
  await client.injectFault({ kind: 'config-tamper' });
  await ctl.admin.setConfig(uuid, { device_name: 'f-v2' });
  // (lastConfigError may still name the 503s of the previous test: wait for this rejection's own message.)
  const s = await waitFor('the rejection', async () => {
    const st = await client.status();
    return /config rejected/.test(st.lastConfigError) && !/503/.test(st.lastConfigError) ? st : undefined;
  });
  t.diagnostic(`rejection: ${s.lastConfigError}`);
  assert.equal((JSON.parse((await client.config()).json) as { deviceName: string }).deviceName, 'f-v1', 'previous config kept');
  assert.equal(s.configSource, 'controller');

  await client.clearFault('config-tamper');
  await waitFor('the new config', async () => (JSON.parse((await client.config()).json) as { deviceName: string }).deviceName === 'f-v2');
  assert.equal((await client.status()).lastConfigError, '');
  await waitFor('the events', () => events.some((e) => e.kind === 'config.accepted'));
  watch.abort();
  await watching;
  assert.deepEqual(
    events.map((e) => e.kind),
    ['fault', 'config.rejected', 'fault', 'config.accepted'],
    'watch shows inject, rejection, clear, acceptance in order',
  );
});

test('a fault with a duration clears by itself', async () => {
  const watch = new AbortController();
  const events: EventMsg[] = [];
  const watching = (async () => {
    for await (const e of client.watch(['fault'], watch.signal)) events.push(e);
  })();
  await sleep(200); // the stream is open
  const t0 = performance.now();
  const f = await client.injectFault({ kind: 'controller-unreachable', durationMs: 30_000 }); // 1.5 s real
  assert.ok(f.untilMs !== undefined);
  await waitFor('controllerReachable false', async () => !(await client.status()).controllerReachable);
  await waitFor('the fault to expire', async () => (await client.listFaults()).length === 0, 10_000, 50);
  const lasted = performance.now() - t0;
  assert.ok(lasted >= 1_400 && lasted < 6_000, `lasted ${lasted.toFixed(0)} ms`);
  await waitFor('controllerReachable true', async () => (await client.status()).controllerReachable);
  watch.abort();
  await watching;
  assert.deepEqual(
    events.map((e) => e.message),
    ['controller-unreachable injected', 'controller-unreachable cleared'],
  );
});

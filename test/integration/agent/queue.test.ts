/**
 * The persisted info queue across a controller outage and across an agent restart (core acceptance):
 * 3 updates of one object and 1 of another while the controller is down → after it returns the controller has
 * the latest of each and nothing else. Real HTTPS on loopback; timers scaled ×10 (a 30 s outage lasts 3 s).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { Agent } from '../../../src/agent/index.js';
import { createClock, silentLogger } from '../../../src/common/index.js';
import { info, infoIdentityOfJson } from '../../../src/eve/index.js';
import { startTestController, type TestController } from '../../helpers/controller.js';
import { waitFor } from '../../helpers/wait.js';

const TIME_SCALE = 10;
let ctl: TestController;
const agents: Agent[] = [];

before(async () => {
  ctl = await startTestController();
});
after(async () => {
  for (const a of agents) await a.stop();
  await ctl?.dispose();
});

async function startAgent(name: string): Promise<Agent> {
  const agent = await Agent.create({
    configDir: path.join(ctl.dir, name, 'config'),
    stateDir: path.join(ctl.dir, name, 'state'),
    configIntervalMs: 5_000,
    clock: createClock(TIME_SCALE),
    logger: silentLogger,
  });
  agents.push(agent);
  void agent.run();
  return agent;
}

const appInfo = (uuid: string, devId: string, version: string): info.IZInfoMsg => ({
  ztype: info.ZInfoTypes.ZiApp,
  devId,
  ainfo: { AppID: uuid, AppName: `app-${uuid.slice(-1)}`, appVersion: version, state: info.ZSwState.RUNNING },
});

async function onboarded(name: string): Promise<{ agent: Agent; uuid: string }> {
  await ctl.deviceFolder(name);
  const agent = await startAgent(name);
  const uuid = await waitFor('onboarding', () => agent.status().deviceUuid);
  await ctl.admin.setConfig(uuid, { device_name: name });
  await waitFor('first config', () => agent.status().configSource === 'controller');
  return { agent, uuid };
}

async function appReports(uuid: string): Promise<Array<{ AppID: string; appVersion: string }>> {
  const items = await ctl.admin.info(uuid, { types: ['ZiApp'] });
  return items.map((i) => (i.info as { ainfo: { AppID: string; appVersion: string } }).ainfo);
}

const APP1 = '11111111-1111-4111-8111-000000000001';
const APP2 = '11111111-1111-4111-8111-000000000002';

test('controller outage: the latest info per object arrives after the controller returns', async () => {
  const { agent, uuid } = await onboarded('q1');
  await ctl.stop();
  for (const v of ['1', '2', '3']) await agent.publishInfo(APP1, appInfo(APP1, uuid, v));
  await agent.publishInfo(APP2, appInfo(APP2, uuid, '1'));
  await new Promise((r) => setTimeout(r, 30_000 / TIME_SCALE));
  assert.equal(agent.status().queueDepth >= 2, true, 'both objects wait in the queue');
  await ctl.restart();
  const got = await waitFor('both app infos', async () => {
    const r = await appReports(uuid);
    return r.length >= 2 ? r : undefined;
  }, 30_000);
  assert.deepEqual(
    got.map((a) => `${a.AppID}@${a.appVersion}`).sort(),
    [`${APP1}@3`, `${APP2}@1`],
    'exactly the latest of each object, nothing stale, nothing lost',
  );
});

test('agent restart while the controller is down: the queue survives on disk', async () => {
  const { agent, uuid } = await onboarded('q2');
  await ctl.stop();
  for (const v of ['1', '2', '3']) await agent.publishInfo(APP1, appInfo(APP1, uuid, v));
  await agent.publishInfo(APP2, appInfo(APP2, uuid, '7'));
  await agent.stop();
  await startAgent('q2');
  await ctl.restart();
  const got = await waitFor('both app infos after the agent restart', async () => {
    const r = await appReports(uuid);
    return r.length >= 2 ? r : undefined;
  }, 30_000);
  assert.deepEqual(got.map((a) => `${a.AppID}@${a.appVersion}`).sort(), [`${APP1}@3`, `${APP2}@7`]);
});

test('info.queued names each info as the controller stores it; the queue-drop fault drops queued infos unsent', async () => {
  const { agent, uuid } = await onboarded('q3');
  const APP3 = '11111111-1111-4111-8111-000000000003';
  const APP4 = '11111111-1111-4111-8111-000000000004';
  const queued: Array<Record<string, unknown>> = [];
  const off = agent.onEvent((e) => {
    if (e.kind === 'info.queued' && e.fields) queued.push(e.fields);
  });
  const stored = async (app: string): Promise<Array<{ info: Record<string, unknown>; version: string }>> =>
    (await ctl.admin.info(uuid, { types: ['ZiApp'] }))
      .map((i) => ({ info: i.info as Record<string, unknown>, version: (i.info as { ainfo: { AppID: string; appVersion: string } }).ainfo.appVersion, app: (i.info as { ainfo: { AppID: string } }).ainfo.AppID }))
      .filter((x) => x.app === app);
  try {
    await agent.publishInfo(APP3, { ...appInfo(APP3, uuid, '1'), atTimeStamp: { seconds: 1_700_000_000, nanos: 5_000_000 } });
    const [got] = await waitFor('APP3 v1 stored', async () => ((await stored(APP3)).length ? await stored(APP3) : undefined), 30_000);
    const ev = queued.find((f) => f.key === APP3);
    assert.ok(ev, 'an info.queued event for the key');
    assert.deepEqual({ objectKey: ev.objectKey, fingerprint: ev.fingerprint, madeAt: ev.madeAt }, infoIdentityOfJson(got.info));
    assert.equal(ev.objectKey, `ainfo:${APP3}`);
    assert.equal(ev.madeAt, 1_700_000_000_005);

    agent.faults.inject('queue-drop');
    await agent.publishInfo(APP3, appInfo(APP3, uuid, '2'));
    await waitFor('the queue emptied (dropped)', () => (agent.status().queueDepth === 0 ? true : undefined), 30_000);
    agent.faults.clear('queue-drop');
    // A later info of another object arrives: APP3 v2 would have been sent before it, had it not been dropped.
    await agent.publishInfo(APP4, appInfo(APP4, uuid, '1'));
    await waitFor('APP4 stored', async () => ((await stored(APP4)).length ? true : undefined), 30_000);
    assert.deepEqual((await stored(APP3)).map((x) => x.version), ['1'], 'v2 was dropped unsent');
    assert.ok(queued.some((f) => f.key === APP3 && f.fingerprint !== ev.fingerprint), 'v2 was produced (queued) all the same');
  } finally {
    off();
  }
});

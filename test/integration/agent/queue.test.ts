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
import { info } from '../../../src/eve/index.js';
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

/**
 * The last good config is checkpointed (as the signed reply) and used at start when the controller is unreachable;
 * a tampered checkpoint is not trusted. Real HTTPS on loopback.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Agent, type DeviceConfig } from '../../../src/agent/index.js';
import { createClock, silentLogger } from '../../../src/common/index.js';
import { startTestController, type TestController } from '../../helpers/controller.js';
import { waitFor } from '../../helpers/wait.js';

let ctl: TestController;
const agents: Agent[] = [];

before(async () => {
  ctl = await startTestController();
});
after(async () => {
  for (const a of agents) await a.stop();
  await ctl?.dispose();
});

async function start(configDir: string, stateDir: string): Promise<{ agent: Agent; configs: DeviceConfig[] }> {
  const agent = await Agent.create({ configDir, stateDir, configIntervalMs: 300, clock: createClock(1), logger: silentLogger });
  agents.push(agent);
  const configs: DeviceConfig[] = [];
  agent.onConfig((c) => void configs.push(c));
  void agent.run();
  return { agent, configs };
}

test('an unreachable controller at start: the agent runs from its checkpointed config', async () => {
  const configDir = await ctl.deviceFolder('cp');
  const stateDir = path.join(ctl.dir, 'cp', 'state');
  const first = await start(configDir, stateDir);
  const uuid = await waitFor('onboarding', () => first.agent.status().deviceUuid);
  await ctl.admin.setConfig(uuid, { device_name: 'checkpointed-name' });
  const hash = await waitFor('the config', () => first.agent.status().lastConfigHash || undefined);
  await first.agent.stop();
  await ctl.stop();

  const second = await start(configDir, stateDir);
  const cfg = await waitFor('the checkpointed config', () => second.configs[0]);
  assert.equal(cfg.deviceName, 'checkpointed-name');
  assert.equal(second.agent.status().configSource, 'checkpoint');
  assert.equal(second.agent.status().lastConfigHash, hash);
  assert.equal(second.agent.status().controllerReachable, false);
  await second.agent.stop();

  // A checkpoint whose bytes were altered does not verify and is not used (the backup copy is tried next).
  const file = path.join(stateDir, 'checkpoint', 'lastconfig');
  const bytes = await readFile(file);
  bytes[bytes.length - 70] ^= 0xff;
  await writeFile(file, bytes);
  await writeFile(`${file}.bak`, bytes);
  const third = await start(configDir, stateDir);
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal(third.configs.length, 0, 'a tampered checkpoint is never applied');
  assert.equal(third.agent.status().configSource, 'none');
  await ctl.restart();
});

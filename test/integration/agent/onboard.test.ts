/**
 * Agent + embedded controller over real HTTPS on loopback: onboard → attest → config → ZInfoDevice,
 * as seen through the controller's admin API.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { Agent } from '../../../src/agent/index.js';
import { createClock, silentLogger } from '../../../src/common/index.js';
import { startTestController, type TestController } from '../../helpers/controller.js';
import { waitFor } from '../../helpers/wait.js';

let ctl: TestController;
let agent: Agent | undefined;

before(async () => {
  ctl = await startTestController();
});
after(async () => {
  await agent?.stop();
  await ctl?.dispose();
});

test('a node onboards, attests, fetches its signed config and reports ZInfoDevice', async () => {
  const configDir = await ctl.deviceFolder('dev1');
  agent = await Agent.create({
    configDir,
    stateDir: path.join(ctl.dir, 'dev1', 'state'),
    tpm: 'soft',
    configIntervalMs: 500,
    clock: createClock(1),
    logger: silentLogger,
  });
  const running = agent.run();

  const device = await waitFor('the device to register', async () => (await ctl.admin.devices())[0]);
  await waitFor('the agent to know its UUID', () => agent!.status().deviceUuid === device.uuid);
  // Polled before any config was set: the controller's 404 is "no config yet", not a rejected config.
  await waitFor('the 404 of a device without config', () => agent!.status().lastConfigError === 'no config for this device on the controller yet (404)');
  await ctl.admin.setConfig(device.uuid, { device_name: 'edge-dev1', configItems: [{ key: 'timer.config.interval', value: '5' }] });
  const status = await waitFor('the config to be accepted', () => {
    const s = agent!.status();
    return s.lastConfigHash && s.configSource === 'controller' ? s : undefined;
  });
  assert.equal(status.attested, true, 'attestation gave an integrity token (else /config answers 403)');
  assert.equal(status.lastConfigError, undefined, 'the accepted config clears the 404');
  const items = await waitFor('ZInfoDevice at the controller', async () => {
    const got = await ctl.admin.info(device.uuid, { types: ['ZiDevice'] });
    return got.length ? got : undefined;
  });
  const dinfo = (items.at(-1)!.info as { dinfo?: { HSMStatus?: string } }).dinfo;
  assert.equal(dinfo?.HSMStatus, 'NOTFOUND', 'soft keys are reported as no TPM');
  await agent.stop();
  await running;
});

/**
 * The config rollback guard: an older but validly signed config reply (recorded, then replayed by a real HTTPS
 * man-in-the-middle on loopback) is refused, reported and logged once, and the config in force and its checkpoint
 * stay; with `allowConfigRollback` the same replay is accepted (EVE's own behaviour).
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Writable } from 'node:stream';
import { Agent } from '../../../src/agent/index.js';
import { createClock, createLogger } from '../../../src/common/index.js';
import { startTestController, type TestController } from '../../helpers/controller.js';
import { startTamperProxy, type TamperProxy } from '../../helpers/tamper-proxy.js';
import { waitFor } from '../../helpers/wait.js';

const cleanups: Array<() => Promise<unknown>> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

interface Rig {
  ctl: TestController;
  proxy: TamperProxy;
  agent: Agent;
  uuid: string;
  lines: Array<Record<string, unknown>>;
}

async function rig(name: string, allowConfigRollback: boolean): Promise<Rig> {
  const ctl = await startTestController();
  cleanups.push(() => ctl.dispose());
  const configDir = await ctl.deviceFolder(name);
  const proxy = await startTamperProxy(path.join(ctl.dir, 'controller'), ctl.server.endpoints().server);
  cleanups.push(() => proxy.close());
  await writeFile(path.join(configDir, 'server'), proxy.server + '\n');
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  const agent = await Agent.create({
    configDir,
    stateDir: path.join(ctl.dir, name, 'state'),
    configIntervalMs: 200,
    allowConfigRollback,
    clock: createClock(1),
    logger: createLogger({ format: 'json', stream, level: 'info' }),
  });
  cleanups.push(() => agent.stop());
  void agent.run();
  const uuid = await waitFor('onboarding', () => agent.status().deviceUuid);
  return { ctl, proxy, agent, uuid, lines };
}

/** Sets config `name`, records its signed reply and waits until the agent runs it; returns the reply and version. */
async function applyAndRecord(r: Rig, name: string): Promise<{ reply: Buffer; version: string }> {
  let reply: Buffer | undefined;
  r.proxy.rewriteConfig = (b) => (reply = b);
  await r.ctl.admin.setConfig(r.uuid, { device_name: name });
  const version = await waitFor(`config ${name} in force`, async () => {
    if (!reply) return undefined;
    const v = (await r.agent.core.api.openConfigReply(reply)).config?.id?.version;
    return v && r.agent.core.config.current?.version === v ? v : undefined;
  });
  r.proxy.rewriteConfig = undefined;
  return { reply: reply!, version };
}

test('a replayed older signed config is refused, reported once, and the config in force and its checkpoint stay', async () => {
  const r = await rig('guarded', false);
  const old = await applyAndRecord(r, 'v-old');
  await r.ctl.admin.setConfig(r.uuid, { device_name: 'v-new' });
  const newer = await waitFor('the newer config', () => {
    const c = r.agent.core.config.current;
    return c && c.version !== old.version ? c.version : undefined;
  });
  assert.ok(Number(newer) > Number(old.version));
  const hashInForce = r.agent.status().lastConfigHash;
  r.lines.length = 0;
  // The attacker answers every new config request with the recorded older reply.
  r.proxy.rewriteConfig = () => old.reply;
  await r.ctl.admin.setConfig(r.uuid, { device_name: 'v-newest' });
  const err = await waitFor('the refusal', () => r.agent.status().lastConfigError);
  assert.match(err, new RegExp(`rollback: version ${old.version} is older than the config in force \\(version ${newer}\\)`));
  await new Promise((res) => setTimeout(res, 1200)); // several more polls of the same replay
  const s = r.agent.status();
  assert.equal(s.lastConfigHash, hashInForce, 'the config in force stays');
  assert.equal(r.agent.core.config.current?.version, newer);
  assert.equal(s.phase, 'running');
  const errors = r.lines.filter((l) => l.level === 'error' && l.component === 'agent');
  assert.equal(errors.length, 1, `logged once, not once per poll: ${JSON.stringify(errors)}`);
  // The checkpoint still holds the newer config: a restart would not run the replayed one.
  const cp = await readFile(path.join(r.ctl.dir, 'guarded', 'state', 'checkpoint', 'lastconfig'));
  assert.equal((await r.agent.core.api.openConfigReply(cp)).config?.id?.version, newer);
  r.proxy.rewriteConfig = undefined;
  await waitFor('the honest newest config', () => r.agent.core.config.current?.version !== newer && !r.agent.status().lastConfigError);
});

test('with allowConfigRollback the same replay is accepted (EVE behaviour)', async () => {
  const r = await rig('unguarded', true);
  const old = await applyAndRecord(r, 'v-old');
  await r.ctl.admin.setConfig(r.uuid, { device_name: 'v-new' });
  await waitFor('the newer config', () => r.agent.core.config.current?.version !== old.version);
  r.proxy.rewriteConfig = () => old.reply;
  await r.ctl.admin.setConfig(r.uuid, { device_name: 'v-newest' });
  await waitFor('the replayed config in force', () => r.agent.core.config.current?.version === old.version);
});

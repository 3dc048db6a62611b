/**
 * A config reply with a flipped payload byte, a wrong sender cert hash, or a foreign signer is rejected: the agent
 * keeps its previous config, logs one clear error per bad config, and keeps running. Real HTTPS on loopback, with a
 * real tampering proxy between agent and controller.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Writable } from 'node:stream';
import { Agent } from '../../../src/agent/index.js';
import { createClock, createLogger } from '../../../src/common/index.js';
import { auth, decode, encode, generateSoftKey, sealControllerReply, softSigner } from '../../../src/eve/index.js';
import { startTestController, type TestController } from '../../helpers/controller.js';
import { startTamperProxy, type TamperProxy } from '../../helpers/tamper-proxy.js';
import { waitFor } from '../../helpers/wait.js';

let ctl: TestController;
let proxy: TamperProxy;
let agent: Agent;
let uuid: string;
const lines: Array<Record<string, unknown>> = [];

before(async () => {
  ctl = await startTestController();
  const configDir = await ctl.deviceFolder('dev');
  proxy = await startTamperProxy(path.join(ctl.dir, 'controller'), ctl.server.endpoints().server);
  await writeFile(path.join(configDir, 'server'), proxy.server + '\n');
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  agent = await Agent.create({
    configDir,
    stateDir: path.join(ctl.dir, 'dev', 'state'),
    configIntervalMs: 300,
    clock: createClock(1),
    logger: createLogger({ format: 'json', stream, level: 'info' }),
  });
  void agent.run();
  uuid = await waitFor('onboarding', () => agent.status().deviceUuid);
  await ctl.admin.setConfig(uuid, { device_name: 'good-v1' });
  await waitFor('the first good config', () => agent.status().configSource === 'controller');
});
after(async () => {
  await agent?.stop();
  await proxy?.close();
  await ctl?.dispose();
});

const flipPayloadByte = (body: Buffer): Buffer => {
  const ac = decode(auth.AuthContainer, body);
  const p = Buffer.from(ac.protectedPayload!.payload!);
  p[p.length - 3] ^= 0x01;
  ac.protectedPayload!.payload = p;
  return encode(auth.AuthContainer, ac);
};
const wrongSenderHash = (body: Buffer): Buffer => {
  const ac = decode(auth.AuthContainer, body);
  ac.senderCertHash = Buffer.alloc(32, 0xab);
  return encode(auth.AuthContainer, ac);
};
const foreignKey = generateSoftKey();
/** Same payload, signed by a key the controller never published, claiming the real signing cert's hash. */
const foreignSigner = async (body: Buffer): Promise<Buffer> => {
  const ac = decode(auth.AuthContainer, body);
  const resealed = decode(
    auth.AuthContainer,
    await sealControllerReply(ac.protectedPayload!.payload!, { signer: softSigner(foreignKey), signingCertPem: Buffer.from('x') }),
  );
  resealed.senderCertHash = ac.senderCertHash;
  return encode(auth.AuthContainer, resealed);
};

for (const [name, rewrite, expected] of [
  ['flipped payload byte', flipPayloadByte, /signature/i],
  ['wrong sender cert hash', wrongSenderHash, /senderCertHash/i],
  ['unknown signer', foreignSigner, /signature/i],
] as const) {
  test(`config with a ${name} is rejected and the previous config stays`, async () => {
    const before = agent.status();
    lines.length = 0;
    proxy.rewriteConfig = rewrite;
    await ctl.admin.setConfig(uuid, { device_name: `bad-${name.replace(/ /g, '-')}` });
    const err = await waitFor('the rejection', () => agent.status().lastConfigError);
    assert.match(err, expected);
    await new Promise((r) => setTimeout(r, 1500)); // several more polls of the same bad reply
    const after = agent.status();
    assert.equal(after.lastConfigHash, before.lastConfigHash, 'the previous config stays in force');
    assert.equal(after.phase, 'running');
    const errors = lines.filter((l) => l.level === 'error' && l.component === 'agent');
    assert.equal(errors.length, 1, `one clear error, not one per poll: ${JSON.stringify(errors)}`);
    // Back to normal: the honest reply is accepted again.
    proxy.rewriteConfig = undefined;
    await ctl.admin.setConfig(uuid, { device_name: `good-after-${name.replace(/ /g, '-')}` });
    await waitFor('recovery with a good config', () => {
      const s = agent.status();
      return s.lastConfigHash !== before.lastConfigHash && !s.lastConfigError;
    });
  });
}

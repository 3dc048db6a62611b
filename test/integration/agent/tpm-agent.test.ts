/**
 * The agent with its keys in a real swtpm (TPM issue acceptance): it onboards against the embedded controller, passes
 * attestation with a real TPM2_Quote (the controller verifies it against the published attestation cert and nonce),
 * and decrypts a cluster token that the controller encrypted for its TPM-held ECDH key (TPM2_ECDH_ZGen).
 * swtpm killed mid-run: clear TPM errors, the agent keeps running from its last good state, and recovers.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { Agent, type DeviceConfig } from '../../../src/agent/index.js';
import { createClock, silentLogger } from '../../../src/common/index.js';
import { SwtpmProcess } from '../../../src/tpm/index.js';
import { startTestController, type TestController } from '../../helpers/controller.js';
import { waitFor } from '../../helpers/wait.js';

const haveTpmTools = ((): boolean => {
  try {
    execFileSync('sh', ['-c', 'command -v swtpm && command -v tpm2_sign'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

let ctl: TestController;
let swtpm: SwtpmProcess | undefined;
let agent: Agent | undefined;
const clock = createClock(1);

before(async () => {
  if (!haveTpmTools) return;
  ctl = await startTestController();
  swtpm = await SwtpmProcess.create({ stateDir: path.join(ctl.dir, 'swtpm'), logger: silentLogger, clock });
});
after(async () => {
  await agent?.stop();
  await swtpm?.stop();
  await ctl?.dispose();
});

test('TPM-backed agent: real quote, token decrypted through TPM2_ECDH_ZGen, survives a TPM outage', { skip: !haveTpmTools && 'swtpm/tpm2-tools not installed' }, async () => {
  const configDir = await ctl.deviceFolder('tpmdev');
  agent = await Agent.create({
    configDir,
    stateDir: path.join(ctl.dir, 'tpmdev', 'state'),
    tpm: swtpm!.tcti,
    configIntervalMs: 500,
    clock,
    logger: silentLogger,
  });
  const configs: DeviceConfig[] = [];
  agent.onConfig((c) => void configs.push(c));
  void agent.run();
  const uuid = await waitFor('onboarding through the TPM key', () => agent!.status().deviceUuid, 60_000);
  await waitFor('attestation with a real quote', () => agent!.status().attested, 60_000);
  const device = await waitFor('the controller to hold the attestation certs', async () => {
    const d = (await ctl.admin.devices()).find((x) => x.uuid === uuid);
    return d?.attested && d.attestCerts.includes('CERT_TYPE_DEVICE_RESTRICTED_SIGNING') ? d : undefined;
  });
  assert.ok(device.attestCerts.includes('CERT_TYPE_DEVICE_ECDH_EXCHANGE'));
  const dinfo = await waitFor('ZInfoDevice', async () => (await ctl.admin.info(uuid, { types: ['ZiDevice'] })).at(-1));
  assert.equal((dinfo.info as { dinfo: { HSMStatus: string } }).dinfo.HSMStatus, 'ENABLED');

  // The controller encrypts a cluster token for this device's TPM-held ECDH key.
  await ctl.admin.applyCluster({
    name: 'tpm-cluster',
    interface: 'ethernet1',
    prefix: '127.0.100.0/24',
    members: [{ device: uuid, ip: '127.0.100.2', name: 'edge-tpm' }],
  });
  const withCluster = await waitFor('the cluster config', () => configs.find((c) => c.cluster.kind === 'valid'), 30_000);
  assert.equal(withCluster.cluster.kind, 'valid');
  if (withCluster.cluster.kind !== 'valid') return;
  const token = (await agent.decrypt(withCluster.cluster.config.encryptedToken)).cluster_token;
  assert.match(token, /\S{16,}/, 'the token decrypts through TPM2_ECDH_ZGen');

  // swtpm dies: decryption fails with a clear TPM error, the agent keeps running on its last config.
  await swtpm!.stop();
  await assert.rejects(agent.decrypt(withCluster.cluster.config.encryptedToken), /TPM|swtpm|unreachable|connect/i);
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal(agent.status().phase, 'running');
  assert.ok(agent.status().lastConfigHash, 'the last good config stays');
  // swtpm back on the same state: the same key decrypts again.
  swtpm = await SwtpmProcess.create({ stateDir: path.join(ctl.dir, 'swtpm'), port: swtpm!.port, logger: silentLogger, clock });
  assert.equal((await agent.decrypt(withCluster.cluster.config.encryptedToken)).cluster_token, token);
});

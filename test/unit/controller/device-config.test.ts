import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadOrCreatePki, type ControllerPki } from '../../../src/controller/pki.js';
import { ControllerStore } from '../../../src/controller/store.js';
import { configToObject, edgeDevConfigFromObject, setDeviceConfig } from '../../../src/controller/device-config.js';
import { isControllerError } from '../../../src/controller/errors.js';
import { computeConfigHash, config, controllerCertConfigHash, decode, encode } from '../../../src/eve/index.js';
import { createClock, silentLogger } from '../../../src/common/index.js';
import { vectorsDir } from '../../helpers/cli.js';

void describe('device configs', () => {
  let dir: string;
  let pki: ControllerPki;
  let store: ControllerStore;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'edgesim-devcfg-'));
    pki = await loadOrCreatePki({ dir, tlsHosts: ['localhost'], clock: createClock(), logger: silentLogger });
    store = ControllerStore.open({ file: ':memory:', clock: createClock() });
    store.addDevice({ uuid: 'd0c0ffee-0000-4000-8000-000000000001', serial: 'S', onboardHashHex: null, certPem: 'C', certHashHex: 'h' });
  });
  after(async () => {
    store.close();
    await rm(dir, { recursive: true, force: true });
  });

  void it('parses the vector config from proto-field-name JSON and round-trips it', async () => {
    const json = JSON.parse(await readFile(path.join(vectorsDir, 'config/edgedevconfig.json'), 'utf8')) as Record<string, unknown>;
    const msg = edgeDevConfigFromObject(json);
    assert.deepEqual(encode(config.EdgeDevConfig, msg), await readFile(path.join(vectorsDir, 'config/edgedevconfig.bin')));
  });

  void it('names unknown and mistyped fields', () => {
    const expectField = (obj: unknown, field: RegExp): void =>
      assert.throws(() => edgeDevConfigFromObject(obj), (e: unknown) => isControllerError(e) && e.kind === 'INVALID_INPUT' && field.test(e.message));
    expectField({ device_nmae: 'x' }, /unknown field "device_nmae"/);
    expectField({ cluster: { cluster_nmae: 'x' } }, /unknown field "cluster.cluster_nmae"/);
    expectField({ apps: [{ displayname: 'a' }, { dispayname: 'b' }] }, /unknown field "apps\[1\].dispayname"/);
    expectField({ apps: 'x' }, /apps/);
    expectField([], /object/);
  });

  void it('fills id, version and controllercert_confighash as Adam does and hashes the bytes', () => {
    const uuid = 'd0c0ffee-0000-4000-8000-000000000001';
    const r1 = setDeviceConfig(store, pki, uuid, { id: { uuid: 'other', version: '99' }, device_name: 'n1' });
    const r2 = setDeviceConfig(store, pki, uuid, { device_name: 'n1' });
    const msg = decode(config.EdgeDevConfig, r2.config);
    assert.deepEqual([r1.version, r2.version], [1, 2]);
    assert.equal(msg.id?.uuid, uuid);
    assert.equal(msg.id?.version, '2');
    assert.equal(msg.controllercert_confighash, controllerCertConfigHash({ signingPem: pki.signing.certPem, encryptPem: pki.encrypt.certPem }));
    assert.equal(r2.configHash, computeConfigHash(msg));
    assert.notEqual(r1.configHash, r2.configHash, 'the version is part of the hashed config');
    assert.equal(configToObject(r2.config).device_name, 'n1');
    assert.equal(store.findDevice('n1')?.uuid, uuid);
  });
});

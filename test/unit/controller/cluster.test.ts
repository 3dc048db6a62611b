import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadOrCreatePki, type ControllerPki } from '../../../src/controller/pki.js';
import { ControllerStore } from '../../../src/controller/store.js';
import { applyCluster } from '../../../src/controller/cluster.js';
import { currentConfig } from '../../../src/controller/device-config.js';
import { isControllerError } from '../../../src/controller/errors.js';
import { certs, config, controllerZCertHash, deviceZCertHash } from '../../../src/eve/index.js';
import { createClock, silentLogger } from '../../../src/common/index.js';
import { vectorsDir } from '../../helpers/cli.js';

const U = (n: number): string => `9b4a0c1e-2f3d-4e5a-8b6c-7d8e9f0a1b0${n}`;

void describe('cluster apply', () => {
  let dir: string;
  let pki: ControllerPki;
  let store: ControllerStore;
  let ecdhPem: Buffer;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'edgesim-cluster-'));
    pki = await loadOrCreatePki({ dir, tlsHosts: ['localhost'], clock: createClock(), logger: silentLogger });
    store = ControllerStore.open({ file: ':memory:', clock: createClock() });
    ecdhPem = await readFile(path.join(vectorsDir, 'certs/device-ecdh.pem'));
    for (const n of [1, 2, 3, 4]) {
      store.addDevice({ uuid: U(n), serial: `S${n}`, onboardHashHex: null, certPem: 'C', certHashHex: `h${n}` });
      if (n !== 4) {
        await store.setAttestCerts(U(n), [
          { type: certs.ZCertType.CERT_TYPE_DEVICE_ECDH_EXCHANGE, hashAlgo: 1, certHashHex: deviceZCertHash(ecdhPem).toString('hex'), certB64: ecdhPem.toString('base64') },
        ]);
      }
    }
  });
  after(async () => {
    store.close();
    await rm(dir, { recursive: true, force: true });
  });

  const spec = {
    name: 'c1',
    interface: 'ethernet1',
    prefix: '10.244.244.0/24',
    members: [{ device: 'S1' }, { device: U(2), ip: '10.244.244.20' }, { device: 'S3', isWorker: true, name: 'edge-node-3' }],
    tieBreaker: 'S3',
  };

  void it('gives every member the same block except its own IP and its own token encryption', async () => {
    const r = await applyCluster(store, pki, spec);
    assert.deepEqual(
      r.members.map((m) => [m.uuid, m.clusterIpPrefix, m.isWorker, m.configVersion]),
      [
        [U(1), '10.244.244.2/24', false, 1],
        [U(2), '10.244.244.20/24', false, 1],
        [U(3), '10.244.244.4/24', true, 1],
      ],
    );
    const cfgs = [1, 2, 3].map((n) => currentConfig(store, U(n))!);
    for (const [i, c] of cfgs.entries()) {
      const cl = c.cluster!;
      assert.equal(cl.cluster_id, r.id);
      assert.equal(cl.cluster_name, 'c1');
      assert.equal(cl.cluster_interface, 'ethernet1');
      assert.equal(cl.join_server_ip, '10.244.244.2');
      assert.equal(cl.tie_breaker_node_id, U(3));
      assert.equal(cl.cluster_type, config.ClusterType.CLUSTER_TYPE_REPLICATED_STORAGE);
      assert.deepEqual(cl.master_node_uuids, [U(1), U(2)]);
      assert.equal(cl.is_worker_node, i === 2);
      assert.equal(c.cipherContexts.length, 1);
      assert.deepEqual(Buffer.from(c.cipherContexts[0].controllerCertHash ?? []), controllerZCertHash(pki.encrypt.certPem));
      assert.equal(cl.encrypted_cluster_token!.cipherContextId, c.cipherContexts[0].contextId);
    }
    assert.equal(cfgs[2].device_name, 'edge-node-3');
    // Applying again keeps the cluster id and token context, and bumps each config.
    const again = await applyCluster(store, pki, { ...spec, useEncryptCert: false });
    assert.equal(again.id, r.id);
    assert.deepEqual(again.members.map((m) => m.configVersion), [2, 2, 2]);
    const c1 = currentConfig(store, U(1))!;
    assert.equal(c1.cipherContexts.length, 2, 'the signing-cert context is added next to the encrypt-cert one');
    assert.equal(store.listClusters().length, 1);

    // Dropping a member removes its block (departure) and leaves the others' in place.
    const shrunk = await applyCluster(store, pki, { ...spec, members: spec.members.slice(0, 2), tieBreaker: 'S2' });
    assert.deepEqual(shrunk.removed, [{ uuid: U(3), configVersion: 3 }]);
    assert.equal(currentConfig(store, U(3))?.cluster, null);
    assert.equal(currentConfig(store, U(1))?.cluster?.cluster_id, r.id);
  });

  void it('rotates the token on request, keeps it otherwise, and does not store the request', async () => {
    const name = 'c-rotate';
    const base = { name, interface: 'ethernet1', prefix: '10.244.245.0/24', members: [{ device: 'S1' }, { device: 'S2' }] };
    const token = (): string => store.listClusters().find((c) => c.name === name)!.token;
    await applyCluster(store, pki, base);
    const first = token();
    await applyCluster(store, pki, base);
    assert.equal(token(), first, 'a plain re-apply keeps the token');
    const r = await applyCluster(store, pki, { ...base, rotateToken: true });
    const second = token();
    assert.notEqual(second, first, 'a new token');
    assert.match(second, /^[0-9a-f]{64}$/);
    assert.equal(r.members.length, 2, 'every member gets the new token');
    const stored = store.listClusters().find((c) => c.name === name)!.spec as { definition: Record<string, unknown> };
    assert.equal('rotateToken' in stored.definition, false, 'the stored definition does not rotate again');
    await applyCluster(store, pki, base);
    assert.equal(token(), second);
    await assert.rejects(applyCluster(store, pki, { ...base, rotateToken: 'yes' }), /rotateToken: must be true or false/);
  });

  void it('refuses bad definitions naming the field', async () => {
    const cases: [unknown, RegExp][] = [
      [{ ...spec, prefix: '10.244.244.0' }, /prefix/],
      [{ ...spec, members: [] }, /members/],
      [{ ...spec, members: [{ device: 'nope' }] }, /members\[0\]\.device: no device "nope"/],
      [{ ...spec, members: [{ device: 'S1' }, { device: U(1) }] }, /listed twice/],
      [{ ...spec, members: [{ device: 'S1', ip: '10.1.1.1' }] }, /outside/],
      [{ ...spec, joinServer: 'S3' }, /joinServer/],
      [{ ...spec, type: 'CLUSTER_TYPE_NOPE' }, /type/],
      [{ ...spec, colour: 'blue' }, /colour/],
      [{ ...spec, members: [{ device: 'S4' }] }, /has not published its ECDH cert/],
    ];
    for (const [bad, re] of cases) {
      await assert.rejects(applyCluster(store, pki, bad), (e: unknown) => isControllerError(e) && re.test(e.message), String(re));
    }
  });
});

/**
 * TPM2_ECDH_ZGen and TPM2_Sign as raw commands through tpm2_send against a real swtpm: results equal software
 * ECDH, cluster tokens decrypt back to back without leaking contexts, TPM response codes become named errors,
 * contexts leaked by others are recovered, the idle channel does not hold swtpm, and a swtpm crash is UNREACHABLE
 * until swtpm is back.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { promisify } from 'node:util';
import { p256 } from '@noble/curves/nist.js';
import { encryptTokenForDevice } from '../../helpers/cipher.js';
import { publicKeyPoint } from '../../../src/eve/x509.js';
import { SwtpmProcess, TPM_HANDLES, isTpmError, openKeyStore, type DeviceIdentity } from '../../../src/tpm/index.js';
import { ecdhZGenCommand, parseEcdhZGenResponse } from '../../../src/tpm/tpm-commands.js';
import { TpmKeyStore } from '../../../src/tpm/tpm-keystore.js';
import { TpmCommandRunner } from '../../../src/tpm/tpm-command-runner.js';
import { clock, logger, missingTpmTools, startSwtpm, stopSwtpm, type SwtpmFixture } from './helpers.js';

const skip = missingTpmTools();
const run = promisify(execFile);

void describe('raw TPM commands through tpm2_send on swtpm', { skip }, () => {
  let f: SwtpmFixture | undefined;
  let store: TpmKeyStore;
  let id: DeviceIdentity;
  let ecdhPoint: Uint8Array;

  /** Loaded sessions and transient objects, asked by a separate tpm2_getcap process. */
  const loaded = async (): Promise<string> => {
    const tcti = `--tcti=${f!.swtpm.tcti}`;
    const [s, t] = await Promise.all([run('tpm2_getcap', [tcti, 'handles-loaded-session']), run('tpm2_getcap', [tcti, 'handles-transient'])]);
    return (s.stdout + t.stdout).trim();
  };

  before(async () => {
    f = await startSwtpm();
    const s = await openKeyStore({ spec: f.swtpm.tcti, stateDir: f.dir, logger, clock });
    assert.ok(s instanceof TpmKeyStore);
    store = s;
    id = await store.provision();
    ecdhPoint = publicKeyPoint(new X509Certificate(id.ecdhCertPem).publicKey);
  });
  after(async () => {
    await store?.close();
    await stopSwtpm(f);
  });

  void test('ZGen equals software ECDH with the key\'s public point, for several peers', async () => {
    for (let i = 0; i < 6; i++) {
      const peerPriv = p256.utils.randomPrivateKey();
      const z = await store.ecdh.zgen(p256.getPublicKey(peerPriv, false));
      assert.deepEqual(Buffer.from(z), Buffer.from(p256.getSharedSecret(peerPriv, ecdhPoint, false)));
    }
    // A peer whose X coordinate has a leading zero byte still goes out padded to 32 bytes (cipher-and-tpm.md §5).
    let k = 1n;
    while (p256.ProjectivePoint.BASE.multiply(k).toRawBytes(false)[1] !== 0) k++;
    const z = await store.ecdh.zgen(p256.ProjectivePoint.BASE.multiply(k).toRawBytes(false));
    assert.deepEqual(Buffer.from(z), Buffer.from(p256.ProjectivePoint.fromHex(ecdhPoint).multiply(k).toRawBytes(false)));
  });

  void test('a TPM signature verifies with the device certificate key', async () => {
    const digest = createHash('sha256').update('raw sign').digest();
    const sig = await store.deviceSigner.signDigest(digest);
    assert.equal(sig.length, 64);
    assert.ok(p256.verify(sig, digest, publicKeyPoint(new X509Certificate(id.deviceCertPem).publicKey), { prehash: false }));
  });

  void test('50 cluster tokens decrypt back to back: one tpm2_send, no flush, nothing left loaded', async () => {
    const token = await encryptTokenForDevice({ token: 'K10-raw-token', deviceEcdhCertPem: id.ecdhCertPem, deviceEcdh: store.ecdh, clock });
    await store.ecdh.zgen(p256.getPublicKey(p256.utils.randomPrivateKey(), false)); // the channel is up
    const before = store.runner.stats;
    for (let i = 0; i < 50; i++) {
      assert.equal((await token.decrypt()).cluster_token, 'K10-raw-token');
    }
    await store.runner.idle();
    const now = store.runner.stats;
    assert.equal(now.commands - before.commands, 50);
    assert.equal(now.sendStarts, before.sendStarts, 'no new tpm2_send process');
    assert.equal(now.flushes, before.flushes, 'nothing to flush');
    assert.equal(now.recoveries, before.recoveries, 'no 0x902/0x903');
    assert.equal(await loaded(), '', 'no session or transient object left in swtpm');
  });

  void test('TPM response codes become named errors with the code', async () => {
    const peer = p256.getPublicKey(p256.utils.randomPrivateKey(), false);
    const offCurve = Buffer.from(peer);
    offCurve[64] ^= 1;
    await assert.rejects(store.ecdh.zgen(offCurve), (e) => {
      assert.ok(isTpmError(e));
      assert.equal(e.kind, 'POINT_NOT_ON_CURVE');
      assert.equal(e.code, 0x1e7);
      assert.match(e.message, /^TPM2_ECDH_ZGen\(0x81000005\): ECC point not on the P-256 curve \(rc 0x1e7\)/);
      return true;
    });
    await assert.rejects(store.ecdh.zgen(peer.subarray(1)), (e) => isTpmError(e) && e.kind === 'POINT_NOT_ON_CURVE');
    const missing = ecdhZGenCommand(0x81000006, peer);
    await assert.rejects(store.runner.send(missing, parseEcdhZGenResponse), (e) => {
      assert.ok(isTpmError(e) && e.kind === 'HANDLE_MISSING' && e.code === 0x18b);
      assert.match(e.message, /0x81000006.*edgesim tpm provision/);
      return true;
    });
    const wrongAuth = ecdhZGenCommand(TPM_HANDLES.ecdh, peer, Buffer.from('not-the-auth'));
    await assert.rejects(store.runner.send(wrongAuth, parseEcdhZGenResponse), (e) => isTpmError(e) && e.kind === 'AUTH_FAIL' && e.code === 0x9a2);
    // The channel survives TPM errors: the next call works on the same process.
    const starts = store.runner.stats.sendStarts;
    await store.ecdh.zgen(peer);
    assert.equal(store.runner.stats.sendStarts, starts);
  });

  void test('the idle channel does not hold swtpm: another process reaches it in between', async () => {
    const peer = p256.getPublicKey(p256.utils.randomPrivateKey(), false);
    await store.ecdh.zgen(peer);
    const starts = store.runner.stats.sendStarts;
    const { stdout } = await run('tpm2_getcap', [`--tcti=${f!.swtpm.tcti}`, 'handles-persistent'], { timeout: 20_000 });
    assert.match(stdout, /0x81000005/);
    await store.ecdh.zgen(peer);
    assert.equal(store.runner.stats.sendStarts, starts);
  });

  void test('contexts leaked by another program: OBJECT_MEMORY is recovered by a flush and one retry', async () => {
    const tcti = `--tcti=${f!.swtpm.tcti}`;
    // swtpm has 3 transient object slots; the persistent key needs one while the command runs.
    for (let i = 0; i < 3; i++) await run('tpm2_createprimary', [tcti, '-C', 'o', '-G', 'ecc256', '-c', '/dev/null']);
    assert.notEqual(await loaded(), '');
    const before = store.runner.stats;
    const peerPriv = p256.utils.randomPrivateKey();
    const z = await store.ecdh.zgen(p256.getPublicKey(peerPriv, false));
    assert.deepEqual(Buffer.from(z), Buffer.from(p256.getSharedSecret(peerPriv, ecdhPoint, false)));
    assert.equal(store.runner.stats.recoveries, before.recoveries + 1);
    assert.equal(await loaded(), '');
  });

  void test('an exclusive TCTI (raw /dev/tpm0) gets one tpm2_send per command, closed after it', async () => {
    const runner = new TpmCommandRunner({ tcti: f!.swtpm.tcti, flush: true, exclusive: true, timeoutMs: 10_000, logger });
    const peerPriv = p256.utils.randomPrivateKey();
    for (let i = 0; i < 2; i++) {
      const z = await runner.send(ecdhZGenCommand(TPM_HANDLES.ecdh, p256.getPublicKey(peerPriv, false)), parseEcdhZGenResponse);
      assert.deepEqual(Buffer.from(z), Buffer.from(p256.getSharedSecret(peerPriv, ecdhPoint, false)));
    }
    assert.equal(runner.stats.sendStarts, 2);
  });

  void test('swtpm killed: UNREACHABLE, then the same key works after a restart on the same state', async () => {
    const peerPriv = p256.utils.randomPrivateKey();
    const peer = p256.getPublicKey(peerPriv, false);
    await store.ecdh.zgen(peer);
    const { port, stateDir } = f!.swtpm;
    process.kill(f!.swtpm.pid, 'SIGKILL');
    await f!.swtpm.stop();
    for (const op of [() => store.ecdh.zgen(peer), () => store.deviceSigner.signDigest(Buffer.alloc(32))]) {
      await assert.rejects(op(), (e) => {
        assert.ok(isTpmError(e));
        assert.equal(e.kind, 'UNREACHABLE');
        assert.match(e.message, /TPM unreachable.*TCTI swtpm:host=127\.0\.0\.1/);
        return true;
      });
    }
    f!.swtpm = await SwtpmProcess.create({ stateDir, port, logger, clock });
    const z = await store.ecdh.zgen(peer);
    assert.deepEqual(Buffer.from(z), Buffer.from(p256.getSharedSecret(peerPriv, ecdhPoint, false)));
  });
});

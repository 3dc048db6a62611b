/**
 * Provisioning as raw commands through tpm2_send on a real swtpm: the same keys tpm2_createprimary made from the
 * arguments the key store used to pass (byte-equal public areas on the same seed), existing persistent objects
 * kept, nothing left loaded, a taken handle a named error with the transient flushed, and the exclusive
 * (raw /dev/tpm0) mode with one tpm2_send per command.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { certPublicKeyPoint, verifyQuote } from '../../../src/eve/index.js';
import { isTpmError, type KeyRole } from '../../../src/tpm/index.js';
import { TPM_HANDLES, TPM_TEMPLATES, TpmKeyStore } from '../../../src/tpm/tpm-keystore.js';
import {
  createPrimaryCommand,
  evictControlCommand,
  flushContextCommand,
  parseCreatePrimaryResponse,
  parseEmptyResponse,
  TPM_RC_NV_DEFINED,
  TPM_RH_OWNER,
} from '../../../src/tpm/tpm-object-commands.js';
import { TpmCommandRunner } from '../../../src/tpm/tpm-command-runner.js';
import { clock, logger, missingTpmTools, startSwtpm, stopSwtpm, type SwtpmFixture } from './helpers.js';

const skip = missingTpmTools();
const exec = promisify(execFile);

/** The tpm2_createprimary arguments the key store passed before provisioning became raw commands. */
const TOOL_ARGS: Record<KeyRole, { alg: string; attributes: string; unique?: string }> = {
  device: { alg: 'ecc256:null:null', attributes: 'sign|decrypt|noda|sensitivedataorigin|userwithauth', unique: 'edgesim-device' },
  ecdh: { alg: 'ecc256:null:null', attributes: 'sign|decrypt|noda|sensitivedataorigin|userwithauth', unique: 'edgesim-ecdh' },
  attest: { alg: 'ecc256:ecdsa-sha256:null', attributes: 'fixedtpm|fixedparent|sensitivedataorigin|userwithauth|restricted|sign|noda' },
};

void describe('TPM provisioning through raw commands on swtpm', { skip }, () => {
  let f: SwtpmFixture | undefined;
  const tool = (name: string, args: string[]): Promise<{ stdout: string }> =>
    exec(name, [`--tcti=${f!.swtpm.tcti}`, ...args], { timeout: 30_000 });
  /** Loaded sessions and transient objects, asked by separate tpm2_getcap processes. */
  const loaded = async (): Promise<string> =>
    ((await tool('tpm2_getcap', ['handles-loaded-session'])).stdout + (await tool('tpm2_getcap', ['handles-transient'])).stdout).trim();
  const tpmStore = (exclusive: boolean, dir: string): TpmKeyStore =>
    new TpmKeyStore({ kind: 'tpm', tcti: f!.swtpm.tcti, flush: true, exclusive, label: f!.swtpm.tcti }, dir, logger, clock, 10_000);

  before(async () => {
    f = await startSwtpm();
  });
  after(async () => {
    await stopSwtpm(f);
  });

  void test('raw TPM2_CreatePrimary gives byte for byte the public area tpm2_createprimary gives, per EVE template', async () => {
    // Exclusive: CreatePrimary and FlushContext go out through two tpm2_send processes, as on a raw /dev/tpm0.
    const runner = new TpmCommandRunner({ tcti: f!.swtpm.tcti, flush: true, exclusive: true, timeoutMs: 10_000, logger });
    for (const role of ['device', 'ecdh', 'attest'] as const) {
      const a = TOOL_ARGS[role];
      const ctx = path.join(f!.dir, `${role}.ctx`);
      const pubFile = path.join(f!.dir, `${role}.pub`);
      const args = ['-C', 'o', '-g', 'sha256', '-G', a.alg, '-a', a.attributes, '-c', ctx];
      if (a.unique) {
        // tpm2-tools reads -u as a TPMS_ECC_POINT with little-endian sizes: x = the label, y empty.
        const label = Buffer.from(a.unique);
        const u = Buffer.alloc(4 + label.length);
        u.writeUInt16LE(label.length, 0);
        label.copy(u, 2);
        await writeFile(path.join(f!.dir, 'unique.bin'), u);
        args.push('-u', path.join(f!.dir, 'unique.bin'));
      }
      await tool('tpm2_createprimary', args);
      await tool('tpm2_readpublic', ['-c', ctx, '-o', pubFile, '-f', 'tss']);
      await tool('tpm2_flushcontext', ['-t']);
      const raw = await runner.sequence(async (tx) => {
        const c = await tx(createPrimaryCommand(TPM_RH_OWNER, TPM_TEMPLATES[role]), parseCreatePrimaryResponse);
        await tx(flushContextCommand(c.handle), parseEmptyResponse);
        return c.pub.bytes;
      });
      const fromTool = await readFile(pubFile);
      assert.equal(fromTool.readUInt16BE(0), raw.length, role);
      assert.equal(raw.toString('hex'), fromTool.subarray(2).toString('hex'), role);
    }
    assert.equal(runner.stats.sendStarts, runner.stats.commands);
    assert.equal(await loaded(), '');
  });

  void test('provisioning keeps an existing object at a handle, creates the rest in one tpm2_send, leaves nothing loaded', async () => {
    // Someone else's key at EVE's ECDH handle (other attributes): it must be used as found, never replaced.
    const ctx = path.join(f!.dir, 'foreign.ctx');
    await tool('tpm2_createprimary', ['-C', 'o', '-G', 'ecc256', '-c', ctx]);
    await tool('tpm2_evictcontrol', ['-C', 'o', '-c', ctx, '0x81000005']);
    await tool('tpm2_flushcontext', ['-t']);
    const foreign = (await tool('tpm2_readpublic', ['-c', '0x81000005'])).stdout;
    const foreignX = /^x: ([0-9a-f]+)$/m.exec(foreign)![1];

    const store = tpmStore(false, path.join(f!.dir, 'dev'));
    try {
      const id = await store.provision();
      const info = await store.info();
      assert.deepEqual(info.objects.map((o) => o.present), [true, true, true]);
      assert.match(info.objects[1].attributes!, /restricted/, 'the foreign key, not a new one');
      assert.equal(Buffer.from(certPublicKeyPoint(id.ecdhCertPem)).toString('hex', 1, 33), foreignX.padStart(64, '0'));
      assert.equal(store.runner.stats.sendStarts, 1, 'one tpm2_send for the whole provisioning');
      assert.equal(store.runner.stats.recoveries, 0);
      assert.equal(await loaded(), '');

      // Again: everything exists, so only the handle list and three public areas are read.
      const before = store.runner.stats.commands;
      await store.provision();
      assert.equal(store.runner.stats.commands - before, 4);
    } finally {
      await store.close();
    }
    const persistent = (await tool('tpm2_getcap', ['handles-persistent'])).stdout;
    assert.deepEqual(persistent.trim().split('\n'), ['- 0x81000004', '- 0x81000005', '- 0x817FFFFF']);
  });

  void test('persisting to a taken handle is TPM_RC_NV_DEFINED naming the handle; the transient is flushed', async () => {
    const runner = new TpmCommandRunner({ tcti: f!.swtpm.tcti, flush: true, timeoutMs: 10_000, logger });
    try {
      const attempt = runner.sequence(async (tx) => {
        const c = await tx(createPrimaryCommand(TPM_RH_OWNER, TPM_TEMPLATES.ecdh), parseCreatePrimaryResponse);
        try {
          await tx(evictControlCommand(c.handle, TPM_HANDLES.ecdh), parseEmptyResponse);
        } finally {
          await tx(flushContextCommand(c.handle), parseEmptyResponse);
        }
      });
      await assert.rejects(attempt, (e) => {
        assert.ok(isTpmError(e) && e.code === TPM_RC_NV_DEFINED);
        assert.match(e.message, /^TPM2_EvictControl\(0x81000005\): .*\(rc 0x14c\)/);
        return true;
      });
      assert.equal(await loaded(), '');
    } finally {
      await runner.release();
    }
  });

  void test('exclusive mode (raw /dev/tpm0): one tpm2_send per command; certificates and a quote that verifies', async () => {
    const store = tpmStore(true, path.join(f!.dir, 'dev-exclusive'));
    try {
      const id = await store.provision();
      const nonce = Buffer.from('0123456789abcdef', 'hex');
      const q = await store.quote(nonce);
      assert.equal(verifyQuote({ ...q, nonce, attestCertPem: id.attestCertPem }).code, 'SUCCESS');
      assert.equal(store.runner.stats.sendStarts, store.runner.stats.commands);
      assert.equal(await loaded(), '');
    } finally {
      await store.close();
    }
  });
});

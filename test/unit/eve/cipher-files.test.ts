/** File-level cipher operations and the `edgesim cipher` CLI on the vectors. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import {
  cipherBlockAt,
  configFromBytes,
  decryptCipherFiles,
  encryptCipherFiles,
  isCipherFileError,
  parseFieldAssignments,
} from '../../../src/eve/index.js';
import { cliCommand, vectorsDir } from '../../helpers/cli.js';
import { vec } from './fixtures.js';

const run = promisify(execFile);
const TOKEN = 'K10-test-token-0123456789abcdef';
const v = (rel: string): string => path.join(vectorsDir, rel);

const decryptFlags = [
  '--ecdh-key', v('certs/device-ecdh.key.pem'),
  '--device-ecdh-cert', v('certs/device-ecdh.pem'),
  '--controller-cert', v('certs/controller-signing.pem'),
  '--controller-cert', v('certs/controller-encrypt.pem'),
];

void describe('cipher files', () => {
  void it('finds the config in an AuthContainer, a ConfigResponse and a bare EdgeDevConfig', () => {
    for (const f of ['config/configresponse.authcontainer.bin', 'config/configresponse.bin', 'config/edgedevconfig.bin']) {
      assert.equal(configFromBytes(vec(f)).device_name, 'edge-node-2', f);
    }
    assert.throws(() => configFromBytes(vec('certs/root-ca.pem')), (e) => isCipherFileError(e) && e.flag === '--config');
  });

  void it('locates blocks by proto-name path and names a bad path', () => {
    const cfg = configFromBytes(vec('config/edgedevconfig.bin'));
    assert.equal(cipherBlockAt(cfg, 'cluster.encrypted_cluster_token').cipherContextId, '7cdd6502-b9ca-5814-aad2-7a6d046a13f4');
    assert.throws(() => cipherBlockAt(cfg, 'apps[0].cipherData'), (e) => isCipherFileError(e) && e.flag === '--block');
    assert.throws(() => cipherBlockAt(cfg, 'cluster.nope'), (e) => isCipherFileError(e) && e.message.includes('"nope"'));
  });

  void it('encrypts to the vector bytes and decrypts them back', async (t) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'edgesim-cipher-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const r = await encryptCipherFiles({
      deviceEcdhCertPath: v('certs/device-ecdh.pem'),
      controllerCertPath: v('certs/controller-signing.pem'),
      controllerKeyPath: v('certs/controller-signing.key.pem'),
      fields: { cluster_token: TOKEN },
      outDir: dir,
    });
    assert.equal(r.cipherContext['contextId'], '42a1ab78-d8db-5128-ac94-b9076577eee6');
    assert.deepEqual(readFileSync(path.join(dir, 'cipherblock.bin')), vec('cipher/cluster-token.signing.cipherblock.bin'));
    assert.deepEqual(readFileSync(path.join(dir, 'ciphercontext.bin')), vec('cipher/cluster-token.signing.ciphercontext.bin'));
    const eb = await decryptCipherFiles({
      configPath: v('config/edgedevconfig.bin'),
      ecdhKeyPath: v('certs/device-ecdh.key.pem'),
      deviceEcdhCertPath: v('certs/device-ecdh.pem'),
      controllerCertPaths: [v('certs/controller-encrypt.pem')],
    });
    assert.deepEqual(eb, { cluster_token: TOKEN });
  });

  void it('names the flag of bad input', async () => {
    assert.throws(() => parseFieldAssignments(['novalue']), (e) => isCipherFileError(e) && e.flag === '--field');
    assert.deepEqual(parseFieldAssignments(['dsPassword=a=b']), { dsPassword: 'a=b' });
    const base = {
      deviceEcdhCertPath: v('certs/device-ecdh.pem'),
      controllerCertPath: v('certs/controller-encrypt.pem'),
      controllerKeyPath: v('certs/controller-encrypt.key.pem'),
    };
    await assert.rejects(encryptCipherFiles({ ...base, fields: { nope: 'x' } }), (e) => isCipherFileError(e) && e.flag === '--field');
    await assert.rejects(encryptCipherFiles({ ...base, fields: { cluster_token: 'x' }, initialValueHex: 'zz' }), (e) => isCipherFileError(e) && e.flag === '--iv');
    await assert.rejects(
      encryptCipherFiles({ ...base, controllerKeyPath: v('certs/device.pem'), fields: { cluster_token: 'x' } }),
      (e) => isCipherFileError(e) && e.flag === '--controller-key',
    );
    await assert.rejects(
      encryptCipherFiles({ ...base, deviceEcdhCertPath: '/nonexistent/x.pem', fields: { cluster_token: 'x' } }),
      (e) => isCipherFileError(e) && e.kind === 'IO' && e.flag === '--device-ecdh-cert',
    );
  });
});

void describe('edgesim cipher CLI', () => {
  void it('decrypt prints the cluster token of the signed config response', async () => {
    const [cmd, args] = cliCommand();
    const { stdout } = await run(cmd, [...args, 'cipher', 'decrypt', '--config', v('config/configresponse.authcontainer.bin'), ...decryptFlags]);
    assert.deepEqual(JSON.parse(stdout), { cluster_token: TOKEN });
  });

  void it('encrypt prints the vector context and block in protojson style', async () => {
    const [cmd, args] = cliCommand();
    const { stdout } = await run(cmd, [
      ...args, 'cipher', 'encrypt',
      '--device-ecdh-cert', v('certs/device-ecdh.pem'),
      '--controller-cert', v('certs/controller-encrypt.pem'),
      '--controller-key', v('certs/controller-encrypt.key.pem'),
      '--cluster-token', TOKEN,
    ]);
    const out = JSON.parse(stdout) as { cipherContext: Record<string, unknown>; cipherBlock: Record<string, unknown> };
    assert.equal(out.cipherContext['contextId'], '7cdd6502-b9ca-5814-aad2-7a6d046a13f4');
    assert.equal(out.cipherContext['keyExchangeScheme'], 'KEA_ECDH');
    assert.equal(out.cipherBlock['cipherData'], 'PahifcgKH5ZXqLubFsbiUQCeRJkKFL4K8mvbGF6ObzXn');
  });

  void it('exits 2 with a message naming the flag on bad input', async () => {
    const [cmd, args] = cliCommand();
    await assert.rejects(
      run(cmd, [...args, 'cipher', 'decrypt', '--config', v('config/edgedevconfig.bin'), '--block', 'cluster.cluster_name', ...decryptFlags]),
      (e: { code?: number; stderr?: string }) => e.code === 2 && (e.stderr ?? '').includes('--block'),
    );
  });
});

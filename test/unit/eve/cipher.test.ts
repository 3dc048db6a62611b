/** CipherBlock encrypt/decrypt against cipher/*.json and the config (cipher-and-tpm.md §3-8). */
import assert from 'node:assert/strict';
import { createCipheriv } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  aesKeyFromPoint,
  cipherContextId,
  common,
  config,
  decode,
  decryptCipherBlock,
  decryptCipherBlockBytes,
  deviceZCertHash,
  encode,
  encryptCipherBlock,
  isCipherError,
  loadPrivateKeyPem,
  softEcdh,
  verifyControllerCerts,
  type CipherEnv,
} from '../../../src/eve/index.js';
import { hex, vec, vecJson } from './fixtures.js';

const TOKEN = 'K10-test-token-0123456789abcdef';
const deviceEcdhPem = vec('certs/device-ecdh.pem');

interface HexContext {
  contextId: string;
  hashScheme: string;
  keyExchangeScheme: string;
  encryptionScheme: string;
  deviceCertHashHex: string;
  controllerCertHashHex: string;
  pbHex: string;
}
interface HexBlock {
  pbHex: string;
}
interface NegativeCase {
  name: string;
  cipherContexts: HexContext[];
  cipherBlock: HexBlock;
  expectError: string;
}
interface Variant {
  controllerCertFile: string;
  controllerKeyFile: string;
  contextId: string;
  cipherContext: HexContext;
  cipherBlock: HexBlock;
  cipherContextFile: string;
  cipherBlockFile: string;
}

function env(): CipherEnv {
  const controller = verifyControllerCerts(vec('certs/zcontrollercert.bin'), {
    rootCaPem: vec('certs/root-ca.pem'),
    nowMs: Date.parse('2026-06-01T00:00:00Z'),
  });
  return {
    ecdhKey: softEcdh(loadPrivateKeyPem(vec('certs/device-ecdh.key.pem'))),
    controllerCertsByHashHex: controller.certsByHashHex,
    deviceCertsByHashHex: new Map([[deviceZCertHash(deviceEcdhPem).toString('hex'), deviceEcdhPem]]),
  };
}

void describe('cipher', () => {
  void it('basic.json: the AES key and ciphertext of the known-answer vector', () => {
    const v = vecJson<Record<string, string>>('cipher/basic.json');
    const key = aesKeyFromPoint(Buffer.concat([Buffer.from([4]), hex(v['sharedXHex'] ?? ''), hex(v['sharedYHex'] ?? '')]));
    assert.equal(key.toString('hex'), v['aesKeyHex']);
    const c = createCipheriv('aes-256-cfb', key, hex(v['initialValueHex'] ?? ''));
    assert.equal(Buffer.concat([c.update(hex(v['plaintextHex'] ?? '')), c.final()]).toString('hex'), v['cipherDataHex']);
    assert.deepEqual(encode(common.EncryptionBlock, { cluster_token: 'my-cluster-token' }), hex(v['plaintextHex'] ?? ''));
  });

  void it('basic.json: encryptCipherBlock with the vector IV gives the vector ciphertext', async () => {
    const v = vecJson<Record<string, string>>('cipher/basic.json');
    const { block } = await encryptCipherBlock(
      { cluster_token: 'my-cluster-token' },
      {
        controllerCertPem: vec('certs/controller-encrypt.pem'),
        controllerEcdh: softEcdh(loadPrivateKeyPem(vec('certs/controller-encrypt.key.pem'))),
        deviceEcdhCertPem: deviceEcdhPem,
        initialValue: hex(v['initialValueHex'] ?? ''),
      },
    );
    assert.equal(Buffer.from(block.cipherData ?? []).toString('hex'), v['cipherDataHex']);
    assert.equal(Buffer.from(block.clearTextSha256 ?? []).toString('hex'), v['clearTextSha256Hex']);
  });

  const variants = vecJson<{ variants: Record<string, Variant> }>('cipher/cluster-token.json').variants;
  for (const [name, variant] of Object.entries(variants)) {
    void it(`cluster-token ${name}: decrypts to the token`, async () => {
      const ctx = decode(common.CipherContext, vec(variant.cipherContextFile));
      const block = decode(common.CipherBlock, vec(variant.cipherBlockFile));
      const eb = await decryptCipherBlock(block, [ctx], env());
      assert.equal(eb.cluster_token, TOKEN);
    });

    void it(`cluster-token ${name}: encrypting reproduces the vector context and block bytes`, async () => {
      const { context, block } = await encryptCipherBlock(
        { cluster_token: TOKEN },
        {
          controllerCertPem: vec(variant.controllerCertFile),
          controllerEcdh: softEcdh(loadPrivateKeyPem(vec(variant.controllerKeyFile))),
          deviceEcdhCertPem: deviceEcdhPem,
        },
      );
      assert.equal(context.contextId, variant.contextId);
      assert.deepEqual(encode(common.CipherContext, context), vec(variant.cipherContextFile));
      assert.deepEqual(encode(common.CipherBlock, block), vec(variant.cipherBlockFile));
      assert.equal(encode(common.CipherContext, context).toString('hex'), variant.cipherContext.pbHex);
    });
  }

  void it('decrypts the cluster token of the config vector with its cipherContexts', async () => {
    const cfg = decode(config.EdgeDevConfig, vec('config/edgedevconfig.bin'));
    assert.ok(cfg.cluster?.encrypted_cluster_token);
    const eb = await decryptCipherBlock(cfg.cluster.encrypted_cluster_token, cfg.cipherContexts, env());
    assert.equal(eb.cluster_token, TOKEN);
  });

  void it('derives the context id as Go uuid.NewSHA1(uuid.Nil, …)', () => {
    assert.equal(
      cipherContextId(hex('f6da771cebbbe2e951b7c233451dc6cf'), hex('01d97b5e1d7f3475fc0aa19a2c50b94f')),
      '7cdd6502-b9ca-5814-aad2-7a6d046a13f4',
    );
  });

  const negative = vecJson<{ baseline: { cipherContexts: HexContext[]; cipherBlock: HexBlock; token: string }; cases: NegativeCase[] }>(
    'cipher/negative.json',
  );

  void it('negative.json baseline decrypts', async () => {
    const b = negative.baseline;
    const eb = await decryptCipherBlock(
      decode(common.CipherBlock, hex(b.cipherBlock.pbHex)),
      b.cipherContexts.map((c) => decode(common.CipherContext, hex(c.pbHex))),
      env(),
    );
    assert.equal(eb.cluster_token, b.token);
  });

  for (const c of negative.cases) {
    void it(`negative.json ${c.name}: ${c.expectError}, without leaking the plaintext`, async () => {
      await assert.rejects(
        decryptCipherBlock(
          decode(common.CipherBlock, hex(c.cipherBlock.pbHex)),
          c.cipherContexts.map((x) => decode(common.CipherContext, hex(x.pbHex))),
          env(),
        ),
        (e) => isCipherError(e) && e.kind === c.expectError && !e.message.includes(TOKEN),
      );
    });
  }

  void it('reports MALFORMED when the verified plaintext is not an EncryptionBlock', async () => {
    const garbage = Buffer.from([0x0a, 0x7f, 0x01]); // field 1, length 127, truncated
    const { context, block } = await encryptCipherBlock(garbage, {
      controllerCertPem: vec('certs/controller-encrypt.pem'),
      controllerEcdh: softEcdh(loadPrivateKeyPem(vec('certs/controller-encrypt.key.pem'))),
      deviceEcdhCertPem: deviceEcdhPem,
    });
    assert.deepEqual(await decryptCipherBlockBytes(block, [context], env()), garbage);
    await assert.rejects(decryptCipherBlock(block, [context], env()), (e) => isCipherError(e) && e.kind === 'MALFORMED');
  });
});

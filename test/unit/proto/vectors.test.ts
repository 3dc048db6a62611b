/**
 * Every protobuf file of the shared vectors decodes with the generated codec into named fields, re-encodes
 * byte-identically (Go field order included) and matches its Go protojson (*.json).
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { auth, decode, encode, org, type Decodable, type Encodable } from '../../../src/eve/index.js';
import { vectorsDir } from '../../helpers/cli.js';
import { reflectType, toProtoJson } from './protojson.js';

interface ManifestFile {
  path: string;
  message?: string;
}

const manifest = JSON.parse(readFileSync(path.join(vectorsDir, 'manifest.json'), 'utf8')) as { files: ManifestFile[] };
const binFiles = manifest.files.filter((f) => f.path.endsWith('.bin'));

type Codec = Encodable<object> & Decodable<object>;

/** The generated class of a full message name, e.g. org.lfedge.eve.config.ConfigResponse. */
function generated(fullName: string): Codec {
  let node: unknown = { org };
  for (const part of fullName.split('.')) node = (node as Record<string, unknown>)[part];
  assert.ok(node, `no generated class for ${fullName}`);
  return node as Codec;
}

function read(rel: string): Buffer {
  return readFileSync(path.join(vectorsDir, rel));
}

void describe('vectors: protobuf files', () => {
  void it('lists every protobuf file with its message name', () => {
    assert.ok(binFiles.length >= 24, `only ${binFiles.length} .bin files in the manifest`);
    for (const f of binFiles) assert.ok(f.message, `${f.path} has no message name`);
  });

  for (const f of binFiles) {
    const fullName = f.message ?? '';
    const isContainer = /authcontainer|tampered/.test(f.path);
    void it(`${f.path} decodes and re-encodes byte-identically`, () => {
      const bytes = read(f.path);
      const type: Codec = isContainer ? auth.AuthContainer : generated(fullName);
      const msg = decode(type, bytes);
      assert.deepEqual(encode(type, msg), bytes);
      if (isContainer) {
        const payload = Buffer.from((msg as auth.AuthContainer).protectedPayload?.payload ?? []);
        const inner = generated(fullName);
        assert.deepEqual(encode(inner, decode(inner, payload)), payload);
      }
    });

    const jsonPath = f.path.replace(/\.bin$/, '.json');
    if (!isContainer && existsSync(path.join(vectorsDir, jsonPath))) {
      void it(`${f.path} matches ${path.basename(jsonPath)} (Go protojson)`, () => {
        const msg = decode(generated(fullName), read(f.path));
        const expected = JSON.parse(read(jsonPath).toString('utf8')) as unknown;
        assert.deepEqual(toProtoJson(reflectType(fullName), msg), expected);
      });
    }
  }

  void it('decodes the config into named fields (no unknown field is dropped)', () => {
    const cfg = decode(org.lfedge.eve.config.EdgeDevConfig, read('config/edgedevconfig.bin'));
    assert.equal(cfg.cluster?.cluster_name, 'test-cluster');
    assert.equal(cfg.apps[1]?.affinity, org.lfedge.eve.config.AffinityType.AFFINITY_TYPE_REQUIRED);
    assert.equal(cfg.volumes[0]?.origin?.downloadContentTreeID, 'c3f2e5d4-7b6a-4c8b-8e9f-2a3b4c5d6e01');
    assert.equal(cfg.contentInfo[1]?.iformat, org.lfedge.eve.config.Format.CONTAINER);
    assert.equal(cfg.datastores[0]?.dType, org.lfedge.eve.config.DsType.DsContainerRegistry);
    assert.equal(cfg.datastores[0]?.id, 'd4a3f6e5-8c7b-4d9c-9fa0-3b4c5d6e7f01');
  });
});

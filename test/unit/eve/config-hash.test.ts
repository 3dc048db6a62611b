/** The controller's config hash: deterministic, and sensitive to any config change. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { computeConfigHash, config, decode } from '../../../src/eve/index.js';
import { vec } from './fixtures.js';

void describe('config hash', () => {
  void it('is a deterministic base64url SHA-256 that changes with the config', () => {
    const cfg = decode(config.EdgeDevConfig, vec('config/edgedevconfig.bin'));
    const h = computeConfigHash(cfg);
    assert.match(h, /^[A-Za-z0-9_-]{43}=$/);
    assert.equal(computeConfigHash(decode(config.EdgeDevConfig, vec('config/edgedevconfig.bin'))), h);
    const changed = config.EdgeDevConfig.fromObject(cfg.toJSON());
    changed.device_name = 'edge-node-9';
    assert.notEqual(computeConfigHash(changed), h);
  });
});

/** Certificate hashes (eve-api.md §5.5) against certs/keys.json. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  certPemToDer,
  controllerSenderCertHash,
  controllerZCertHash,
  deviceSenderCertHash,
  deviceZCertHash,
  isPemError,
  pemBlocks,
  trimPem,
} from '../../../src/eve/index.js';
import { hex, keyEntries, vec } from './fixtures.js';

void describe('pem and cert hashes', () => {
  for (const [name, k] of Object.entries(keyEntries())) {
    void it(`${name}: DER, file and trimmed-PEM hashes match keys.json`, () => {
      const pem = vec(k.certFile);
      assert.deepEqual(deviceSenderCertHash(pem), hex(k.sha256OfDerHex));
      assert.deepEqual(controllerSenderCertHash(pem), hex(k.sha256OfTrimmedPemHex));
      assert.deepEqual(controllerZCertHash(pem), hex(k.sha256OfTrimmedPemHex).subarray(0, 16));
      assert.deepEqual(deviceZCertHash(pem), hex(k.sha256OfPemFileHex).subarray(0, 16));
    });
  }

  void it('trims whitespace like Go strings.TrimSpace and keeps the exact block bytes', () => {
    const pem = vec('certs/device.pem');
    assert.deepEqual(trimPem(Buffer.concat([Buffer.from(' \n\t'), pem, Buffer.from('\r\n')])), pem.subarray(0, pem.length - 1));
    const [block] = pemBlocks(pem);
    assert.equal(block?.label, 'CERTIFICATE');
    assert.deepEqual(block?.text, trimPem(pem));
  });

  void it('finds every block of a bundle and filters by label', () => {
    const bundle = Buffer.concat([vec('certs/root-ca.pem'), vec('certs/root-ca.key.pem'), vec('certs/onboard.pem')]);
    assert.equal(pemBlocks(bundle).length, 3);
    assert.equal(pemBlocks(bundle, 'CERTIFICATE').length, 2);
  });

  void it('rejects input without a certificate block', () => {
    assert.throws(() => certPemToDer(Buffer.from('not a pem')), (e) => isPemError(e) && e.kind === 'NO_PEM_BLOCK');
  });
});

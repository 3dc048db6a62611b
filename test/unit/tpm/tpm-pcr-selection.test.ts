/** TPML_PCR_SELECTION against the bytes tpm2_quote sent and swtpm returned (PCRs 0-15, SHA-256 bank). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TpmReader } from '../../../src/tpm/tpm-marshal.js';
import { encodePcrSelection, readPcrSelection } from '../../../src/tpm/tpm-pcr-selection.js';

void test('encodes PCR lists as bitmaps of three bytes per bank', () => {
  assert.equal(encodePcrSelection([{ hashAlg: 0x000b, pcrs: [...Array(16).keys()] }]).toString('hex'), '00000001000b03ffff00');
  assert.equal(encodePcrSelection([{ hashAlg: 0x000b, pcrs: [0, 9, 23] }, { hashAlg: 0x0004, pcrs: [] }]).toString('hex'), '00000002000b030102800004' + '03000000');
  assert.equal(encodePcrSelection([]).toString('hex'), '00000000');
  assert.throws(() => encodePcrSelection([{ hashAlg: 0x000b, pcrs: [24] }]), /PCR index 24 outside 0-23/);
});

void test('reads a selection and leaves the reader after it', () => {
  const r = new TpmReader(Buffer.from('00000001000b03ff0000' + 'abcd', 'hex'), 'test');
  assert.deepEqual(readPcrSelection(r), [{ hashAlg: 0x000b, pcrs: [0, 1, 2, 3, 4, 5, 6, 7] }]);
  assert.equal(r.u16('rest'), 0xabcd);
  assert.throws(() => readPcrSelection(new TpmReader(Buffer.from('000000ff', 'hex'), 'test')), /count 255 is implausible/);
  assert.throws(() => readPcrSelection(new TpmReader(Buffer.from('00000001000b03ff', 'hex'), 'test')), /truncated at pcrSelection.pcrSelect/);
});

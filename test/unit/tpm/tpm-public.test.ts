/**
 * TPMT_PUBLIC of EVE's ECC keys against bytes captured from tpm2-tools 5.4 on swtpm 0.7: the templates
 * `tpm2_createprimary --template-data` wrote for the arguments the key store used to pass, and public areas
 * `tpm2_readpublic -o` wrote.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isTpmError } from '../../../src/tpm/errors.js';
import { TPM_TEMPLATES } from '../../../src/tpm/tpm-keystore.js';
import { attributeBits, attributeNames, decodeEccPublic, encodeEccPublic, matchesTemplate, TPM_ALG } from '../../../src/tpm/tpm-public.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/** tpm2_createprimary -C o -g sha256 -G ecc256:null:null -a 'sign|decrypt|noda|sensitivedataorigin|userwithauth' -u <edgesim-device>. */
const DEVICE_TEMPLATE = hex('0023 000b 00060460 0000 0010 0010 0003 0010 000e 6564676573696d2d646576696365 0000');
/** tpm2_createprimary -C o -g sha256 -G ecc256:ecdsa-sha256:null -a 'fixedtpm|fixedparent|sensitivedataorigin|userwithauth|restricted|sign|noda'. */
const ATTEST_TEMPLATE = hex('0023 000b 00050472 0000 0010 0018 000b 0003 0010 0000 0000');
/** tpm2_readpublic -o of the quote key made from ATTEST_TEMPLATE (TPM2B_PUBLIC: size 0x58, then TPMT_PUBLIC). */
const ATTEST_PUBLIC = hex(`0058 0023000b00050472000000100018000b00030010
  0020 4ae0654dac3dc1882e72769df66bbdaebcc13f9d0db559deb5db17648408382f
  0020 655779f06ab31d077e2b4ba1033c8fa23d4bfa1bf3e9ed1429e03f6bf2e5d26b`);

void test('EVE templates encode to the bytes tpm2_createprimary used', () => {
  assert.deepEqual(encodeEccPublic(TPM_TEMPLATES.device), DEVICE_TEMPLATE);
  assert.deepEqual(encodeEccPublic(TPM_TEMPLATES.attest), ATTEST_TEMPLATE);
  // The ECDH key differs from the device key only in its unique label.
  const ecdh = encodeEccPublic(TPM_TEMPLATES.ecdh);
  assert.deepEqual(ecdh.subarray(0, 18), DEVICE_TEMPLATE.subarray(0, 18));
  assert.equal(ecdh.subarray(20, 32).toString(), 'edgesim-ecdh');
});

void test('a public area from tpm2_readpublic decodes; it matches its template and no other', () => {
  const pub = decodeEccPublic(ATTEST_PUBLIC.subarray(2));
  assert.equal(pub.nameAlg, TPM_ALG.SHA256);
  assert.equal(pub.attributes, 0x50472);
  assert.equal(pub.scheme, TPM_ALG.ECDSA);
  assert.equal(pub.schemeHash, TPM_ALG.SHA256);
  assert.equal(Buffer.from(pub.point).toString('hex'), '04' + ATTEST_PUBLIC.toString('hex', 24, 56) + ATTEST_PUBLIC.toString('hex', 58));
  assert.ok(matchesTemplate(pub, TPM_TEMPLATES.attest));
  assert.ok(!matchesTemplate(pub, TPM_TEMPLATES.device));
  // A template decodes as well (its unique is a label, padded like a coordinate).
  const tmpl = decodeEccPublic(DEVICE_TEMPLATE);
  assert.ok(matchesTemplate(tmpl, TPM_TEMPLATES.device) && matchesTemplate(tmpl, TPM_TEMPLATES.ecdh));
  assert.ok(!matchesTemplate(tmpl, TPM_TEMPLATES.attest));
});

void test('attribute names as tpm2-tools spells them, in bit order', () => {
  assert.equal(attributeBits('sign|decrypt|noda|sensitivedataorigin|userwithauth'), 0x60460);
  // tpm2_readpublic printed exactly this for 0x60460.
  assert.equal(attributeNames(0x60460), 'sensitivedataorigin|userwithauth|noda|decrypt|sign');
  assert.equal(attributeNames(0x50472), 'fixedtpm|fixedparent|sensitivedataorigin|userwithauth|noda|restricted|sign');
  assert.equal(attributeNames(0x40000001), '0x40000001');
  assert.throws(() => attributeBits('sign|fast'), /unknown object attribute 'fast'/);
});

void test('other key types, truncation and trailing bytes are named errors', () => {
  const rsa = Buffer.from(ATTEST_PUBLIC.subarray(2));
  rsa.writeUInt16BE(0x0001, 0);
  assert.throws(() => decodeEccPublic(rsa), (e) => isTpmError(e) && /type 0x1 is not ECC/.test(e.message));
  assert.throws(() => decodeEccPublic(ATTEST_PUBLIC.subarray(2, 40)), /TPMT_PUBLIC: truncated at unique.x/);
  assert.throws(() => decodeEccPublic(Buffer.concat([ATTEST_PUBLIC.subarray(2), Buffer.alloc(1)])), /1 unexpected trailing bytes/);
});

/**
 * Provisioning commands against known bytes (TPM 2.0 Part 3 §30.2, §12.4, §24.1, §28.5, §28.4, §12.3). The
 * responses were captured through tpm2_send from swtpm 0.7 (libtpms), on the swtpm whose quote key
 * `tpm2_createprimary` had made: the TPM2_CreatePrimary response holds exactly the public area that
 * `tpm2_createprimary` + `tpm2_readpublic -o` had produced for the device template on that seed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isTpmError } from '../../../src/tpm/errors.js';
import { TPM_TEMPLATES } from '../../../src/tpm/tpm-keystore.js';
import {
  createPrimaryCommand,
  evictControlCommand,
  flushContextCommand,
  getHandlesCommand,
  HANDLE_RANGE,
  listHandles,
  loadExternalEccCommand,
  parseCreatePrimaryResponse,
  parseEmptyResponse,
  parseGetHandlesResponse,
  parseLoadExternalResponse,
  parseReadPublicResponse,
  readPublicCommand,
  TPM_RC_NV_DEFINED,
  TPM_RH_OWNER,
} from '../../../src/tpm/tpm-object-commands.js';
import type { TpmCommand } from '../../../src/tpm/tpm-command-frame.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const PW = '00000009' + '40000009' + '0000' + '01' + '0000'; // authorizationSize, TPM_RS_PW, nonce, attributes, empty hmac

void test('TPM2_GetCapability(TPM_CAP_HANDLES): command and swtpm response', () => {
  const cmd = getHandlesCommand(HANDLE_RANGE.persistent);
  assert.equal(cmd.bytes.toString('hex'), '8001' + '00000016' + '0000017a' + '00000001' + '81000000' + '00000040');
  assert.deepEqual(parseGetHandlesResponse(cmd, hex('8001 00000017 00000000 00 00000001 00000001 81000004')), { handles: [0x81000004], more: false });
  assert.throws(() => parseGetHandlesResponse(cmd, hex('8001 00000013 00000000 00 00000006 00000000')), /capability 0x6, expected handles/);
});

void test('listHandles follows moreData from after the last handle, within the type', async () => {
  const asked: string[] = [];
  const pages = new Map([
    [0x81000000, [[0x81000004, 0x81000005], true]],
    [0x81000006, [[0x817fffff], false]],
  ] as const);
  const tx = <T>(cmd: TpmCommand, parse: (c: TpmCommand, r: Buffer) => T): Promise<T> => {
    const from = cmd.bytes.readUInt32BE(14);
    asked.push(from.toString(16));
    const [handles, more] = pages.get(from as 0x81000000)!;
    const body = Buffer.concat([hex('00000001'), hex(handles.length.toString(16).padStart(8, '0')), ...handles.map((h) => hex(h.toString(16)))]);
    const rsp = Buffer.concat([hex('8001 00000000 00000000'), Buffer.from([more ? 1 : 0]), body]);
    rsp.writeUInt32BE(rsp.length, 2);
    return Promise.resolve(parse(cmd, rsp));
  };
  assert.deepEqual(await listHandles(tx, HANDLE_RANGE.persistent), [0x81000004, 0x81000005, 0x817fffff]);
  assert.deepEqual(asked, ['81000000', '81000006']);
});

void test('TPM2_ReadPublic: command and swtpm response for the quote key', () => {
  const cmd = readPublicCommand(0x81000004);
  assert.equal(cmd.bytes.toString('hex'), '80010000000e0000017381000004');
  const rsp = hex(`8001000000ac00000000
    0058 0023000b00050472000000100018000b0003001000204ae0654dac3dc1882e72769df66bbdaebcc13f9d0db559deb5db17648408382f
         0020655779f06ab31d077e2b4ba1033c8fa23d4bfa1bf3e9ed1429e03f6bf2e5d26b
    0022 000b03dc37ebe0985c2a25345b740f83b061c44a7c94cbbac3e99db0ce7da577e622
    0022 000b9241a147f65dea29000cb2861c8d72342c35de1f4e3c0f6e9a14f90204a7285c`);
  const pub = parseReadPublicResponse(cmd, rsp);
  assert.equal(pub.bytes.length, 0x58);
  assert.equal(pub.decoded.attributes, 0x50472);
  assert.equal(Buffer.from(pub.decoded.point).toString('hex', 0, 5), '044ae0654d');
  // A missing handle is HANDLE_MISSING and names it.
  assert.throws(() => parseReadPublicResponse(cmd, hex('8001 0000000a 0000018b')), (e) => isTpmError(e) && e.kind === 'HANDLE_MISSING' && /TPM2_ReadPublic\(0x81000004\)/.test(e.message));
});

void test('TPM2_CreatePrimary: owner hierarchy, password session, EVE template; response handle and public area', () => {
  const cmd = createPrimaryCommand(TPM_RH_OWNER, TPM_TEMPLATES.device);
  assert.equal(
    cmd.bytes.toString('hex'),
    '8002' + '0000004d' + '00000131' + '40000001' + PW +
      '0004' + '0000' + '0000' + // inSensitive: empty userAuth and data
      '0024' + '0023000b0006046000000010001000030010000e6564676573696d2d6465766963650000' + // inPublic
      '0000' + // outsideInfo
      '00000000', // creationPCR: none
  );
  const rsp = hex(`80020000013600000000 80000000 0000011f
    0056 0023000b00060460000000100010000300100020e2c621355de61f4b39925fa72d68c226ffa7a477bc767d5609ef0f5387f85c12
         00203a37c54b1e35ffcf6b5215eceffe1eaa4a57c37f0e8fa344c3b6cb1573d9dbfa
    0037000000000020e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855010010000440000001000440000001000000
    205da041bac0ee3135aebb0cadfba497c6a1877fae832dd3d1f8f7a871b825e854
    80214000000100403eabdbb7f2066ae89c06251390103e825cd0ff9f49d09c9dca87ec6a3eca6b4a2c497aeb32ff62b3a72b41e777c835364847
    756cb6faaf9051743c021f504f32
    0022000b14dbedd02b1714afa533083d292fda6ccb444f959bff00f9f5a415687e91d046
    0000010000`);
  const { handle, pub } = parseCreatePrimaryResponse(cmd, rsp);
  assert.equal(handle, 0x80000000);
  // What tpm2_readpublic -o had written for the key tpm2_createprimary made from the same template on this seed.
  assert.equal(
    pub.bytes.toString('hex'),
    '0023000b00060460000000100010000300100020e2c621355de61f4b39925fa72d68c226ffa7a477bc767d5609ef0f5387f85c12' +
      '00203a37c54b1e35ffcf6b5215eceffe1eaa4a57c37f0e8fa344c3b6cb1573d9dbfa',
  );
});

void test('TPM2_EvictControl and TPM2_FlushContext; a taken persistent handle is TPM_RC_NV_DEFINED with its handle named', () => {
  const evict = evictControlCommand(0x80000000, 0x81000005);
  assert.equal(evict.bytes.toString('hex'), '8002' + '00000023' + '00000120' + '40000001' + '80000000' + PW + '81000005');
  parseEmptyResponse(evict, hex('8002 0000000e 00000000 00000000'));
  assert.throws(() => parseEmptyResponse(evict, hex('8001 0000000a 0000014c')), (e) => {
    assert.ok(isTpmError(e) && e.code === TPM_RC_NV_DEFINED);
    assert.match(e.message, /^TPM2_EvictControl\(0x81000005\): .*\(rc 0x14c\)/);
    return true;
  });
  const flush = flushContextCommand(0x80000000);
  assert.equal(flush.bytes.toString('hex'), '80010000000e0000016580000000');
  parseEmptyResponse(flush, hex('8001 0000000a 00000000'));
});

void test('TPM2_LoadExternal (test-only helpers): private scalar, public point, null hierarchy; response handle', () => {
  const d = Buffer.alloc(32, 0x11);
  const point = Buffer.concat([Buffer.from([4]), Buffer.alloc(32, 0x22), Buffer.alloc(32, 0x33)]);
  const cmd = loadExternalEccCommand(d, point, 0x60040);
  const b = cmd.bytes.toString('hex');
  assert.equal(b.slice(0, 20), '8001' + '00000090' + '00000167');
  assert.ok(b.includes('0028' + '0023' + '0000' + '0000' + '0020' + d.toString('hex')), 'TPM2B_SENSITIVE: ECC, no auth, no seed, d');
  assert.ok(b.includes('0056' + '0023000b00060040000000100010000300100020' + '22'.repeat(32) + '0020' + '33'.repeat(32)), 'TPM2B_PUBLIC');
  assert.ok(b.endsWith('40000007'), 'TPM_RH_NULL');
  assert.equal(parseLoadExternalResponse(cmd, hex('8001 00000032 00000000 80000001 0022 000b' + '00'.repeat(32))), 0x80000001);
});

/** ZCert builders and Adam's controllercert_confighash against the vectors. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  attest,
  base64UrlPadded,
  buildDeviceZCert,
  buildZControllerCert,
  certs,
  config,
  controllerCertConfigHash,
  decode,
  encode,
} from '../../../src/eve/index.js';
import { vec } from './fixtures.js';

const files = { signingPem: vec('certs/controller-signing.pem'), encryptPem: vec('certs/controller-encrypt.pem') };

void describe('zcert builders', () => {
  void it('builds the /certs reply exactly as the vector (Adam)', () => {
    assert.deepEqual(encode(certs.ZControllerCert, buildZControllerCert(files)), vec('certs/zcontrollercert.bin'));
  });

  void it('marks CA blocks of the cert files as INTERMEDIATE', () => {
    const withChain = { ...files, signingPem: Buffer.concat([files.signingPem, vec('certs/root-ca.pem')]) };
    const types = (buildZControllerCert(withChain).certs ?? []).map((c) => c.type);
    assert.deepEqual(types, [
      certs.ZCertType.CERT_TYPE_CONTROLLER_SIGNING,
      certs.ZCertType.CERT_TYPE_CONTROLLER_INTERMEDIATE,
      certs.ZCertType.CERT_TYPE_CONTROLLER_ECDH_EXCHANGE,
    ]);
  });

  void it('builds the device ECDH ZCert of ATTEST_REQ_CERT exactly as the vector (tpmmgr)', () => {
    const req = decode(attest.ZAttestReq, vec('device-requests/attest-cert.bin'));
    const built = buildDeviceZCert(vec('certs/device-ecdh.pem'), certs.ZCertType.CERT_TYPE_DEVICE_ECDH_EXCHANGE);
    assert.deepEqual(
      encode(attest.ZAttestReq, { reqType: attest.ZAttestReqType.ATTEST_REQ_CERT, certs: [built] }),
      encode(attest.ZAttestReq, req),
    );
    const withMeta = buildDeviceZCert(vec('certs/device.pem'), certs.ZCertType.CERT_TYPE_DEVICE_ENDORSEMENT_RSA, [
      { type: certs.ZCertMetaDataType.Z_CERT_META_DATA_TYPE_TPM2_PUBLIC, meta_data: Buffer.from([1, 2]) },
    ]);
    assert.equal(withMeta.meta_data_items?.length, 1);
  });

  void it("computes Adam's controllercert_confighash of the config vector", () => {
    const cfg = decode(config.EdgeDevConfig, vec('config/edgedevconfig.bin'));
    assert.equal(controllerCertConfigHash(files), cfg.controllercert_confighash);
    assert.equal(base64UrlPadded(Buffer.from([0xfb, 0xff])), '-_8=');
  });
});

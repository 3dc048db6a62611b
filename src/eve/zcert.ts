/**
 * Builders of `ZCert` lists: the controller's `/certs` reply as Adam makes it, the device's ATTEST_REQ_CERT entries
 * as EVE's tpmmgr makes them, and Adam's `controllercert_confighash` (eve-api.md §5.5, §7, §8).
 */
import { X509Certificate } from 'node:crypto';
import { certs, common } from './codec.js';
import { controllerZCertHash, deviceZCertHash, pemBlocks, sha256 } from './pem.js';

/** The controller's certificate files (Adam `signing.pem`, `encrypt.pem`), exact file bytes. */
export interface ControllerCertFiles {
  signingPem: Uint8Array;
  encryptPem: Uint8Array;
}

/**
 * The `/certs` reply as Adam builds it (`getAllCerts`/`getCertChain`): every PEM block of both files, trimmed,
 * as `ZCert.cert`; `certHash` = SHA-256(trimmed PEM)[:16] with `hashAlgo` SHA256_16BYTES; CA certs become
 * INTERMEDIATE, other blocks SIGNING (signing file) or ECDH_EXCHANGE (encrypt file). File order is kept
 * (Adam's order is random; EVE does not depend on it).
 */
export function buildZControllerCert(files: ControllerCertFiles): certs.IZControllerCert {
  const out: certs.IZCert[] = [];
  const add = (file: Uint8Array, leafType: certs.ZCertType): void => {
    for (const block of pemBlocks(file, 'CERTIFICATE')) {
      const isCa = new X509Certificate(block.der).ca;
      out.push({
        hashAlgo: common.HashAlgorithm.HASH_ALGORITHM_SHA256_16BYTES,
        certHash: controllerZCertHash(block.text),
        type: isCa ? certs.ZCertType.CERT_TYPE_CONTROLLER_INTERMEDIATE : leafType,
        cert: block.text,
      });
    }
  };
  add(files.signingPem, certs.ZCertType.CERT_TYPE_CONTROLLER_SIGNING);
  add(files.encryptPem, certs.ZCertType.CERT_TYPE_CONTROLLER_ECDH_EXCHANGE);
  return { certs: out };
}

/**
 * One device `ZCert` for ATTEST_REQ_CERT (`lf-edge/eve: pkg/pillar/cmd/tpmmgr/tpmmgr.go`): `cert` = the PEM file
 * bytes as given, `certHash` = SHA-256(those bytes)[:16], `hashAlgo` SHA256_16BYTES, optional metadata
 * (the EK's TPM2B public as `Z_CERT_META_DATA_TYPE_TPM2_PUBLIC`).
 */
export function buildDeviceZCert(
  pemFileBytes: Uint8Array,
  type: certs.ZCertType,
  metaData: certs.IZCertMetaData[] = [],
): certs.IZCert {
  const zcert: certs.IZCert = {
    hashAlgo: common.HashAlgorithm.HASH_ALGORITHM_SHA256_16BYTES,
    certHash: deviceZCertHash(pemFileBytes),
    type,
    cert: pemFileBytes,
  };
  if (metaData.length > 0) zcert.meta_data_items = metaData;
  return zcert;
}

/**
 * Adam's `EdgeDevConfig.controllercert_confighash`: base64url (with padding, Go `URLEncoding`) of
 * SHA-256(raw signing.pem ‖ raw encrypt.pem) (`lf-edge/adam: pkg/server/apiHandlerv2.go` controllerCertConfigHash).
 */
export function controllerCertConfigHash(files: ControllerCertFiles): string {
  return base64UrlPadded(sha256(files.signingPem, files.encryptPem));
}

/** Go `base64.URLEncoding`: URL alphabet, with `=` padding. */
export function base64UrlPadded(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
}

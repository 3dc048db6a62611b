/**
 * Attestation (eve-api.md §8; lf-edge/eve: pkg/pillar/attest/attest.go, cmd/zedagent/attesttask.go):
 * CERT (publish the ECDH and attestation certs) → NONCE → QUOTE (real TPM quote, or the TPM-less empty quote)
 * → integrity token, kept in memory only (EVE keeps it in /run, so every boot attests again).
 */
import { attest, certs, buildDeviceZCert } from '../eve/index.js';
import type { KeyStore, DeviceIdentity } from '../tpm/index.js';
import type { ControllerApi } from './controller-api.js';

/** Attestation was answered but not successful; `code` is Adam's ZAttestResponseCode name. */
export class AttestationError extends Error {
  override readonly name = 'AttestationError';
  constructor(
    readonly step: 'CERT' | 'NONCE' | 'QUOTE',
    readonly code: string,
  ) {
    super(`attestation ${step} failed: ${code}`);
  }
}

/** EVE's version strings sent with the quote. */
const EVE_VERSION = 'edgesim-0.1.0';

/** Builds the ATTEST_REQ_CERT request: ECDH cert (type 13) and attestation cert (type 11), exact file bytes. */
export function attestCertRequest(identity: DeviceIdentity): attest.IZAttestReq {
  return {
    reqType: attest.ZAttestReqType.ATTEST_REQ_CERT,
    certs: [
      buildDeviceZCert(identity.ecdhCertPem, certs.ZCertType.CERT_TYPE_DEVICE_ECDH_EXCHANGE),
      buildDeviceZCert(identity.attestCertPem, certs.ZCertType.CERT_TYPE_DEVICE_RESTRICTED_SIGNING),
    ],
  };
}

/** Runs NONCE → QUOTE once; returns the integrity token. The CERT step is sent separately (through the queue). */
export async function attestOnce(api: ControllerApi, keys: KeyStore, signal?: AbortSignal): Promise<Buffer> {
  const nonceResp = await api.attest({ reqType: attest.ZAttestReqType.ATTEST_REQ_NONCE }, signal);
  const nonce = nonceResp.nonce?.nonce;
  if (nonceResp.respType !== attest.ZAttestRespType.ATTEST_RESP_NONCE || !nonce?.length) {
    throw new AttestationError('NONCE', 'no nonce in reply');
  }
  const quote = await keys.quote(nonce, signal);
  const versions = [{ version_type: attest.AttestVersionType.ATTEST_VERSION_TYPE_EVE, version: EVE_VERSION }];
  const req: attest.IZAttestReq = {
    reqType: attest.ZAttestReqType.ATTEST_REQ_QUOTE,
    quote: quote
      ? {
          attestData: quote.attestData,
          signature: quote.signatureDer,
          pcr_values: quote.pcrs.map((p) => ({
            index: p.index,
            hash_algo: attest.TpmHashAlgo.TPM_HASH_ALGO_SHA256,
            value: p.value,
          })),
          versions,
        }
      : { versions }, // TPM-less quote: empty attestData, signature and PCRs (§8)
  };
  const resp = await api.attest(req, signal);
  const code = resp.quoteResp?.response ?? attest.ZAttestResponseCode.Z_ATTEST_RESPONSE_CODE_INVALID;
  if (code !== attest.ZAttestResponseCode.Z_ATTEST_RESPONSE_CODE_SUCCESS) {
    throw new AttestationError('QUOTE', attest.ZAttestResponseCode[code] ?? String(code));
  }
  const token = resp.quoteResp?.integrity_token;
  if (!token?.length) throw new AttestationError('QUOTE', 'SUCCESS without integrity_token');
  return Buffer.from(token);
}

/**
 * A cluster token encrypted for a device the way the controller does it (a throw-away self-signed controller
 * encryption cert, ECDH with the device's ECDH cert, cipher-and-tpm.md §5), plus the decrypt call the agent makes
 * with its own ECDH key. Shared by the TPM integration tests and bench/tpm.ts.
 */
import type { Clock } from '../../src/common/index.js';
import {
  controllerZCertHash,
  createCertificate,
  decryptCipherBlock,
  deviceZCertHash,
  encryptCipherBlock,
  generateSoftKey,
  softEcdh,
  softSigner,
  type common,
  type EcdhKey,
} from '../../src/eve/index.js';

/** The encrypted token and a function that decrypts it with the device's key (every call a fresh ECDH). */
export interface EncryptedToken {
  decrypt(): Promise<common.EncryptionBlock>;
}

/** Encrypts `token` for the device whose ECDH cert is `deviceEcdhCertPem`; `deviceEcdh` is that device's key. */
export async function encryptTokenForDevice(o: { token: string; deviceEcdhCertPem: Buffer; deviceEcdh: EcdhKey; clock: Clock }): Promise<EncryptedToken> {
  const controller = generateSoftKey();
  const controllerCertPem = Buffer.from(
    await createCertificate({
      subject: { CN: 'throw-away controller' },
      issuer: 'self',
      publicKey: controller.publicKey,
      signer: softSigner(controller),
      notBefore: new Date(o.clock.now() - 60_000),
      notAfter: new Date(o.clock.now() + 86_400_000),
      isCA: false,
      keyUsage: ['digitalSignature'],
      extKeyUsage: ['serverAuth'],
    }),
  );
  const { context, block } = await encryptCipherBlock(
    { cluster_token: o.token },
    { controllerCertPem, controllerEcdh: softEcdh(controller), deviceEcdhCertPem: o.deviceEcdhCertPem },
  );
  const env = {
    ecdhKey: o.deviceEcdh,
    controllerCertsByHashHex: new Map([[controllerZCertHash(controllerCertPem).toString('hex'), controllerCertPem]]),
    deviceCertsByHashHex: new Map([[deviceZCertHash(o.deviceEcdhCertPem).toString('hex'), o.deviceEcdhCertPem]]),
  };
  return { decrypt: () => decryptCipherBlock(block, [context], env) };
}

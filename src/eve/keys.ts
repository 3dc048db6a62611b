/**
 * The key capabilities the wire layer needs, independent of where keys live (TPM or software).
 * Backends in src/tpm/ implement them; src/eve/ only calls them.
 */

/** Signs with an ECDSA P-256 private key. */
export interface Signer {
  /**
   * Signs a 32-byte SHA-256 digest. Returns the raw r‖s signature, each half left-padded to 32 bytes
   * (64 bytes; IEEE P1363), as AuthContainer.signatureHash wants it (eve-api.md §5.1).
   */
  signDigest(digest: Uint8Array, signal?: AbortSignal): Promise<Uint8Array>;
  /**
   * Optional: signs SHA-256(`message`) in one step, same output as `signDigest(sha256(message))`. Backends that can
   * hash inside (OpenSSL through node:crypto) offer it: Node cannot sign a bare digest with OpenSSL.
   */
  sign?(message: Uint8Array, signal?: AbortSignal): Promise<Uint8Array>;
}

/** Signs SHA-256(`message`) with `signer`, through its one-step `sign` when it has one. */
export function signMessage(signer: Signer, message: Uint8Array, digest: (m: Uint8Array) => Uint8Array, signal?: AbortSignal): Promise<Uint8Array> {
  return signer.sign ? signer.sign(message, signal) : signer.signDigest(digest(message), signal);
}

/** Performs the ECDH step with a P-256 private key (TPM2_ECDH_ZGen or software point multiplication). */
export interface EcdhKey {
  /**
   * Multiplies the peer public point by the private scalar and returns the FULL shared point as an
   * uncompressed SEC1 point (0x04 ‖ X ‖ Y, 65 bytes). The peer point is given in the same encoding.
   * The full point is needed: EVE's AES key is SHA-256(X ‖ Y) (cipher-and-tpm.md §7).
   */
  zgen(peerPoint: Uint8Array, signal?: AbortSignal): Promise<Uint8Array>;
}

// Original file: proto/admin/admin.proto


/**
 * The key store (TPM backend) the agent uses.
 */
export interface KeyStoreStatus {
  /**
   * "soft" or "tpm".
   */
  'kind'?: (string);
  /**
   * e.g. "tpm swtpm:host=127.0.0.1,port=2321" or "soft (NOT hardware-protected)".
   */
  'description'?: (string);
}

/**
 * The key store (TPM backend) the agent uses.
 */
export interface KeyStoreStatus__Output {
  /**
   * "soft" or "tpm".
   */
  'kind': (string);
  /**
   * e.g. "tpm swtpm:host=127.0.0.1,port=2321" or "soft (NOT hardware-protected)".
   */
  'description': (string);
}

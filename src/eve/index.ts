/**
 * The EVE wire layer shared by the agent and the controller: protobuf codec, PEM and certificate hashes, soft
 * keys, AuthContainer seal/open, controller cert verification, ZCert builders, CipherBlock encrypt/decrypt and
 * the config hash. This file only re-exports.
 */
export * from './keys.js';
export * from './codec.js';
export * from './pem.js';
export * from './soft-keys.js';
export * from './auth-container.js';
export * from './controller-certs.js';
export * from './zcert.js';
export * from './cipher.js';
export * from './config-hash.js';
export * from './x509.js';
export * from './cipher-files.js';
export * from './quote.js';
export * from './info-json.js';

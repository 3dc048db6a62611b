/**
 * The controller's `ConfigResponse.configHash`. Opaque to the device, which only echoes it in
 * `ConfigRequest.configHash` (eve-api.md §9); any deterministic function of the config works.
 */
import { config, encode } from './codec.js';
import { sha256 } from './pem.js';
import { base64UrlPadded } from './zcert.js';

/** base64url (padded, like Adam) of SHA-256 over the serialized EdgeDevConfig. Same config ⇒ same hash. */
export function computeConfigHash(devConfig: config.IEdgeDevConfig): string {
  return base64UrlPadded(sha256(encode(config.EdgeDevConfig, devConfig)));
}

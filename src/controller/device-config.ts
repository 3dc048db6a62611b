/**
 * Device configs as the controller stores and serves them: an operator's JSON/YAML (proto field names)
 * becomes an EdgeDevConfig whose `id` and `controllercert_confighash` the controller fills as Adam does
 * (`lf-edge/adam: pkg/server/commonHandler.go` configProcess), serialized once, with an opaque hash.
 */
import { computeConfigHash, config, controllerCertConfigHash, decode, encode, PROTO_JSON } from '../eve/index.js';
import { errorMessage } from '../common/index.js';
import { ControllerError } from './errors.js';
import type { ControllerPki } from './pki.js';
import type { ConfigRecord, ControllerStore } from './store.js';
import type { ConfigSummary } from './admin-types.js';

/**
 * Throws naming the first field of `input` that the message does not have. protobufjs `fromObject`
 * silently drops unknown keys; an operator's typo must not vanish. `full` is `toObject` of the parsed
 * message with defaults, so every known field is present in it.
 */
function checkKnownFields(input: unknown, full: unknown, at: string): void {
  if (Array.isArray(input) && Array.isArray(full)) {
    input.forEach((v, i) => checkKnownFields(v, full[i], `${at}[${i}]`));
    return;
  }
  if (input === null || typeof input !== 'object' || full === null || typeof full !== 'object') return;
  for (const [k, v] of Object.entries(input)) {
    const field = at ? `${at}.${k}` : k;
    if (!(k in full)) throw new ControllerError('INVALID_INPUT', `config: unknown field "${field}"`, { field });
    checkKnownFields(v, (full as Record<string, unknown>)[k], field);
  }
}

/**
 * Parses an EdgeDevConfig from proto-field-name JSON (as test/fixtures/vectors/config/edgedevconfig.json).
 * @throws ControllerError `INVALID_INPUT` naming the field
 */
export function edgeDevConfigFromObject(obj: unknown): config.EdgeDevConfig {
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) {
    throw new ControllerError('INVALID_INPUT', 'config must be a JSON object', { field: 'config' });
  }
  let msg: config.EdgeDevConfig;
  try {
    msg = config.EdgeDevConfig.fromObject(obj);
  } catch (e) {
    throw new ControllerError('INVALID_INPUT', `config: ${errorMessage(e)}`, { field: 'config' });
  }
  checkKnownFields(obj, config.EdgeDevConfig.toObject(msg, { ...PROTO_JSON, defaults: true, arrays: true, objects: true }), '');
  return msg;
}

/** The stored config bytes as a protojson-style object (proto field names, defaults omitted). */
export function configToObject(bytes: Uint8Array): Record<string, unknown> {
  return config.EdgeDevConfig.toObject(decode(config.EdgeDevConfig, bytes), PROTO_JSON);
}

/**
 * Stores `msg` as the device's next config: `id = {uuid, version: <counter>}` and
 * `controllercert_confighash` from the controller's cert files are filled in, then it is serialized
 * and hashed. Also records `device_name` as the device's name.
 */
export function storeDeviceConfig(
  store: ControllerStore,
  pki: ControllerPki,
  uuid: string,
  msg: config.IEdgeDevConfig,
): ConfigRecord {
  const certHash = controllerCertConfigHash({ signingPem: pki.signing.certPem, encryptPem: pki.encrypt.certPem });
  return store.setConfig(uuid, msg.device_name || null, (version) => {
    const full: config.IEdgeDevConfig = { ...msg, id: { uuid, version: String(version) }, controllercert_confighash: certHash };
    // configHash = base64url(SHA-256(serialized config)), opaque to the device (eve-api.md §9).
    return { config: encode(config.EdgeDevConfig, full), configHash: computeConfigHash(full) };
  });
}

/** Parses operator JSON and stores it as the device's config (see {@link storeDeviceConfig}). */
export function setDeviceConfig(store: ControllerStore, pki: ControllerPki, uuid: string, obj: unknown): ConfigRecord {
  return storeDeviceConfig(store, pki, uuid, edgeDevConfigFromObject(obj));
}

/** The current config of a device, decoded; undefined when it has none. */
export function currentConfig(store: ControllerStore, uuid: string): config.EdgeDevConfig | undefined {
  const rec = store.getConfig(uuid);
  return rec && decode(config.EdgeDevConfig, rec.config);
}

/** Admin view of a stored config. */
export function configSummary(r: ConfigRecord): ConfigSummary {
  return { uuid: r.deviceUuid, version: r.version, configHash: r.configHash, updatedAt: r.updatedAt };
}

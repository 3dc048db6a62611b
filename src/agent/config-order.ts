/**
 * The config rollback guard (a simulator choice; EVE has none): a validly signed but older config reply — a replay,
 * or a controller restored from an old backup — must not replace the config in force. Pure decision, no I/O.
 */

/** What the guard compares of a config: `EdgeDevConfig.id.version` and `controller_epoch`. */
export interface ConfigOrderKey {
  version: string;
  controllerEpoch: number;
}

export type ConfigOrderVerdict = { accept: true } | { accept: false; reason: string };

const NUMERIC = /^\d+$/;

/**
 * Whether `next` may replace `current`: refused when the controller epoch went backwards, or when, within one
 * epoch, both versions are numeric and `next`'s is lower. Anything else (no current config, a newer epoch,
 * non-numeric versions, the same version) is accepted.
 */
export function checkConfigOrder(current: ConfigOrderKey | undefined, next: ConfigOrderKey): ConfigOrderVerdict {
  if (!current) return { accept: true };
  if (next.controllerEpoch < current.controllerEpoch) {
    return { accept: false, reason: `controller epoch went backwards (${current.controllerEpoch} → ${next.controllerEpoch})` };
  }
  if (next.controllerEpoch > current.controllerEpoch) return { accept: true };
  if (NUMERIC.test(current.version) && NUMERIC.test(next.version) && BigInt(next.version) < BigInt(current.version)) {
    return { accept: false, reason: `version ${next.version} is older than the config in force (version ${current.version})` };
  }
  return { accept: true };
}

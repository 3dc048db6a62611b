/**
 * Departure suppression (cluster.md §2.3, lf-edge/eve: pkg/pillar/cmd/zedagent/clusterdeparture_test.go): when a
 * node's config goes from a valid cluster block to none, it is leaving the cluster. Apps, volumes and content
 * trees that vanish from its config from then on are not deleted — no workload or PVC removal, no delete report —
 * because they belong to the cluster (shared PVCs must survive for the other nodes) until the node reboots into
 * single-node mode (§5.5). A valid cluster block cancels it; an invalid one (parse error) neither arms nor cancels.
 * Pure; the reconciler keeps the state and ends it at the simulated reboot.
 */
import type { AppConfig, ContentTreeConfig, DeviceConfig, VolumeConfig } from '../parse-config.js';

/** Objects kept while departing: they left the config but are not deleted. */
export interface Retained {
  apps: AppConfig[];
  volumes: VolumeConfig[];
  contentTrees: ContentTreeConfig[];
}

/** Where departure suppression stands after a config. */
export interface DepartureState {
  departing: boolean;
  /** What the node acts on: the new config plus the retained objects. */
  effective: DeviceConfig;
  retained: Retained;
}

const NONE: Retained = { apps: [], volumes: [], contentTrees: [] };

/**
 * The state after config `next`, given the previous effective config (undefined before the first) and whether the
 * node was departing. Arms on valid → absent; cancels on valid; keeps the state on invalid or absent → absent.
 * While departing, every object of the previous effective config missing from `next` is retained.
 */
export function applyDeparture(prev: { effective: DeviceConfig | undefined; departing: boolean }, next: DeviceConfig): DepartureState {
  const kind = next.cluster.kind;
  const departing = kind === 'valid' ? false : kind === 'absent' && prev.effective?.cluster.kind === 'valid' ? true : prev.departing;
  if (!departing || !prev.effective) return { departing, effective: next, retained: NONE };
  const missing = <T extends { uuid: string }>(old: T[], now: T[]): T[] => {
    const have = new Set(now.map((x) => x.uuid));
    return old.filter((x) => !have.has(x.uuid));
  };
  const retained: Retained = {
    apps: missing(prev.effective.apps, next.apps),
    volumes: missing(prev.effective.volumes, next.volumes),
    contentTrees: missing(prev.effective.contentTrees, next.contentTrees),
  };
  return {
    departing,
    effective: {
      ...next,
      apps: [...next.apps, ...retained.apps],
      volumes: [...next.volumes, ...retained.volumes],
      contentTrees: [...next.contentTrees, ...retained.contentTrees],
    },
    retained,
  };
}

/** The effective config without the retained objects: the config as the node sees it after its reboot. */
export function withoutRetained(cfg: DeviceConfig, retained: Retained): DeviceConfig {
  const drop = <T extends { uuid: string }>(list: T[], gone: T[]): T[] => {
    const ids = new Set(gone.map((x) => x.uuid));
    return list.filter((x) => !ids.has(x.uuid));
  };
  return { ...cfg, apps: drop(cfg.apps, retained.apps), volumes: drop(cfg.volumes, retained.volumes), contentTrees: drop(cfg.contentTrees, retained.contentTrees) };
}

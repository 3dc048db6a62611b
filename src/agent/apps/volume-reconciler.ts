/**
 * The volume reconciler (EVE's volumemgr in a cluster, cluster.md §7.6, §8): content-tree "downloads" and volume
 * creation — the designated node's PVC — reported as ZInfoContentTree / ZInfoVolume on change; PVCs of volumes
 * that left the config (or of an older generation) are deleted by the node that made them. Its pass runs every
 * 2 s. The app reconciler owns it and asks it one thing: {@link VolumeReconciler.volumeState}.
 */
import type { Clock, Logger } from '../../common/index.js';
import { errorMessage, isAbortError } from '../../common/index.js';
import { info } from '../../eve/index.js';
import { isKubeError, type KubeClient } from '../../k3s/index.js';
import type { DeviceConfig, VolumeConfig } from '../parse-config.js';
import type { Retained } from './departure.js';
import { runLoop, Waker } from './loop.js';
import {
  contentTreeInfoMessage,
  contentTreeStatus,
  STORAGE_CLASS,
  STORAGE_CLASS_TIE_BREAKER,
  volumeInfoMessage,
  volumePvc,
  volumePvcName,
  volumeStatus,
  type ContentTreeStatus,
  type VolumeStatus,
} from './storage.js';

/** Storage pass (simulated download progress granularity). */
const STORAGE_TICK_MS = 2_000;
/** Label on the tie-breaker node (cluster.md §12): PVCs then use the 2-replica storage class. */
const TIE_BREAKER_SELECTOR = 'tie-breaker-node=true';
/** Default simulated download time of a local content tree, spec ms. */
export const DEFAULT_DOWNLOAD_MS = 10_000;

/** Options of {@link VolumeReconciler}. */
export interface VolumeReconcilerOptions {
  /** This node's kube client while k3s runs with a node name. */
  kube: () => KubeClient | undefined;
  deviceUuid: () => string | undefined;
  /** Queues an info message, latest wins per key (the volume or content-tree UUID). */
  publishInfo: (key: string, msg: info.IZInfoMsg) => Promise<void>;
  /** Agent event stream (`volume.*`, `contenttree.*`). */
  emit: (kind: string, message: string, fields?: Record<string, unknown>) => void;
  clock: Clock;
  logger: Logger;
  /** Ends the loop. */
  signal: AbortSignal;
  /** Simulated download time of a local content tree, spec ms. @default 10000 */
  downloadMs?: number;
  /** Runs before every pass (the app reconciler ends departure suppression there). */
  beforePass: () => void;
  /** A volume was created: apps waiting for it can start. */
  onVolumeCreated: () => void;
}

export class VolumeReconciler {
  private readonly log: Logger;
  private cfg: DeviceConfig | undefined;
  private readonly waker = new Waker();
  private readonly treeStarted = new Map<string, number>();
  private treeStatuses = new Map<string, ContentTreeStatus>();
  private volumeStatuses = new Map<string, VolumeStatus>();
  private readonly digests = new Map<string, string>();
  /** Volume UUID → the PVC this node made for it (it is the volume's designated node). */
  private readonly pvcs = new Map<string, string>();
  /** PVCs to delete (volume gone or a new generation); a failed delete stays queued. */
  private readonly pvcRemovals: string[] = [];
  /** Ends when the loop does. */
  readonly done: Promise<void>;

  private constructor(private readonly o: VolumeReconcilerOptions) {
    this.log = o.logger.child({ component: 'agent.apps' });
    this.done = runLoop({ name: 'storage', pass: () => this.pass(), intervalMs: () => STORAGE_TICK_MS, waker: this.waker, clock: o.clock, log: this.log, signal: o.signal });
  }

  /** Starts the loop; it runs until the options' signal. */
  static create(opts: VolumeReconcilerOptions): VolumeReconciler {
    return new VolumeReconciler(opts);
  }

  /**
   * The state of a volume of the config as this node last made it (`INITIAL` when the pass has not looked at it
   * yet); undefined for a UUID that names no volume of the config.
   */
  volumeState(uuid: string): info.ZSwState | undefined {
    if (!this.cfg?.volumes.some((v) => v.uuid === uuid)) return undefined;
    return this.volumeStatuses.get(uuid)?.state ?? info.ZSwState.INITIAL;
  }

  /** A snapshot for the admin API and the demo. */
  status(): { volumes: VolumeStatus[]; contentTrees: ContentTreeStatus[] } {
    return { volumes: [...this.volumeStatuses.values()], contentTrees: [...this.treeStatuses.values()] };
  }

  /**
   * Takes the effective config: volumes and content trees that left it are reported deleted at once (every node
   * sends the UUID-only message, §7.6) and their PVC queued for deletion; the next pass starts now.
   */
  async onConfig(cfg: DeviceConfig): Promise<void> {
    const devId = this.o.deviceUuid();
    const now = this.o.clock.now();
    const vols = new Set(cfg.volumes.map((v) => v.uuid));
    const goneVolumes = (this.cfg?.volumes ?? []).filter((v) => !vols.has(v.uuid));
    const pvcs: string[] = [];
    for (const v of goneVolumes) {
      const pvc = this.pvcs.get(v.uuid);
      if (pvc) pvcs.push(pvc);
      this.pvcs.delete(v.uuid);
      this.volumeStatuses.delete(v.uuid);
      this.digests.delete(v.uuid);
    }
    const trees = new Set(cfg.contentTrees.map((t) => t.uuid));
    const goneTrees = (this.cfg?.contentTrees ?? []).filter((t) => !trees.has(t.uuid)).map((t) => ({ uuid: t.uuid, reported: !!this.treeStatuses.get(t.uuid)?.local }));
    for (const t of goneTrees) {
      this.treeStatuses.delete(t.uuid);
      this.treeStarted.delete(t.uuid);
      this.digests.delete(t.uuid);
    }
    // The config is replaced before its PVC removals are queued (and before anything is awaited): a pass that
    // deleted a claim and then went on with the config it replaced created the claim again.
    this.cfg = cfg;
    this.pvcRemovals.push(...pvcs);
    if (devId) {
      for (const v of goneVolumes) await this.o.publishInfo(v.uuid, volumeInfoMessage(devId, now, v.uuid, undefined));
      for (const t of goneTrees) if (t.reported) await this.o.publishInfo(t.uuid, contentTreeInfoMessage(devId, now, t.uuid, undefined));
    }
    this.waker.wake();
  }

  /**
   * The node restarted single-node after leaving its cluster: the objects kept while leaving are forgotten without
   * deleting anything (their PVCs belong to the cluster); `cfg` is the config without them.
   */
  forget(retained: Retained, cfg: DeviceConfig): void {
    for (const v of retained.volumes) {
      this.pvcs.delete(v.uuid);
      this.volumeStatuses.delete(v.uuid);
      this.digests.delete(v.uuid);
    }
    for (const t of retained.contentTrees) {
      this.treeStatuses.delete(t.uuid);
      this.treeStarted.delete(t.uuid);
      this.digests.delete(t.uuid);
    }
    this.cfg = cfg;
  }

  private async pass(): Promise<void> {
    this.o.beforePass();
    const cfg = this.cfg;
    const devId = this.o.deviceUuid();
    if (!cfg || !devId) return;
    const now = this.o.clock.now(); // timestamps of the reports
    const elapsedAt = this.o.clock.monotonic(); // the download's duration (clock skew must not shorten it)
    const trees = new Map<string, ContentTreeStatus>();
    for (const t of cfg.contentTrees) {
      if (!this.treeStarted.has(t.uuid)) this.treeStarted.set(t.uuid, elapsedAt);
      const s = contentTreeStatus(t, { ownUuid: devId, startedAtMs: this.treeStarted.get(t.uuid)!, nowMs: elapsedAt, downloadMs: this.o.clock.scaled(this.o.downloadMs ?? DEFAULT_DOWNLOAD_MS) });
      trees.set(t.uuid, s);
      if (s.local) await this.report(t.uuid, `${s.state}/${s.progress}`, () => contentTreeInfoMessage(devId, now, t.uuid, s));
      if (s.local && s.state === info.ZSwState.LOADED && this.treeStatuses.get(t.uuid)?.state !== info.ZSwState.LOADED) {
        this.log.info('content tree loaded', { contentTreeId: t.uuid, name: t.displayName });
        this.o.emit('contenttree.loaded', `${t.displayName} downloaded`, { contentTreeId: t.uuid });
      }
    }
    this.treeStatuses = trees;
    const kube = this.o.kube();
    if (kube) for (const name of this.pvcRemovals.splice(0)) if (!(await this.deletePvc(kube, name))) this.pvcRemovals.push(name);
    const vols = new Map<string, VolumeStatus>();
    let created = false;
    for (const v of cfg.volumes) {
      // A new config arrived while this pass waited: its pass (woken) decides, so a volume just removed is neither
      // re-created nor reported again.
      if (this.cfg !== cfg) return;
      const tree = trees.get(v.contentTreeId);
      let s = volumeStatus(v, { ownUuid: devId, tree, pvcCreated: this.pvcs.get(v.uuid) === volumePvcName(v) });
      if (s.state === info.ZSwState.CREATING_VOLUME && kube && (await this.createPvc(kube, v, s.pvc))) {
        const old = this.pvcs.get(v.uuid);
        if (old && old !== s.pvc) this.pvcRemovals.push(old); // a new generation replaces the old claim
        this.pvcs.set(v.uuid, s.pvc);
        s = volumeStatus(v, { ownUuid: devId, tree, pvcCreated: true });
      }
      vols.set(v.uuid, s);
      await this.report(v.uuid, `${s.state}/${s.progress}/${s.generation}`, () => volumeInfoMessage(devId, now, v.uuid, s));
      if (s.state === info.ZSwState.CREATED_VOLUME && this.volumeStatuses.get(v.uuid)?.state !== info.ZSwState.CREATED_VOLUME) {
        created = true;
        this.log.info('volume created', { volumeId: v.uuid, ...(s.designated ? { pvc: s.pvc } : { on: 'owner node' }) });
        this.o.emit('volume.created', `${v.displayName} created${s.designated ? ` (${s.pvc})` : ' on its owner node'}`, { volumeId: v.uuid });
      }
    }
    if (this.cfg !== cfg) return;
    this.volumeStatuses = vols;
    if (created) this.o.onVolumeCreated();
  }

  /**
   * Creates the volume's PVC (the designated node, cluster.md §8): storage class `lh-sc-rep2` when a node carries
   * the tie-breaker label, else `longhorn`. An existing claim of that name counts as made (an agent restart).
   * False when the API failed (tried again next pass).
   */
  private async createPvc(kube: KubeClient, v: VolumeConfig, name: string): Promise<boolean> {
    try {
      const tieBreaker = (await kube.listNodes({ labelSelector: TIE_BREAKER_SELECTOR }, this.o.signal)).length > 0;
      await kube.createPvc(volumePvc(v, name, tieBreaker ? STORAGE_CLASS_TIE_BREAKER : STORAGE_CLASS), this.o.signal);
      this.log.info('volume PVC created', { volumeId: v.uuid, pvc: name });
      this.o.emit('volume.pvc', `PVC ${name} created`, { volumeId: v.uuid, pvc: name });
      return true;
    } catch (e) {
      if (isKubeError(e, 'CONFLICT')) return true;
      if (isAbortError(e) || this.o.signal.aborted) throw e;
      this.log.debug('volume PVC not created; retrying next pass', { volumeId: v.uuid, pvc: name, error: errorMessage(e) });
      return false;
    }
  }

  /** Deletes a PVC this node made; false when the API failed (kept for the next pass). */
  private async deletePvc(kube: KubeClient, name: string): Promise<boolean> {
    try {
      await kube.deletePvc(name, this.o.signal);
      this.log.info('volume PVC deleted', { pvc: name });
      this.o.emit('volume.pvc', `PVC ${name} deleted`, { pvc: name });
      return true;
    } catch (e) {
      if (isKubeError(e, 'NOT_FOUND')) return true;
      if (isAbortError(e) || this.o.signal.aborted) throw e;
      this.log.warn('volume PVC not deleted; retrying next pass', { pvc: name, error: errorMessage(e) });
      return false;
    }
  }

  /** Publishes the object's info message when its digest changed since the last one. */
  private async report(uuid: string, digest: string, msg: () => info.IZInfoMsg): Promise<void> {
    if (this.digests.get(uuid) === digest) return;
    this.digests.set(uuid, digest);
    await this.o.publishInfo(uuid, msg());
  }
}

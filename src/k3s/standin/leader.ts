/**
 * Leader election among the server nodes, as kube-controller-manager does it: a `coordination.k8s.io` Lease
 * `kube-system/kube-controller-manager` held by one server's node name and renewed every retry period; another
 * server takes it over once it has not been renewed for the lease duration (the Lease-expiry rule of
 * common/lease-expiry.ts, as client-go judges it). Only the leader runs the controllers (node lifecycle, scheduler,
 * replicaset controller).
 */
import type { Clock, Logger } from '../../common/index.js';
import { errorMessage, LeaseObservation } from '../../common/index.js';
import type { KubeApi } from './kube-api.js';
import { resourceOf } from './resources.js';

/** kube-controller-manager defaults: lease 15 s, retry 2 s. */
export const LEADER_LEASE_MS = 15_000;
export const LEADER_RETRY_MS = 2_000;
/** The Lease the controllers are elected by. */
export const LEADER_LEASE = { namespace: 'kube-system', name: 'kube-controller-manager' } as const;

/** Options of {@link LeaderElector.start}. */
export interface LeaderElectorOptions {
  api: KubeApi;
  identity: string;
  onStartedLeading: () => void;
  onStoppedLeading: () => void;
  clock: Clock;
  logger: Logger;
}

/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-argument -- API objects are loosely typed JSON */

/** Campaigns for the controller lease until stopped. */
export class LeaderElector {
  private leading = false;
  private lastRenew = 0;
  private busy = false;
  private readonly observed = new LeaseObservation();
  private cancel: (() => void) | undefined;
  private readonly log: Logger;

  private constructor(private readonly opts: LeaderElectorOptions) {
    this.log = opts.logger.child({ component: 'k3s.standin.leader' });
  }

  /** Starts campaigning at once and then every retry period. */
  static start(opts: LeaderElectorOptions): LeaderElector {
    const e = new LeaderElector(opts);
    e.cancel = opts.clock.every(LEADER_RETRY_MS, () => void e.tick());
    void e.tick();
    return e;
  }

  /** True while this node holds the lease. */
  get isLeader(): boolean {
    return this.leading;
  }

  private setLeading(v: boolean): void {
    if (v === this.leading) return;
    this.leading = v;
    this.log.info('leadership', { from: v ? 'follower' : 'leader', to: v ? 'leader' : 'follower', identity: this.opts.identity });
    if (v) this.opts.onStartedLeading();
    else this.opts.onStoppedLeading();
  }

  private async tick(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    const { api, clock, identity } = this.opts;
    const t = resourceOf('leases');
    const now = clock.now();
    const spec = { holderIdentity: identity, leaseDurationSeconds: LEADER_LEASE_MS / 1000, renewTime: new Date(now).toISOString().replace('Z', '000Z') };
    try {
      const lease: any = await api.get(t, LEADER_LEASE.namespace, LEADER_LEASE.name).catch((e: unknown) => {
        if ((e as { reason?: string }).reason === 'NotFound') return undefined;
        throw e;
      });
      if (!lease) {
        await api.create(t, LEADER_LEASE.namespace, { metadata: { name: LEADER_LEASE.name }, spec: { ...spec, acquireTime: spec.renewTime, leaseTransitions: 0 } });
      } else {
        const holder = lease.spec?.holderIdentity;
        this.observed.see(lease.spec ?? {}, now);
        if (holder !== identity && !this.observed.expired(clock.scaled(LEADER_LEASE_MS), now)) {
          this.setLeading(false);
          return;
        }
        // The lease is this tick's own fresh read.
        const next = { ...lease, spec: { ...lease.spec, ...spec } };
        if (holder !== identity) {
          next.spec.acquireTime = spec.renewTime;
          next.spec.leaseTransitions = (lease.spec?.leaseTransitions ?? 0) + 1;
        }
        await api.update(t, LEADER_LEASE.namespace, LEADER_LEASE.name, next);
      }
      this.lastRenew = now;
      this.setLeading(true);
    } catch (e) {
      this.log.debug('lease renewal failed', { error: errorMessage(e) });
      // Step down once the lease we hold may have expired for the others (no quorum, or lost a race).
      if (this.leading && clock.now() - this.lastRenew > clock.scaled(LEADER_LEASE_MS) / 2) this.setLeading(false);
    } finally {
      this.busy = false;
    }
  }

  /** Stops campaigning (the lease simply expires). Idempotent. */
  stop(): void {
    this.cancel?.();
    this.cancel = undefined;
    this.setLeading(false);
  }
}
/* eslint-enable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-argument */

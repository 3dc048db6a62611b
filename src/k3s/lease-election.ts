/**
 * Lease-based leader election as client-go's `leaderelection` does it, for the kube-stats leader
 * `eve-kube-stats-leader` in `eve-kube-app` (cluster.md §7.1; lf-edge/eve: pkg/pillar/cmd/zedkube/leaderelect.go):
 * lease duration 300 s, renew deadline 180 s, retry period 15 s, identity = node name, released on cancel.
 *
 * Expiry is judged on the local clock from when this elector last saw the lease record change (client-go's
 * `observedTime`), never from the timestamps inside the lease, so clock skew between nodes does not matter.
 * Re-election after the elector exits (EVE: 5 min later) is the caller's loop.
 */
import type { V1Lease } from '@kubernetes/client-node';
import { errorMessage, isAbortError, LeaseObservation, type Clock, type Logger } from '../common/index.js';
import { EVE_KUBE_APP_NAMESPACE, isKubeError, type KubeClient } from './kube.js';

/** Name of the kube-stats leader lease. */
export const KUBE_STATS_LEASE_NAME = 'eve-kube-stats-leader';
/** LeaseDuration (300 s). */
export const LEASE_DURATION_MS = 300_000;
/** RenewDeadline (180 s): a leader that cannot renew for this long steps down. */
export const LEASE_RENEW_DEADLINE_MS = 180_000;
/** RetryPeriod (15 s) between acquire and renew attempts. */
export const LEASE_RETRY_PERIOD_MS = 15_000;

/** Options of {@link LeaseLeaderElector}. Durations are spec ms (scaled by the clock). */
export interface LeaseLeaderElectorOptions {
  client: KubeClient;
  /** This candidate's identity: the node name. */
  identity: string;
  /** @default 'eve-kube-stats-leader' */
  leaseName?: string;
  /** @default 'eve-kube-app' */
  namespace?: string;
  /** @default 300000 */
  leaseDurationMs?: number;
  /** @default 180000 */
  renewDeadlineMs?: number;
  /** @default 15000 */
  retryPeriodMs?: number;
  /** Called when this candidate becomes leader. */
  onStartedLeading?: () => void;
  /** Called when this candidate stops leading (lost renewal, release, cancel). */
  onStoppedLeading?: () => void;
  /** Called when the observed holder changes (`''` = nobody). */
  onNewLeader?: (identity: string) => void;
  clock: Clock;
  logger: Logger;
}

/** Leader election over one Lease; one instance per candidate. */
export class LeaseLeaderElector {
  readonly #o: Required<Omit<LeaseLeaderElectorOptions, 'onStartedLeading' | 'onStoppedLeading' | 'onNewLeader'>> &
    Pick<LeaseLeaderElectorOptions, 'onStartedLeading' | 'onStoppedLeading' | 'onNewLeader'>;
  readonly #log: Logger;
  readonly #observed = new LeaseObservation();
  #observedHolder = '';
  #leader = false;

  constructor(opts: LeaseLeaderElectorOptions) {
    if (!opts.identity) throw new RangeError('leader election: identity is empty');
    this.#o = {
      leaseName: KUBE_STATS_LEASE_NAME,
      namespace: EVE_KUBE_APP_NAMESPACE,
      leaseDurationMs: LEASE_DURATION_MS,
      renewDeadlineMs: LEASE_RENEW_DEADLINE_MS,
      retryPeriodMs: LEASE_RETRY_PERIOD_MS,
      ...opts,
    };
    if (this.#o.renewDeadlineMs >= this.#o.leaseDurationMs) {
      throw new RangeError('leader election: renewDeadlineMs must be below leaseDurationMs');
    }
    this.#log = opts.logger.child({ component: 'k3s.leader', lease: this.#o.leaseName, identity: opts.identity });
  }

  /** True while this candidate holds the lease (as of its last successful acquire/renew). */
  get isLeader(): boolean {
    return this.#leader;
  }

  /** The holder last seen in the lease (`''` when free or not read yet). */
  get observedLeader(): string {
    return this.#observedHolder;
  }

  #observe(lease: V1Lease): void {
    const spec = lease.spec ?? {};
    this.#observed.see(spec, this.#o.clock.monotonic());
    const holder = spec.holderIdentity ?? '';
    if (holder !== this.#observedHolder) {
      this.#observedHolder = holder;
      this.#log.info('lease holder changed', { holder });
      this.#o.onNewLeader?.(holder);
    }
  }

  #setLeader(v: boolean): void {
    if (v === this.#leader) return;
    this.#leader = v;
    this.#log.info(v ? 'started leading' : 'stopped leading');
    if (v) this.#o.onStartedLeading?.();
    else this.#o.onStoppedLeading?.();
  }

  /**
   * One acquire-or-renew attempt (client-go `tryAcquireOrRenew`): creates the lease if missing; takes it when free,
   * held by this identity, or not renewed for its duration; otherwise leaves it. Optimistic: a concurrent update
   * (409) counts as a failed attempt. Success makes {@link isLeader} true (firing `onStartedLeading` on the edge);
   * finding another valid holder makes it false.
   * @returns whether this candidate holds the lease now. API errors are logged and give `false`.
   */
  async tryAcquireOrRenew(signal?: AbortSignal): Promise<boolean> {
    const { client, namespace, leaseName, identity, leaseDurationMs, clock } = this.#o;
    const now = new Date(clock.now());
    const durationSeconds = Math.round(leaseDurationMs / 1000);
    let existing: V1Lease | undefined;
    try {
      existing = await client.getLease(namespace, leaseName, signal);
    } catch (e) {
      if (!isKubeError(e, 'NOT_FOUND')) return this.#attemptFailed('get', e);
    }
    try {
      if (!existing) {
        const created = await client.createLease(
          {
            apiVersion: 'coordination.k8s.io/v1',
            kind: 'Lease',
            metadata: { name: leaseName, namespace },
            spec: {
              holderIdentity: identity,
              leaseDurationSeconds: durationSeconds,
              acquireTime: now,
              renewTime: now,
              leaseTransitions: 0,
            },
          },
          signal,
        );
        this.#observe(created);
        this.#setLeader(true);
        return true;
      }
      this.#observe(existing);
      const spec = existing.spec ?? {};
      const holder = spec.holderIdentity ?? '';
      const heldFor = clock.scaled((spec.leaseDurationSeconds ?? durationSeconds) * 1000);
      if (holder && holder !== identity && !this.#observed.expired(heldFor, clock.monotonic())) {
        this.#setLeader(false);
        return false;
      }
      const mine = holder === identity;
      const updated = await client.replaceLease(
        {
          ...existing,
          spec: {
            ...spec,
            holderIdentity: identity,
            leaseDurationSeconds: durationSeconds,
            renewTime: now,
            acquireTime: mine && spec.acquireTime ? spec.acquireTime : now,
            leaseTransitions: (spec.leaseTransitions ?? 0) + (mine ? 0 : 1),
          },
        },
        signal,
      );
      this.#observe(updated);
      this.#setLeader(true);
      return true;
    } catch (e) {
      return this.#attemptFailed(existing ? 'update' : 'create', e);
    }
  }

  #attemptFailed(what: string, e: unknown): false {
    if (isAbortError(e)) throw e;
    this.#log.debug(`lease ${what} failed`, { error: errorMessage(e) });
    return false;
  }

  /**
   * Campaigns until leader, then renews every retry period; returns when leadership is lost (no successful renew
   * within the renew deadline) or `signal` fires — in that case a held lease is released first (ReleaseOnCancel).
   * Never throws for API errors.
   */
  async run(signal: AbortSignal): Promise<void> {
    const { clock, retryPeriodMs, renewDeadlineMs } = this.#o;
    const sleep = async (): Promise<boolean> => {
      try {
        await clock.sleep(retryPeriodMs, signal);
        return true;
      } catch {
        return false;
      }
    };
    try {
      while (!(await this.#attempt(signal))) if (!(await sleep())) return;
      let lastRenew = clock.monotonic();
      while (await sleep()) {
        if (await this.#attempt(signal)) {
          lastRenew = clock.monotonic();
        } else if (clock.monotonic() - lastRenew > clock.scaled(renewDeadlineMs)) {
          this.#log.warn('failed to renew the lease within the renew deadline', { renewDeadlineMs });
          this.#setLeader(false);
          return;
        }
      }
    } finally {
      if (this.#leader) await this.release();
    }
  }

  async #attempt(signal: AbortSignal): Promise<boolean> {
    try {
      return await this.tryAcquireOrRenew(signal);
    } catch (e) {
      if (isAbortError(e) || signal.aborted) return false;
      throw e;
    }
  }

  /**
   * Gives the lease up if this candidate holds it (client-go `release`: empty holder, 1 s duration), so another
   * candidate can take over at once. Errors are logged, not thrown.
   */
  async release(signal?: AbortSignal): Promise<void> {
    const { client, namespace, leaseName, identity, clock } = this.#o;
    try {
      const lease = await client.getLease(namespace, leaseName, signal);
      if (lease.spec?.holderIdentity === identity) {
        const now = new Date(clock.now());
        const updated = await client.replaceLease(
          {
            ...lease,
            spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: now, acquireTime: now },
          },
          signal,
        );
        this.#observe(updated);
        this.#log.info('lease released');
      }
    } catch (e) {
      this.#log.warn('lease release failed', { error: errorMessage(e) });
    } finally {
      this.#setLeader(false);
    }
  }
}

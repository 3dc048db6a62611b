/**
 * The one Lease-expiry rule (client-go leaderelection's `observedRecord`/`observedTime`), used by the agent's
 * kube-stats election (k3s/lease-election.ts) and the stand-in's controller election (k3s/standin/leader.ts):
 * a lease held by another is expired once its record has not changed for its duration, timed on the local clock
 * from when this candidate first saw the record as it is — never from the timestamps inside it, so clock skew
 * between nodes does not matter. A candidate that just started therefore waits a whole duration, as client-go does.
 */

/** The parts of a Lease spec whose change counts as a renewal. */
export interface LeaseRecord {
  holderIdentity?: string | null | undefined;
  renewTime?: unknown;
  acquireTime?: unknown;
  leaseTransitions?: number | null | undefined;
  leaseDurationSeconds?: number | null | undefined;
}

/** What one candidate has seen of one Lease. */
export class LeaseObservation {
  private key: string | undefined;
  private atMs = 0;

  /** Notes `record` as read at `nowMs` (local clock); the observed time moves only when the record changed. */
  see(record: LeaseRecord, nowMs: number): void {
    const key = JSON.stringify([record.holderIdentity, record.renewTime, record.acquireTime, record.leaseTransitions, record.leaseDurationSeconds]);
    if (key === this.key) return;
    this.key = key;
    this.atMs = nowMs;
  }

  /** Whether the record last seen has gone unchanged for `durationMs` at `nowMs` (false before any was seen). */
  expired(durationMs: number, nowMs: number): boolean {
    return this.key !== undefined && this.atMs + durationMs <= nowMs;
  }
}

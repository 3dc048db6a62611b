/**
 * Membership changes of the embedded etcd cluster, made so that forming a cluster never costs quorum and does not
 * wait on etcd's reconfiguration guards:
 *
 * - A joiner is added as a **learner** (non-voting; etcd 3.4 and 3.5 allow one learner at a time) and promoted
 *   once etcd reports it in sync with the leader (`MemberPromote` fails with "not in sync" until then). Adding a
 *   voting member to a one-member cluster would raise quorum to 2 before the new member runs; if its etcd then
 *   never comes up (or a lost MemberAdd response leaves it added without the joiner knowing) the cluster is stuck.
 *   A learner that never catches up is removed again after {@link LEARNER_TIMEOUT_MS}. k3s does the same
 *   (k3s-io/k3s: pkg/etcd/etcd.go, learners added on join and promoted by the server's learner manager).
 * - Joins through one server are serialised, so two MemberAdds are never in flight at once (etcd checks its
 *   reconfiguration guard before proposing, so two concurrent adds can both pass it).
 * - Members run with `--strict-reconfig-check=false` (etcd-member.ts): with it, etcd refuses any MemberAdd until
 *   the receiving member has been connected to every voting member for 5 s (`isConnectedFullySince`, HealthInterval),
 *   which serialises joins about 5 s apart. Promotion is still refused until the learner is in sync
 *   (`isLearnerReady` is checked regardless of the flag), so only running members ever vote.
 *
 * etcd's own timing is real time: the polls and timeouts here are real milliseconds, whatever the time scale.
 */
import type { Etcd3, IMember } from 'etcd3';
import type { Clock, Logger } from '../../common/index.js';
import { errorMessage } from '../../common/index.js';
import { ApiError, StandinError } from './errors.js';

/** Real ms between promotion attempts and readiness polls. */
export const MEMBER_POLL_MS = 100;
/** Real ms a learner may take to start and catch up before the server removes it again. */
export const LEARNER_TIMEOUT_MS = 30_000;
/** Real ms a join request waits for another joiner's learner to be promoted before answering 503. */
export const PENDING_JOIN_WAIT_MS = 5_000;
/** Real ms deadline of each membership call. */
const CALL_MS = 3_000;

/** Options of {@link EtcdMembership.create}. */
export interface EtcdMembershipOptions {
  /** Client of this server's own etcd member. */
  client: Etcd3;
  clock: Clock;
  logger: Logger;
}

/** etcd's refusal of a promotion of a learner that is not in sync yet (retried). */
function isNotReady(e: unknown): boolean {
  return /in sync with leader|not ready|not leader|no leader|timed out|deadline|unavailable/i.test(errorMessage(e));
}

/** etcd says the member is gone or already voting: nothing left to promote. */
function isSettled(e: unknown): boolean {
  return /ID not found|member not found|can only promote a learner member$/i.test(errorMessage(e));
}

/** `name=peerURL` entries of `--initial-cluster` for a joiner, naming the joiner's own (unstarted) member. */
export function initialClusterFor(members: IMember[], joiner: { name: string; peerUrl: string }): string {
  const entries: string[] = [];
  for (const m of members) {
    const own = m.peerURLs.includes(joiner.peerUrl);
    const name = own ? joiner.name : m.name;
    if (name === '') {
      // Only a member that has never started is unnamed; etcd would refuse an initial-cluster without it.
      throw new ApiError('ServiceUnavailable', `etcd member ${m.peerURLs.join(',')} was added but has not started yet; retry the join`);
    }
    for (const u of m.peerURLs) entries.push(`${name}=${u}`);
  }
  return entries.join(',');
}

/** Adds joiners as learners and promotes them, one at a time, on the server a joiner talks to. */
export class EtcdMembership {
  private queue: Promise<unknown> = Promise.resolve();
  private readonly promoting = new Set<string>();
  private readonly ac = new AbortController();
  private readonly log: Logger;

  private constructor(private readonly opts: EtcdMembershipOptions) {
    this.log = opts.logger.child({ component: 'k3s.standin.membership' });
  }

  /**
   * Starts the manager. Learners left by an earlier run of this server (it restarted while someone joined) get a
   * promotion loop of their own, so they cannot hold the one learner slot for ever.
   */
  static create(opts: EtcdMembershipOptions): EtcdMembership {
    const m = new EtcdMembership(opts);
    void m.list().then(
      (members) => {
        for (const l of members.filter((x) => x.isLearner)) m.promoteInBackground(l);
      },
      () => undefined,
    );
    return m;
  }

  private deadline(): { deadline: number } {
    return { deadline: this.opts.clock.now() + CALL_MS };
  }

  /** This member's view of the membership (serializable: etcd 3.4 has no linearizable MemberList, 3.5 would need quorum). */
  private async list(): Promise<IMember[]> {
    return (await this.opts.client.cluster.memberList({ linearizable: false }, this.deadline())).members;
  }

  /**
   * Makes `peerUrl` a learner of the cluster (or finds it already there after a retried join) and returns the
   * `--initial-cluster` the joiner must start etcd with. Answers 503 while another joiner's learner is pending
   * for longer than {@link PENDING_JOIN_WAIT_MS}, or when etcd does not answer.
   */
  join(name: string, peerUrl: string): Promise<string> {
    const run = this.queue.then(() => this.joinNow(name, peerUrl));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async joinNow(name: string, peerUrl: string): Promise<string> {
    const { clock } = this.opts;
    const waitUntil = clock.now() + PENDING_JOIN_WAIT_MS;
    try {
      for (;;) {
        let members = await this.list();
        const mine = members.find((m) => m.peerURLs.includes(peerUrl));
        if (mine && (mine.isLearner || mine.name === '')) {
          // A retried join (lost response, or the joiner restarted before its etcd ran): same member again.
          this.log.info('etcd member already added; joiner retried', { node: name, peerUrl, id: mine.ID, learner: mine.isLearner });
          if (mine.isLearner) this.promoteInBackground(mine);
          return initialClusterFor(members, { name, peerUrl });
        }
        // A started member with this peer URL, or this name on another URL, is a former self whose data is
        // gone (the joiner has no etcd data, else it would restart instead of joining): remove it first.
        const stale = members.filter((m) => m === mine || (m.name === name && !m.peerURLs.includes(peerUrl)));
        for (const m of stale) {
          await this.opts.client.cluster.memberRemove({ ID: m.ID }, this.deadline());
          this.log.warn('removed stale etcd member of a rejoining node', { node: name, id: m.ID, peerUrls: m.peerURLs.join(',') });
        }
        if (stale.length) continue;
        const pending = members.find((m) => m.isLearner && !m.peerURLs.includes(peerUrl));
        if (pending) {
          // Left by a joiner this server did not add (or by an earlier run of it): give it the same deadline.
          this.promoteInBackground(pending);
          if (clock.now() >= waitUntil) {
            throw new ApiError('ServiceUnavailable', `another node (${pending.name || pending.peerURLs.join(',')}) is joining the etcd cluster; retry`);
          }
          await clock.sleepReal(MEMBER_POLL_MS, this.ac.signal);
          continue;
        }
        const t0 = clock.now();
        try {
          ({ members } = await this.opts.client.cluster.memberAdd({ peerURLs: [peerUrl], isLearner: true }, this.deadline()));
        } catch (e) {
          // The add may have been applied although the call failed (deadline): look before giving up.
          members = await this.list();
          if (!members.some((m) => m.peerURLs.includes(peerUrl))) throw e;
        }
        const added = members.find((m) => m.peerURLs.includes(peerUrl))!;
        this.log.info('etcd learner added', { node: name, peerUrl, id: added.ID, ms: clock.now() - t0 });
        this.promoteInBackground(added);
        return initialClusterFor(members, { name, peerUrl });
      }
    } catch (e) {
      if (e instanceof ApiError) throw e;
      throw new ApiError('ServiceUnavailable', `cannot add etcd member for ${name}: ${errorMessage(e)}`);
    }
  }

  /** Promotes `learner` once in sync; removes it when it has not caught up within {@link LEARNER_TIMEOUT_MS}. */
  private promoteInBackground(learner: IMember): void {
    if (this.promoting.has(learner.ID)) return;
    this.promoting.add(learner.ID);
    void this.promote(learner).finally(() => this.promoting.delete(learner.ID));
  }

  private async promote(learner: IMember): Promise<void> {
    const { clock, client } = this.opts;
    const t0 = clock.now();
    const who = { id: learner.ID, peerUrl: learner.peerURLs.join(',') };
    let last = '';
    try {
      while (clock.now() - t0 < LEARNER_TIMEOUT_MS) {
        try {
          await client.cluster.memberPromote({ ID: learner.ID }, this.deadline());
          this.log.info('etcd learner promoted', { ...who, ms: clock.now() - t0 });
          return;
        } catch (e) {
          if (isSettled(e)) return;
          if (!isNotReady(e)) this.log.debug('etcd learner promotion failed', { ...who, error: errorMessage(e) });
          last = errorMessage(e);
        }
        await clock.sleepReal(MEMBER_POLL_MS, this.ac.signal);
      }
      await client.cluster.memberRemove({ ID: learner.ID }, this.deadline());
      this.log.warn('etcd learner did not catch up in time; removed it so that other nodes can join', { ...who, timeoutMs: LEARNER_TIMEOUT_MS, lastError: last });
    } catch (e) {
      if (!this.ac.signal.aborted) this.log.warn('etcd learner promotion stopped', { ...who, error: errorMessage(e) });
    }
  }

  /** Stops the promotion loops (a learner left behind is promoted or removed by the next server that starts). */
  stop(): void {
    this.ac.abort();
  }
}

/** Options of {@link waitEtcdReady}. */
export interface WaitEtcdReadyOptions {
  /** Client of the local member only. */
  client: Etcd3;
  /** Resolves when the etcd process exits. */
  exited: Promise<unknown>;
  /** Real ms before giving up; undefined waits until `signal` aborts. */
  timeoutMs?: number;
  /** Where etcd's log goes (named in errors). */
  logFile: string;
  clock: Clock;
  logger: Logger;
  signal?: AbortSignal;
}

/**
 * Waits until the local member votes (a learner is not promoted yet) and answers a linearizable read, i.e. the
 * cluster has a leader and quorum. Rejects with a `StandinError('etcd')` if the process exits or time runs out.
 */
export async function waitEtcdReady(opts: WaitEtcdReadyOptions): Promise<void> {
  const { client, clock } = opts;
  const t0 = clock.now();
  let exited: { code: unknown } | undefined;
  void opts.exited.then((code) => (exited = { code }));
  let last = 'no answer yet';
  let lastLog = t0;
  for (;;) {
    if (exited) throw new StandinError('etcd', `etcd exited with code ${String(exited.code)} before it was ready; see ${opts.logFile}`, { logFile: opts.logFile });
    try {
      const status = await client.maintenance.status({ deadline: clock.now() + 1_000 });
      if (status.isLearner) last = 'learner, not yet promoted';
      else if (status.leader === '0') last = 'no leader';
      else {
        await client.kv.range({ key: Buffer.from('health') }, { deadline: clock.now() + 1_000 });
        return;
      }
    } catch (e) {
      last = errorMessage(e);
    }
    const waited = clock.now() - t0;
    if (opts.timeoutMs !== undefined && waited > opts.timeoutMs) {
      throw new StandinError('etcd', `etcd member not ready after ${Math.round(waited / 1000)} s (${last}); see ${opts.logFile}`, { logFile: opts.logFile });
    }
    if (clock.now() - lastLog > 5_000) {
      opts.logger.info('waiting for etcd', { waitedMs: waited, state: last });
      lastLog = clock.now();
    }
    await clock.sleepReal(MEMBER_POLL_MS, opts.signal);
  }
}

/**
 * The controllers one elected server runs (k3s runs kube-controller-manager and kube-scheduler inside the
 * server process): node lifecycle every node-monitor-period (10 s, cluster.md §4.1); taint eviction with pod GC,
 * the ReplicaSet controller and the scheduler in one pass, checked every half second: it runs when a watch saw
 * its input (nodes, pods, ReplicaSets) change, or when a deadline it computed (a toleration's end, a retry) comes
 * due — kube-controller-manager reacts to its informers so — keeping the eviction timeline exact to the half
 * second. Each loop skips a tick while its previous pass still runs.
 */
import type { Clock, Logger } from '../../common/index.js';
import { errorMessage } from '../../common/index.js';
import { ChangeFeed, nodeChangeMatters, passDue } from './change-feed.js';
import type { KubeApi } from './kube-api.js';
import { LeaderElector } from './leader.js';
import { NodeLifecycleController } from './node-lifecycle.js';
import { ReplicaSetController } from './replicaset-controller.js';
import { Scheduler } from './scheduler.js';
import { keyPrefix, resourceOf } from './resources.js';

/** Options of {@link startControllers}. */
export interface ControllerManagerOptions {
  api: KubeApi;
  nodeMonitorPeriodMs: number;
  nodeMonitorGraceMs: number;
  clock: Clock;
  logger: Logger;
}

/** Period of the pass that evicts, reconciles ReplicaSets and schedules, spec ms. */
const PASS_PERIOD_MS = 500;
/**
 * The pods pass runs at least this often (spec ms) with nothing changed: an informer's resync, so a watch that
 * stalled without an error cannot leave a pod unscheduled or a ReplicaSet short for long.
 */
const RESYNC_MS = 10_000;
/**
 * The pass never runs more often than this (real ms). kube-controller-manager reacts to watch events, not to a
 * timer; this polling pass only stands in for that, so a large --time-scale need not turn it into a busy loop
 * that lists every node and pod 20 times a second.
 */
const MIN_REAL_PASS_MS = 250;

/** Starts every controller loop; returns the function that stops them. */
export function startControllers(opts: ControllerManagerOptions): () => void {
  const log = opts.logger.child({ component: 'k3s.standin.controllers' });
  const lifecycle = new NodeLifecycleController({ api: opts.api, graceMs: opts.nodeMonitorGraceMs, clock: opts.clock, logger: opts.logger });
  const scheduler = new Scheduler({ api: opts.api, clock: opts.clock, logger: opts.logger });
  const replicasets = new ReplicaSetController({ api: opts.api, clock: opts.clock, logger: opts.logger });
  const feed = new ChangeFeed(opts.api.store, [
    { prefix: keyPrefix(resourceOf('nodes')), matters: nodeChangeMatters },
    { prefix: keyPrefix(resourceOf('pods')) },
    { prefix: keyPrefix(resourceOf('replicasets')) },
  ]);
  /** When the pods pass must run even with nothing changed (spec ms). */
  let dueAt = -Infinity;
  const loop = (name: string, ms: number, fn: () => Promise<void>): (() => void) => {
    let busy = false;
    const run = (): void => {
      if (busy) return;
      busy = true;
      fn()
        .catch((e: unknown) => log.debug('controller pass failed', { controller: name, error: errorMessage(e) }))
        .finally(() => (busy = false));
    };
    run();
    return opts.clock.every(ms, run);
  };
  const stops = [
    loop('nodelifecycle', opts.nodeMonitorPeriodMs, () => lifecycle.monitorNodes()),
    loop('pods', Math.max(PASS_PERIOD_MS, opts.clock.specMs(MIN_REAL_PASS_MS)), async () => {
      const now = opts.clock.now();
      if (!passDue({ changed: feed.changed, watching: feed.watching, now, dueAt })) return;
      // Changes from here on (the pass's own writes included) call for the next pass.
      feed.changed = false;
      try {
        // One read of nodes and pods per pass keeps the datastore load flat under --time-scale.
        const nodes = await opts.api.list(resourceOf('nodes'), undefined);
        await feed.follow(nodes.revision);
        const snap = { nodes: nodes.items, pods: (await opts.api.list(resourceOf('pods'), undefined)).items };
        const evictAt = await lifecycle.evictPods(snap);
        const synced = await replicasets.reconcile(snap);
        const bound = await scheduler.schedule(snap);
        dueAt = synced && bound ? Math.min(evictAt, now + RESYNC_MS) : now;
      } catch (e) {
        feed.changed = true;
        throw e;
      }
    }),
  ];
  log.info('controllers started');
  return () => {
    for (const s of stops) s();
    feed.close();
    log.info('controllers stopped');
  };
}

/**
 * kube-controller-manager on a server: campaigns for its Lease as `identity` and runs the controllers only while it
 * leads (the process and the in-process cluster both start servers so). Returns the function that stops both.
 */
export function startElectedControllers(opts: ControllerManagerOptions & { identity: string }): () => void {
  let stopControllers: (() => void) | undefined;
  const elector = LeaderElector.start({
    api: opts.api,
    identity: opts.identity,
    onStartedLeading: () => {
      stopControllers = startControllers(opts);
    },
    onStoppedLeading: () => {
      stopControllers?.();
      stopControllers = undefined;
    },
    clock: opts.clock,
    logger: opts.logger,
  });
  return () => elector.stop();
}

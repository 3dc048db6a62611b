/**
 * The controllers one elected server runs (k3s runs kube-controller-manager and kube-scheduler inside the
 * server process): node lifecycle every node-monitor-period (10 s, cluster.md §4.1), taint eviction and pod GC
 * every second, the scheduler every half second, the ReplicaSet controller every second. Each loop skips a tick
 * while its previous pass still runs.
 */
import type { Clock, Logger } from '../../common/index.js';
import { errorMessage } from '../../common/index.js';
import type { KubeApi } from './kube-api.js';
import { NodeLifecycleController } from './node-lifecycle.js';
import { ReplicaSetController } from './replicaset-controller.js';
import { Scheduler } from './scheduler.js';

/** Options of {@link startControllers}. */
export interface ControllerManagerOptions {
  api: KubeApi;
  nodeMonitorPeriodMs: number;
  nodeMonitorGraceMs: number;
  clock: Clock;
  logger: Logger;
}

/** Loop periods in spec ms. */
const EVICTION_PERIOD_MS = 1_000;
const SCHEDULER_PERIOD_MS = 500;
const REPLICASET_PERIOD_MS = 1_000;

/** Starts every controller loop; returns the function that stops them. */
export function startControllers(opts: ControllerManagerOptions): () => void {
  const log = opts.logger.child({ component: 'k3s.standin.controllers' });
  const lifecycle = new NodeLifecycleController({ api: opts.api, graceMs: opts.nodeMonitorGraceMs, clock: opts.clock, logger: opts.logger });
  const scheduler = new Scheduler({ api: opts.api, clock: opts.clock, logger: opts.logger });
  const replicasets = new ReplicaSetController({ api: opts.api, clock: opts.clock, logger: opts.logger });
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
    loop('taint-eviction', EVICTION_PERIOD_MS, () => lifecycle.evictPods()),
    loop('scheduler', SCHEDULER_PERIOD_MS, () => scheduler.schedule()),
    loop('replicaset', REPLICASET_PERIOD_MS, () => replicasets.reconcile()),
  ];
  log.info('controllers started');
  return () => {
    for (const s of stops) s();
    log.info('controllers stopped');
  };
}

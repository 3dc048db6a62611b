/**
 * What a device's {@link ClusterReconciler} is given to run in an in-process cluster: its k3s ({@link InprocK3s}),
 * its cluster interface (the {@link InprocHost}), the status server bound in memory and the bootstrap wait of a
 * joiner, which runs the agent's own handshake (k3s/join-handshake.ts) with its two probes answered by the
 * segment, and whose `/status` answer is the status server's own rule (status-server.ts `clusterStatusBody`).
 */
import type { Clock, Logger } from '../common/index.js';
import type { ClusterReconcilerOptions } from '../agent/cluster/cluster-reconciler.js';
import { clusterStatusBody, isControlPlaneEtcdNode, waitForBootstrapServer } from '../k3s/index.js';
import { connectError } from './endpoint.js';
import { InprocK3s } from './k3s.js';
import type { InprocHost } from './segment.js';

/** Options of {@link inprocClusterSeams}. */
export interface InprocSeamsOptions {
  host: InprocHost;
  clock: Clock;
  logger: Logger;
  /** Extra k3s config values for every start (e.g. `{ 'pod-start-delay': '1s' }`). */
  extraConfig?: Record<string, string | string[]>;
}

/** The reconciler options that put one device into in-process clusters. */
export type InprocClusterSeams = Required<Pick<ClusterReconcilerOptions, 'network' | 'startStatusServer' | 'waitForBootstrap'>> & { k3s: InprocK3s };

/** The seams of one device on `host`. */
export function inprocClusterSeams(o: InprocSeamsOptions): InprocClusterSeams {
  const { host, clock } = o;
  const log = o.logger.child({ component: 'inproc.node', host: host.name });
  const k3s = new InprocK3s({ host, clock, logger: o.logger, ...(o.extraConfig ? { extraConfig: o.extraConfig } : {}) });
  const isClusterMember = async (signal: AbortSignal): Promise<boolean> => {
    const kube = k3s.kube();
    const name = k3s.config?.nodeName;
    if (!kube || !name) return false;
    return isControlPlaneEtcdNode((await kube.getNode(name, signal)).labels);
  };
  return {
    k3s,
    network: host,
    startStatusServer: (ip, clusterId) => {
      const unbind = host.bindStatus(ip, (signal) => clusterStatusBody(clusterId, isClusterMember, signal, log));
      return Promise.resolve({ stop: () => Promise.resolve(unbind()) });
    },
    waitForBootstrap: async (joinServerIp, clusterId, signal) => {
      const segment = host.segment;
      await waitForBootstrapServer({
        joinServerIp,
        clusterId,
        probes: {
          api: () => (segment.hostAt(joinServerIp)?.apiEndpoint?.listening ? Promise.resolve() : Promise.reject(connectError('ECONNREFUSED', `${joinServerIp}:6443`))),
          status: (sig) => segment.status(joinServerIp, sig),
        },
        clock,
        logger: log,
        signal,
      });
    },
  };
}

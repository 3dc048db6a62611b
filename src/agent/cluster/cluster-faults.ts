/**
 * The cluster faults (`edgesim ctl fault`): what each does to the running k3s, the status server and the cluster
 * interface. The fault set itself lives in ../faults.ts; this is only the reaction of the cluster side.
 */
import type { K3sProcess } from './k3s-runtime.js';

/** The cluster faults this module reacts to. */
export const CLUSTER_FAULTS = ['k3s-killed', 'k3s-stopped', 'heartbeats-paused', 'status-server-down', 'cluster-interface-down'] as const;
export type ClusterFault = (typeof CLUSTER_FAULTS)[number];

/** Is `kind` one of {@link CLUSTER_FAULTS}? */
export function isClusterFault(kind: string): kind is ClusterFault {
  return (CLUSTER_FAULTS as readonly string[]).includes(kind);
}

/** What the faults act on, as the reconciler has it now. */
export interface ClusterFaultTargets {
  k3s: K3sProcess | undefined;
  /** Linux name of the cluster interface while in a cluster. */
  clusterIfname: string | undefined;
  /** Sets a link up or down (network.ts `setLinkUp` on the host). */
  setLinkUp: (ifname: string, up: boolean) => Promise<void>;
  stopStatusServer: () => Promise<void>;
  /** Serves the status port again if in a cluster. */
  startStatusServer: () => Promise<void>;
  /** Clears a one-shot fault once it has acted. */
  clear: (kind: ClusterFault) => void;
}

/** Applies (`active`) or lifts one cluster fault. */
export async function applyClusterFault(kind: ClusterFault, active: boolean, t: ClusterFaultTargets): Promise<void> {
  switch (kind) {
    case 'k3s-killed':
      if (!active) return;
      t.k3s?.kill('SIGKILL');
      t.clear('k3s-killed'); // a one-shot: the supervisor restarts k3s
      return;
    case 'k3s-stopped':
      if (active) await t.k3s?.pause();
      else await t.k3s?.resume();
      return;
    case 'heartbeats-paused':
      // The whole k3s process group stops: no node status, no Lease renewals, the API keeps its TCP listen queue.
      t.k3s?.freeze(active);
      return;
    case 'status-server-down':
      if (active) await t.stopStatusServer();
      else await t.startStatusServer();
      return;
    case 'cluster-interface-down':
      if (t.clusterIfname) await t.setLinkUp(t.clusterIfname, !active);
      return;
  }
}

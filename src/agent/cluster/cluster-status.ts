/** What the cluster side of the agent reports about itself (admin API `status`, demo, `edgesim ctl`). */

export type ClusterRole = 'none' | 'single' | 'bootstrap' | 'server' | 'agent';

/** One node as the leader's last ZInfoKubeCluster saw it. */
export interface ClusterStatusNode {
  name: string;
  ready: boolean;
  internalIp: string;
  nodeId: string;
  schedulable: boolean;
}

/** A snapshot of the cluster state. */
export interface ClusterStatus {
  role: ClusterRole;
  clusterId: string;
  clusterIp: string;
  nodeName: string;
  /** READY / NOTREADY / DOWN / '' (no cluster). */
  nodeStatus: string;
  isLeader: boolean;
  leader: string;
  /** Nodes of the last ZInfoKubeCluster this node built (leader) or saw. */
  nodes: ClusterStatusNode[];
  error: string | undefined;
  phase: string;
  /** The cluster port while in a cluster: Linux name, logical label and the cluster address with its prefix. */
  port?: { ifname: string; label: string; address: string } | undefined;
}

/** What the monitor loops observe; reset whenever the node changes mode. */
export type ObservedClusterStatus = Pick<ClusterStatus, 'nodeStatus' | 'isLeader' | 'leader' | 'nodes'>;

/** The observed part before any loop has looked. */
export function unobserved(): ObservedClusterStatus {
  return { nodeStatus: '', isLeader: false, leader: '', nodes: [] };
}

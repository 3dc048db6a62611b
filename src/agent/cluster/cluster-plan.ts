/**
 * The cluster transition planner (cluster.md §5): from what is applied on this node and what the config wants, the
 * ordered steps that take one to the other. Pure: no I/O, no clock. The executor (cluster-executor.ts) runs the
 * first step, records its effect only once it succeeded, and plans again from there, so an aborted or failed step
 * is re-planned from what is really there.
 *
 * Order of a transition (any subset): stop the monitor → leave the old membership (drain while its k3s runs) →
 * stop the status server → reset k3s (stop, wipe drop-ins and data) → remove stale addresses → add the cluster
 * address → start the status server → wait for the bootstrap (first join only) → write the drop-ins → start k3s →
 * start the monitor (labels the node, reports).
 */
import type { ClusterMemberRole } from '../parse-config.js';

/**
 * What the reconciler knows of the cluster block of the newest config: none (`absent`, back to single-node), one it
 * could not use (`rejected`: invalid or undecryptable, reported, changes nothing), or a usable one.
 */
export type ClusterInput = { kind: 'absent'; deviceName: string } | { kind: 'rejected' } | { kind: 'cluster'; deviceName: string; target: ClusterTarget };

/** The wanted state after `input`: a rejected block keeps what the last usable config wanted (§2.3). */
export function wantedAfter(last: ClusterWanted | undefined, input: ClusterInput): ClusterWanted | undefined {
  switch (input.kind) {
    case 'rejected':
      return last;
    case 'absent':
      return { kind: 'single', deviceName: input.deviceName };
    case 'cluster':
      return { kind: 'cluster', deviceName: input.deviceName, target: input.target };
  }
}

/** One address on one Linux interface. */
export interface ClusterAddress {
  ifname: string;
  ip: string;
  prefix: number;
}

/** The cluster this node should be in, resolved (Linux ifname, token digest) but without the token itself. */
export interface ClusterTarget {
  clusterId: string;
  clusterName: string;
  /** Logical label of the cluster port (`ethernet1`) and the Linux interface it maps to. */
  label: string;
  ifname: string;
  clusterIp: string;
  prefixLength: number;
  joinServerIp: string;
  role: ClusterMemberRole;
  clusterType: number;
  tieBreakerNodeId: string;
  /** SHA-256 of the decrypted token: a rotated token rewrites the drop-ins. */
  tokenDigest: string;
}

/** What the node should run: single-node k3s, or a cluster membership. */
export type ClusterWanted = { kind: 'single'; deviceName: string } | { kind: 'cluster'; deviceName: string; target: ClusterTarget };

/** What is applied on this node now. Keys are opaque strings from {@link membershipKey} and {@link configKey}. */
export interface ClusterApplied {
  /** Cluster addresses this node added and still holds. */
  addresses: ClusterAddress[];
  /** The status server, while it listens. */
  statusServer: { ip: string; clusterId: string } | undefined;
  /** Whose state k3s's data directory holds: '' blank, 'single', a membership key, or 'left' (drained, not reset). */
  data: string;
  /** The membership whose bootstrap wait has passed ('' = none). */
  joined: string;
  /** Config key of the drop-ins on disk ('' = none written since the last reset or start). */
  dropIns: string;
  /** Config key k3s runs with ('' = not running). */
  k3s: string;
  /** Config key the monitor loops run for ('' = none). */
  monitor: string;
}

/** Nothing applied (a fresh start: k3s data from an earlier run is described by `data`). */
export function nothingApplied(data = ''): ClusterApplied {
  return { addresses: [], statusServer: undefined, data, joined: '', dropIns: '', k3s: '', monitor: '' };
}

export type ClusterStep =
  | { kind: 'stop-monitor' }
  /** Cordon, delete own app pods and own Node while the old membership's k3s still runs (§5.5). */
  | { kind: 'leave' }
  | { kind: 'stop-status-server' }
  /** Stop k3s, remove the drop-ins, wipe its data: a blank node (EVE restores its /var/lib snapshot). */
  | { kind: 'reset-k3s' }
  | { kind: 'remove-address'; address: ClusterAddress }
  | { kind: 'add-address'; address: ClusterAddress }
  | { kind: 'start-status-server'; ip: string; clusterId: string }
  /** A joiner's first start waits until the bootstrap answers `cluster:<id>` (§5.3). */
  | { kind: 'wait-bootstrap'; joinServerIp: string; clusterId: string; membership: string }
  | { kind: 'write-drop-ins'; wanted: ClusterWanted; key: string }
  | { kind: 'start-k3s'; key: string; data: string }
  /** Starts the monitor loops: node-uuid label, node status, election, leader reports. */
  | { kind: 'start-monitor'; wanted: ClusterWanted; key: string };

/**
 * What a node's k3s data belongs to. A change means leaving and joining again with blank data: another cluster,
 * another role (server ↔ agent, joiner → bootstrap) or another own cluster IP (etcd and the Node carry it).
 */
export function membershipKey(w: ClusterWanted): string {
  if (w.kind === 'single') return 'single';
  const t = w.target;
  return `cluster:${t.clusterId}/${t.role}/${t.clusterIp}`;
}

/** What the drop-ins are rendered from: a change rewrites them and restarts k3s. */
export function configKey(w: ClusterWanted): string {
  if (w.kind === 'single') return JSON.stringify(['single', w.deviceName]);
  const t = w.target;
  return JSON.stringify([membershipKey(w), w.deviceName, t.joinServerIp, t.ifname, t.clusterType, t.tokenDigest]);
}

/** What the monitor loops depend on besides the running k3s. */
export function monitorKey(w: ClusterWanted): string {
  return w.kind === 'single' ? configKey(w) : JSON.stringify([configKey(w), w.target.tieBreakerNodeId, w.target.clusterName]);
}

const sameAddress = (a: ClusterAddress, b: ClusterAddress | undefined): boolean =>
  !!b && a.ifname === b.ifname && a.ip === b.ip && a.prefix === b.prefix;

/** The cluster address `w` puts on its interface (none in single-node mode). */
export function wantedAddress(w: ClusterWanted): ClusterAddress | undefined {
  return w.kind === 'cluster' ? { ifname: w.target.ifname, ip: w.target.clusterIp, prefix: w.target.prefixLength } : undefined;
}

/**
 * The ordered steps from `a` to `w`; empty when `a` already is what `w` implies, or when nothing is wanted yet
 * (no valid config has arrived: nothing that runs is changed).
 */
export function planCluster(a: ClusterApplied, w: ClusterWanted | undefined): ClusterStep[] {
  if (!w) return [];
  const steps: ClusterStep[] = [];
  const membership = membershipKey(w);
  const key = configKey(w);
  const monKey = monitorKey(w);
  const addr = wantedAddress(w);
  const server = w.kind === 'cluster' ? { ip: w.target.clusterIp, clusterId: w.target.clusterId } : undefined;

  // Everything below may take the monitor's k3s away or change what it reports: stop it first.
  if (a.monitor && a.monitor !== monKey) steps.push({ kind: 'stop-monitor' });
  const reset = a.data !== '' && a.data !== membership;
  // Drain while the old membership's k3s still runs (and still has its address).
  if (reset && a.data.startsWith('cluster:') && a.k3s) steps.push({ kind: 'leave' });
  const addrMissing = !!addr && !a.addresses.some((x) => sameAddress(x, addr));
  // A server whose address is (re)added is restarted with it: it must listen where the address now is.
  const serverOk =
    !!a.statusServer && !!server && !addrMissing && a.statusServer.ip === server.ip && a.statusServer.clusterId === server.clusterId;
  if (a.statusServer && !serverOk) steps.push({ kind: 'stop-status-server' });
  if (reset) steps.push({ kind: 'reset-k3s' });
  for (const old of a.addresses) if (!sameAddress(old, addr)) steps.push({ kind: 'remove-address', address: old });
  if (addr && addrMissing) steps.push({ kind: 'add-address', address: addr });
  if (server && !serverOk) steps.push({ kind: 'start-status-server', ...server });
  const data = reset ? '' : a.data;
  const joined = reset ? '' : a.joined;
  if (w.kind === 'cluster' && w.target.role !== 'bootstrap' && data === '' && joined !== membership) {
    steps.push({ kind: 'wait-bootstrap', joinServerIp: w.target.joinServerIp, clusterId: w.target.clusterId, membership });
  }
  const dropInsOk = !reset && a.dropIns === key;
  if (!dropInsOk) steps.push({ kind: 'write-drop-ins', wanted: w, key });
  if (!dropInsOk || a.k3s !== key || data !== membership) steps.push({ kind: 'start-k3s', key, data: membership });
  if (a.monitor !== monKey) steps.push({ kind: 'start-monitor', wanted: w, key: monKey });
  return steps;
}

/**
 * What `a` becomes once `step` succeeded (the executor's record). Pure, so that the planner tests can walk a whole
 * transition and check that it converges.
 */
export function afterStep(a: ClusterApplied, step: ClusterStep): ClusterApplied {
  switch (step.kind) {
    case 'stop-monitor':
      return { ...a, monitor: '' };
    case 'leave':
      return { ...a, data: 'left' }; // the Node is gone from the cluster: only a reset makes this data usable again
    case 'stop-status-server':
      return { ...a, statusServer: undefined };
    case 'reset-k3s':
      return { ...a, data: '', joined: '', dropIns: '', k3s: '', monitor: '' };
    case 'remove-address':
      return { ...a, addresses: a.addresses.filter((x) => !sameAddress(x, step.address)) };
    case 'add-address':
      return { ...a, addresses: [...a.addresses, step.address] };
    case 'start-status-server':
      return { ...a, statusServer: { ip: step.ip, clusterId: step.clusterId } };
    case 'wait-bootstrap':
      return { ...a, joined: step.membership };
    case 'write-drop-ins':
      return { ...a, dropIns: step.key };
    case 'start-k3s':
      return { ...a, k3s: step.key, data: step.data };
    case 'start-monitor':
      return { ...a, monitor: step.key };
  }
}

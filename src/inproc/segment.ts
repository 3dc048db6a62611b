/**
 * The network of in-process cluster nodes: a segment (one LAN, e.g. the cluster interfaces of one cluster group)
 * and the hosts on it, each holding the addresses its cluster reconciler adds (the in-memory
 * {@link ClusterNetwork}), the status servers bound to them and the API port of its k3s. A name is looked up
 * among the hosts of the segment only, so clusters of a fleet may reuse addresses, as separate sites do.
 */
import type { ClusterNetwork } from '../agent/cluster/cluster-reconciler.js';
import type { ClusterAddress } from '../agent/cluster/cluster-plan.js';
import type { KubeTransport } from '../k3s/kube-http.js';
import { connectError, endpointTransport, type InprocEndpoint } from './endpoint.js';
import type { InprocCluster } from './cluster.js';

/** Answers `GET /status` (the body; see status-server.ts `clusterStatusBody`). */
export type StatusHandler = (signal: AbortSignal) => Promise<string>;

/** One LAN of in-process hosts, and the clusters formed on it (the etcd data their members share). */
export class InprocSegment {
  /** Hosts by the addresses they hold (a fleet's segment has thousands: every request looks one up). */
  private readonly byIp = new Map<string, Set<InprocHost>>();
  /** Clusters by id (what a joiner reaches once the join server answered with the cluster's id). */
  readonly clusters = new Map<string, InprocCluster>();

  /** A new host on this segment (a device's cluster interface). */
  host(name: string): InprocHost {
    return new InprocHost(this, name);
  }

  /** Records that `host` holds `ip` now (or no longer). */
  noteAddress(host: InprocHost, ip: string, held: boolean): void {
    const set = this.byIp.get(ip) ?? new Set<InprocHost>();
    if (held) set.add(host);
    else set.delete(host);
    if (set.size) this.byIp.set(ip, set);
    else this.byIp.delete(ip);
  }

  /** The host that holds `ip` with its link up. */
  hostAt(ip: string): InprocHost | undefined {
    for (const h of this.byIp.get(ip) ?? []) if (h.reachableAt(ip)) return h;
    return undefined;
  }

  /** Requests to the k3s API port (6443) of whatever host holds `ip` at the time, sent from `from` (its link must be up). */
  apiTransport(ip: string, from?: { readonly linkUp: boolean }): KubeTransport {
    return endpointTransport(() => (from && !from.linkUp ? undefined : this.hostAt(ip)?.apiEndpoint), `${ip}:6443`);
  }

  /** `GET /status` on `ip`'s status port; rejects as a refused connection when nothing listens. */
  async status(ip: string, signal: AbortSignal | undefined): Promise<{ status: number; body: string }> {
    const handler = this.hostAt(ip)?.statusServer(ip);
    if (!handler) throw connectError('ECONNREFUSED', `${ip}:12346`);
    return { status: 200, body: await handler(signal ?? new AbortController().signal) };
  }
}

/** One device's host: its cluster-interface addresses, status servers and k3s API port. */
export class InprocHost implements ClusterNetwork {
  private readonly links = new Map<string, Set<string>>();
  private readonly statusServers = new Map<string, StatusHandler>();
  private up = true;
  private readonly linkListeners = new Set<(up: boolean) => void>();
  /** The API port of this host's k3s while a server runs here. */
  apiEndpoint: InprocEndpoint | undefined;

  constructor(
    readonly segment: InprocSegment,
    readonly name: string,
  ) {}

  /** False while the cluster-interface-down fault holds (or the device lost power). */
  get linkUp(): boolean {
    return this.up;
  }

  /** The cluster-interface-down fault (every interface of the host: only the cluster interface is modelled). */
  setLinkUp(_ifname: string, up: boolean): Promise<void> {
    if (up !== this.up) {
      this.up = up;
      for (const fn of this.linkListeners) fn(up);
    }
    return Promise.resolve();
  }

  /** Calls `fn` on every link change; returns the unsubscribe function. */
  onLinkChange(fn: (up: boolean) => void): () => void {
    this.linkListeners.add(fn);
    return () => this.linkListeners.delete(fn);
  }

  add(a: ClusterAddress): Promise<void> {
    const link = this.links.get(a.ifname) ?? new Set<string>();
    for (const cidr of link) if (cidr.startsWith(`${a.ip}/`)) link.delete(cidr);
    link.add(`${a.ip}/${a.prefix}`);
    this.links.set(a.ifname, link);
    this.segment.noteAddress(this, a.ip, true);
    return Promise.resolve();
  }

  remove(a: ClusterAddress): Promise<void> {
    const link = this.links.get(a.ifname);
    for (const cidr of [...(link ?? [])]) if (cidr.startsWith(`${a.ip}/`)) link!.delete(cidr);
    this.segment.noteAddress(this, a.ip, this.holds(a.ip));
    return Promise.resolve();
  }

  /** Whether `ip` is assigned here. */
  holds(ip: string): boolean {
    for (const link of this.links.values()) for (const cidr of link) if (cidr.startsWith(`${ip}/`)) return true;
    return false;
  }

  /** Whether a peer on the segment reaches this host at `ip`. */
  reachableAt(ip: string): boolean {
    return this.linkUp && this.holds(ip);
  }

  /**
   * Binds the status server to `ip` (which must be assigned here, as the real listener needs its address);
   * returns the function that unbinds it.
   */
  bindStatus(ip: string, handler: StatusHandler): () => void {
    if (!this.holds(ip)) {
      throw Object.assign(new Error(`cluster status server: cannot listen on ${ip}:12346: address not available`), { code: 'EADDRNOTAVAIL' });
    }
    this.statusServers.set(ip, handler);
    return () => {
      if (this.statusServers.get(ip) === handler) this.statusServers.delete(ip);
    };
  }

  /** The status server bound to `ip`, if any. */
  statusServer(ip: string): StatusHandler | undefined {
    return this.statusServers.get(ip);
  }
}

/**
 * An in-process k3s cluster built from the stand-in's own machinery: one {@link MemoryStore} per cluster (its
 * etcd), the stand-in's {@link KubeApi} on it, an {@link ApiRouter} per server node behind an in-memory API port,
 * the stand-in's kubelet per node (talking to an API port, never to the store), and the controllers (node
 * lifecycle, taint eviction, ReplicaSets, scheduler) run by the server that wins the stand-in's leader election.
 * The same start-up order as a stand-in node (stand-in.ts): bootstrap data (new cluster, join, or the node's
 * data on restart) → datastore member → API port → kubelet → leader election. A member is a k3s "process":
 * killing it closes its API port (refused) and stops its kubelet and election at once, so its Node goes NotReady
 * after the grace period and its lease expires, as with the real one; while fewer than a majority of the servers
 * run, the store answers 503 (no quorum).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Clock, Logger } from '../common/index.js';
import { errorMessage, registerSecret } from '../common/index.js';
import { KubeHttpClient } from '../k3s/kube-http.js';
import { ApiRouter, tokenPassword } from '../k3s/standin/api-router.js';
import type { StandinConfig } from '../k3s/standin/config.js';
import { startElectedControllers } from '../k3s/standin/controller-manager.js';
import { handleJoin, requestJoin, type BootstrapData } from '../k3s/standin/join.js';
import { KubeApi } from '../k3s/standin/kube-api.js';
import { Kubelet } from '../k3s/standin/kubelet.js';
import { MemoryStore } from '../k3s/standin/memory-store.js';
import { createClusterCa } from '../k3s/standin/tls.js';
import { ApiError } from '../k3s/standin/errors.js';
import type { KubeObject, ObjectStore, StoreEvent } from '../k3s/standin/object-store.js';
import type { KubeTransport } from '../k3s/kube-http.js';
import { endpointTransport, InprocEndpoint } from './endpoint.js';

/**
 * One server's view of the cluster's datastore: the shared store while this member can take part in a quorum,
 * else 503 for everything, as an etcd member cut off from the others answers (its API server, election and
 * controllers all go through it).
 */
class MemberStore implements ObjectStore {
  constructor(
    private readonly store: MemoryStore,
    private readonly reachable: () => boolean,
  ) {}
  private check(): void {
    if (!this.reachable()) throw new ApiError('ServiceUnavailable', 'datastore unavailable (this member is cut off from the cluster)');
  }
  private async via<T>(fn: () => Promise<T>): Promise<T> {
    this.check();
    return fn();
  }
  get(key: string): Promise<KubeObject> {
    return this.via(() => this.store.get(key));
  }
  find(key: string): Promise<KubeObject | undefined> {
    return this.via(() => this.store.find(key));
  }
  list(prefix: string): Promise<{ items: KubeObject[]; revision: string }> {
    return this.via(() => this.store.list(prefix));
  }
  create(key: string, obj: KubeObject): Promise<KubeObject> {
    return this.via(() => this.store.create(key, obj));
  }
  update(key: string, obj: KubeObject, expected: string): Promise<KubeObject> {
    return this.via(() => this.store.update(key, obj, expected));
  }
  remove(key: string, expected: string): Promise<KubeObject> {
    return this.via(() => this.store.remove(key, expected));
  }
  checkRevision(revision: string): Promise<void> {
    return this.via(() => this.store.checkRevision(revision));
  }
  watch(prefix: string, fromRevision: string, onEvent: (ev: StoreEvent) => void, onEnd: (err: ApiError) => void): Promise<() => Promise<void>> {
    return this.via(() => this.store.watch(prefix, fromRevision, onEvent, onEnd));
  }
  async healthy(): Promise<boolean> {
    return this.reachable() && (await this.store.healthy());
  }
  close(): void {
    // The shared store outlives its members.
  }
}

/** The datastore and shared secrets of one cluster. */
export class InprocCluster {
  readonly store: MemoryStore;
  readonly api: KubeApi;
  /** etcd members (server node names) and whether each runs. */
  private readonly etcd = new Map<string, boolean>();

  private constructor(
    readonly boot: BootstrapData,
    /** The cluster token the join endpoint checks. */
    readonly token: string,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {
    this.store = new MemoryStore({ available: () => this.hasQuorum() });
    this.api = new KubeApi(this.store, clock, logger);
  }

  /** A new cluster (`cluster-init`): its id, CA and admin credential. */
  static async create(token: string, clock: Clock, logger: Logger): Promise<InprocCluster> {
    const boot: BootstrapData = { clusterId: randomUUID(), ca: await createClusterCa(clock.now()), adminToken: randomBytes(24).toString('hex') };
    registerSecret(boot.adminToken);
    return new InprocCluster(boot, token, clock, logger);
  }

  /** A majority of the etcd members runs (always true before the first member started). */
  hasQuorum(): boolean {
    const all = [...this.etcd.values()];
    return all.length === 0 || all.filter(Boolean).length * 2 > all.length;
  }

  /** Marks a server's etcd member running or stopped (added on its first start). */
  setMember(name: string, running: boolean): void {
    this.etcd.set(name, running);
  }

  /** Removes a server's etcd member (the node was reset and left). */
  removeMember(name: string): void {
    this.etcd.delete(name);
  }

  /** The API semantics as server `reachable` sees them (503 while it is cut off). */
  memberApi(reachable: () => boolean): KubeApi {
    return new KubeApi(new MemberStore(this.store, reachable), this.clock, this.logger);
  }

  /** The request handling of one server node's API port, over `api` (the member's view). */
  router(nodeIp: string, api: KubeApi = this.api): ApiRouter {
    return new ApiRouter({
      api,
      serverAddress: `${nodeIp}:6443`,
      caPem: this.boot.ca.certPem,
      adminToken: this.boot.adminToken,
      clusterToken: this.token,
      onJoin: (body) => handleJoin(body, this.boot, undefined, this.logger),
      clock: this.clock,
      logger: this.logger,
    });
  }
}

/** What a node's k3s keeps across restarts (its data dir): which cluster it is in. */
export interface InprocK3sData {
  cluster?: InprocCluster;
}

/** What a member needs of its host (segment.ts `InprocHost`): the segment's clusters and API ports, its own port. */
export interface MemberHost {
  segment: {
    readonly clusters: Map<string, InprocCluster>;
    apiTransport(ip: string, from?: { readonly linkUp: boolean }): KubeTransport;
  };
  apiEndpoint: InprocEndpoint | undefined;
  /** False while the cluster interface is down (the member is cut off). */
  readonly linkUp: boolean;
  onLinkChange(fn: (up: boolean) => void): () => void;
}

/** Options of {@link InprocMember.start}. */
export interface InprocMemberOptions {
  /** The compiled k3s config of the node (stand-in config.ts, from the rendered drop-ins). */
  config: StandinConfig;
  host: MemberHost;
  data: InprocK3sData;
  clock: Clock;
  logger: Logger;
}

/** Member lifecycle, as a supervised process's. */
export type InprocMemberState = 'starting' | 'running' | 'stopped' | 'failed';

/** One node's k3s "process" in a cluster. */
export class InprocMember {
  state: InprocMemberState = 'starting';
  endpoint: InprocEndpoint | undefined;
  cluster: InprocCluster | undefined;
  private readonly ac = new AbortController();
  private readonly stops: (() => void)[] = [];
  /** Stops of the kubelet and election (restarted after a freeze). */
  private loops: (() => void)[] = [];
  private transport: KubeTransport | undefined;
  /** A server's API semantics over its view of the store. */
  private api: KubeApi | undefined;
  private frozen = false;
  private vote: (() => void) | undefined;
  private readonly log: Logger;
  /** Resolves once started (or failed: `error` then says why). */
  readonly started: Promise<void>;
  error: string | undefined;

  private constructor(private readonly o: InprocMemberOptions) {
    this.log = o.logger.child({ component: 'inproc.k3s', node: o.config.nodeName });
    this.started = this.run().catch((e: unknown) => {
      if (this.ac.signal.aborted) return;
      this.error = errorMessage(e);
      this.state = 'failed';
      this.log.error('k3s failed to start', { error: this.error });
      this.halt();
    });
  }

  /** Starts the node in the background, as a spawned process does. */
  static start(o: InprocMemberOptions): InprocMember {
    return new InprocMember(o);
  }

  private async run(): Promise<void> {
    const { config: cfg, host, clock, logger } = this.o;
    const signal = this.ac.signal;
    registerSecret(cfg.token);
    registerSecret(tokenPassword(cfg.token));
    let cluster = this.o.data.cluster;
    if (!cluster && cfg.role === 'server' && cfg.server === undefined) {
      cluster = await InprocCluster.create(cfg.token, clock, logger);
      host.segment.clusters.set(cluster.boot.clusterId, cluster);
      this.log.info('new cluster', { clusterId: cluster.boot.clusterId });
    } else if (!cluster || cfg.role === 'agent') {
      const joinIp = new URL(cfg.server!).hostname.replace(/^\[|\]$/g, '');
      const res = await requestJoin({
        server: cfg.server!,
        token: cfg.token,
        request: { name: cfg.nodeName, role: cfg.role },
        transport: host.segment.apiTransport(joinIp, host),
        clock,
        logger,
        signal,
      });
      cluster = host.segment.clusters.get(res.clusterId);
      if (!cluster) throw new Error(`join: cluster ${res.clusterId} is not on this segment`);
    }
    signal.throwIfAborted();
    this.cluster = cluster;
    if (cfg.role === 'server') this.o.data.cluster = cluster;
    let transport = host.segment.apiTransport(new URL(cfg.server ?? 'https://127.0.0.1').hostname, host);
    if (cfg.role === 'server') {
      // Its etcd member votes while it runs, is not frozen and reaches the others.
      const vote = (): void => cluster.setMember(cfg.nodeName, this.state !== 'stopped' && !this.frozen && host.linkUp);
      vote();
      this.stops.push(host.onLinkChange(vote));
      this.stops.push(() => cluster.setMember(cfg.nodeName, false));
      this.vote = vote;
      // Its own view: cut off while its link is down or the others lost quorum with it.
      this.api = cluster.memberApi(() => host.linkUp && cluster.hasQuorum());
      const endpoint = new InprocEndpoint(cluster.router(cfg.nodeIp, this.api), `${cfg.nodeIp}:6443`);
      endpoint.listen();
      this.endpoint = endpoint;
      host.apiEndpoint = endpoint;
      this.stops.push(() => {
        endpoint.close();
        if (host.apiEndpoint === endpoint) host.apiEndpoint = undefined;
      });
      transport = endpointTransport(() => endpoint, endpoint.address);
      const api = this.api;
      const stopNamespaces = clock.every(1_000, () => {
        void api.ensureSystemNamespaces().then((done) => done && stopNamespaces());
      });
      this.stops.push(stopNamespaces);
    }
    this.transport = transport;
    await this.startLoops();
    if (this.ac.signal.aborted) return this.halt();
    this.state = 'running';
    this.log.info('k3s running', { role: cfg.role, clusterId: cluster.boot.clusterId });
  }

  /** The node's own loops: kubelet (registers, posts status, runs pods) and, on servers, the leader election. */
  private async startLoops(): Promise<void> {
    const { config: cfg, clock, logger } = this.o;
    const cluster = this.cluster!;
    const stops: (() => void)[] = [];
    this.loops = stops;
    const client = new KubeHttpClient({ baseUrl: `https://${cfg.nodeIp}:6443`, authorization: `Bearer ${cluster.boot.adminToken}`, timeoutMs: 10_000, clock, transport: this.transport! });
    const kubelet = await Kubelet.create(
      {
        client,
        nodeName: cfg.nodeName,
        nodeIp: cfg.nodeIp,
        role: cfg.role,
        etcdMember: cfg.role === 'server' && (cfg.clusterInit || cfg.server !== undefined),
        labels: cfg.nodeLabels,
        taints: cfg.nodeTaints,
        statusIntervalMs: cfg.nodeStatusUpdateMs,
        podStartDelayMs: cfg.podStartDelayMs,
        clock,
        logger,
      },
      this.ac.signal,
    );
    stops.push(() => kubelet.stop());
    if (cfg.role === 'server') {
      stops.push(
        startElectedControllers({ api: this.api!, identity: cfg.nodeName, nodeMonitorPeriodMs: cfg.nodeMonitorPeriodMs, nodeMonitorGraceMs: cfg.nodeMonitorGraceMs, clock, logger }),
      );
    }
  }

  private stopLoops(): void {
    for (const s of this.loops.splice(0).reverse()) s();
  }

  /**
   * Freezes (SIGSTOP) or thaws the whole node: no status posts, no lease renewals, an API port that answers
   * nothing, its datastore member silent (it counts against quorum). Thawed, the loops go on where they were.
   */
  freeze(frozen: boolean): void {
    if (this.state !== 'running' || frozen === this.frozen) return;
    this.frozen = frozen;
    this.log.info(frozen ? 'k3s frozen' : 'k3s thawed');
    this.endpoint?.freeze(frozen);
    this.vote?.();
    if (frozen) this.stopLoops();
    else {
      this.startLoops().catch((e: unknown) => {
        if (!this.ac.signal.aborted) this.log.error('k3s loops did not start again after the thaw', { error: errorMessage(e) });
      });
    }
  }

  /** Everything stops at once: API port refused, kubelet and election gone (a kill, or the end of a stop). */
  private halt(): void {
    this.stopLoops();
    for (const s of this.stops.splice(0).reverse()) s();
  }

  /** Kills the node's k3s (SIGKILL): nothing is released, its lease and Node age out. Idempotent. */
  kill(): void {
    if (this.state === 'stopped') return;
    this.ac.abort();
    this.halt();
    this.state = 'stopped';
    this.log.info('k3s killed');
  }

  /** Stops the node's k3s. Idempotent. */
  async stop(): Promise<void> {
    this.kill();
    await this.started;
  }
}

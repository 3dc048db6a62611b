/**
 * Node emulation (the kubelet part of k3s) for one node. Like a real kubelet it only talks to the API server:
 * it registers its Node (k3s labels: hostname, os/arch, control-plane/master/etcd on servers, `node-label`s),
 * posts the node status every `node-status-update-frequency` (2 s, cluster.md §4.1), renews its Lease in
 * `kube-node-lease`, starts pods bound to it (Pending → Running after the pod start delay) and confirms the
 * deletion of its terminating pods. A Node deleted while the kubelet runs is not re-created (kubelet registers
 * once per start).
 */
import os from 'node:os';
import { createHash } from 'node:crypto';
import type { Clock, Logger } from '../../common/index.js';
import { errorMessage } from '../../common/index.js';
import { KUBE_VERSION } from './api-router.js';
import type { TaintSpec } from './config.js';
import { kubeTime } from './kube-api.js';
import { isKubeHttpError, type KubeHttpClient } from '../kube-http.js';

/** Options of {@link Kubelet.create}. */
export interface KubeletOptions {
  client: KubeHttpClient;
  nodeName: string;
  nodeIp: string;
  role: 'server' | 'agent';
  /** True for servers with embedded etcd (adds the etcd role label). */
  etcdMember: boolean;
  labels: Record<string, string>;
  taints: TaintSpec[];
  /** Spec ms between status posts. */
  statusIntervalMs: number;
  /** Spec ms from binding to Running. */
  podStartDelayMs: number;
  clock: Clock;
  logger: Logger;
}

type KubeletState = 'registering' | 'running' | 'stopped';

/**
 * Bound pods are synced on every watch event of the node's pods (as a real kubelet's pod config source does), when
 * a pending pod's start delay has passed, and on this resync period (the kubelet's `syncFrequency`, 1 min), spec ms.
 */
const POD_RESYNC_MS = 60_000;
/** Wait before a broken pod watch is opened again, or a failed sync is retried, spec ms. */
const POD_REWATCH_MS = 1_000;
/** Server-side end of one pod watch, real seconds; it is then opened again (and replays every pod as ADDED). */
const POD_WATCH_SECONDS = 300;
/** A pod watch silent for this long (real ms) is taken for dead, e.g. a partitioned link to a remote server. */
const POD_WATCH_IDLE_MS = (POD_WATCH_SECONDS + 15) * 1000;
/** Lease duration the kubelet announces (kubelet default 40 s), renewed every quarter of it. */
const NODE_LEASE_SECONDS = 40;
const LEASE_RENEW_MS = 10_000;

/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-argument -- API objects are loosely typed JSON */

/** The emulated kubelet of one node. */
export class Kubelet {
  private state: KubeletState = 'registering';
  private readonly ac = new AbortController();
  private readonly cancels: (() => void)[] = [];
  private readonly firstSeen = new Map<string, number>();
  private readonly log: Logger;
  private nodeGone = false;
  private busy = { status: false, pods: false };
  /** A pod event arrived while a sync ran: sync again when it ends. */
  private podsDirty = false;
  /** The one follow-up sync waiting for its time (a retry or a start delay): they never pile up. */
  private pendingSync: { dueAt: number; cancel: AbortController } | undefined;
  private readonly subnet: number;
  private nextIp = 2;
  private leaseRenewed = 0;
  /** The node's resourceVersion and conditions as this kubelet's last status post stored them. */
  private posted: { resourceVersion: string; conditions: any[] } | undefined;

  private constructor(private readonly opts: KubeletOptions) {
    this.log = opts.logger.child({ component: 'k3s.standin.kubelet', node: opts.nodeName });
    this.subnet = createHash('sha256').update(opts.nodeName).digest()[0] % 250;
  }

  /** Registers the Node (retrying until the API answers or `signal` aborts), then starts the loops. */
  static async create(opts: KubeletOptions, signal?: AbortSignal): Promise<Kubelet> {
    const k = new Kubelet(opts);
    for (;;) {
      try {
        await k.register();
        break;
      } catch (e) {
        k.log.info('node registration failed, retrying', { error: errorMessage(e) });
        await opts.clock.sleep(opts.statusIntervalMs, signal);
      }
    }
    k.setState('running');
    k.cancels.push(opts.clock.every(opts.statusIntervalMs, () => void k.postStatus()));
    k.cancels.push(opts.clock.every(POD_RESYNC_MS, () => void k.syncPods()));
    void k.watchPods();
    void k.postStatus();
    return k;
  }

  private setState(to: KubeletState): void {
    this.log.info('kubelet state', { from: this.state, to });
    this.state = to;
  }

  /** Stops posting status and syncing pods. Idempotent. */
  stop(): void {
    if (this.state === 'stopped') return;
    this.ac.abort();
    this.pendingSync?.cancel.abort();
    for (const c of this.cancels) c();
    this.opts.client.close();
    this.setState('stopped');
  }

  private labels(): Record<string, string> {
    const o = this.opts;
    const l: Record<string, string> = {
      'kubernetes.io/hostname': o.nodeName,
      'kubernetes.io/os': 'linux',
      'kubernetes.io/arch': 'amd64',
      'beta.kubernetes.io/os': 'linux',
      'beta.kubernetes.io/arch': 'amd64',
      'beta.kubernetes.io/instance-type': 'k3s',
      'node.kubernetes.io/instance-type': 'k3s',
    };
    if (o.role === 'server') {
      l['node-role.kubernetes.io/control-plane'] = 'true';
      l['node-role.kubernetes.io/master'] = 'true';
      if (o.etcdMember) l['node-role.kubernetes.io/etcd'] = 'true';
    }
    return { ...l, ...o.labels };
  }

  private conditions(previous: any[] | undefined): any[] {
    const now = kubeTime(this.opts.clock.now());
    const want: [string, string, string, string][] = [
      ['MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'],
      ['DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'],
      ['PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'],
      ['Ready', 'True', 'KubeletReady', 'kubelet is posting ready status'],
    ];
    return want.map(([type, status, reason, message]) => {
      const prev = previous?.find((c) => c.type === type);
      const lastTransitionTime = prev && prev.status === status ? prev.lastTransitionTime : now;
      return { type, status, lastHeartbeatTime: now, lastTransitionTime, reason, message };
    });
  }

  private async register(): Promise<void> {
    const o = this.opts;
    const c = o.client;
    const node = {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: {
        name: o.nodeName,
        labels: this.labels(),
        annotations: {
          'k3s.io/hostname': o.nodeName,
          'k3s.io/internal-ip': o.nodeIp,
          'flannel.alpha.coreos.com/public-ip': o.nodeIp,
          'node.alpha.kubernetes.io/ttl': '0',
        },
      },
      spec: {
        podCIDR: `10.42.${this.subnet}.0/24`,
        podCIDRs: [`10.42.${this.subnet}.0/24`],
        providerID: `k3s://${o.nodeName}`,
        ...(o.taints.length ? { taints: o.taints.map((t) => ({ ...t })) } : {}),
      },
      status: {
        addresses: [
          { type: 'InternalIP', address: o.nodeIp },
          { type: 'Hostname', address: o.nodeName },
        ],
        capacity: { cpu: String(os.cpus().length), memory: `${Math.floor(os.totalmem() / 1024)}Ki`, pods: '110', 'ephemeral-storage': '30Gi' },
        allocatable: { cpu: String(os.cpus().length), memory: `${Math.floor(os.totalmem() / 1024)}Ki`, pods: '110', 'ephemeral-storage': '30Gi' },
        conditions: this.conditions(undefined),
        daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
        nodeInfo: {
          machineID: createHash('md5').update(o.nodeName).digest('hex'),
          systemUUID: createHash('md5').update(`uuid-${o.nodeName}`).digest('hex'),
          bootID: createHash('md5').update(`${o.nodeName}-${this.opts.clock.now()}`).digest('hex'),
          kernelVersion: os.release(),
          osImage: 'edgesim k3s stand-in',
          containerRuntimeVersion: 'containerd://1.7.23-k3s2',
          kubeletVersion: KUBE_VERSION.gitVersion,
          kubeProxyVersion: KUBE_VERSION.gitVersion,
          operatingSystem: 'linux',
          architecture: 'amd64',
        },
      },
    };
    try {
      await c.request('POST', '/api/v1/nodes', node, 'application/json', this.ac.signal);
      this.log.info('node registered', { ip: o.nodeIp });
    } catch (e) {
      if (!(isKubeHttpError(e) && e.reason === 'AlreadyExists')) throw e;
      // Re-registration after a restart: refresh labels, addresses and node info, as the kubelet does.
      await c.request('PATCH', `/api/v1/nodes/${o.nodeName}`, { metadata: { labels: node.metadata.labels, annotations: node.metadata.annotations } }, 'application/merge-patch+json', this.ac.signal);
      await c.request('PATCH', `/api/v1/nodes/${o.nodeName}/status`, { status: { addresses: node.status.addresses, nodeInfo: node.status.nodeInfo } }, 'application/merge-patch+json', this.ac.signal);
      this.log.info('node re-registered', { ip: o.nodeIp });
    }
  }

  private async postStatus(): Promise<void> {
    if (this.busy.status || this.state !== 'running') return;
    this.busy.status = true;
    const { nodeName } = this.opts;
    try {
      await this.patchConditions();
      if (this.nodeGone) {
        this.log.info('node object is back');
        this.nodeGone = false;
        void this.syncPods(); // pod events were ignored while it was gone
      }
      if (this.opts.clock.now() - this.leaseRenewed >= this.opts.clock.scaled(LEASE_RENEW_MS)) {
        await this.renewLease().then(
          () => (this.leaseRenewed = this.opts.clock.now()),
          (e: unknown) => this.log.debug('lease renewal failed', { error: errorMessage(e) }),
        );
      }
    } catch (e) {
      if (isKubeHttpError(e) && e.code === 404) {
        if (!this.nodeGone) this.log.warn('node object was deleted; not re-registering until restart', { node: nodeName });
        this.nodeGone = true;
      } else if (this.state === 'running') this.log.debug('node status post failed', { error: errorMessage(e) });
    } finally {
      this.busy.status = false;
    }
  }

  /**
   * Posts the node's conditions, their transition times kept from the stored ones: read first, as the kubelet
   * does, unless the last post is the node's latest write — then the post is pinned to its resourceVersion, and a
   * write by anyone else since (409: the lifecycle controller's, a label) sends it back to reading.
   */
  private async patchConditions(): Promise<void> {
    const { client, nodeName } = this.opts;
    const path = `/api/v1/nodes/${nodeName}/status`;
    const last = this.posted;
    this.posted = undefined;
    const post = async (previous: any[] | undefined, resourceVersion?: string): Promise<void> => {
      const patch = { ...(resourceVersion ? { metadata: { resourceVersion } } : {}), status: { conditions: this.conditions(previous) } };
      const node = await client.request<any>('PATCH', path, patch, 'application/merge-patch+json', this.ac.signal);
      if (typeof node?.metadata?.resourceVersion === 'string') this.posted = { resourceVersion: node.metadata.resourceVersion, conditions: node.status?.conditions ?? [] };
    };
    if (last) {
      try {
        return await post(last.conditions, last.resourceVersion);
      } catch (e) {
        if (!(isKubeHttpError(e) && e.code === 409)) throw e;
      }
    }
    const node = await client.request<any>('GET', `/api/v1/nodes/${nodeName}`, undefined, 'application/json', this.ac.signal);
    await post(node.status?.conditions);
  }

  private async renewLease(): Promise<void> {
    const { client, nodeName } = this.opts;
    const path = `/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/${nodeName}`;
    const spec = { holderIdentity: nodeName, leaseDurationSeconds: NODE_LEASE_SECONDS, renewTime: new Date(this.opts.clock.now()).toISOString().replace('Z', '000Z') };
    try {
      await client.request('PATCH', path, { spec }, 'application/merge-patch+json', this.ac.signal);
    } catch (e) {
      if (!(isKubeHttpError(e) && e.code === 404)) throw e;
      await client.request('POST', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases', { metadata: { name: nodeName, namespace: 'kube-node-lease' }, spec }, 'application/json', this.ac.signal);
    }
  }

  /**
   * Keeps a watch on this node's pods open while running; every event triggers a sync. Each (re)opened watch
   * starts with an ADDED event per current pod (no resourceVersion), so nothing missed in between is lost.
   */
  private async watchPods(): Promise<void> {
    const { client, nodeName, clock } = this.opts;
    const path = `/api/v1/pods?watch=1&timeoutSeconds=${POD_WATCH_SECONDS}&fieldSelector=${encodeURIComponent(`spec.nodeName=${nodeName}`)}`;
    while (this.state === 'running') {
      const opened = clock.now();
      try {
        await client.watch(path, () => void this.syncPods(), this.ac.signal, POD_WATCH_IDLE_MS);
        // Ended by the server: reopen at once, unless it ends as soon as it opens (a server shutting down).
        if (clock.now() - opened < 1_000) await clock.sleep(POD_REWATCH_MS, this.ac.signal).catch(() => undefined);
      } catch (e) {
        this.log.debug('pod watch ended', { error: errorMessage(e) });
        await clock.sleep(POD_REWATCH_MS, this.ac.signal).catch(() => undefined);
      }
    }
  }

  /** Asks for one more sync in `realMs`; only the earliest such request is kept. */
  private syncAfter(realMs: number): void {
    const dueAt = this.opts.clock.now() + realMs;
    if (this.state !== 'running' || (this.pendingSync && this.pendingSync.dueAt <= dueAt)) return;
    this.pendingSync?.cancel.abort();
    const cancel = new AbortController();
    this.pendingSync = { dueAt, cancel };
    this.opts.clock.sleepReal(realMs, cancel.signal).then(
      () => {
        this.pendingSync = undefined;
        void this.syncPods();
      },
      () => undefined,
    );
  }

  private async syncPods(): Promise<void> {
    if (this.busy.pods) {
      this.podsDirty = true;
      return;
    }
    if (this.state !== 'running' || this.nodeGone) return;
    this.busy.pods = true;
    this.podsDirty = false;
    const { client, nodeName, clock } = this.opts;
    try {
      const list = await client.request<any>('GET', `/api/v1/pods?fieldSelector=${encodeURIComponent(`spec.nodeName=${nodeName}`)}`, undefined, 'application/json', this.ac.signal);
      const seen = new Set<string>();
      for (const pod of list.items as any[]) {
        const { namespace, name, uid } = pod.metadata;
        seen.add(uid);
        const path = `/api/v1/namespaces/${namespace}/pods/${name}`;
        if (pod.metadata.deletionTimestamp) {
          // The containers are "stopped": confirm the deletion, as the kubelet does after termination.
          try {
            await client.request('DELETE', `${path}?gracePeriodSeconds=0`, { gracePeriodSeconds: 0, preconditions: { uid } }, 'application/json', this.ac.signal);
            this.log.info('pod terminated', { pod: `${namespace}/${name}` });
          } catch (e) {
            // Gone already (404) or replaced by a pod of the same name (409): nothing left to confirm.
            if (!(isKubeHttpError(e) && (e.code === 404 || e.code === 409))) {
              this.log.debug('pod deletion not confirmed yet', { pod: `${namespace}/${name}`, error: errorMessage(e) });
              this.syncAfter(clock.scaled(POD_REWATCH_MS));
            }
          }
          continue;
        }
        if (pod.status?.phase !== 'Pending') continue;
        const first = this.firstSeen.get(uid) ?? clock.now();
        this.firstSeen.set(uid, first);
        const leftMs = clock.scaled(this.opts.podStartDelayMs) - (clock.now() - first);
        if (leftMs > 0) {
          // Its containers "start" after the delay: look again then (nothing else may happen to the pod).
          this.syncAfter(leftMs + 1);
          continue;
        }
        await client.request('PATCH', `${path}/status`, { status: this.runningStatus(pod) }, 'application/merge-patch+json', this.ac.signal);
        this.log.info('pod running', { pod: `${namespace}/${name}` });
      }
      for (const uid of this.firstSeen.keys()) if (!seen.has(uid)) this.firstSeen.delete(uid);
    } catch (e) {
      if (this.state === 'running') {
        this.log.debug('pod sync failed', { error: errorMessage(e) });
        this.syncAfter(clock.scaled(POD_REWATCH_MS));
      }
    } finally {
      this.busy.pods = false;
      if (this.podsDirty) void this.syncPods();
    }
  }

  private runningStatus(pod: any): any {
    const now = kubeTime(this.opts.clock.now());
    const ip = `10.42.${this.subnet}.${this.nextIp}`;
    this.nextIp = this.nextIp >= 254 ? 2 : this.nextIp + 1;
    const cond = (type: string) => ({ type, status: 'True', lastProbeTime: null, lastTransitionTime: now });
    return {
      phase: 'Running',
      conditions: [cond('PodReadyToStartContainers'), cond('Initialized'), cond('Ready'), cond('ContainersReady'), cond('PodScheduled')],
      hostIP: this.opts.nodeIp,
      hostIPs: [{ ip: this.opts.nodeIp }],
      podIP: ip,
      podIPs: [{ ip }],
      startTime: now,
      qosClass: 'BestEffort',
      containerStatuses: (pod.spec?.containers ?? []).map((c: any) => ({
        name: c.name,
        image: c.image,
        imageID: `${c.image}@sha256:${createHash('sha256').update(String(c.image)).digest('hex')}`,
        containerID: `containerd://${createHash('sha256').update(`${pod.metadata.uid}/${c.name}`).digest('hex')}`,
        ready: true,
        started: true,
        restartCount: 0,
        state: { running: { startedAt: now } },
        lastState: {},
      })),
    };
  }
}
/* eslint-enable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-argument */

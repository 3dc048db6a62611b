/**
 * A node's k3s for the cluster reconciler (its {@link ClusterK3s} seam) in an in-process cluster: the drop-ins are
 * rendered by the same code as on disk (k3s/drop-ins.ts) and read by the stand-in's own config merge and
 * compile (k3s/standin/config.ts), then the node runs as an {@link InprocMember}. Its kube client is the agent's
 * {@link KubeClient} over an in-memory transport to the node's API port.
 */
import type { Clock, Logger } from '../common/index.js';
import type { ClusterK3s, K3sProcess, K3sRunning, K3sStartInput } from '../agent/cluster/k3s-runtime.js';
import { K3S_MIN_BACKOFF_MS, k3sNodeRole, KubeClient, renderBaseConfig, renderDropIns, toK8sNodeName } from '../k3s/index.js';
import { compileStandinConfig, mergeK3sConfig, type StandinConfig } from '../k3s/standin/config.js';
import { endpointTransport } from './endpoint.js';
import { InprocMember, type InprocK3sData } from './cluster.js';
import type { InprocHost } from './segment.js';

/** Options of {@link InprocK3s}. */
export interface InprocK3sOptions {
  host: InprocHost;
  clock: Clock;
  logger: Logger;
  /** Extra k3s config values (e.g. `pod-start-delay`), as a user override would give them. */
  extraConfig?: Record<string, string | string[]>;
}

/**
 * The in-process k3s "process" under its supervisor, for the monitor and the faults: a kill is restarted after
 * the supervisor's backoff, a pause holds until resumed, a freeze stops the node's loops and API answers.
 */
class InprocProcess implements K3sProcess {
  restarts = 0;
  private paused = false;
  private pending: AbortController | undefined;

  constructor(
    private readonly k3s: InprocK3s,
    private readonly clock: Clock,
  ) {}

  kill(): void {
    const m = this.k3s.member;
    if (!m || m.state === 'stopped' || this.paused) return;
    m.kill();
    // The supervisor sees the exit and starts k3s again after its backoff.
    const pending = (this.pending = new AbortController());
    this.clock.sleep(K3S_MIN_BACKOFF_MS, pending.signal).then(
      () => {
        if (this.pending !== pending || this.paused) return;
        this.pending = undefined;
        this.restarts++;
        this.k3s.respawn();
      },
      () => undefined,
    );
  }

  pause(): Promise<void> {
    this.paused = true;
    this.cancelRestart();
    this.k3s.member?.kill();
    return Promise.resolve();
  }

  resume(): Promise<void> {
    if (!this.paused) return Promise.resolve();
    this.paused = false;
    this.k3s.respawn();
    return Promise.resolve();
  }

  freeze(frozen: boolean): void {
    this.k3s.member?.freeze(frozen);
  }

  /** The supervisor is stopped for good (k3s stopped or reset). */
  cancelRestart(): void {
    this.pending?.abort();
    this.pending = undefined;
  }
}

/** One node's in-process k3s. */
export class InprocK3s implements ClusterK3s {
  private proc: InprocProcess | undefined;
  private written: { input: K3sStartInput; running: K3sRunning; rendered: string; config: StandinConfig } | undefined;
  private restartNeeded = false;
  private data: InprocK3sData = {};
  private owner = '';
  private client: KubeClient | undefined;
  /** The running (or last) k3s of this node. */
  member: InprocMember | undefined;

  constructor(private readonly o: InprocK3sOptions) {}

  get kubeconfigPath(): string {
    return `inproc://${this.o.host.name}/k3s.yaml`;
  }

  /** The compiled config of the last written drop-ins. */
  get config(): StandinConfig | undefined {
    return this.written?.config;
  }

  /** A server keeps its etcd member across restarts. */
  etcdInitialized(): Promise<boolean> {
    return Promise.resolve(this.data.cluster !== undefined);
  }

  writeConfig(p: K3sStartInput): Promise<K3sRunning> {
    const input = { deviceName: p.deviceName, deviceUuid: p.deviceUuid, ...(p.cluster ? { cluster: p.cluster } : {}) };
    const role = k3sNodeRole(input);
    const mode = role === 'agent' ? 'agent' : 'server';
    // config.yaml and its drop-ins as K3sRuntime writes them (EVE's kubelet and controller-manager timings come
    // from the base config), read by the stand-in's own merge; the stand-in-only extras come as its flags do.
    const files = [renderBaseConfig({ mode, extra: p.cluster ? {} : { 'node-ip': p.nodeIp } }), ...renderDropIns(input)];
    const docs = files.map((f) => ({ origin: f.name, text: f.content }));
    const { values } = mergeK3sConfig(mode, docs, { ...this.o.extraConfig });
    const config = compileStandinConfig(mode, values, toK8sNodeName(p.deviceName), () => {
      throw new Error('token-file is not used in-process');
    });
    const rendered = JSON.stringify(files);
    const running: K3sRunning = { role, nodeName: config.nodeName, nodeIp: p.nodeIp };
    if (rendered !== this.written?.rendered) this.restartNeeded = true;
    this.written = { input: p, running, rendered, config };
    return Promise.resolve(running);
  }

  /** The supervised k3s (faults, restarts), while started. */
  get process(): K3sProcess | undefined {
    return this.proc;
  }

  startProcess(): Promise<K3sRunning> {
    const w = this.written;
    if (!w) return Promise.reject(new Error('k3s: no config written yet'));
    if (this.proc && !this.restartNeeded) return Promise.resolve(w.running);
    this.proc?.cancelRestart();
    this.proc = new InprocProcess(this, this.o.clock);
    this.respawn();
    this.restartNeeded = false;
    return Promise.resolve(w.running);
  }

  /** Starts the node's k3s with the written config (a new process: the previous one is gone). */
  respawn(): void {
    const w = this.written;
    if (!w) return;
    // The kubeconfig (and so the client) stays: the new process serves the same cluster's credential.
    this.member?.kill();
    this.member = InprocMember.start({ config: w.config, host: this.o.host, data: this.data, clock: this.o.clock, logger: this.o.logger });
  }

  stopProcess(): Promise<void> {
    const m = this.member;
    this.proc?.cancelRestart();
    this.proc = undefined;
    this.member = undefined;
    this.client = undefined;
    return m ? m.stop() : Promise.resolve();
  }

  async reset(): Promise<void> {
    const m = this.member;
    await this.stopProcess();
    if (m?.cluster && this.written) m.cluster.removeMember(this.written.config.nodeName);
    this.written = undefined;
    this.data = {};
    this.owner = '';
  }

  dataOwner(): Promise<string> {
    return Promise.resolve(this.owner);
  }

  setDataOwner(owner: string): Promise<void> {
    this.owner = owner;
    return Promise.resolve();
  }

  /** The agent's kube client on this node's API port, once a server here has written its kubeconfig. */
  kube(): KubeClient | undefined {
    if (this.client) return this.client;
    const m = this.member;
    const ep = m?.endpoint;
    if (!m?.cluster || !ep) return undefined;
    this.client = KubeClient.overTransport(
      endpointTransport(() => this.member?.endpoint, ep.address),
      { server: `https://${ep.address}`, token: m.cluster.boot.adminToken },
      { logger: this.o.logger, clock: this.o.clock },
    );
    return this.client;
  }
}

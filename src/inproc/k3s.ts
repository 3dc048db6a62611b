/**
 * A node's k3s for the cluster reconciler (its {@link ClusterK3s} seam) in an in-process cluster: the drop-ins are
 * rendered by the same code as on disk (k3s/drop-ins.ts) and read by the stand-in's own config merge and
 * compile (k3s/standin/config.ts), then the node runs as an {@link InprocMember}. Its kube client is the agent's
 * {@link KubeClient} over an in-memory transport to the node's API port.
 */
import type { Clock, Logger } from '../common/index.js';
import type { ClusterK3s, K3sRunning, K3sStartInput } from '../agent/cluster/k3s-runtime.js';
import { k3sNodeRole, KubeClient, renderDropIns, toK8sNodeName } from '../k3s/index.js';
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

/** One node's in-process k3s. */
export class InprocK3s implements ClusterK3s {
  /** No supervised OS process: faults act on {@link member}. */
  readonly process = undefined;
  private written: { input: K3sStartInput; running: K3sRunning; rendered: string; config: StandinConfig } | undefined;
  private restartNeeded = false;
  private data: InprocK3sData = {};
  private owner = '';
  private client: KubeClient | undefined;
  /** The running (or last) k3s of this node. */
  member: InprocMember | undefined;
  /** Starts after the first (k3s restarts by its supervisor, for the reports). */
  starts = 0;

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
    const files = renderDropIns(input);
    const role = k3sNodeRole(input);
    const docs = files.map((f) => ({ origin: f.name, text: f.content }));
    const base = { 'node-ip': p.nodeIp, ...this.o.extraConfig };
    const { values } = mergeK3sConfig(role === 'agent' ? 'agent' : 'server', [{ origin: 'config.yaml', text: JSON.stringify(base) }, ...docs]);
    const config = compileStandinConfig(role === 'agent' ? 'agent' : 'server', values, toK8sNodeName(p.deviceName), () => {
      throw new Error('token-file is not used in-process');
    });
    const rendered = JSON.stringify(files);
    const running: K3sRunning = { role, nodeName: config.nodeName, nodeIp: p.nodeIp };
    if (rendered !== this.written?.rendered) this.restartNeeded = true;
    this.written = { input: p, running, rendered, config };
    return Promise.resolve(running);
  }

  startProcess(): Promise<K3sRunning> {
    const w = this.written;
    if (!w) return Promise.reject(new Error('k3s: no config written yet'));
    if (this.member && this.member.state !== 'stopped' && this.member.state !== 'failed' && !this.restartNeeded) return Promise.resolve(w.running);
    this.member?.kill();
    this.client = undefined;
    if (this.member) this.starts++;
    this.member = InprocMember.start({ config: w.config, host: this.o.host, data: this.data, clock: this.o.clock, logger: this.o.logger });
    this.restartNeeded = false;
    return Promise.resolve(w.running);
  }

  stopProcess(): Promise<void> {
    const m = this.member;
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

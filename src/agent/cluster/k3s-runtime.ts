/**
 * One node's k3s: drop-ins, the supervised process and the kube client, for single-node or cluster mode.
 * The k3s binary is either the real `k3s` or the edgesim stand-in behind the same contract.
 */
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { Clock, Logger } from '../../common/index.js';
import { errorMessage, findCommand } from '../../common/index.js';
import {
  applyK3sConfig,
  etcdMemberExists,
  K3sSupervisor,
  KubeClient,
  kubeLibraryLoaded,
  loadKubeLibrary,
  removeK3sConfig,
  type K3sClusterInput,
  type K3sNodeRole,
} from '../../k3s/index.js';

/** How to start k3s: the real binary, or the stand-in (`[node, cli, 'k3s']`, which also takes `--time-scale`). */
export interface K3sLaunch {
  bin: string;
  args: string[];
  /** True for the edgesim stand-in (accepts stand-in-only flags such as --time-scale). */
  standin: boolean;
}

/**
 * Picks the k3s to run: `bin` when given ('standin' forces the stand-in), else the real `k3s` when it is on
 * `pathEnv`, else the stand-in started as `<selfCommand…> k3s` (the same edgesim executable).
 */
export async function resolveK3sLaunch(opts: { bin?: string; selfCommand: string[]; pathEnv: string }): Promise<K3sLaunch> {
  if (opts.bin && opts.bin !== 'standin') return { bin: opts.bin, args: [], standin: false };
  const real = opts.bin === 'standin' ? undefined : await findCommand('k3s', opts.pathEnv);
  if (real) return { bin: real, args: [], standin: false };
  return { bin: opts.selfCommand[0], args: [...opts.selfCommand.slice(1), 'k3s'], standin: true };
}

export interface K3sRuntimeOptions {
  launch: K3sLaunch;
  /** `<state>/k3s`: holds `config/` (config.yaml + drop-ins) and `data/`. */
  dir: string;
  clock: Clock;
  logger: Logger;
  /** Render drop-ins only, never start k3s. */
  dryRun?: boolean;
}

/** What mode k3s runs in now. */
export interface K3sRunning {
  role: K3sNodeRole;
  nodeName: string;
  nodeIp: string;
}

export class K3sRuntime {
  private supervisor: K3sSupervisor | undefined;
  private client: KubeClient | undefined;
  running: K3sRunning | undefined;

  constructor(private readonly o: K3sRuntimeOptions) {}

  get configDir(): string {
    return path.join(this.o.dir, 'config');
  }
  get dataDir(): string {
    return path.join(this.o.dir, 'data');
  }
  get kubeconfigPath(): string {
    return path.join(this.dataDir, 'k3s.yaml');
  }

  /** The k3s process supervisor (faults: kill, pause). */
  get process(): K3sSupervisor | undefined {
    return this.supervisor;
  }

  /** Whether the bootstrap's etcd already exists (it then rejoins itself, §4.3). */
  etcdInitialized(): Promise<boolean> {
    return etcdMemberExists(this.dataDir);
  }

  /**
   * Writes the drop-ins for this mode and (re)starts k3s when they changed or it is not running.
   * The token goes only into `01-clusterconfig.yaml` (0600).
   */
  async start(p: { deviceName: string; deviceUuid: string; nodeIp: string; cluster?: K3sClusterInput }): Promise<K3sRunning> {
    const res = await applyK3sConfig({
      configDir: this.configDir,
      input: { deviceName: p.deviceName, deviceUuid: p.deviceUuid, ...(p.cluster ? { cluster: p.cluster } : {}) },
      base: { extra: { 'write-kubeconfig': this.kubeconfigPath, ...(p.cluster ? {} : { 'node-ip': p.nodeIp }) } },
      ...(this.o.dryRun ? { dryRun: true } : {}),
      logger: this.o.logger,
    });
    const running: K3sRunning = { role: res.role, nodeName: res.nodeName, nodeIp: p.nodeIp };
    if (this.o.dryRun) {
      this.running = running;
      return running;
    }
    const mode = res.role === 'agent' ? 'agent' : 'server';
    const sameMode = this.running?.role === res.role && this.supervisor?.state !== 'stopped';
    if (this.supervisor && sameMode && !res.changed) return running;
    await this.stopProcess();
    this.supervisor = await K3sSupervisor.create({
      bin: this.o.launch.bin,
      args: this.o.launch.args,
      mode,
      configDir: this.configDir,
      dataDir: this.dataDir,
      extraArgs: this.o.launch.standin && this.o.clock.timeScale !== 1 ? ['--time-scale', String(this.o.clock.timeScale)] : [],
      logger: this.o.logger,
      clock: this.o.clock,
      outputLevel: 'debug',
    });
    this.running = running;
    // Load the client library the monitors need while k3s boots (it writes its kubeconfig a second or more later);
    // only after the spawn, so the import's CPU never delays k3s itself.
    this.loadClientLibrary();
    return running;
  }

  /**
   * Starts loading @kubernetes/client-node in the background (about a second of CPU; once). A joiner calls this
   * while it waits for the bootstrap server, so that the load does not compete with its own k3s start.
   */
  loadClientLibrary(): void {
    void loadKubeLibrary().catch((e: unknown) => this.o.logger.error('cannot load @kubernetes/client-node', { error: errorMessage(e) }));
  }

  /** A kube client on this node's kubeconfig, once k3s wrote it. */
  kube(): KubeClient | undefined {
    if (this.client) return this.client;
    if (!kubeLibraryLoaded()) return undefined; // start() loads it; callers poll
    if (!existsSync(this.kubeconfigPath)) return undefined;
    this.client = KubeClient.fromKubeconfigFile(this.kubeconfigPath, { logger: this.o.logger, clock: this.o.clock });
    return this.client;
  }

  /** Stops the process (keeps config and data). */
  async stopProcess(): Promise<void> {
    const s = this.supervisor;
    this.supervisor = undefined;
    this.client?.close();
    this.client = undefined;
    await s?.stop();
  }

  /** Back to a blank single-node state: cluster drop-ins removed, data wiped (EVE restores its /var/lib snapshot). */
  async reset(): Promise<void> {
    await this.stopProcess();
    this.running = undefined;
    await removeK3sConfig(this.configDir);
    await rm(this.dataDir, { recursive: true, force: true });
  }
}

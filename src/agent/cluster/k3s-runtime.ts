/**
 * One node's k3s: drop-ins, the supervised process and the kube client, for single-node or cluster mode.
 * The k3s binary is either the real `k3s` or the edgesim stand-in behind the same contract.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Clock, Logger } from '../../common/index.js';
import { findCommand } from '../../common/index.js';
import { writeFileAtomic } from '../../common/atomic-file.js';
import {
  applyK3sConfig,
  etcdMemberExists,
  K3sSupervisor,
  KubeClient,
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

/** What k3s is started with. */
export interface K3sStartInput {
  deviceName: string;
  deviceUuid: string;
  nodeIp: string;
  cluster?: K3sClusterInput;
}

/**
 * What the monitor and the faults (cluster-faults.ts) act on of a node's running k3s: the supervised process
 * (K3sSupervisor) or an in-process cluster member (src/inproc).
 */
export interface K3sProcess {
  /** Restarts after unexpected exits so far. */
  readonly restarts: number;
  /** Makes k3s die; it is restarted with backoff. */
  kill(signal?: NodeJS.Signals): void;
  /** Stops k3s with no restart until {@link resume}. */
  pause(): Promise<void>;
  resume(): Promise<void>;
  /** Freezes (SIGSTOP) or thaws (SIGCONT) all of k3s: no node status, no lease renewals, no API answers. */
  freeze(frozen: boolean): void;
}

/** What the cluster reconciler needs of a node's k3s (the model test drives the reconciler with a fake one). */
export interface ClusterK3s {
  readonly kubeconfigPath: string;
  /** The supervised process (faults), while running. */
  readonly process: K3sProcess | undefined;
  kube(): KubeClient | undefined;
  etcdInitialized(): Promise<boolean>;
  writeConfig(p: K3sStartInput): Promise<K3sRunning>;
  startProcess(): Promise<K3sRunning>;
  stopProcess(): Promise<void>;
  reset(): Promise<void>;
  dataOwner(): Promise<string>;
  setDataOwner(owner: string): Promise<void>;
}

export class K3sRuntime implements ClusterK3s {
  private supervisor: K3sSupervisor | undefined;
  private client: KubeClient | undefined;
  private written: K3sRunning | undefined;
  private restartNeeded = false;
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
  private get ownerFile(): string {
    return path.join(this.o.dir, 'data-owner');
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
   * Writes the drop-ins for this mode (the token goes only into `01-clusterconfig.yaml`, 0600). A change is
   * remembered so that the next {@link startProcess} restarts k3s.
   */
  async writeConfig(p: K3sStartInput): Promise<K3sRunning> {
    const res = await applyK3sConfig({
      configDir: this.configDir,
      input: { deviceName: p.deviceName, deviceUuid: p.deviceUuid, ...(p.cluster ? { cluster: p.cluster } : {}) },
      base: { extra: { 'write-kubeconfig': this.kubeconfigPath, ...(p.cluster ? {} : { 'node-ip': p.nodeIp }) } },
      ...(this.o.dryRun ? { dryRun: true } : {}),
      logger: this.o.logger,
    });
    const next: K3sRunning = { role: res.role, nodeName: res.nodeName, nodeIp: p.nodeIp };
    if (res.changed || next.role !== this.written?.role) this.restartNeeded = true;
    this.written = next;
    return next;
  }

  /** Starts k3s with the written config, or restarts it when the config changed since it started. */
  async startProcess(): Promise<K3sRunning> {
    const w = this.written;
    if (!w) throw new Error('k3s: no config written yet');
    if (this.o.dryRun) {
      this.running = w;
      return w;
    }
    if (this.supervisor && this.supervisor.state !== 'stopped' && !this.restartNeeded) return w;
    await this.stopProcess();
    this.supervisor = await K3sSupervisor.create({
      bin: this.o.launch.bin,
      args: this.o.launch.args,
      mode: w.role === 'agent' ? 'agent' : 'server',
      configDir: this.configDir,
      dataDir: this.dataDir,
      extraArgs: this.o.launch.standin && this.o.clock.timeScale !== 1 ? ['--time-scale', String(this.o.clock.timeScale)] : [],
      logger: this.o.logger,
      clock: this.o.clock,
      outputLevel: 'debug',
    });
    this.restartNeeded = false;
    this.running = w;
    return w;
  }

  /** Drop-ins, then (re)start when they changed or k3s is not running. */
  async start(p: K3sStartInput): Promise<K3sRunning> {
    await this.writeConfig(p);
    return this.startProcess();
  }

  /** Whose state the data directory holds ('' when unknown or blank; see cluster-plan.ts `membershipKey`). */
  async dataOwner(): Promise<string> {
    try {
      return (await readFile(this.ownerFile, 'utf8')).trim();
    } catch {
      return '';
    }
  }

  /** Records whose state the data directory holds (written once k3s started with it). */
  async setDataOwner(owner: string): Promise<void> {
    if (this.o.dryRun) return;
    await mkdir(this.o.dir, { recursive: true, mode: 0o700 });
    // Atomic: a power loss mid-write must leave the old owner or the new one, never a blank (kill9-chaos).
    await writeFileAtomic(this.ownerFile, owner + '\n', { mode: 0o600 });
  }

  /** A kube client on this node's kubeconfig, once k3s wrote it. */
  kube(): KubeClient | undefined {
    if (this.client) return this.client;
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

  /** Back to a blank state: drop-ins removed, data wiped (EVE restores its /var/lib snapshot). */
  async reset(): Promise<void> {
    await this.stopProcess();
    this.running = undefined;
    this.written = undefined;
    if (this.o.dryRun) return;
    await rm(this.ownerFile, { force: true });
    await removeK3sConfig(this.configDir);
    await rm(this.dataDir, { recursive: true, force: true });
  }
}

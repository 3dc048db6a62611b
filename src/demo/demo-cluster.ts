/**
 * The demo's machinery as an object: the embedded controller, per node an swtpm (when installed), an `edgesim agent`
 * process and, through it, the k3s stand-in on a real etcd — on loopback addresses or, as root, one network
 * namespace per node (netns.ts). `edgesim demo` and `edgesim scenario run` both drive a cluster through it: start,
 * apply the cluster, kill -9 / restart a node, stop / start the controller, reach an agent's admin socket or a
 * node's kube API, stop everything.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import path from 'node:path';
import type { Clock, Logger } from '../common/index.js';
import { errorMessage, findCommand, pollUntil } from '../common/index.js';
import { ControllerAdminClient, ControllerServer, type ClusterApplyResult, type TimelineRecord } from '../controller/index.js';
import { KubeClient } from '../k3s/index.js';
import { SwtpmProcess } from '../tpm/index.js';
import { NETNS_CLUSTER_IFNAME, NETNS_CLUSTER_PREFIX, NetnsTopology, netnsClusterIp, netnsUnavailableReason } from './netns.js';

/** Options of {@link DemoCluster.start}. */
export interface DemoClusterOptions {
  /** Number of nodes (1–20). */
  nodes: number;
  /** Divides every agent and stand-in timer. */
  timeScale: number;
  /** 'swtpm' (one per node; needs swtpm + tpm2-tools), 'soft', or 'auto' (swtpm when installed). */
  tpm: 'auto' | 'swtpm' | 'soft';
  /** 'on': a network namespace per node (root only), 'off': loopback addresses, 'auto': namespaces when possible. */
  netns: 'auto' | 'on' | 'off';
  /** Real seconds between the agents' config polls. */
  configIntervalS: number;
  /** Logs and state (kept; the caller removes it). */
  workDir: string;
  /** The command that runs `edgesim` (node + script). */
  selfCommand: string[];
  /** PATH to look for swtpm and tpm2-tools in. */
  pathEnv: string;
  /** Real ms to wait for every node to onboard and attest. */
  timeoutMs: number;
  /** Called at each start step (the demo's start profile). */
  onMark?: (step: string) => void;
  /** Called once with the dashboard URL when the controller is first up (the CLI prints it). */
  onDashboard?: (url: string) => void;
  clock: Clock;
  logger: Logger;
  signal: AbortSignal;
}

/** One node of the cluster: its folder (config, state, agent.log), swtpm and agent process. */
export interface DemoNode {
  name: string;
  dir: string;
  swtpm?: SwtpmProcess;
  agent?: ChildProcess;
  uuid: string;
}

/** Where the nodes live: addresses, interface names and how their processes are started. */
export interface DemoNetwork {
  kind: 'loopback' | 'netns';
  /** Device API bind address of the controller. */
  controllerHost: string;
  clusterPrefix: string;
  clusterIp(i: number): string;
  clusterIfname: string;
  singleNodeIp(i: number): string;
  /** argv that runs `argv` for node i (inside its namespace in netns mode). */
  command(i: number, argv: string[]): string[];
}

const LOOPBACK: DemoNetwork = {
  kind: 'loopback',
  controllerHost: '127.0.0.1',
  clusterPrefix: '127.0.100.0/24',
  clusterIp: (i) => `127.0.100.${i + 2}`,
  clusterIfname: 'lo',
  singleNodeIp: (i) => `127.0.101.${i + 2}`,
  command: (_i, argv) => argv,
};

function netnsNetwork(t: NetnsTopology): DemoNetwork {
  return {
    kind: 'netns',
    controllerHost: t.controllerIp,
    clusterPrefix: NETNS_CLUSTER_PREFIX,
    clusterIp: netnsClusterIp,
    clusterIfname: NETNS_CLUSTER_IFNAME,
    singleNodeIp: (i) => t.nodes[i].mgmtIp,
    command: (i, argv) => t.exec(i, argv),
  };
}

/** Resolves `--netns auto|on|off` to whether namespaces are used; 'on' fails with the reason when unavailable. */
async function wantNetns(mode: 'auto' | 'on' | 'off', log: Logger): Promise<boolean> {
  if (mode === 'off') return false;
  const why = await netnsUnavailableReason();
  if (why === undefined) return true;
  if (mode === 'on') throw new Error(`--netns on: ${why}`);
  log.info('network namespaces unavailable, using loopback addresses', { reason: why });
  return false;
}


/** A running demo cluster; `stop()` ends every process it started and the namespaces. */
export class DemoCluster {
  readonly nodes: DemoNode[] = [];
  private controller: ControllerServer | undefined;
  private readonly forwarders: Forwarder[] = [];
  private adminClient: ControllerAdminClient | undefined;
  private readonly log: Logger;

  private constructor(
    private readonly o: DemoClusterOptions,
    readonly net: DemoNetwork,
    private readonly topology: NetnsTopology | undefined,
  ) {
    this.log = o.logger.child({ component: 'demo' });
  }

  /**
   * Starts the controller and every node and waits until each one onboarded and attested (its ECDH cert is needed to
   * encrypt its cluster token). On failure, stops what it started.
   */
  static async start(o: DemoClusterOptions): Promise<DemoCluster> {
    if (!(o.nodes >= 1 && o.nodes <= 20)) throw new Error(`--nodes must be between 1 and 20, got ${o.nodes}`);
    const log = o.logger.child({ component: 'demo' });
    const topology = (await wantNetns(o.netns, log)) ? await NetnsTopology.create({ nodes: o.nodes, logger: log }) : undefined;
    const c = new DemoCluster(o, topology ? netnsNetwork(topology) : LOOPBACK, topology);
    try {
      await c.startController();
      o.onMark?.('demo: controller up');
      const useSwtpm =
        o.tpm === 'swtpm' ||
        (o.tpm !== 'soft' && (await findCommand('swtpm', o.pathEnv)) !== undefined && (await findCommand('tpm2_send', o.pathEnv)) !== undefined);
      await Promise.all(Array.from({ length: o.nodes }, (_, i) => c.startNode(i, useSwtpm)));
      const devices = await waitUntil(o, o.timeoutMs, 'every node onboarded and attested', async () => {
        const list = await c.admin.devices();
        const bySerial = new Map(list.map((d) => [d.serial, d]));
        const all = c.nodes.map((x) => bySerial.get(`demo-${x.name}`));
        return all.every((d) => d?.attested && d.attestCerts.length > 0) ? all.map((d) => d!) : undefined;
      });
      c.nodes.forEach((x, i) => (x.uuid = devices[i].uuid));
      return c;
    } catch (e) {
      await c.stop();
      throw e;
    }
  }

  /** The controller's admin API. */
  get admin(): ControllerAdminClient {
    if (!this.adminClient) throw new Error('the demo controller is not running');
    return this.adminClient;
  }

  get network(): 'loopback' | 'netns' {
    return this.net.kind;
  }

  private async startNode(i: number, useSwtpm: boolean): Promise<void> {
    const name = `dev${i + 1}`;
    const dir = path.join(this.o.workDir, name);
    const node: DemoNode = { name, dir, uuid: '' };
    this.nodes[i] = node;
    await mkdir(dir, { recursive: true });
    await this.admin.exportDeviceConfig({ outDir: path.join(dir, 'config'), serial: `demo-${name}` });
    if (useSwtpm) {
      node.swtpm = await SwtpmProcess.create({
        stateDir: path.join(dir, 'swtpm'),
        // Each namespace has its own loopback: the agent reaches only an swtpm started inside its namespace,
        // where the standard port is free.
        ...(this.topology ? { wrap: this.net.command(i, []), port: NETNS_SWTPM_PORT } : {}),
        logger: this.log,
        clock: this.o.clock,
        signal: this.o.signal,
      });
    }
    if (i === 0) this.o.onMark?.(useSwtpm ? 'demo: config folder, swtpm up' : 'demo: config folder');
    node.agent = startAgent(this.o, this.net, node, i);
    if (i === 0) this.o.onMark?.('demo: agent spawned');
  }

  /** Applies the cluster of every node (`demo-cluster`, interface label ethernet1); `rotateToken` sends a new token. */
  async applyCluster(opts: { rotateToken?: boolean } = {}): Promise<ClusterApplyResult> {
    const applied = await this.admin.applyCluster({
      name: 'demo-cluster',
      interface: 'ethernet1',
      prefix: this.net.clusterPrefix,
      members: this.nodes.map((x, i) => ({ device: x.uuid, ip: this.net.clusterIp(i), name: `edge-${x.name}` })),
      ...(opts.rotateToken ? { rotateToken: true } : {}),
    });
    this.log.info('cluster applied', { clusterId: applied.id, network: this.net.kind });
    this.applied = applied;
    return applied;
  }

  private applied: ClusterApplyResult | undefined;

  /** The id of the cluster last applied (undefined before). */
  get clusterId(): string | undefined {
    return this.applied?.id;
  }

  /** Kills node i as a power loss would (agent and k3s, SIGKILL); its state and swtpm stay. */
  killNode(i: number): Promise<void> {
    return killNode(this.nodes[i]);
  }

  /** Whether node i's agent process runs. */
  isRunning(i: number): boolean {
    const a = this.nodes[i].agent;
    return !!a && a.exitCode === null && a.signalCode === null;
  }

  /** Starts node i's agent again on its state (after a kill); a running agent is left alone. */
  restartNode(i: number): void {
    if (this.isRunning(i)) return;
    this.nodes[i].agent = startAgent(this.o, this.net, this.nodes[i], i);
  }

  /** Starts the controller; again after `stopController()` on the same data dir and device API port. */
  async startController(): Promise<void> {
    if (this.controller) return;
    const previous = this.devicePort;
    const controller = await ControllerServer.create({
      dataDir: path.join(this.o.workDir, 'controller'),
      // netns mode: the device API binds the root end of the management veth (the cert carries that address).
      listen: `${this.net.controllerHost}:${previous ?? 0}`,
      adminListen: `127.0.0.1:${this.adminPort ?? 0}`,
      logger: this.log.child({ component: 'controller' }),
      clock: this.o.clock,
    });
    void controller.run();
    this.controller = controller;
    const ep = controller.endpoints();
    if (ep.uiUrl && previous === undefined) this.o.onDashboard?.(ep.uiUrl);
    this.devicePort = Number(new URL(ep.deviceUrl).port);
    this.adminPort = Number(new URL(ep.adminUrl).port);
    this.adminClient = new ControllerAdminClient(ep.adminUrl);
    this.log.info('controller started', { deviceUrl: ep.deviceUrl, adminUrl: ep.adminUrl, uiUrl: ep.uiUrl });
  }

  private devicePort: number | undefined;
  private adminPort: number | undefined;

  /** Stops the controller (an outage); its data dir and ports are kept for `startController()`. */
  async stopController(): Promise<void> {
    const c = this.controller;
    this.controller = undefined;
    this.adminClient = undefined;
    await c?.stop().catch(() => undefined);
  }

  /** Hands a finished timeline to the controller's dashboard (when the controller runs). */
  recordTimeline(t: TimelineRecord): void {
    this.controller?.recordTimeline(t);
  }

  get controllerRunning(): boolean {
    return this.controller !== undefined;
  }

  /** The path of node i's agent admin socket (`edgesim ctl`, faults). */
  adminSocket(i: number): string {
    return path.join(this.nodes[i].dir, 'state', 'admin.sock');
  }

  /** A kube client on node i's k3s API (through a forwarder into its namespace in netns mode). */
  async kube(i: number): Promise<KubeClient> {
    const kubeconfig = path.join(this.nodes[i].dir, 'state', KUBECONFIG_IN_STATE);
    if (!this.topology) return KubeClient.fromKubeconfigFile(kubeconfig, { logger: this.log, clock: this.o.clock });
    const fwd = await Forwarder.start(this.o, this.net, i, this.net.clusterIp(i), K3S_API_PORT, path.join(this.nodes[i].dir, `kube-api-${this.forwarders.length}.sock`));
    this.forwarders.push(fwd);
    return fwd.kubeClient(kubeconfig, this.log, this.o.clock);
  }

  /** Stops every process started here (agents with SIGTERM, SIGKILL after 20 s), the controller, the namespaces. */
  async stop(): Promise<void> {
    for (const f of this.forwarders.splice(0)) await f.stop();
    await Promise.all(this.nodes.map((x) => stopNode(x)));
    await this.stopController();
    await this.topology?.destroy();
  }
}

function startAgent(o: DemoClusterOptions, net: DemoNetwork, node: DemoNode, i: number): ChildProcess {
  const timeScale = o.timeScale;
  const args = [
    ...o.selfCommand,
    'agent',
    '--config-dir',
    path.join(node.dir, 'config'),
    '--state-dir',
    path.join(node.dir, 'state'),
    '--tpm',
    node.swtpm?.tcti ?? 'soft',
    '--time-scale',
    String(timeScale),
    '--config-interval',
    String(o.configIntervalS * timeScale), // spec seconds; the agent divides by the time scale
    '--k3s-bin',
    'standin',
    '--iface-map',
    `ethernet1=${net.clusterIfname}`,
    '--single-node-ip',
    net.singleNodeIp(i),
    '--log-format',
    'json',
  ];
  const out = createWriteStream(path.join(node.dir, 'agent.log'));
  // `ip netns exec` execs the agent, so the child's pid (and SIGTERM) is the agent's own.
  const [exe, ...argv] = net.command(i, args);
  const child = spawn(exe, argv, { stdio: ['ignore', 'pipe', 'pipe'], detached: false });
  child.stdout.pipe(out);
  child.stderr.pipe(out);
  return child;
}

/** Where the agent has k3s write its kubeconfig, under its state dir (agent/cluster/k3s-runtime.ts). */
const KUBECONFIG_IN_STATE = path.join('k3s', 'data', 'k3s.yaml');
/** swtpm's data port inside a node namespace (the port swtpm's own documentation uses). */
const NETNS_SWTPM_PORT = 2321;
/** The k3s API port (cluster.md §3). */
const K3S_API_PORT = 6443;

/**
 * Kills a node as a power loss would: the process groups the agent leads children of (k3s runs in its own group,
 * k3s/supervisor.ts; its etcd follows through the stand-in's watchdog pipe) are listed first, then the agent and
 * those groups get SIGKILL, so the agent cannot restart k3s in between.
 */
async function killNode(x: DemoNode): Promise<void> {
  const a = x.agent;
  if (!a?.pid || a.exitCode !== null || a.signalCode !== null) return;
  const groups = await childGroupLeaders(a.pid);
  const exited = new Promise<void>((r) => a.once('exit', () => r()));
  a.kill('SIGKILL');
  await exited;
  for (const g of groups) {
    try {
      process.kill(-g, 'SIGKILL');
    } catch {
      // The group is already gone.
    }
  }
}

/** Pids of the children of `pid` that lead their own process group (from /proc/<pid>/stat: ppid, pgrp). */
async function childGroupLeaders(pid: number): Promise<number[]> {
  const out: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    // Fields after the parenthesised command: state ppid pgrp …
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[1]) === pid && Number(fields[2]) === Number(entry)) out.push(Number(entry));
  }
  return out;
}

/**
 * netns mode: the demo process lives in the root namespace, a node's kube API only inside the node's. A small
 * forwarder runs inside the namespace (node, listening on a unix socket — the file system is shared) and a TCP
 * listener on 127.0.0.1 here pipes each connection into it; the API's certificate covers 127.0.0.1 (k3s's SANs).
 */
class Forwarder {
  private constructor(
    private readonly child: ChildProcess,
    private readonly server: Server,
    private readonly sockets: Set<Socket>,
    readonly port: number,
  ) {}

  static async start(o: DemoClusterOptions, dnet: DemoNetwork, i: number, host: string, port: number, sock: string): Promise<Forwarder> {
    await rm(sock, { force: true });
    const [exe, ...argv] = dnet.command(i, [process.execPath, '-e', FORWARDER_SCRIPT, sock, host, String(port)]);
    const child = spawn(exe, argv, { stdio: ['pipe', 'ignore', 'inherit'] });
    // The forwarder prints nothing; it exits when its stdin closes (this process gone) or on SIGTERM.
    await waitUntil(o, 15_000, `kube API forwarder socket ${sock}`, async () => ((await readdir(path.dirname(sock))).includes(path.basename(sock)) ? true : undefined));
    // Open connections are tracked: the kube client keeps them alive, and server.close() waits for every one.
    const sockets = new Set<Socket>();
    const server = createServer((c) => {
      const u = connect(sock);
      for (const s of [c, u]) {
        sockets.add(s);
        s.once('close', () => sockets.delete(s));
      }
      c.pipe(u).pipe(c);
      c.on('error', () => u.destroy());
      u.on('error', () => c.destroy());
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', resolve);
    });
    return new Forwarder(child, server, sockets, (server.address() as AddressInfo).port);
  }

  /** A client on `kubeconfig` with its server replaced by this forwarder's local end. */
  kubeClient(kubeconfig: string, logger: Logger, clock: Clock): KubeClient {
    return KubeClient.fromKubeconfigFile(kubeconfig, { logger, clock }, { server: `https://127.0.0.1:${this.port}` });
  }

  /** Closes the listener and every open connection, then ends the in-namespace half (SIGKILL after 5 s). */
  async stop(): Promise<void> {
    const closed = new Promise<void>((r) => this.server.close(() => r()));
    for (const s of this.sockets) s.destroy();
    await closed;
    const c = this.child;
    if (c.exitCode === null && c.signalCode === null) {
      const exited = new Promise<void>((r) => c.once('exit', () => r()));
      c.kill('SIGTERM');
      const t = setTimeout(() => c.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(t);
    }
  }
}

/** The in-namespace half of {@link Forwarder}: `node -e FORWARDER_SCRIPT <socket> <host> <port>`. */
const FORWARDER_SCRIPT = [
  "const net = require('node:net');",
  'const [sock, host, port] = process.argv.slice(1);',
  'net.createServer((c) => { const u = net.connect(Number(port), host); c.pipe(u).pipe(c);',
  "  c.on('error', () => u.destroy()); u.on('error', () => c.destroy()); }).listen(sock);",
  "process.stdin.on('end', () => process.exit(0)); process.stdin.resume();",
].join('\n');

async function stopNode(x: DemoNode): Promise<void> {
  const a = x.agent;
  if (a && a.exitCode === null && a.signalCode === null) {
    const exited = new Promise<void>((r) => a.once('exit', () => r()));
    a.kill('SIGTERM');
    const t = setTimeout(() => a.kill('SIGKILL'), 20_000);
    await exited;
    clearTimeout(t);
  }
  await x.swtpm?.stop().catch(() => undefined);
}

async function waitUntil<T>(o: Pick<DemoClusterOptions, 'clock' | 'signal' | 'logger'>, timeoutMs: number, what: string, probe: () => Promise<T | undefined>): Promise<T> {
  return pollUntil(probe, {
    what,
    timeoutMs,
    pause: (signal) => o.clock.sleepReal(250, signal),
    signal: o.signal,
    onProbeError: (e) => o.logger.debug('demo probe failed', { error: errorMessage(e) }),
  });
}


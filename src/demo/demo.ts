/**
 * `edgesim demo`: a whole EVE cluster on one machine. Starts the embedded controller, then per node an swtpm (when
 * installed), an `edgesim agent` process and, through it, the k3s stand-in on a real etcd; applies a cluster and
 * shows what the controller receives until Ctrl-C (or until every node reported READY with `exitWhenReady`).
 * With `scenario: 'failover'` it waits for READY, then runs the failover scenario (failover.ts) and returns its
 * timeline. Two network modes: loopback (cluster IPs 127.0.100.2…, interface label `ethernet1` mapped to `lo`) and,
 * as root, network namespaces (netns.ts: each node's agent, swtpm, stand-in and etcd in its own namespace,
 * `ethernet1` mapped to `eth1` on a shared bridge, cluster IPs 10.244.244.2…, the controller reached over a
 * management bridge).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Clock, Logger } from '../common/index.js';
import { createClock, errorMessage, findCommand, pollUntil } from '../common/index.js';
import { ControllerAdminClient, ControllerServer, type InfoItem } from '../controller/index.js';
import { KubeClient } from '../k3s/index.js';
import { SwtpmProcess } from '../tpm/index.js';
import { failoverTimelineRecord, runFailoverScenario, type FailoverNode, type FailoverScenarioResult } from './failover.js';
import { StartMarks, startTimeline, type StartStep } from './start-profile.js';
import { NETNS_CLUSTER_IFNAME, NETNS_CLUSTER_PREFIX, NetnsTopology, netnsClusterIp, netnsUnavailableReason } from './netns.js';

/** What the demo does once the cluster is applied. */
export type DemoScenario = 'cluster' | 'failover';

/** The scenarios, for help texts and flag validation. */
export const DEMO_SCENARIOS: readonly DemoScenario[] = ['cluster', 'failover'];

export interface DemoOptions {
  /** Number of nodes. @default 3 */
  nodes?: number;
  /**
   * 'cluster': form the cluster and show it (until the signal, or READY with `exitWhenReady`); 'failover': form it,
   * wait for READY, deploy a PREFERRED app to node 1, kill node 1 and record the failover timeline. @default 'cluster'
   */
  scenario?: DemoScenario;
  /** Divides every agent and stand-in timer. @default 10 */
  timeScale?: number;
  /** 'swtpm' (one per node; needs swtpm + tpm2-tools), 'soft', or 'auto' (swtpm when installed). @default 'auto' */
  tpm?: 'auto' | 'swtpm' | 'soft';
  /**
   * 'on': every node in its own network namespace (root only; fails when unavailable), 'off': loopback addresses,
   * 'auto': namespaces when running as root and `ip netns` works, else loopback. @default 'auto'
   */
  netns?: 'auto' | 'on' | 'off';
  /**
   * Real seconds between the agents' config polls (EVE: 60 s spec). Short, because a new node's first useful
   * config (the cluster block) can only be made after it attested, and the demo should not wait a poll for it.
   * @default 1
   */
  configIntervalS?: number;
  /** Keeps logs and state here instead of a temp dir that is removed at the end. */
  workDir?: string;
  /** The command that runs `edgesim` (node + script). */
  selfCommand: string[];
  /** PATH to look for swtpm and tpm2-tools in. */
  pathEnv: string;
  /** Stop when every node reported READY (and the leader listed them all). */
  exitWhenReady?: boolean;
  /** With the cluster scenario and exitWhenReady: return node 1's start timeline (start-profile.ts). */
  profileStart?: boolean;
  /**
   * Give up after this many real ms (each wait: onboarding, READY with exitWhenReady or the failover scenario, the
   * app RUNNING). @default 120000, with the failover scenario max(120000, 600000 / timeScale)
   */
  timeoutMs?: number;
  /** Called with each new view of the cluster (the CLI prints it). */
  onView: (view: DemoView) => void;
  /** Called once with the dashboard URL when the controller is up (the CLI prints it). */
  onDashboard?: (url: string) => void;
  /** Progress lines of a scenario (the CLI prints them to stderr). */
  onProgress?: (message: string) => void;
  clock: Clock;
  logger: Logger;
  signal: AbortSignal;
}

/** What runDemo returns: the last view and, with the failover scenario, its result. */
export interface DemoResult extends DemoView {
  scenario: DemoScenario;
  failover?: FailoverScenarioResult;
  /** With profileStart: node 1's start, step by step. */
  startProfile?: StartStep[];
}

/** One row of the live table. */
export interface DemoNodeView {
  node: string;
  uuid: string;
  role: string;
  clusterIp: string;
  status: string;
  leader: boolean;
  lastReport: string;
}

export interface DemoView {
  elapsedMs: number;
  nodes: DemoNodeView[];
  clusterId: string;
  allReady: boolean;
  workDir: string;
  /** How the nodes are connected: one shared loopback, or a network namespace each. */
  network: 'loopback' | 'netns';
  /** Set once every node reported READY: ms from demo start. */
  readyAfterMs?: number;
}

interface DemoNode {
  name: string;
  dir: string;
  swtpm?: SwtpmProcess;
  agent?: ChildProcess;
  uuid: string;
}

/** Where the nodes live: addresses, interface names and how their processes are started. */
interface DemoNetwork {
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

/**
 * Runs the demo until the signal fires (or every node is READY with `exitWhenReady`, or the failover scenario is
 * done); cleans up everything.
 */
export async function runDemo(o: DemoOptions): Promise<DemoResult> {
  const started = { mono: performance.now(), wall: Date.now() };
  const marks = new StartMarks(started.wall);
  const n = o.nodes ?? 3;
  if (!(n >= 1 && n <= 20)) throw new Error(`--nodes must be between 1 and 20, got ${n}`);
  const timeScale = o.timeScale ?? 10;
  const scenario = o.scenario ?? 'cluster';
  if (!DEMO_SCENARIOS.includes(scenario)) throw new Error(`--scenario must be one of ${DEMO_SCENARIOS.join(', ')}, got "${String(scenario)}"`);
  if (scenario === 'failover' && n < 2) throw new Error(`--scenario failover needs at least 2 nodes, got --nodes ${n}`);
  const timeoutMs = o.timeoutMs ?? (scenario === 'failover' ? Math.max(120_000, 600_000 / timeScale) : 120_000);
  const exitWhenReady = o.exitWhenReady === true || scenario === 'failover';
  const workDir = o.workDir ?? (await mkdtemp(path.join(os.tmpdir(), 'edgesim-demo-')));
  const log = o.logger.child({ component: 'demo' });
  const nodes: DemoNode[] = [];
  let controller: ControllerServer | undefined;
  let topology: NetnsTopology | undefined;
  const forwarders: Forwarder[] = [];
  try {
    if (await wantNetns(o.netns ?? 'auto', log)) topology = await NetnsTopology.create({ nodes: n, logger: log });
    const net = topology ? netnsNetwork(topology) : LOOPBACK;
    controller = await ControllerServer.create({
      dataDir: path.join(workDir, 'controller'),
      // netns mode: the device API binds the root end of the management veth (the cert carries that address).
      listen: `${net.controllerHost}:0`,
      adminListen: '127.0.0.1:0',
      logger: log.child({ component: 'controller' }),
      clock: o.clock,
    });
    void controller.run();
    marks.mark('demo: controller up');
    const admin = new ControllerAdminClient(controller.endpoints().adminUrl);
    const { deviceUrl, adminUrl, uiUrl } = controller.endpoints();
    log.info('controller started', { deviceUrl, adminUrl, uiUrl });
    if (uiUrl) o.onDashboard?.(uiUrl);

    const useSwtpm = o.tpm === 'swtpm' || (o.tpm !== 'soft' && (await findCommand('swtpm', o.pathEnv)) !== undefined && (await findCommand('tpm2_send', o.pathEnv)) !== undefined);
    await Promise.all(
      Array.from({ length: n }, async (_, i) => {
        const name = `dev${i + 1}`;
        const dir = path.join(workDir, name);
        const node: DemoNode = { name, dir, uuid: '' };
        nodes[i] = node;
        await mkdir(dir, { recursive: true });
        await admin.exportDeviceConfig({ outDir: path.join(dir, 'config'), serial: `demo-${name}` });
        if (useSwtpm) {
          node.swtpm = await SwtpmProcess.create({
            stateDir: path.join(dir, 'swtpm'),
            // Each namespace has its own loopback: the agent reaches only an swtpm started inside its namespace,
            // where the standard port is free.
            ...(topology ? { wrap: net.command(i, []), port: NETNS_SWTPM_PORT } : {}),
            logger: log,
            clock: o.clock,
            signal: o.signal,
          });
        }
        if (i === 0) marks.mark(useSwtpm ? 'demo: config folder, swtpm up' : 'demo: config folder');
        node.agent = startAgent(o, net, node, i, timeScale);
        if (i === 0) marks.mark('demo: agent spawned');
      }),
    );
    // Wait until every node onboarded and attested (its ECDH cert is needed to encrypt its token).
    const devices = await waitUntil(o, timeoutMs, 'every node onboarded and attested', async () => {
      const list = await admin.devices();
      const bySerial = new Map(list.map((d) => [d.serial, d]));
      const all = nodes.map((x) => bySerial.get(`demo-${x.name}`));
      return all.every((d) => d?.attested && d.attestCerts.length > 0) ? all.map((d) => d!) : undefined;
    });
    nodes.forEach((x, i) => (x.uuid = devices[i].uuid));
    const applied = await admin.applyCluster({
      name: 'demo-cluster',
      interface: 'ethernet1',
      prefix: net.clusterPrefix,
      members: nodes.map((x, i) => ({ device: x.uuid, ip: net.clusterIp(i), name: `edge-${x.name}` })),
    });
    log.info('cluster applied', { clusterId: applied.id, network: net.kind });
    marks.mark('demo: every node attested, cluster applied');

    const reports: NodeReports[] = [];
    let view = await collectView(admin, nodes, reports, applied.id, workDir, started, net);
    o.onView(view);
    const applyDone = performance.now();
    for (;;) {
      if (o.signal.aborted) return { ...view, scenario };
      // Look often while the cluster forms (the view shows it forming), then once a second.
      await o.clock.sleepReal(view.allReady ? 1000 : 250, o.signal).catch(() => undefined);
      if (o.signal.aborted) return { ...view, scenario };
      view = await collectView(admin, nodes, reports, applied.id, workDir, started, net);
      o.onView(view);
      if (view.allReady && exitWhenReady) break;
      if (exitWhenReady && performance.now() - applyDone > timeoutMs) {
        throw new Error(`not every node reported READY within ${Math.round(timeoutMs / 1000)} s; logs in ${workDir}`);
      }
    }
    if (scenario === 'cluster') {
      if (!o.profileStart || !view.allReady) return { ...view, scenario };
      const ready = reports[0]?.status;
      if (ready) marks.mark('controller: node READY received', ready.at);
      marks.mark('controller: all nodes READY', started.wall + (view.readyAfterMs ?? view.elapsedMs));
      const agentLog = await readFile(path.join(nodes[0].dir, 'agent.log'), 'utf8').catch(() => '');
      return { ...view, scenario, startProfile: startTimeline(marks, agentLog) };
    }
    o.onProgress?.(`all ${n} nodes READY after ${((view.readyAfterMs ?? view.elapsedMs) / 1000).toFixed(1)} s`);
    let failover: FailoverScenarioResult;
    try {
      failover = await runFailoverScenario({
        admin,
        nodes: nodes.map((x): FailoverNode => ({ name: x.name, uuid: x.uuid, kill: () => killNode(x) })),
        // Node 2 survives; in netns mode its API is reachable only inside its namespace, hence the forwarder.
        survivorKube: async () => {
          const kubeconfig = path.join(nodes[1].dir, 'state', KUBECONFIG_IN_STATE);
          if (!topology) return KubeClient.fromKubeconfigFile(kubeconfig, { logger: log, clock: o.clock });
          const fwd = await Forwarder.start(o, net, 1, net.clusterIp(1), K3S_API_PORT, path.join(nodes[1].dir, 'kube-api.sock'));
          forwarders.push(fwd);
          return fwd.kubeClient(kubeconfig, log, o.clock);
        },
        clock: createClock(timeScale),
        timeoutMs,
        onProgress: (m) => o.onProgress?.(m),
        logger: log,
        signal: o.signal,
      });
    } catch (e) {
      if (o.signal.aborted) return { ...view, scenario }; // Ctrl-C: no result, a clean teardown
      throw e;
    }
    if (o.signal.aborted) return { ...view, scenario };
    controller.recordTimeline(failoverTimelineRecord(failover));
    view = await collectView(admin, nodes, reports, applied.id, workDir, started, net);
    o.onView(view);
    return { ...view, scenario, failover };
  } finally {
    for (const f of forwarders) await f.stop();
    await Promise.all(nodes.map((x) => stopNode(x)));
    await controller?.stop().catch(() => undefined);
    await topology?.destroy();
    if (!o.workDir) await rm(workDir, { recursive: true, force: true }).catch(() => undefined);
  }
}

function startAgent(o: DemoOptions, net: DemoNetwork, node: DemoNode, i: number, timeScale: number): ChildProcess {
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
    String((o.configIntervalS ?? 1) * timeScale), // spec seconds; the agent divides by the time scale
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

  static async start(o: DemoOptions, dnet: DemoNetwork, i: number, host: string, port: number, sock: string): Promise<Forwarder> {
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

interface KubeClusterJson {
  nodes?: Array<{ name?: string; node_id?: string; internal_ip?: string; role_server?: boolean; conditions?: Array<{ set?: boolean }> }>;
  cluster_id?: string;
}

/**
 * What the demo keeps of one node's reports. Fetched incrementally (only messages after `seq`), so a demo left
 * running for hours does not re-read every node's whole history each second.
 */
interface NodeReports {
  seq: number;
  lastAt?: number;
  status?: { value: string; at: number };
  kube?: { value: KubeClusterJson; at: number };
}

async function readNewReports(admin: ControllerAdminClient, node: DemoNode, r: NodeReports, clusterId: string): Promise<void> {
  const items = await admin.info(node.uuid, { after: r.seq }).catch(() => [] as InfoItem[]);
  for (const item of items) {
    const m = item.info as Record<string, unknown>;
    r.seq = Math.max(r.seq, item.seq);
    r.lastAt = item.receivedAt;
    const status = (m.cluster_node as { node_status?: string } | undefined)?.node_status;
    if (status !== undefined) r.status = { value: status, at: item.receivedAt };
    const kube = m.cluster_info as KubeClusterJson | undefined;
    if (kube?.cluster_id === clusterId) r.kube = { value: kube, at: item.receivedAt };
  }
}

async function collectView(
  admin: ControllerAdminClient,
  nodes: DemoNode[],
  reports: NodeReports[],
  clusterId: string,
  workDir: string,
  started: { mono: number; wall: number },
  net: DemoNetwork,
): Promise<DemoView> {
  const now = Date.now();
  await Promise.all(nodes.map((x, i) => readNewReports(admin, x, (reports[i] ??= { seq: 0 }), clusterId)));
  // The leader is whoever sent the newest ZInfoKubeCluster of this cluster.
  let leaderUuid = '';
  let leaderAt = 0;
  let report: KubeClusterJson | undefined;
  nodes.forEach((x, i) => {
    const kc = reports[i].kube;
    if (kc && kc.at > leaderAt) {
      leaderAt = kc.at;
      leaderUuid = x.uuid;
      report = kc.value;
    }
  });
  let lastNeededAt = leaderAt;
  let leaderListsAll = true;
  const rows = nodes.map((x, i) => {
    const status = reports[i].status;
    const entry = report?.nodes?.find((k) => k.node_id === x.uuid);
    if (!entry?.conditions?.some((c) => c.set)) leaderListsAll = false;
    lastNeededAt = Math.max(lastNeededAt, status?.at ?? 0);
    const last = reports[i].lastAt;
    return {
      node: `edge-${x.name}`,
      uuid: x.uuid,
      role: entry ? (entry.role_server ? 'server' : 'agent') + (i === 0 ? ' (bootstrap)' : '') : i === 0 ? 'bootstrap' : 'joining',
      clusterIp: entry?.internal_ip ?? net.clusterIp(i),
      status: (status?.value ?? 'pending').replace('Z_INFO_CLUSTER_NODE_STATUS_', ''),
      leader: x.uuid === leaderUuid,
      lastReport: last ? `${Math.max(0, Math.round((now - last) / 1000))}s ago` : '-',
    };
  });
  // Every node says READY, and the leader's ZInfoKubeCluster lists each device UUID as Ready.
  const allReady = rows.every((r) => r.status === 'READY') && leaderListsAll;
  return {
    elapsedMs: performance.now() - started.mono,
    nodes: rows,
    clusterId,
    allReady,
    workDir,
    network: net.kind,
    // When the controller received the last report that made it so, not when this view noticed.
    ...(allReady ? { readyAfterMs: lastNeededAt - started.wall } : {}),
  };
}

async function waitUntil<T>(o: DemoOptions, timeoutMs: number, what: string, probe: () => Promise<T | undefined>): Promise<T> {
  return pollUntil(probe, {
    what,
    timeoutMs,
    pause: (signal) => o.clock.sleepReal(250, signal),
    signal: o.signal,
    onProbeError: (e) => o.logger.debug('demo probe failed', { error: errorMessage(e) }),
  });
}


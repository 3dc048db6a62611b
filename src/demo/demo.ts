/**
 * `edgesim demo`: a whole EVE cluster on one machine. Starts the embedded controller, then per node an swtpm (when
 * installed), an `edgesim agent` process and, through it, the k3s stand-in on a real etcd; applies a cluster and
 * shows what the controller receives until Ctrl-C (or until every node reported READY with `exitWhenReady`).
 * With `scenario: 'failover'` it runs the shipped scenarios/failover.yaml through the scenario runner (one
 * implementation of the cluster's steps), shows the same live table meanwhile, and returns its failover timeline. Two network modes: loopback (cluster IPs 127.0.100.2…, interface label `ethernet1` mapped to `lo`) and,
 * as root, network namespaces (netns.ts: each node's agent, swtpm, stand-in and etcd in its own namespace,
 * `ethernet1` mapped to `eth1` on a shared bridge, cluster IPs 10.244.244.2…, the controller reached over a
 * management bridge).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Clock, Logger } from '../common/index.js';
import { leaderReport, listedReady, type ControllerAdminClient, type InfoItem, type KubeClusterJson } from '../controller/index.js';
import { DemoCluster, type DemoNetwork, type DemoNode } from './demo-cluster.js';
import { loadShippedScenario, runScenario, type ScenarioResult } from '../scenario/index.js';
import type { FailoverScenarioResult } from './failover.js';
import { StartMarks, startTimeline, type StartStep } from './start-profile.js';

/** What the demo does once the cluster is applied. */
export type DemoScenario = 'cluster' | 'failover';

/** The scenarios, for help texts and flag validation. */
export const DEMO_SCENARIOS: readonly DemoScenario[] = ['cluster', 'failover'];

export interface DemoOptions {
  /** Number of nodes. @default 3 */
  nodes?: number;
  /**
   * 'cluster': form the cluster and show it (until the signal, or READY with `exitWhenReady`); 'failover': run
   * scenarios/failover.yaml (form it, deploy a PREFERRED app to node 1, kill node 1, record the failover timeline).
   * @default 'cluster'
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
   * Give up after this many real ms (each wait: onboarding, READY with exitWhenReady). The failover scenario's
   * deadlines are its file's (spec time). @default 120000
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
  /** The node as the leader's latest ZInfoKubeCluster lists it: Ready, NotReady, or '-' when not listed. */
  leaderView: string;
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
  const timeoutMs = o.timeoutMs ?? 120_000;
  const exitWhenReady = o.exitWhenReady === true;
  const workDir = o.workDir ?? (await mkdtemp(path.join(os.tmpdir(), 'edgesim-demo-')));
  let cluster: DemoCluster | undefined;
  try {
    if (scenario === 'failover') return await failoverDemo(o, n, timeScale, workDir, started);
    cluster = await DemoCluster.start({
      nodes: n,
      timeScale,
      tpm: o.tpm ?? 'auto',
      netns: o.netns ?? 'auto',
      configIntervalS: o.configIntervalS ?? 1,
      workDir,
      selfCommand: o.selfCommand,
      pathEnv: o.pathEnv,
      timeoutMs,
      onMark: (step) => marks.mark(step),
      ...(o.onDashboard ? { onDashboard: o.onDashboard } : {}),
      clock: o.clock,
      logger: o.logger,
      signal: o.signal,
    });
    const c = cluster;
    const { admin, nodes, net } = c;
    const applied = await c.applyCluster();
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
    if (!o.profileStart || !view.allReady) return { ...view, scenario };
    const ready = reports[0]?.status;
    if (ready) marks.mark('controller: node READY received', ready.at);
    marks.mark('controller: all nodes READY', started.wall + (view.readyAfterMs ?? view.elapsedMs));
    const agentLog = await readFile(path.join(nodes[0].dir, 'agent.log'), 'utf8').catch(() => '');
    return { ...view, scenario, startProfile: startTimeline(marks, agentLog) };
  } finally {
    await cluster?.stop();
    if (!o.workDir) await rm(workDir, { recursive: true, force: true }).catch(() => undefined);
  }
}


/**
 * What the demo keeps of one node's reports. Fetched incrementally (only messages after `seq`), so a demo left
 * running for hours does not re-read every node's whole history each second.
 */
interface NodeReports {
  seq: number;
  lastAt?: number;
  status?: { value: string; at: number };
  kube?: { cluster: KubeClusterJson; receivedAt: number };
}

/**
 * `--scenario failover`: the shipped scenarios/failover.yaml through the scenario runner (the nodes, time scale, TPM
 * and network of the demo's flags), with the live table beside it; its failover step's timeline is the result.
 */
async function failoverDemo(o: DemoOptions, n: number, timeScale: number, workDir: string, started: { mono: number; wall: number }): Promise<DemoResult> {
  const s = await loadShippedScenario('failover');
  s.topology = {
    ...s.topology,
    nodes: n,
    timeScale,
    tpm: o.tpm ?? 'auto',
    network: o.netns === 'on' ? 'netns' : o.netns === 'off' ? 'loopback' : 'auto',
    configIntervalMs: (o.configIntervalS ?? 1) * 1000 * timeScale,
  };
  let cluster: DemoCluster | undefined;
  let view: DemoView | undefined;
  const reports: NodeReports[] = [];
  const stopLooking = new AbortController();
  // The live table, as in the cluster scenario: often while the cluster forms, then once a second.
  const looking = (async () => {
    while (!stopLooking.signal.aborted) {
      const c = cluster;
      const id = c?.clusterId;
      if (c && id && c.controllerRunning) {
        try {
          view = await collectView(c.admin, c.nodes, reports, id, workDir, started, c.net);
          o.onView(view);
        } catch {
          // The controller went away between two looks (the scenario ends): the last view stays.
        }
      }
      await o.clock.sleepReal(view?.allReady ? 1000 : 250, stopLooking.signal).catch(() => undefined);
    }
  })();
  let r: ScenarioResult;
  try {
    r = await runScenario(s, {
      workDir,
      selfCommand: o.selfCommand,
      pathEnv: o.pathEnv,
      ...(o.onProgress ? { onProgress: o.onProgress } : {}),
      ...(o.onDashboard ? { onDashboard: o.onDashboard } : {}),
      onStarted: (c) => (cluster = c),
      clock: o.clock,
      logger: o.logger,
      signal: o.signal,
    });
  } finally {
    stopLooking.abort();
    await looking;
  }
  const last: DemoView = view ?? { elapsedMs: performance.now() - started.mono, nodes: [], clusterId: '', allReady: false, workDir, network: r.network };
  if (o.signal.aborted) return { ...last, scenario: 'failover' }; // Ctrl-C: no result
  if (r.error) throw new Error(`${r.error}; logs in ${workDir}`);
  const f = r.failovers[0];
  if (!f) {
    const bad = r.steps.find((x) => x.outcome === 'failed');
    throw new Error(`failover scenario: ${bad ? `${bad.label}: ${bad.detail}` : 'no failover step ran'}; logs in ${workDir}`);
  }
  const deployed = r.steps.find((x) => x.label.startsWith('deployApp'));
  const running = r.steps.find((x) => x.label.startsWith('expect app='));
  return { ...last, scenario: 'failover', failover: { ...f, runningAfterMs: deployed && running ? running.endMs - deployed.startMs : 0 } };
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
    if (kube?.cluster_id === clusterId) r.kube = { cluster: kube, receivedAt: item.receivedAt };
  }
}

/**
 * The node's Ready condition as the leader reported it: a short partition the leader saw shows here even when the
 * node's own report never changed.
 */
export function leaderViewOf(entry: NonNullable<KubeClusterJson['nodes']>[number] | undefined): string {
  if (!entry) return '-';
  return listedReady(entry) ? 'Ready' : 'NotReady';
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
  const leader = leaderReport(nodes.flatMap((x, i) => (reports[i].kube ? [{ sender: x.uuid, ...reports[i].kube }] : [])), clusterId);
  const leaderUuid = leader?.sender ?? '';
  const leaderAt = leader?.receivedAt ?? 0;
  const report = leader?.cluster;
  let lastNeededAt = leaderAt;
  let leaderListsAll = true;
  const rows = nodes.map((x, i) => {
    const status = reports[i].status;
    const entry = report?.nodes?.find((k) => k.node_id === x.uuid);
    if (!listedReady(entry)) leaderListsAll = false;
    lastNeededAt = Math.max(lastNeededAt, status?.at ?? 0);
    const last = reports[i].lastAt;
    return {
      node: `edge-${x.name}`,
      uuid: x.uuid,
      role: entry ? (entry.role_server ? 'server' : 'agent') + (i === 0 ? ' (bootstrap)' : '') : i === 0 ? 'bootstrap' : 'joining',
      clusterIp: entry?.internal_ip ?? net.clusterIp(i),
      status: (status?.value ?? 'pending').replace('Z_INFO_CLUSTER_NODE_STATUS_', ''),
      leaderView: leaderViewOf(entry),
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


/**
 * Differential test of issue 13: the failover scenario run both ways — the full path (3 agents, the k3s stand-in as
 * child processes on real etcd, the embedded controller) and the in-process cluster mode (the same reconcilers on
 * the stand-in's machinery in memory) — at the same time scale, comparing what is reported and when:
 * - ZInfoClusterNode per node role (designated node, new host, other survivor): the sequence of statuses from the
 *   node's first READY on. Before it, a joiner may say NOTREADY once: k3s writes its kubeconfig before its kubelet
 *   registers the Node, and whether the agent's first read falls in between depends on the machine's speed;
 * - ZInfoKubeCluster: the last one before the kill (both runs first wait for one listing 3 Ready nodes);
 * - ZInfoApp: which roles reported the app running with `cluster_app_running`, in order;
 * - the failover timeline: complete both ways, the Ready message, and each step within the window EVE's timing
 *   allows; in real time (INPROC_DIFF_SCALE=1, ~3 min) also the steps after NotReady (evicted, scheduled, running)
 *   within ±10 % of each other. At the default scale 10 that comparison is only printed (INPROC_DEBUG=1): ~0.2 s
 *   of real HTTP+etcd latency becomes 2 s of spec time there, and the full path's steps came 2–30 % later. NotReady
 *   itself is never compared: it varies by the node monitor's 10 s period between any two runs of either path.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createClock, silentLogger } from '../../src/common/index.js';
import { recordFailoverTimeline, type FailoverTimeline } from '../../src/demo/index.js';
import { info } from '../../src/eve/index.js';
import { toK8sNodeName } from '../../src/k3s/index.js';
import { InprocSegment } from '../../src/inproc/segment.js';
import { appReports, failoverScenario, waitClusterReady } from '../helpers/apps.js';
import { applyCluster, startNodes } from '../helpers/cluster.js';
import { configureCluster, startInprocCluster, type InprocDevice } from '../helpers/inproc.js';
import { waitFor } from '../helpers/wait.js';

// INPROC_DIFF_SCALE=1 runs it in real time (~3 min) and then asserts the ±10 % comparison.
const SCALE = Number(process.env.INPROC_DIFF_SCALE ?? 10);
const APP = '6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a01';
type Role = 'home' | 'new' | 'other';

/** What one run reported, in role terms. */
interface Trace {
  timeline: FailoverTimeline;
  /** Distinct consecutive ZInfoClusterNode statuses per role, from the node's first READY on. */
  nodeStatus: Record<Role, string[]>;
  /** Each ZInfoClusterNode status with its time relative to the kill (real ms), for the failure message. */
  nodeStatusAt: Record<Role, string[]>;
  /** Node counts (and all Ready?) of the last ZInfoKubeCluster before the kill. */
  kubeClusterBeforeKill: { nodes: number; allReady: boolean } | undefined;
  /** Roles in the order they started reporting the app RUNNING with cluster_app_running. */
  appRunning: Role[];
}

interface KubeClusterJson {
  nodes?: { conditions?: { type?: string | null; set?: boolean | null }[] | null }[] | null;
}

/** Whether a ZInfoKubeCluster lists 3 nodes, each with a condition set (Ready). */
function threeReady(c: KubeClusterJson | null | undefined): boolean {
  const nodes = c?.nodes ?? [];
  return nodes.length === 3 && nodes.every((x) => (x.conditions ?? []).some((k) => k.set));
}

const dedupe = (xs: string[]): string[] => xs.filter((x, i) => i === 0 || xs[i - 1] !== x);
/** The statuses from the first READY on (all of them when there is none): what formation left is not compared. */
const fromFirstReady = (xs: string[]): string[] => xs.slice(Math.max(0, xs.indexOf('READY')));
const short = (s: string): string => s.replace('Z_INFO_CLUSTER_NODE_STATUS_', '');

function roleOf(name: string, home: string, newHost: string | undefined): Role {
  return name === home ? 'home' : name === newHost ? 'new' : 'other';
}

/** Running transitions (false → true) of each node's app reports, in order, as roles. */
function runningOrder(reports: { node: string; running: boolean }[], home: string, newHost: string | undefined): Role[] {
  const last = new Map<string, boolean>();
  const out: Role[] = [];
  for (const r of reports) {
    if (r.running && !last.get(r.node)) out.push(roleOf(r.node, home, newHost));
    last.set(r.node, r.running);
  }
  return out;
}

async function fullPath(): Promise<Trace> {
  const t = await startNodes(3, { timeScale: SCALE });
  try {
    await applyCluster(t);
    await waitClusterReady(t);
    await waitFor('a ZInfoKubeCluster with 3 Ready nodes', async () => {
      for (const n of t.nodes) {
        for (const i of await t.ctl.admin.info(n.uuid, { types: ['ZiKubeCluster'] })) {
          if (threeReady((i.info as { cluster_info?: KubeClusterJson }).cluster_info)) return true;
        }
      }
      return false;
    }, 240_000, 250);
    const killAt = { ms: 0 };
    const clock = createClock(SCALE);
    const { timeline } = await failoverScenario(t, { clock });
    killAt.ms = timeline.killedAtMs;
    const k8s = (n: { name: string }): string => toK8sNodeName(`edge-${n.name}`);
    const home = k8s(t.nodes[0]);
    const nodeStatus: Record<Role, string[]> = { home: [], new: [], other: [] };
    const nodeStatusAt: Record<Role, string[]> = { home: [], new: [], other: [] };
    let kubeClusterBeforeKill: Trace['kubeClusterBeforeKill'];
    let latest = 0;
    for (const n of t.nodes) {
      const items = await t.ctl.admin.info(n.uuid);
      const statuses = items.flatMap((i) => {
        const s = (i.info as { cluster_node?: { node_status?: string } }).cluster_node?.node_status;
        return s ? [{ status: short(s), atMs: i.receivedAt - killAt.ms }] : [];
      });
      const role = roleOf(k8s(n), home, timeline.newNode);
      nodeStatus[role] = dedupe(fromFirstReady(statuses.map((s) => s.status)));
      nodeStatusAt[role] = statuses.map((s) => `${s.status}@${s.atMs}`);
      for (const i of items) {
        const c = (i.info as { cluster_info?: { nodes?: { conditions?: { type?: string; set?: boolean }[] }[] } }).cluster_info;
        if (!c || i.receivedAt > killAt.ms || i.receivedAt < latest) continue;
        latest = i.receivedAt;
        const nodes = c.nodes ?? [];
        kubeClusterBeforeKill = { nodes: nodes.length, allReady: nodes.every((x) => (x.conditions ?? []).some((k) => k.set)) };
      }
    }
    const reports = (await appReports(t, APP)).map((r) => ({ node: toK8sNodeName(`edge-${r.node}`), running: r.state === 'RUNNING' && r.cluster_app_running === true }));
    return { timeline, nodeStatus, nodeStatusAt, kubeClusterBeforeKill, appRunning: runningOrder(reports, home, timeline.newNode) };
  } finally {
    await t.dispose();
  }
}

async function inProcess(): Promise<Trace> {
  const clock = createClock(SCALE);
  const spec = { clusterId: '5b2b5e1c-8a46-4c5f-9a57-7f3c1c2e0d11', net: '127.100.2.', token: 'differential-token' };
  const devices = startInprocCluster(new InprocSegment(), spec, 3, { index: 3, clock, logger: silentLogger });
  try {
    configureCluster(devices, spec, 1);
    const statusAt = (d: InprocDevice): { status: string; atMs: number }[] =>
      d.published.flatMap((p) => (p.key === 'clusternode' && p.msg.cluster_node?.node_status != null ? [{ status: short(info.ZInfoClusterNodeStatus[p.msg.cluster_node.node_status]), atMs: p.atMs }] : []));
    const status = (d: InprocDevice): string[] => statusAt(d).map((s) => s.status);
    for (const d of devices) await waitFor(`${d.name} READY`, () => Promise.resolve(status(d).at(-1) === 'READY'), 240_000, 100);
    await waitFor('a ZInfoKubeCluster with 3 Ready nodes', () =>
      Promise.resolve(devices.some((d) => d.published.some((p) => threeReady(p.msg.cluster_info as KubeClusterJson | null | undefined)))), 240_000, 100);
    const [home, ...survivors] = devices;
    configureCluster(devices, { ...spec, apps: [{ uuid: APP, name: 'failover-app', designated: home.uuid }] }, 2);
    const running = (d: InprocDevice): boolean => {
      const a = d.published.filter((p) => p.key === APP && p.msg.ainfo).at(-1)?.msg.ainfo;
      return !!a?.cluster_app_running && a.state === info.ZSwState.RUNNING;
    };
    await waitFor('home reports the app RUNNING', () => Promise.resolve(running(home)), 120_000, 100);
    const timeline = await recordFailoverTimeline({
      kube: survivors[0].seams.k3s.kube()!,
      appUuid: APP,
      lostNode: toK8sNodeName(home.name),
      kill: () => home.kill(),
      reporter: () => Promise.resolve(survivors.find(running) ? toK8sNodeName(survivors.find(running)!.name) : undefined),
      lostReporter: toK8sNodeName(home.name),
      clock,
      timeoutMs: 600_000,
    });
    const homeName = toK8sNodeName(home.name);
    const nodeStatus: Record<Role, string[]> = { home: [], new: [], other: [] };
    const nodeStatusAt: Record<Role, string[]> = { home: [], new: [], other: [] };
    let kubeClusterBeforeKill: Trace['kubeClusterBeforeKill'];
    let latest = 0;
    const reports: { node: string; running: boolean; atMs: number }[] = [];
    for (const d of devices) {
      const role = roleOf(toK8sNodeName(d.name), homeName, timeline.newNode);
      nodeStatus[role] = dedupe(fromFirstReady(status(d)));
      nodeStatusAt[role] = statusAt(d).map((s) => `${s.status}@${s.atMs - timeline.killedAtMs}`);
      for (const p of d.published) {
        const c = p.msg.cluster_info;
        if (c && p.atMs <= timeline.killedAtMs && p.atMs >= latest) {
          latest = p.atMs;
          const nodes = c.nodes ?? [];
          kubeClusterBeforeKill = { nodes: nodes.length, allReady: nodes.every((x) => (x.conditions ?? []).some((k) => k.set)) };
        }
        const a = p.key === APP ? p.msg.ainfo : undefined;
        if (a) reports.push({ node: toK8sNodeName(d.name), running: !!a.cluster_app_running && a.state === info.ZSwState.RUNNING, atMs: p.atMs });
      }
    }
    reports.sort((x, y) => x.atMs - y.atMs);
    return { timeline, nodeStatus, nodeStatusAt, kubeClusterBeforeKill, appRunning: runningOrder(reports, homeName, timeline.newNode) };
  } finally {
    await Promise.all(devices.map((d) => d.stop().catch(() => undefined)));
  }
}

test('failover: the full path and the in-process mode report the same states, each within EVE\'s timeline', { timeout: 900_000 }, async () => {
  const keepAlive = setInterval(() => undefined, 1_000);
  try {
    const full = await fullPath();
    const inproc = await inProcess();
    const show = JSON.stringify({ full, inproc });
    if (process.env.INPROC_DEBUG) console.log(JSON.stringify({ full: [full.timeline.spec, full.nodeStatusAt], inproc: [inproc.timeline.spec, inproc.nodeStatusAt] }));
    for (const tr of [full, inproc]) {
      const tl = tr.timeline;
      assert.equal(tl.complete, true, `complete timeline: ${show}`);
      assert.equal(tl.notReadyMessage, 'Kubelet stopped posting node status.');
      // NotReady once the 40 s grace ran out since the last heartbeat (the node Lease, renewed every 10 s), at
      // the next node-monitor pass (every 10 s): 30–50 s after the kill, with slack for a loaded machine.
      const nr = tl.spec.notReadySeenMs!;
      assert.ok(nr >= 28_000 && nr <= 55_000, `NotReady in EVE's window: ${nr} ms; ${show}`);
      // Then the 15 s NoExecute toleration of the app pod (NotReady is seen up to a poll or two late: 13 s), the
      // controllers' pass, the pod start delay.
      const after = (k: 'podEvictedMs' | 'newPodScheduledMs' | 'newPodRunningMs' | 'newHostReportingMs'): number => tl.spec[k]! - nr;
      assert.ok(after('podEvictedMs') >= 13_000 && after('podEvictedMs') <= 30_000, `evicted 15 s after NotReady (+ passes, a loaded machine): ${show}`);
      assert.ok(after('podEvictedMs') <= after('newPodScheduledMs') && after('newPodScheduledMs') <= after('newPodRunningMs'), `ordered: ${show}`);
      assert.ok(after('newHostReportingMs') <= 40_000, `the new host reports within 40 s of NotReady: ${show}`);
    }
    assert.deepEqual(inproc.nodeStatus, full.nodeStatus, `ZInfoClusterNode sequences per role: ${show}`);
    assert.deepEqual(full.nodeStatus.new, ['READY'], 'survivors stay READY');
    assert.deepEqual(inproc.kubeClusterBeforeKill, full.kubeClusterBeforeKill, `ZInfoKubeCluster before the kill: ${show}`);
    assert.deepEqual(inproc.appRunning, full.appRunning, `ZInfoApp running reporters in order: ${show}`);
    assert.deepEqual(full.appRunning, ['home', 'new'], 'the designated node, then the new host');
    // Issue 13's ±10 %, on the steps after NotReady: asserted in real time only (see the header). The reporting
    // step also waits for an app pass (2 s while settling), so it is printed, not asserted.
    const steps = ['podEvictedMs', 'newPodScheduledMs', 'newPodRunningMs', 'newHostReportingMs'] as const;
    const diffs = steps.map((k) => {
      const a = full.timeline.spec[k]! - full.timeline.spec.notReadySeenMs!;
      const b = inproc.timeline.spec[k]! - inproc.timeline.spec.notReadySeenMs!;
      if (SCALE === 1 && k !== 'newHostReportingMs') assert.ok(Math.abs(a - b) <= 0.1 * Math.max(a, b), `${k} after NotReady: full ${a} ms, in-process ${b} ms (±10 %); ${show}`);
      return `${k} after NotReady: full ${a} ms, in-process ${b} ms (${(((b - a) / a) * 100).toFixed(0)} %)`;
    });
    if (process.env.INPROC_DEBUG) console.log(diffs.join('\n'));
  } finally {
    clearInterval(keepAlive);
  }
});

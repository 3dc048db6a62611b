/**
 * App workloads on a test cluster (test/helpers/cluster.ts): put apps, volumes and content trees into every
 * member's config (merged into what the cluster apply left there), read what the controller received, and run
 * the failover timeline of one app (deploy on node 1, kill node 1) for the e2e test and bench/failover.ts.
 */
import { recordFailoverTimeline, type FailoverTimeline } from '../../src/demo/index.js';
import { toK8sNodeName, type KubeClient } from '../../src/k3s/index.js';
import type { Clock } from '../../src/common/index.js';
import type { TestCluster, TestNode } from './cluster.js';
import { waitFor } from './wait.js';

/** An app in test terms. */
export interface TestApp {
  uuid: string;
  name: string;
  /** Device UUID of the designated node. */
  designated: string;
  affinity?: 'preferred' | 'required';
  activate?: boolean;
  purge?: number;
  restart?: number;
  volumes?: string[];
}

/** A volume (optionally from a content tree) and a content tree, in test terms. */
export interface TestVolume {
  uuid: string;
  name: string;
  designated: string;
  contentTree?: string;
}
export interface TestContentTree {
  uuid: string;
  name: string;
  designated: string;
  /** CONTAINER format (local on every node) instead of a disk image. */
  container?: boolean;
}

/** The AppInstanceConfig in proto field names. */
export function appJson(a: TestApp): Record<string, unknown> {
  return {
    uuidandversion: { uuid: a.uuid, version: '1' },
    displayname: a.name,
    activate: a.activate ?? true,
    designated_node_id: a.designated,
    affinity: a.affinity === 'required' ? 'AFFINITY_TYPE_REQUIRED' : 'AFFINITY_TYPE_PREFERRED',
    fixedresources: { vcpus: 1, memory: 262144, maxmem: 262144 },
    ...(a.purge ? { purge: { counter: a.purge } } : {}),
    ...(a.restart ? { restart: { counter: a.restart } } : {}),
    volumeRefList: (a.volumes ?? []).map((uuid) => ({ uuid, generationCount: '0', mount_dir: '/data' })),
  };
}

/** Replaces the apps, volumes and content trees of each node's config (`nodes` default: all), keeping the rest. */
export async function setWorkloads(
  t: TestCluster,
  w: { apps: TestApp[]; volumes?: TestVolume[]; contentTrees?: TestContentTree[] },
  nodes: TestNode[] = t.nodes,
): Promise<void> {
  for (const n of nodes) {
    const cur = (await t.ctl.admin.getConfig(n.uuid)).config;
    await t.ctl.admin.setConfig(n.uuid, {
      ...cur,
      apps: w.apps.map(appJson),
      volumes: (w.volumes ?? []).map((v) => ({
        uuid: v.uuid,
        displayName: v.name,
        designated_node_id: v.designated,
        generationCount: '0',
        maxsizebytes: '1073741824',
        target: 'Disk',
        origin: v.contentTree ? { type: 'VCOT_DOWNLOAD', downloadContentTreeID: v.contentTree } : { type: 'VCOT_BLANK' },
      })),
      contentInfo: (w.contentTrees ?? []).map((c) => ({
        uuid: c.uuid,
        displayName: c.name,
        designated_node_id: c.designated,
        iformat: c.container ? 'CONTAINER' : 'QCOW2',
        URL: c.container ? 'library/alpine:3.20' : 'images/disk.qcow2',
        maxSizeBytes: '52428800',
      })),
    });
  }
}

/** One ZInfoApp as the controller stores it (protojson names). */
export interface AppReport {
  seq: number;
  node: string;
  AppID: string;
  state?: string;
  cluster_app_running?: boolean;
  AppName?: string;
  appErr?: unknown[];
}

/** Every ZInfoApp the controller received for `appUuid` from `nodes` (default all), oldest first. */
export async function appReports(t: TestCluster, appUuid: string, nodes: TestNode[] = t.nodes): Promise<AppReport[]> {
  const out: AppReport[] = [];
  for (const n of nodes) {
    for (const item of await t.ctl.admin.info(n.uuid, { types: ['ZiApp'] })) {
      const a = (item.info as { ainfo?: Omit<AppReport, 'seq' | 'node'> }).ainfo;
      if (a?.AppID === appUuid) out.push({ ...a, seq: item.seq, node: n.name });
    }
  }
  return out.sort((x, y) => x.seq - y.seq);
}

/** Name of the node whose most recent ZInfoApp for the app says it runs it (the controller's view), if any. */
export async function runningReporter(t: TestCluster, appUuid: string): Promise<string | undefined> {
  const last = (await appReports(t, appUuid)).at(-1);
  return last?.cluster_app_running && last.state === 'RUNNING' ? last.node : undefined;
}

/** Waits until `node`'s latest report of the app is RUNNING with `cluster_app_running`. */
export async function waitRunningOn(t: TestCluster, appUuid: string, node: TestNode, timeoutMs = 120_000): Promise<AppReport> {
  return waitFor(
    `${node.name} reporting ${appUuid} RUNNING with cluster_app_running`,
    async () => {
      const last = (await appReports(t, appUuid, [node])).at(-1);
      return last?.state === 'RUNNING' && last.cluster_app_running === true ? last : undefined;
    },
    timeoutMs,
    250,
  );
}

/** A node's kube client (its k3s stand-in). */
export function kubeOf(node: TestNode): KubeClient {
  const k = node.agent.clusterReconciler?.runtime.kube();
  if (!k) throw new Error(`${node.name} has no kube client yet`);
  return k;
}

/** Waits until every node reports its own cluster node READY. */
export async function waitClusterReady(t: TestCluster, timeoutMs = 240_000): Promise<void> {
  for (const n of t.nodes) {
    await waitFor(`${n.name} READY`, () => n.agent.status().cluster?.nodeStatus === 'READY', timeoutMs, 250);
  }
}

/**
 * The failover scenario on a formed cluster: an app designated to node 1 (PREFERRED) runs there; node 1 (agent
 * and k3s) is killed; the timeline is recorded through node 2's kube API and the controller's reports.
 */
export async function failoverScenario(
  t: TestCluster,
  o: { clock: Clock; appUuid?: string; timeoutMs?: number },
): Promise<{ timeline: FailoverTimeline; app: TestApp }> {
  const [home, survivor] = t.nodes;
  if (!home || !survivor) throw new Error('the failover scenario needs at least 2 nodes');
  const app: TestApp = { uuid: o.appUuid ?? '6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a01', name: 'failover-app', designated: home.uuid };
  await setWorkloads(t, { apps: [app] });
  await waitRunningOn(t, app.uuid, home);
  const timeline = await recordFailoverTimeline({
    kube: kubeOf(survivor),
    appUuid: app.uuid,
    lostNode: toK8sNodeName(`edge-${home.name}`),
    kill: () => home.stop(),
    reporter: () => runningReporter(t, app.uuid),
    lostReporter: home.name,
    clock: o.clock,
    ...(o.timeoutMs !== undefined ? { timeoutMs: o.timeoutMs } : {}),
  });
  return { timeline, app };
}

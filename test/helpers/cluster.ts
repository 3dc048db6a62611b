/**
 * A whole simulated cluster for e2e tests: the embedded controller and N in-process agents, each running the k3s
 * stand-in (a real child process with a real etcd) on its own loopback address. The cluster interface label
 * `ethernet1` maps to `lo`; cluster IPs are 127.N.100.2… (loopback, per the network rule).
 */
import path from 'node:path';
import { Agent, resolveK3sLaunch } from '../../src/agent/index.js';
import { createClock, silentLogger, type Logger } from '../../src/common/index.js';
import { startTestController, type TestController } from './controller.js';
import { cliCommand } from './cli.js';
import { waitFor } from './wait.js';

export interface TestNode {
  name: string;
  agent: Agent;
  uuid: string;
  /** Stops the agent, leaving its state for a restart. */
  stop(): Promise<void>;
}

export interface TestCluster {
  ctl: TestController;
  nodes: TestNode[];
  clusterId?: string;
  dispose(): Promise<void>;
}

// A random second octet per test process, so concurrent runs on one machine never share addresses or ports.
const NET = 1 + Math.floor(Math.random() * 250);
export const CLUSTER_PREFIX = `127.${NET}.100.0/24`;
export const clusterIp = (i: number): string => `127.${NET}.100.${i + 2}`;

/** Starts the controller and `n` onboarded, attested agents (no cluster applied yet). */
export async function startNodes(n: number, opts: { timeScale?: number; logger?: Logger } = {}): Promise<TestCluster> {
  const ctl = await startTestController();
  const [exe, args] = cliCommand();
  const launch = await resolveK3sLaunch({ bin: 'standin', selfCommand: [exe, ...args], pathEnv: '' });
  const clock = createClock(opts.timeScale ?? 10);
  const nodes: TestNode[] = [];
  const t: TestCluster = {
    ctl,
    nodes,
    async dispose() {
      await Promise.all(nodes.map((x) => x.stop().catch(() => undefined)));
      await ctl.dispose();
    },
  };
  try {
    for (let i = 0; i < n; i++) {
      const name = `dev${i + 1}`;
      const configDir = await ctl.deviceFolder(name);
      const agent = await Agent.create({
        configDir,
        stateDir: path.join(ctl.dir, name, 'state'),
        configIntervalMs: 3_000,
        clock,
        logger: (opts.logger ?? silentLogger).child({ node: name }),
        cluster: { launch, ifaceMap: { ethernet1: 'lo' }, singleNodeIp: `127.${NET}.101.${i + 2}` },
      });
      void agent.run();
      nodes.push({ name, agent, uuid: '', stop: () => agent.stop() });
    }
    for (const node of nodes) {
      node.uuid = await waitFor(`${node.name} onboarded`, () => node.agent.status().deviceUuid, 30_000);
      await ctl.admin.setConfig(node.uuid, { device_name: `edge-${node.name}` });
    }
    for (const node of nodes) await waitFor(`${node.name} attested`, () => node.agent.status().attested, 30_000);
  } catch (e) {
    await t.dispose();
    throw e;
  }
  return t;
}

/** Applies one cluster over all nodes (node 0 bootstraps). */
export async function applyCluster(t: TestCluster, overrides: Record<string, unknown> = {}): Promise<string> {
  const res = await t.ctl.admin.applyCluster({
    name: 'test-cluster',
    interface: 'ethernet1',
    prefix: CLUSTER_PREFIX,
    members: t.nodes.map((n, i) => ({ device: n.uuid, ip: clusterIp(i), name: `edge-${n.name}` })),
    ...overrides,
  });
  t.clusterId = res.id;
  return res.id;
}

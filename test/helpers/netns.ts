/**
 * A simulated cluster with every node in its own network namespace (src/demo/netns.ts), for partition tests:
 * the embedded controller in-process on the root end of the management veth, and per node an `edgesim agent`
 * child process started through `ip netns exec` (soft TPM, k3s stand-in, `ethernet1` → `eth1`). Needs root.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { createClock, silentLogger, type Logger } from '../../src/common/index.js';
import { ControllerAdminClient, ControllerServer, type InfoItem } from '../../src/controller/index.js';
import { NETNS_CLUSTER_IFNAME, NETNS_CLUSTER_PREFIX, NetnsTopology, netnsClusterIp } from '../../src/demo/index.js';
import { cliCommand } from './cli.js';
import { waitFor } from './wait.js';

const run = promisify(execFile);

export interface NetnsTestNode {
  name: string;
  uuid: string;
  stateDir: string;
  logFile: string;
  agent: ChildProcess;
}

export interface NetnsCluster {
  topology: NetnsTopology;
  server: ControllerServer;
  admin: ControllerAdminClient;
  dir: string;
  nodes: NetnsTestNode[];
  clusterId?: string;
  /** Stops the agents (SIGTERM, SIGKILL after 20 s), the controller, removes the namespaces and the temp dir. */
  dispose(): Promise<void>;
}

async function stopChild(c: ChildProcess): Promise<void> {
  if (c.exitCode !== null || c.signalCode !== null) return;
  const exited = new Promise<void>((r) => c.once('exit', () => r()));
  c.kill('SIGTERM');
  const t = setTimeout(() => c.kill('SIGKILL'), 20_000);
  await exited;
  clearTimeout(t);
}

/**
 * Builds the namespaces, starts the controller and `n` agents (time scale `timeScale`, config poll 2 s real) and
 * waits until each onboarded and attested. Cleans up everything when a step fails.
 */
export async function startNetnsNodes(n: number, opts: { timeScale?: number; logger?: Logger } = {}): Promise<NetnsCluster> {
  const logger = opts.logger ?? silentLogger;
  const timeScale = opts.timeScale ?? 10;
  const dir = await mkdtemp(path.join(os.tmpdir(), 'edgesim-netns-'));
  const nodes: NetnsTestNode[] = [];
  let topology: NetnsTopology | undefined;
  let server: ControllerServer | undefined;
  const dispose = async (): Promise<void> => {
    await Promise.all(nodes.map((x) => stopChild(x.agent)));
    await server?.stop().catch(() => undefined);
    await topology?.destroy();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    topology = await NetnsTopology.create({ nodes: n, logger });
    server = await ControllerServer.create({
      dataDir: path.join(dir, 'controller'),
      listen: `${topology.controllerIp}:0`,
      adminListen: '127.0.0.1:0',
      logger,
      clock: createClock(1),
    });
    void server.run();
    const admin = new ControllerAdminClient(server.endpoints().adminUrl);
    const [exe, pre] = cliCommand();
    for (let i = 0; i < n; i++) {
      const name = `dev${i + 1}`;
      const configDir = path.join(dir, name, 'config');
      await admin.exportDeviceConfig({ outDir: configDir, serial: `sim-${name}` });
      const stateDir = path.join(dir, name, 'state');
      const logFile = path.join(dir, name, 'agent.log');
      const argv = topology.exec(i, [
        exe,
        ...pre,
        'agent',
        '--config-dir', configDir,
        '--state-dir', stateDir,
        '--tpm', 'soft',
        '--time-scale', String(timeScale),
        '--config-interval', String(2 * timeScale), // spec seconds: 2 s real
        '--k3s-bin', 'standin',
        '--iface-map', `ethernet1=${NETNS_CLUSTER_IFNAME}`,
        '--single-node-ip', topology.nodes[i].mgmtIp,
        '--log-format', 'json',
      ]);
      const agent = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
      const out = createWriteStream(logFile);
      agent.stdout.pipe(out);
      agent.stderr.pipe(out);
      nodes.push({ name, uuid: '', stateDir, logFile, agent });
    }
    await waitFor(
      'every agent onboarded and attested',
      async () => {
        const bySerial = new Map((await admin.devices()).map((d) => [d.serial, d]));
        for (const x of nodes) {
          const d = bySerial.get(`sim-${x.name}`);
          if (!d?.attested || d.attestCerts.length === 0) return false;
          x.uuid = d.uuid;
        }
        return true;
      },
      90_000,
      250,
    );
    for (const x of nodes) await admin.setConfig(x.uuid, { device_name: `edge-${x.name}` });
    return { topology, server, admin, dir, nodes, dispose };
  } catch (e) {
    await dispose();
    throw e;
  }
}

/** Applies one cluster over all nodes on 10.244.244.0/24 (node 0 bootstraps). */
export async function applyNetnsCluster(c: NetnsCluster): Promise<string> {
  const res = await c.admin.applyCluster({
    name: 'netns-cluster',
    interface: 'ethernet1',
    prefix: NETNS_CLUSTER_PREFIX,
    members: c.nodes.map((x, i) => ({ device: x.uuid, ip: netnsClusterIp(i), name: `edge-${x.name}` })),
  });
  c.clusterId = res.id;
  return res.id;
}

/**
 * Runs `edgesim ctl --state-dir <stateDir> <args…>` (the admin socket is a file, so no namespace is needed).
 * The timeout is generous: starting the CLI alone takes seconds on a loaded 2-core machine.
 */
export async function ctl(stateDir: string, args: string[]): Promise<string> {
  const [exe, pre] = cliCommand();
  try {
    return (await run(exe, [...pre, 'ctl', '--state-dir', stateDir, ...args], { timeout: 120_000 })).stdout;
  } catch (e) {
    const { stderr, killed } = e as { stderr?: unknown; killed?: boolean };
    throw new Error(`edgesim ctl ${args.join(' ')} failed${killed ? ' (timed out)' : ''}: ${typeof stderr === 'string' ? stderr.trim() : ''}`);
  }
}

/** The last `lines` non-debug log lines of every agent (for a failing test's diagnostics). */
export async function agentLogTails(c: NetnsCluster, lines = 12): Promise<string[]> {
  return Promise.all(
    c.nodes.map(async (x) => {
      const text = await readFile(x.logFile, 'utf8').catch(() => '');
      const tail = text.split('\n').filter((l) => l && !l.includes('"level":"debug"')).slice(-lines);
      return `${x.name}:\n${tail.join('\n')}`;
    }),
  );
}

/** The info messages of `node` with sequence number above `after`, as the controller received them. */
export function infoAfter(c: NetnsCluster, node: NetnsTestNode, after = 0): Promise<InfoItem[]> {
  return c.admin.info(node.uuid, { after });
}

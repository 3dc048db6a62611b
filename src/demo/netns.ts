/**
 * Network-namespace topology for the demo's root mode and the partition e2e test (design.md "Processes in the
 * demo"): each node in its own namespace with `eth1` on a shared cluster bridge, as EVE nodes on one L2 segment.
 *
 * Layout (every name carries the run id `<pid base36>-<4 hex>`, so parallel runs never clash and leftovers of a
 * killed run are recognised by their dead owner pid and removed at the next start):
 *
 * ```
 *   root ns:  es-<run>  10.244.M.1/24  ◄── the embedded controller listens here (device API only)
 *                │ veth
 *   edgesim-<run>-hub:  brm (management bridge) ── m1 … mN        brc (cluster bridge, no IP) ── c1 … cN
 *                                                   │ veth                                        │ veth
 *   edgesim-<run>-n<i>: eth0 10.244.M.(10+i)/24, lo up             eth1 up, NO address (the agent adds its cluster
 *                                                                  IP, cluster.md §3, as EVE's dpcreconciler does)
 * ```
 *
 * Why the controller stays in the root namespace: the demo process talks to its admin API on 127.0.0.1 and the
 * agents reach its device API over the management bridge; both ends of that veth are created here, so all traffic
 * stays on links this run made (network rule). M is the first of 100…199 whose 10.244.M.0/24 the root namespace
 * does not route yet. The cluster network (10.244.244.0/24) exists only inside the run's namespaces.
 * Everything uses iproute2 through execFile or `ip -batch` on stdin (no shell); it needs CAP_NET_ADMIN and
 * CAP_SYS_ADMIN (root).
 */
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import type { Logger } from '../common/index.js';
import { errorMessage } from '../common/index.js';

const run = promisify(execFile);

/** Cluster network inside the namespaces (brief: 10.244.244.0/24, nodes .2 …). */
export const NETNS_CLUSTER_PREFIX = '10.244.244.0/24';
/** The cluster IP of node `i` (0-based) in netns mode: 10.244.244.(i+2). */
export const netnsClusterIp = (i: number): string => `10.244.244.${i + 2}`;
/** The interface the agent maps `ethernet1` to inside a node namespace. */
export const NETNS_CLUSTER_IFNAME = 'eth1';

const NS_PREFIX = 'edgesim-';
const ROOT_LINK_PREFIX = 'es-';
const NS_RE = /^edgesim-([0-9a-z]+)-([0-9a-f]{4})-(hub|n\d+)$/;
const ROOT_LINK_RE = /^es-([0-9a-z]+)-([0-9a-f]{4})$/;
const IP_TIMEOUT_MS = 15_000;

/** What went wrong: no permission / no `ip netns`, an `ip` command failed, or no free management subnet. */
export type NetnsErrorKind = 'UNSUPPORTED' | 'COMMAND_FAILED' | 'NO_FREE_SUBNET' | 'INVALID_INPUT';

/** A topology step failed; `command` is the argv run, `stderr` what iproute2 said. */
export class NetnsError extends Error {
  override readonly name = 'NetnsError';
  constructor(
    readonly kind: NetnsErrorKind,
    message: string,
    readonly command: string[] = [],
    readonly stderr = '',
  ) {
    super(message);
  }
}

async function ip(args: string[]): Promise<string> {
  try {
    return (await run('ip', args, { timeout: IP_TIMEOUT_MS })).stdout;
  } catch (e) {
    const raw = (e as { stderr?: unknown }).stderr;
    const stderr = typeof raw === 'string' ? raw.trim() : '';
    throw new NetnsError('COMMAND_FAILED', `ip ${args.join(' ')}: ${stderr || errorMessage(e)}`, ['ip', ...args], stderr);
  }
}

/** Runs `commands` (one `ip` command each, without the `ip`) through one `ip [-n netns] -batch -`; stops at the first failure. */
async function ipBatch(netns: string | undefined, commands: string[]): Promise<void> {
  const args = [...(netns ? ['-n', netns] : []), '-batch', '-'];
  const failed = (why: string, stderr = ''): NetnsError =>
    new NetnsError('COMMAND_FAILED', `ip ${args.join(' ')}: ${why} (commands: ${commands.join('; ')})`, ['ip', ...args], stderr);
  const child = spawn('ip', args, { stdio: ['pipe', 'ignore', 'pipe'], timeout: IP_TIMEOUT_MS });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
  child.stdin.on('error', () => undefined); // ip exited early: its exit status says why
  child.stdin.end(commands.join('\n') + '\n');
  const { code, signal } = await done.catch((e: unknown) => {
    throw failed(errorMessage(e));
  });
  if (signal) throw failed(`killed by ${signal}${signal === 'SIGTERM' ? ` (timed out after ${IP_TIMEOUT_MS / 1000} s)` : ''}`);
  // iproute2 names the failing line ("Command failed -:3"); the commands follow so the reader can find it.
  if (code !== 0) throw failed(stderr.trim() || `exit code ${String(code)}`, stderr.trim());
}

/** Runs `ip` and ignores "does not exist" answers (cleanup of half-built or already removed parts). */
async function ipQuiet(args: string[]): Promise<void> {
  await ip(args).catch(() => undefined);
}

/**
 * Whether this process can build namespaces: root, and `ip netns add` + `ip netns exec` work (a throw-away probe
 * namespace). Resolves to undefined when usable, else the reason.
 */
export function netnsUnavailableReason(): Promise<string | undefined> {
  // The answer does not change while this process runs (the demo asks, then the topology asks again).
  netnsProbe ??= probeNetns();
  return netnsProbe;
}
let netnsProbe: Promise<string | undefined> | undefined;

async function probeNetns(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'not running as root';
  const probe = `${NS_PREFIX}probe-${process.pid.toString(36)}-${randomBytes(2).toString('hex')}`;
  try {
    await ip(['netns', 'add', probe]);
    await run('ip', ['netns', 'exec', probe, 'ip', 'link', 'set', 'lo', 'up'], { timeout: IP_TIMEOUT_MS });
    return undefined;
  } catch (e) {
    return `ip netns does not work here: ${errorMessage(e)}`;
  } finally {
    await ipQuiet(['netns', 'del', probe]);
  }
}

function ownerAlive(pid36: string): boolean {
  const pid = Number.parseInt(pid36, 36);
  if (!Number.isInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as { code?: string }).code === 'EPERM';
  }
}

async function listNamespaces(): Promise<string[]> {
  const out = await ip(['-j', 'netns', 'list']).catch(() => '');
  if (!out.trim()) return [];
  return (JSON.parse(out) as Array<{ name: string }>).map((n) => n.name);
}

/** Kills every process still inside namespace `ns` (SIGKILL, by pid from `ip netns pids`). */
async function killInside(ns: string): Promise<number> {
  const out = await ip(['netns', 'pids', ns]).catch(() => '');
  const pids = out.split(/\s+/).filter(Boolean).map(Number).filter((p) => Number.isInteger(p) && p > 0);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  return pids.length;
}

/**
 * Removes namespaces and root links of earlier runs whose owner process is gone (a killed demo or test):
 * processes left inside are killed first. Returns the names removed.
 */
export async function removeStaleTopologies(logger: Logger): Promise<string[]> {
  const removed: string[] = [];
  for (const ns of await listNamespaces()) {
    const m = NS_RE.exec(ns) ?? /^edgesim-probe-([0-9a-z]+)-([0-9a-f]{4})$/.exec(ns);
    if (!m || ownerAlive(m[1])) continue;
    const killed = await killInside(ns);
    await ipQuiet(['netns', 'del', ns]);
    logger.info('removed stale namespace', { netns: ns, killed });
    removed.push(ns);
  }
  const links = JSON.parse((await ip(['-j', 'link', 'show']).catch(() => '')) || '[]') as Array<{ ifname: string }>;
  for (const { ifname } of links) {
    const m = ROOT_LINK_RE.exec(ifname);
    if (!m || ownerAlive(m[1])) continue;
    await ipQuiet(['link', 'del', ifname]);
    logger.info('removed stale link', { ifname });
    removed.push(ifname);
  }
  return removed;
}

/** Finds a 10.244.M.0/24 (M in 100…199) that nothing in the root namespace routes or uses yet. */
async function freeManagementSubnet(): Promise<number> {
  const routes = JSON.parse((await ip(['-j', '-4', 'route', 'show', 'table', 'all'])) || '[]') as Array<{ dst?: string }>;
  const taken = (m: number): boolean =>
    routes.some((r) => {
      if (!r.dst || r.dst === 'default') return false;
      const [net, len = '32'] = r.dst.split('/');
      return overlaps(net, Number(len), `10.244.${m}.0`, 24);
    });
  for (let m = 100; m < 200; m++) if (!taken(m)) return m;
  throw new NetnsError('NO_FREE_SUBNET', 'no free 10.244.M.0/24 (M in 100-199) in the root namespace for the management network');
}

function toInt(a: string): number {
  return a.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
}

function overlaps(a: string, alen: number, b: string, blen: number): boolean {
  const len = Math.min(alen, blen);
  if (len === 0) return true;
  const mask = len === 32 ? 0xffffffff : (0xffffffff << (32 - len)) >>> 0;
  return ((toInt(a) & mask) >>> 0) === ((toInt(b) & mask) >>> 0);
}

/** One node's namespace. */
export interface NetnsNode {
  /** 0-based index. */
  index: number;
  /** Namespace name (`ip netns exec <netns> …`). */
  netns: string;
  /** Management address on `eth0` (reaches the controller). */
  mgmtIp: string;
  /** Cluster interface (no address until the agent adds its cluster IP). */
  clusterIfname: string;
}

/** Options of NetnsTopology.create. */
export interface NetnsTopologyOptions {
  /** Number of node namespaces, 1…50. */
  nodes: number;
  logger: Logger;
}

/** Lifecycle states, logged on each transition. */
export type NetnsTopologyState = 'building' | 'ready' | 'destroying' | 'destroyed';

/** A built topology; `destroy()` removes every namespace and link it made. */
export class NetnsTopology {
  private stateValue: NetnsTopologyState = 'building';
  private destroying: Promise<void> | undefined;

  private constructor(
    /** `<pid base36>-<4 hex>`, part of every name. */
    readonly runId: string,
    /** The hub namespace (both bridges). */
    readonly hub: string,
    /** Root-namespace end of the management veth. */
    readonly rootLink: string,
    /** Address of the root end: the controller's device API binds here. */
    readonly controllerIp: string,
    readonly nodes: NetnsNode[],
    private readonly log: Logger,
  ) {}

  /** The current lifecycle state. */
  get state(): NetnsTopologyState {
    return this.stateValue;
  }

  private setState(to: NetnsTopologyState): void {
    this.log.info('netns topology state', { from: this.stateValue, to, runId: this.runId });
    this.stateValue = to;
  }

  /**
   * Removes stale topologies of dead runs, then builds a new one. On failure removes whatever it had made and
   * rethrows.
   */
  static async create(o: NetnsTopologyOptions): Promise<NetnsTopology> {
    if (!(Number.isInteger(o.nodes) && o.nodes >= 1 && o.nodes <= 50)) {
      throw new NetnsError('INVALID_INPUT', `nodes: must be an integer in 1-50, got ${o.nodes}`);
    }
    const log = o.logger.child({ component: 'demo.netns' });
    const why = await netnsUnavailableReason();
    if (why) throw new NetnsError('UNSUPPORTED', why);
    await removeStaleTopologies(log);
    const runId = `${process.pid.toString(36)}-${randomBytes(2).toString('hex')}`;
    const m = await freeManagementSubnet();
    const nodes = Array.from({ length: o.nodes }, (_, i): NetnsNode => ({
      index: i,
      netns: `${NS_PREFIX}${runId}-n${i + 1}`,
      mgmtIp: `10.244.${m}.${10 + i + 1}`,
      clusterIfname: NETNS_CLUSTER_IFNAME,
    }));
    const t = new NetnsTopology(runId, `${NS_PREFIX}${runId}-hub`, `${ROOT_LINK_PREFIX}${runId}`, `10.244.${m}.1`, nodes, log);
    try {
      await t.build(m);
    } catch (e) {
      await t.destroy();
      throw e;
    }
    t.setState('ready');
    return t;
  }

  /**
   * Three rounds of `ip -batch` (root, hub, then every node at once) instead of one process per step: on a small
   * machine each `ip` spawn from a large Node process costs ~10 ms of CPU, and the demo's start waits for this.
   */
  private async build(m: number): Promise<void> {
    const hub = this.hub;
    await ipBatch(undefined, [
      `netns add ${hub}`,
      ...this.nodes.map((n) => `netns add ${n.netns}`),
      `link add ${this.rootLink} type veth peer name m0 netns ${hub}`,
      `addr add ${this.controllerIp}/24 dev ${this.rootLink}`,
      `link set ${this.rootLink} up`,
    ]);
    await ipBatch(hub, [
      'link set lo up',
      // STP stays off (the default), so bridge ports forward at once.
      ...['brm', 'brc'].flatMap((br) => [`link add ${br} type bridge`, `link set ${br} up`]),
      'link set m0 master brm up',
      ...this.nodes.flatMap((n) => {
        const k = n.index + 1;
        return [
          `link add m${k} type veth peer name eth0 netns ${n.netns}`,
          `link set m${k} master brm up`,
          `link add c${k} type veth peer name ${n.clusterIfname} netns ${n.netns}`,
          `link set c${k} master brc up`,
        ];
      }),
    ]);
    await Promise.all(
      this.nodes.map((n) =>
        ipBatch(n.netns, ['link set lo up', `addr add ${n.mgmtIp}/24 dev eth0`, 'link set eth0 up', `link set ${n.clusterIfname} up`]),
      ),
    );
    this.log.info('netns topology built', { runId: this.runId, hub, controllerIp: this.controllerIp, subnet: `10.244.${m}.0/24`, nodes: this.nodes.length });
  }

  /** argv that runs `argv` inside node `i`'s namespace (`ip netns exec`, which execs, so the pid is the program's). */
  exec(i: number, argv: string[]): string[] {
    const n = this.nodes[i];
    if (!n) throw new NetnsError('INVALID_INPUT', `node index ${i} out of range 0-${this.nodes.length - 1}`);
    return ['ip', 'netns', 'exec', n.netns, ...argv];
  }

  /**
   * Kills whatever still runs inside the namespaces (stop your processes gracefully first), deletes the node and
   * hub namespaces and the root link. Idempotent; never throws.
   */
  destroy(): Promise<void> {
    this.destroying ??= (async () => {
      this.setState('destroying');
      for (const ns of [...this.nodes.map((n) => n.netns), this.hub]) {
        const killed = await killInside(ns);
        if (killed > 0) this.log.warn('killed processes left in a namespace', { netns: ns, killed });
        await ipQuiet(['netns', 'del', ns]);
      }
      // Deleting the hub usually takes the veth pair with it; this covers a hub that never got its end.
      await ipQuiet(['link', 'del', this.rootLink]);
      this.setState('destroyed');
    })();
    return this.destroying;
  }
}

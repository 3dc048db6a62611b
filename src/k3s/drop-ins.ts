/**
 * EVE's k3s configuration: the base `config.yaml` and the drop-ins in `config.yaml.d/` that kube-init renders
 * (cluster.md §4; lf-edge/eve: pkg/kube/kube-init/k3s/config.go). k3s reads `<config>.d/*.yaml` in lexical order
 * after `<config>`; a later key wins unless it ends in `+` (append).
 *
 * Rendering is pure ({@link renderDropIns}, {@link renderBaseConfig}); {@link applyK3sConfig} reconciles a config
 * directory to the rendered set atomically (files 0600, directories 0700 — the token lives only in
 * `01-clusterconfig.yaml`) and reports whether anything changed, which is when k3s must be restarted.
 */
import { chmod, mkdir, readFile, rm, stat } from 'node:fs/promises';
import { isIP } from 'node:net';
import path from 'node:path';
import { registerSecret, silentLogger, type Logger } from '../common/index.js';
import { writeFileAtomic } from '../common/atomic-file.js';
import { toK8sNodeName } from './naming.js';

/** File name of the base config inside the config dir; k3s is started with `--config <configDir>/config.yaml`. */
export const K3S_CONFIG_FILE = 'config.yaml';
/** Drop-in directory inside the config dir (k3s reads `<config file>.d/`). */
export const K3S_DROPIN_DIR = 'config.yaml.d';

/** Drop-in file names, numbered for merge order; slot 02 is reserved upstream (`k3s/config.go`). */
export const DROPIN = {
  nodeName: '00-nodename.yaml',
  clusterConfig: '01-clusterconfig.yaml',
  disableLocalPath: '03-enc-disable-local-path.yaml',
  multiNodeWatchCache: '04-multinode-watch-cache.yaml',
  userOverrides: '99-k3s-config-user-overrides.yaml',
} as const;

/** Every drop-in this module owns; other files in the directory are left alone. */
const MANAGED = new Set<string>(Object.values(DROPIN));

/** k3s API port on the join server (`joinAPIPort`). */
export const K3S_API_PORT = 6443;

/** EVE `ClusterType` numbers (eve-api `EdgeNodeCluster.cluster_type`; cluster.md §2.4). */
export const CLUSTER_TYPE = { unspecified: 0, k3sBase: 1, replicatedStorage: 2, ha: 3 } as const;

/** Byte-stable body of `03-enc-disable-local-path.yaml` (`disableLocalPathContent`): `disable` without `+`. */
export const DISABLE_LOCAL_PATH_CONTENT = '# Use longhorn storage\ndisable: local-storage\n';

/** Body of `04-multinode-watch-cache.yaml`: the kube-apiserver serves every LIST/WATCH from etcd (cluster.md §4.2). */
export const MULTINODE_WATCH_CACHE_CONTENT =
  '# Multi-node clusters only: no kube-apiserver watch cache, every LIST/WATCH is served from etcd.\n' +
  'kube-apiserver-arg+:\n  - "watch-cache=false"\n';

/** The cluster part of the input: the parsed `EdgeNodeCluster` of this node plus what the agent resolved. */
export interface K3sClusterInput {
  /** `cluster_id` (UUID); echoed by the status server and checked in the join handshake. */
  clusterId: string;
  /** This node's cluster address, without prefix length (address part of `cluster_ip_prefix`). */
  clusterIp: string;
  /** `join_server_ip`: the bootstrap node's cluster address. */
  joinServerIp: string;
  /** Decrypted cluster token (`EncryptionBlock.cluster_token`). Written only into `01-clusterconfig.yaml`. */
  token: string;
  /** Linux interface name that `cluster_interface` resolves to (`flannel-iface`). */
  clusterIfName: string;
  /** EVE `ClusterType` number; anything but `K3S_BASE` (1) is treated as replicated storage. @default 0 */
  clusterType?: number;
  /**
   * The parser's bootstrap decision (the agent passes it; see {@link isBootstrapNode}). When absent it is made here
   * by the same function.
   */
  bootstrap?: boolean;
  /** `is_worker_node`. Only matters with {@link agentMode}. @default false */
  isWorkerNode?: boolean;
  /**
   * Simulator choice (cluster.md §4.6): run `k3s agent` when `isWorkerNode` is set. Ignored on the bootstrap
   * node. Without it the node runs `k3s server` as EVE does. @default false
   */
  agentMode?: boolean;
  /**
   * The bootstrap node already has its etcd (`<data-dir>/server/db/etcd/member` exists): it rejoins itself with
   * `server:` instead of `cluster-init: true` (see {@link etcdMemberExists}). @default false
   */
  etcdInitialized?: boolean;
}

/** Everything the drop-ins are rendered from. */
export interface K3sDropInInput {
  /** `EdgeDevConfig.device_name`; the node name is derived from it ({@link toK8sNodeName}). */
  deviceName: string;
  /** Device UUID (used for the agent-mode `node-uuid` label). */
  deviceUuid: string;
  /** The cluster; absent = single-node mode (only `00-nodename.yaml`, §4.4). */
  cluster?: K3sClusterInput | undefined;
  /** YAML of config item `k3s.config.override`, written verbatim to `99-k3s-config-user-overrides.yaml`. */
  userOverrides?: string | undefined;
}

/** How this node runs k3s: single-node, the cluster's bootstrap server, a joining server, or a joining agent. */
export type K3sNodeRole = 'single' | 'bootstrap' | 'server' | 'agent';

/** One rendered file. */
export interface RenderedK3sFile {
  /** File name (`00-nodename.yaml`…, or `config.yaml` for the base config). */
  name: string;
  /** Exact bytes to write (UTF-8). */
  content: string;
  /** True when the content holds the cluster token: never print it. */
  secret: boolean;
}

/** Which drop-in input field is wrong. */
export type K3sConfigErrorKind = 'INVALID_INPUT' | 'IO';

/** Bad drop-in input (`field` names it) or a failed write (`path`). */
export class K3sConfigError extends Error {
  override readonly name = 'K3sConfigError';
  constructor(
    readonly kind: K3sConfigErrorKind,
    message: string,
    readonly context: { field?: string; path?: string } = {},
  ) {
    super(message);
  }
}

/** Type guard for {@link K3sConfigError}, optionally of one kind. */
export function isK3sConfigError(e: unknown, kind?: K3sConfigErrorKind): e is K3sConfigError {
  return e instanceof K3sConfigError && (kind === undefined || e.kind === kind);
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function invalid(field: string, reason: string): never {
  throw new K3sConfigError('INVALID_INPUT', `k3s config: ${field}: ${reason}`, { field });
}

function validate(input: K3sDropInInput): void {
  if (!input.deviceName.trim()) invalid('deviceName', 'is empty (the node name is derived from it)');
  const c = input.cluster;
  if (!c) return;
  if (!UUID_RE.test(c.clusterId)) invalid('cluster.clusterId', `"${c.clusterId}" is not a UUID`);
  if (!isIP(c.clusterIp)) invalid('cluster.clusterIp', `"${c.clusterIp}" is not an IP address (no prefix length)`);
  if (!isIP(c.joinServerIp)) invalid('cluster.joinServerIp', `"${c.joinServerIp}" is not an IP address`);
  // kube-init rejects an empty token ("EncryptedClusterToken is empty", k3s/config.go validate).
  if (!c.token) invalid('cluster.token', 'is empty');
  if (!c.clusterIfName.trim()) invalid('cluster.clusterIfName', 'is empty (needed for flannel-iface)');
  if (c.isWorkerNode && c.agentMode && !UUID_RE.test(input.deviceUuid)) {
    invalid('deviceUuid', `"${input.deviceUuid}" is not a UUID (agent mode labels the node with it)`);
  }
}

/**
 * Canonical text of an IP, so that spellings EVE's `net.IP.Equal` treats as one address compare equal: v4-mapped
 * v6 (`::ffff:10.0.0.2`) is its v4 address, v6 is in its shortest lower-case form (`2001:DB8:0::1` → `2001:db8::1`).
 */
export function canonicalIp(ip: string): string {
  const s = ip.trim().toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (mapped) return mapped[1];
  if (isIP(s) !== 6) return s;
  const host = new URL(`http://[${s}]/`).hostname.slice(1, -1);
  const hex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(host); // the URL parser's spelling of v4-mapped
  if (!hex) return host;
  const [hi, lo] = [parseInt(hex[1], 16), parseInt(hex[2], 16)];
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}

/** The one bootstrap decision (cluster.md §2.2): this node's cluster IP is the join server's IP. */
export function isBootstrapNode(clusterIp: string, joinServerIp: string): boolean {
  return canonicalIp(clusterIp) === canonicalIp(joinServerIp);
}

/**
 * The role this input gives the node: no cluster → `single`; own cluster IP == `join_server_ip` → `bootstrap`
 * (cluster.md §2.2; `is_worker_node` ignored there, §4.6); `isWorkerNode && agentMode` → `agent`; else `server`.
 */
export function k3sNodeRole(input: K3sDropInInput): K3sNodeRole {
  const c = input.cluster;
  if (!c) return 'single';
  if (c.bootstrap ?? isBootstrapNode(c.clusterIp, c.joinServerIp)) return 'bootstrap';
  return c.isWorkerNode && c.agentMode ? 'agent' : 'server';
}

/** A YAML double-quoted scalar; for IPs, ifnames and base64 tokens this is exactly EVE's `"%s"`. */
const q = (s: string): string => JSON.stringify(s);

/** `https://<ip>:6443`, bracketing IPv6 (`bracketIPv6`). */
export function joinServerUrl(joinServerIp: string, port = K3S_API_PORT): string {
  return `https://${isIP(joinServerIp) === 6 ? `[${joinServerIp}]` : joinServerIp}:${port}`;
}

function renderClusterConfig(input: K3sDropInInput, c: K3sClusterInput, role: K3sNodeRole): string {
  const lines: string[] = [];
  if (role === 'bootstrap') {
    // writeBootstrapConfig: initialise etcd unless this node already holds it, then rejoin itself.
    if (c.etcdInitialized) lines.push(`server: ${q(joinServerUrl(c.joinServerIp))}`);
    else lines.push('cluster-init: true');
    lines.push(`token: ${q(c.token)}`, 'tls-san:', `  - ${q(c.joinServerIp)}`);
  } else {
    // writeJoinConfig.
    lines.push(`server: ${q(joinServerUrl(c.joinServerIp))}`, `token: ${q(c.token)}`);
  }
  lines.push(`flannel-iface: ${q(c.clusterIfName)}`, `node-ip: ${q(c.clusterIp)}`);
  // Simulator choice (§4.6): an agent has no admin credentials to label itself, so k3s applies the label.
  if (role === 'agent') lines.push('node-label:', `  - ${q(`node-uuid=${input.deviceUuid.toLowerCase()}`)}`);
  return lines.join('\n') + '\n';
}

/**
 * Renders the drop-ins of `config.yaml.d/` in file-name order (cluster.md §4.2–§4.6):
 * `00-nodename.yaml` always; in cluster mode `01-clusterconfig.yaml`, `03-enc-disable-local-path.yaml` (type ≠
 * `K3S_BASE`) and `04-multinode-watch-cache.yaml` (both only for servers: an agent runs neither the API server nor
 * the storage controller); `99-k3s-config-user-overrides.yaml` when overrides are given.
 * @throws K3sConfigError `INVALID_INPUT` naming the field
 */
export function renderDropIns(input: K3sDropInInput): RenderedK3sFile[] {
  validate(input);
  const role = k3sNodeRole(input);
  const files: RenderedK3sFile[] = [
    { name: DROPIN.nodeName, content: `node-name: ${toK8sNodeName(input.deviceName)}\n`, secret: false },
  ];
  const c = input.cluster;
  if (c) {
    files.push({ name: DROPIN.clusterConfig, content: renderClusterConfig(input, c, role), secret: true });
    if (role !== 'agent') {
      if ((c.clusterType ?? CLUSTER_TYPE.unspecified) !== CLUSTER_TYPE.k3sBase) {
        files.push({ name: DROPIN.disableLocalPath, content: DISABLE_LOCAL_PATH_CONTENT, secret: false });
      }
      files.push({ name: DROPIN.multiNodeWatchCache, content: MULTINODE_WATCH_CACHE_CONTENT, secret: false });
    }
  }
  if (input.userOverrides !== undefined && input.userOverrides !== '') {
    files.push({ name: DROPIN.userOverrides, content: input.userOverrides, secret: false });
  }
  return files;
}

/** A value of the base config: rendered as a YAML scalar or block list. */
export type K3sConfigValue = string | number | boolean | readonly string[];

/** Options of the base `config.yaml`. Host-specific EVE settings are opt-in because they need EVE's host layout. */
export interface K3sBaseConfigOptions {
  /** `server` or `agent` (agent mode, §4.6): an agent gets only the kubelet and runtime settings. */
  mode: 'server' | 'agent';
  /** `container-runtime-endpoint`; EVE: `/run/containerd-user/containerd.sock`. Omitted when unset. */
  containerRuntimeEndpoint?: string;
  /** `default-local-storage-path` (server); EVE: `/persist/vault/volumes`. Omitted when unset. */
  defaultLocalStoragePath?: string;
  /** Add EVE's static CPU manager (`cpu-manager-policy=static`); needs reserved CPUs on the host. @default false */
  staticCpuManager?: boolean;
  /** Further k3s settings (e.g. `bind-address`, `https-listen-port`, `write-kubeconfig`), rendered sorted by key. */
  extra?: Readonly<Record<string, K3sConfigValue>>;
}

function renderValue(key: string, v: K3sConfigValue): string {
  if (typeof v === 'string') return `${key}: ${q(v)}`;
  if (typeof v === 'number' || typeof v === 'boolean') return `${key}: ${String(v)}`;
  return [`${key}:`, ...v.map((s) => `  - ${q(s)}`)].join('\n');
}

/**
 * Renders the base `config.yaml` (cluster.md §4.1, lf-edge/eve: pkg/kube/config.yaml): servicelb and traefik
 * disabled, no network policy, no cloud controller; kubelet posts status every 2 s; node monitor period 10 s and
 * grace 40 s (Ready → Unknown after 40 s, §10); etcd quota 8 GiB, hourly periodic compaction, snapshot-count 5000;
 * kubeconfig written 0600 (it holds admin credentials).
 */
export function renderBaseConfig(opts: K3sBaseConfigOptions): RenderedK3sFile {
  const kubeletArgs = ['node-status-update-frequency=2s'];
  if (opts.staticCpuManager) kubeletArgs.push('cpu-manager-policy=static');
  const entries: [string, K3sConfigValue][] = [];
  if (opts.mode === 'server') {
    entries.push(
      ['disable', ['servicelb', 'traefik']],
      ['disable-network-policy', true],
      ['disable-cloud-controller', true],
      ['write-kubeconfig-mode', '0600'],
      ['kubelet-arg', kubeletArgs],
      ['kube-controller-manager-arg', ['node-monitor-period=10s', 'node-monitor-grace-period=40s']],
      [
        'etcd-arg',
        [
          `quota-backend-bytes=${8 * 1024 ** 3}`,
          'auto-compaction-mode=periodic',
          'auto-compaction-retention=1h',
          'snapshot-count=5000',
        ],
      ],
    );
    if (opts.defaultLocalStoragePath) entries.push(['default-local-storage-path', opts.defaultLocalStoragePath]);
  } else {
    entries.push(['kubelet-arg', kubeletArgs]);
  }
  if (opts.containerRuntimeEndpoint) entries.push(['container-runtime-endpoint', opts.containerRuntimeEndpoint]);
  for (const key of Object.keys(opts.extra ?? {}).sort()) entries.push([key, opts.extra![key]]);
  const body = entries.map(([k, v]) => renderValue(k, v)).join('\n');
  return {
    name: K3S_CONFIG_FILE,
    content: `# k3s base configuration rendered by edgesim (cluster.md §4.1)\n${body}\n`,
    secret: false,
  };
}

/** Options of {@link applyK3sConfig}. */
export interface ApplyK3sConfigOptions {
  /** Directory holding `config.yaml` and `config.yaml.d/` (created 0700). */
  configDir: string;
  /** What to render. */
  input: K3sDropInInput;
  /** Base config; when given, `config.yaml` is reconciled too (its mode follows the node role). */
  base?: Omit<K3sBaseConfigOptions, 'mode'>;
  /** Render and compare only: nothing is written or removed. @default false */
  dryRun?: boolean;
  /** Logs file writes and removals (never contents). */
  logger?: Logger;
}

/** Outcome of {@link applyK3sConfig}; paths are relative to the config dir. */
export interface ApplyK3sConfigResult {
  role: K3sNodeRole;
  /** The node name written to `00-nodename.yaml`. */
  nodeName: string;
  /** Every rendered file (base config first when requested). */
  files: RenderedK3sFile[];
  /** Files whose bytes or mode differ(ed) and are (or, in a dry run, would be) written. */
  written: string[];
  /** Managed drop-ins that are (would be) removed, e.g. the cluster drop-ins on leaving a cluster. */
  removed: string[];
  /** `written` or `removed` is non-empty: k3s must be restarted to see the change. */
  changed: boolean;
}

async function ensureDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
}

async function readIfExists(file: string): Promise<{ content: string; mode: number } | undefined> {
  try {
    const [content, st] = await Promise.all([readFile(file, 'utf8'), stat(file)]);
    return { content, mode: st.mode & 0o777 };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}


/**
 * Reconciles `<configDir>/config.yaml.d/` (and `config.yaml` when `base` is given) to the rendered files:
 * writes what differs (atomically, 0600), removes managed drop-ins that are no longer wanted (single-node mode
 * after leaving a cluster removes 01/03/04), leaves unknown files alone. The token is registered as a secret so no
 * log line can carry it. With `dryRun` nothing on disk changes and the result says what would.
 * @throws K3sConfigError `INVALID_INPUT` (bad input) or `IO` (with the path)
 */
export async function applyK3sConfig(opts: ApplyK3sConfigOptions): Promise<ApplyK3sConfigResult> {
  const log = (opts.logger ?? silentLogger).child({ component: 'k3s.config' });
  const role = k3sNodeRole(opts.input);
  const dropIns = renderDropIns(opts.input);
  if (opts.input.cluster) registerSecret(opts.input.cluster.token);
  const dropInDir = path.join(opts.configDir, K3S_DROPIN_DIR);
  const targets: { rel: string; file: RenderedK3sFile }[] = dropIns.map((f) => ({
    rel: path.join(K3S_DROPIN_DIR, f.name),
    file: f,
  }));
  const files = [...dropIns];
  if (opts.base) {
    const base = renderBaseConfig({ ...opts.base, mode: role === 'agent' ? 'agent' : 'server' });
    targets.unshift({ rel: K3S_CONFIG_FILE, file: base });
    files.unshift(base);
  }
  const wanted = new Set(dropIns.map((f) => f.name));
  const written: string[] = [];
  const removed: string[] = [];
  let current = '';
  try {
    if (!opts.dryRun) {
      current = opts.configDir;
      await ensureDir(opts.configDir);
      current = dropInDir;
      await ensureDir(dropInDir);
    }
    for (const { rel, file } of targets) {
      current = path.join(opts.configDir, rel);
      const existing = await readIfExists(current);
      if (existing && existing.content === file.content && existing.mode === 0o600) continue;
      written.push(rel);
      if (!opts.dryRun) await writeFileAtomic(current, file.content);
    }
    for (const name of MANAGED) {
      if (wanted.has(name)) continue;
      current = path.join(dropInDir, name);
      if (!(await readIfExists(current))) continue;
      removed.push(path.join(K3S_DROPIN_DIR, name));
      if (!opts.dryRun) await rm(current, { force: true });
    }
  } catch (e) {
    throw new K3sConfigError('IO', `k3s config: ${current}: ${(e as Error).message}`, { path: current });
  }
  if (written.length || removed.length) {
    log.info(opts.dryRun ? 'k3s config would change' : 'k3s config updated', {
      role,
      written,
      removed,
      dryRun: opts.dryRun === true,
    });
  }
  return {
    role,
    nodeName: toK8sNodeName(opts.input.deviceName),
    files,
    written,
    removed,
    changed: written.length > 0 || removed.length > 0,
  };
}

/**
 * Removes every managed drop-in (and the base config) from `configDir`, e.g. when the node's k3s state is wiped.
 * Leaving a cluster is {@link applyK3sConfig} without `cluster` instead (single-node mode keeps `00-nodename.yaml`).
 * @returns the removed paths, relative to `configDir`
 */
export async function removeK3sConfig(configDir: string): Promise<string[]> {
  const removed: string[] = [];
  for (const rel of [K3S_CONFIG_FILE, ...[...MANAGED].map((n) => path.join(K3S_DROPIN_DIR, n))]) {
    const file = path.join(configDir, rel);
    if (await readIfExists(file)) {
      await rm(file, { force: true });
      removed.push(rel);
    }
  }
  return removed;
}

/**
 * Whether k3s's embedded etcd is initialised under `dataDir`: `<dataDir>/server/db/etcd/member` is a directory.
 * Only that directory counts; k3s creates its parent on any server start (`etcdClusterInitialized`).
 */
export async function etcdMemberExists(dataDir: string): Promise<boolean> {
  try {
    return (await stat(path.join(dataDir, 'server', 'db', 'etcd', 'member'))).isDirectory();
  } catch {
    return false;
  }
}

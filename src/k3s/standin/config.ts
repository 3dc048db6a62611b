/**
 * k3s configuration for the stand-in: the config file plus its `config.yaml.d/*.yaml` drop-ins and the
 * command-line flags, merged the way k3s merges them (pkg/configfilearg in k3s-io/k3s): files in lexical order,
 * later keys win, a key ending in `+` appends to a list, flags win over files. Unknown keys are warned about,
 * never fatal. `compileStandinConfig` then fills defaults and validates (cluster.md §4).
 */
import fs from 'node:fs';
import path from 'node:path';
import net from 'node:net';
import { parse as parseYaml } from 'yaml';
import { StandinError } from './errors.js';

/** `k3s server` or `k3s agent`. */
export type StandinRole = 'server' | 'agent';

type KeyType = 'string' | 'bool' | 'list' | 'number';

/** Keys the stand-in acts on, with their type and the roles that accept them. */
const USED: Record<string, { type: KeyType; roles: StandinRole[] }> = {
  'cluster-init': { type: 'bool', roles: ['server'] },
  server: { type: 'string', roles: ['server', 'agent'] },
  token: { type: 'string', roles: ['server', 'agent'] },
  'token-file': { type: 'string', roles: ['server', 'agent'] },
  'node-name': { type: 'string', roles: ['server', 'agent'] },
  'node-ip': { type: 'string', roles: ['server', 'agent'] },
  'node-label': { type: 'list', roles: ['server', 'agent'] },
  'node-taint': { type: 'list', roles: ['server', 'agent'] },
  'tls-san': { type: 'list', roles: ['server'] },
  'data-dir': { type: 'string', roles: ['server', 'agent'] },
  'write-kubeconfig': { type: 'string', roles: ['server'] },
  'write-kubeconfig-mode': { type: 'string', roles: ['server'] },
  'datastore-endpoint': { type: 'string', roles: ['server'] },
  'https-listen-port': { type: 'number', roles: ['server'] },
  'kubelet-arg': { type: 'list', roles: ['server', 'agent'] },
  'kube-controller-manager-arg': { type: 'list', roles: ['server'] },
  // Stand-in only (not k3s flags): several nodes on one IP, time scaling, emulated pod start.
  'etcd-client-port': { type: 'number', roles: ['server'] },
  'etcd-peer-port': { type: 'number', roles: ['server'] },
  'time-scale': { type: 'number', roles: ['server', 'agent'] },
  'pod-start-delay': { type: 'string', roles: ['server', 'agent'] },
};

/** Real k3s keys that the stand-in accepts and ignores (networking, runtime, add-ons: nothing to emulate). */
const ACCEPTED = new Set([
  'flannel-iface', 'flannel-backend', 'disable', 'disable-network-policy', 'disable-cloud-controller',
  'disable-kube-proxy', 'disable-helm-controller', 'kube-apiserver-arg', 'kube-scheduler-arg', 'kube-proxy-arg',
  'kube-cloud-controller-manager-arg', 'etcd-arg', 'etcd-expose-metrics', 'etcd-snapshot-schedule-cron',
  'etcd-snapshot-retention', 'etcd-disable-snapshots', 'container-runtime-endpoint', 'default-local-storage-path',
  'cluster-cidr', 'service-cidr', 'cluster-dns', 'cluster-domain', 'node-external-ip', 'with-node-id',
  'protect-kernel-defaults', 'selinux', 'snapshotter', 'secrets-encryption', 'debug', 'v', 'log', 'alsologtostderr',
  'pause-image', 'private-registry', 'resolv-conf', 'prefer-bundled-bin', 'bind-address', 'advertise-address',
  'embedded-registry', 'system-default-registry', 'egress-selector-mode', 'write-kubeconfig-group',
]);

/** Merged configuration values keyed by k3s flag name (without `--`). */
export type K3sConfigValues = Record<string, string | boolean | number | string[]>;

/** Where the configuration comes from. */
export interface K3sConfigSources {
  /** Config file; a missing file is not an error (as in k3s). @default '/etc/rancher/k3s/config.yaml' */
  configPath?: string;
  /** Drop-in directory. @default `<configPath>.d` */
  dropInDir?: string;
  /** Values given on the command line, keyed by k3s flag name; they win over the files. */
  flags?: K3sConfigValues;
}

/** The merged values and the warnings (unknown keys) k3s would print. */
export interface LoadedK3sConfig {
  values: K3sConfigValues;
  warnings: string[];
  /** Files read, in merge order. */
  files: string[];
}

/** Default config path of k3s. */
export const DEFAULT_CONFIG_PATH = '/etc/rancher/k3s/config.yaml';

function normalize(key: string, raw: unknown, type: KeyType, file: string): string | boolean | number | string[] {
  const bad = (): never => {
    throw new StandinError('config', `${file}: key "${key}" must be a ${type}, got ${JSON.stringify(raw)}`, {
      field: key,
    });
  };
  switch (type) {
    case 'bool':
      if (typeof raw === 'boolean') return raw;
      if (raw === 'true' || raw === 'false') return raw === 'true';
      return bad();
    case 'number':
      if (typeof raw === 'number' && Number.isFinite(raw)) return raw;
      if (typeof raw === 'string' && raw.trim() !== '' && Number.isFinite(Number(raw))) return Number(raw);
      return bad();
    case 'list':
      if (Array.isArray(raw)) return raw.map(String);
      if (typeof raw === 'string') return raw.split(',').map((s) => s.trim()).filter(Boolean);
      return bad();
    case 'string':
      if (typeof raw === 'string' || typeof raw === 'number') return String(raw);
      return bad();
  }
}

/**
 * Reads and merges the config file, its drop-ins and the flags for `role`. Keys the role does not know are
 * skipped with k3s's own warning text ("Unknown flag --x found in config.yaml, skipping").
 */
export function loadK3sConfig(role: StandinRole, sources: K3sConfigSources = {}): LoadedK3sConfig {
  const configPath = sources.configPath ?? DEFAULT_CONFIG_PATH;
  const dropInDir = sources.dropInDir ?? `${configPath}.d`;
  const files: string[] = [];
  if (fs.existsSync(configPath)) files.push(configPath);
  if (fs.existsSync(dropInDir)) {
    for (const f of fs.readdirSync(dropInDir).sort()) {
      if (f.endsWith('.yaml') || f.endsWith('.yml')) files.push(path.join(dropInDir, f));
    }
  }
  const docs = files.map((file) => ({ origin: file, text: fs.readFileSync(file, 'utf8') }));
  return { ...mergeK3sConfig(role, docs, sources.flags), files };
}

/**
 * Merges config documents (YAML text, in order: config.yaml, then its drop-ins by name) and the flags for `role`,
 * as {@link loadK3sConfig} does with files; the in-process clusters hand it the rendered drop-ins.
 */
export function mergeK3sConfig(role: StandinRole, docs: { origin: string; text: string }[], flags: K3sConfigValues = {}): { values: K3sConfigValues; warnings: string[] } {
  const values: K3sConfigValues = {};
  const warnings: string[] = [];
  const apply = (rawKey: string, raw: unknown, origin: string): void => {
    const append = rawKey.endsWith('+');
    const key = append ? rawKey.slice(0, -1) : rawKey;
    const used = USED[key];
    if (used === undefined || !used.roles.includes(role)) {
      if (!ACCEPTED.has(key) || used !== undefined) {
        warnings.push(`Unknown flag --${key} found in ${path.basename(origin)}, skipping`);
      }
      return;
    }
    const v = normalize(key, raw, used.type, origin);
    const prev = values[key];
    values[key] = append && Array.isArray(prev) && Array.isArray(v) ? [...prev, ...v] : v;
  };
  for (const { origin: file, text } of docs) {
    let doc: unknown;
    try {
      doc = parseYaml(text);
    } catch (e) {
      throw new StandinError('config', `${file}: not valid YAML: ${e instanceof Error ? e.message : String(e)}`, {
        file,
      });
    }
    if (doc === null || doc === undefined) continue;
    if (typeof doc !== 'object' || Array.isArray(doc)) {
      throw new StandinError('config', `${file}: top level must be a mapping of flag names to values`, { file });
    }
    for (const [k, v] of Object.entries(doc as Record<string, unknown>)) apply(k, v, file);
  }
  for (const [k, v] of Object.entries(flags)) {
    const prev = values[k];
    // Lists given on the command line add to the file's list, scalars replace (k3s configfilearg).
    apply(Array.isArray(v) && Array.isArray(prev) ? `${k}+` : k, v, 'command line');
  }
  return { values, warnings };
}

/** Parses a Go duration ("40s", "2m0s", "500ms", "1h") into milliseconds. */
export function parseGoDuration(text: string, field: string): number {
  const re = /(\d+(?:\.\d+)?)(ms|h|m|s)/gy;
  let total = 0;
  let matched = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) {
    const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
    total += Number(m[1]) * unit;
    matched = re.lastIndex;
  }
  if (text === '' || matched !== text.length) {
    throw new StandinError('config', `${field}: "${text}" is not a duration like 40s, 2m or 500ms`, { field });
  }
  return total;
}

/** A taint given as `key=value:Effect` or `key:Effect`. */
export interface TaintSpec {
  key: string;
  value?: string;
  effect: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
}

/** Everything a stand-in node needs, defaults filled and validated. Durations are spec milliseconds. */
export interface StandinConfig {
  role: StandinRole;
  nodeName: string;
  nodeIp: string;
  dataDir: string;
  token: string;
  /** `https://<join server>:6443` for joiners and agents. */
  server?: string;
  clusterInit: boolean;
  tlsSans: string[];
  writeKubeconfig: string;
  writeKubeconfigMode: number;
  datastoreEndpoint?: string;
  nodeLabels: Record<string, string>;
  nodeTaints: TaintSpec[];
  httpsListenPort: number;
  etcdClientPort: number;
  etcdPeerPort: number;
  timeScale: number;
  podStartDelayMs: number;
  /** kubelet `node-status-update-frequency` (cluster.md §4.1). */
  nodeStatusUpdateMs: number;
  /** kube-controller-manager `node-monitor-period`. */
  nodeMonitorPeriodMs: number;
  /** kube-controller-manager `node-monitor-grace-period`. */
  nodeMonitorGraceMs: number;
}

/** Default data dir of k3s when run as root. */
export const DEFAULT_DATA_DIR = '/var/lib/rancher/k3s';

/** Spec defaults (cluster.md §4.1 and §14): status every 2 s, monitor period 10 s, grace 40 s. */
export const NODE_STATUS_UPDATE_MS = 2_000;
export const NODE_MONITOR_PERIOD_MS = 10_000;
export const NODE_MONITOR_GRACE_MS = 40_000;
/** Stand-in default for Pending → Running of a bound pod (image pull and container start). */
export const POD_START_DELAY_MS = 2_000;

function str(values: K3sConfigValues, key: string): string | undefined {
  const v = values[key];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function num(values: K3sConfigValues, key: string, dflt: number, min: number, max: number): number {
  const v = values[key];
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || v < min || v > max) {
    throw new StandinError('config', `${key}: must be a number between ${min} and ${max}, got ${String(v)}`, {
      field: key,
    });
  }
  return v;
}

function argMap(values: K3sConfigValues, key: string): Map<string, string> {
  const out = new Map<string, string>();
  const list = values[key];
  for (const item of Array.isArray(list) ? list : []) {
    const i = item.indexOf('=');
    if (i > 0) out.set(item.slice(0, i).replace(/^--/, ''), item.slice(i + 1));
  }
  return out;
}

/** Parses `key=value:Effect`. */
export function parseTaint(text: string): TaintSpec {
  const m = /^([^=:]+)(?:=([^:]*))?:(NoSchedule|PreferNoSchedule|NoExecute)$/.exec(text);
  if (!m) {
    throw new StandinError('config', `node-taint: "${text}" is not key[=value]:NoSchedule|PreferNoSchedule|NoExecute`, {
      field: 'node-taint',
    });
  }
  const t: TaintSpec = { key: m[1], effect: m[3] as TaintSpec['effect'] };
  if (m[2] !== undefined) t.value = m[2];
  return t;
}

/**
 * Fills defaults and validates merged values. `hostname` is the default node name and `readFile` reads
 * `token-file` (injected for tests).
 */
export function compileStandinConfig(
  role: StandinRole,
  values: K3sConfigValues,
  hostname: string,
  readFile: (p: string) => string = (p) => fs.readFileSync(p, 'utf8'),
): StandinConfig {
  const dataDir = path.resolve(str(values, 'data-dir') ?? DEFAULT_DATA_DIR);
  const nodeIp = str(values, 'node-ip') ?? '127.0.0.1';
  if (net.isIP(nodeIp) === 0) {
    throw new StandinError('config', `node-ip: "${nodeIp}" is not an IP address`, { field: 'node-ip' });
  }
  const nodeName = (str(values, 'node-name') ?? hostname).toLowerCase();
  if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(nodeName) || nodeName.length > 253) {
    throw new StandinError('config', `node-name: "${nodeName}" is not a valid DNS-1123 subdomain`, {
      field: 'node-name',
    });
  }
  const tokenFile = str(values, 'token-file');
  const token = str(values, 'token') ?? (tokenFile ? readFile(tokenFile).trim() : undefined);
  const server = str(values, 'server');
  if (server !== undefined && !/^https:\/\/[^/]+$/.test(server.replace(/\/$/, ''))) {
    throw new StandinError('config', `server: "${server}" must look like https://<ip>:6443`, { field: 'server' });
  }
  const clusterInit = values['cluster-init'] === true;
  if (role === 'agent' && server === undefined) {
    throw new StandinError('config', 'server: an agent needs the URL of a server (--server https://<ip>:6443)', {
      field: 'server',
    });
  }
  if (server !== undefined && token === undefined) {
    throw new StandinError('config', 'token: joining a cluster needs --token (or token-file)', { field: 'token' });
  }
  const nodeLabels: Record<string, string> = {};
  for (const l of (values['node-label'] as string[] | undefined) ?? []) {
    const i = l.indexOf('=');
    if (i <= 0) throw new StandinError('config', `node-label: "${l}" is not key=value`, { field: 'node-label' });
    nodeLabels[l.slice(0, i)] = l.slice(i + 1);
  }
  const kubelet = argMap(values, 'kubelet-arg');
  const kcm = argMap(values, 'kube-controller-manager-arg');
  const dur = (m: Map<string, string>, k: string, dflt: number): number => {
    const v = m.get(k);
    return v === undefined ? dflt : parseGoDuration(v, k);
  };
  const podStartDelay = str(values, 'pod-start-delay');
  const mode = str(values, 'write-kubeconfig-mode') ?? '0600';
  if (!/^0?[0-7]{3}$/.test(mode)) {
    throw new StandinError('config', `write-kubeconfig-mode: "${mode}" is not an octal mode like 0600`, {
      field: 'write-kubeconfig-mode',
    });
  }
  const cfg: StandinConfig = {
    role,
    nodeName,
    nodeIp,
    dataDir,
    token: token ?? '',
    clusterInit,
    tlsSans: (values['tls-san'] as string[] | undefined) ?? [],
    writeKubeconfig: path.resolve(str(values, 'write-kubeconfig') ?? path.join(dataDir, 'k3s.yaml')),
    writeKubeconfigMode: parseInt(mode, 8),
    nodeLabels,
    nodeTaints: ((values['node-taint'] as string[] | undefined) ?? []).map(parseTaint),
    httpsListenPort: num(values, 'https-listen-port', 6443, 1, 65535),
    etcdClientPort: num(values, 'etcd-client-port', 2379, 1, 65535),
    etcdPeerPort: num(values, 'etcd-peer-port', 2380, 1, 65535),
    timeScale: num(values, 'time-scale', 1, 0.001, 10_000),
    podStartDelayMs: podStartDelay === undefined ? POD_START_DELAY_MS : parseGoDuration(podStartDelay, 'pod-start-delay'),
    nodeStatusUpdateMs: dur(kubelet, 'node-status-update-frequency', NODE_STATUS_UPDATE_MS),
    nodeMonitorPeriodMs: dur(kcm, 'node-monitor-period', NODE_MONITOR_PERIOD_MS),
    nodeMonitorGraceMs: dur(kcm, 'node-monitor-grace-period', NODE_MONITOR_GRACE_MS),
  };
  if (server !== undefined) cfg.server = server.replace(/\/$/, '');
  const ds = str(values, 'datastore-endpoint');
  if (ds !== undefined) {
    if (!/^https?:\/\//.test(ds)) {
      throw new StandinError('config', `datastore-endpoint: "${ds}" must be an etcd URL like http://127.0.0.1:2379`, {
        field: 'datastore-endpoint',
      });
    }
    cfg.datastoreEndpoint = ds;
  }
  return cfg;
}

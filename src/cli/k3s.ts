/**
 * `edgesim k3s server|agent`: the k3s stand-in, started the way k3s is (config file, drop-ins, flags,
 * K3S_TOKEN / K3S_URL / K3S_NODE_NAME). This file only parses flags and calls src/k3s/standin.
 */
import type { Command } from 'commander';
import { createLogger, parseLogLevelSpec } from '../common/index.js';
import { cliAction, onInterrupt } from './process.js';
import { DEFAULT_CONFIG_PATH, DEFAULT_DATA_DIR, isStandinError, runK3sStandin, type K3sConfigValues, type StandinRole } from '../k3s/standin/index.js';

const collect = (v: string, prev: string[]): string[] => [...prev, v];

/** k3s flag names passed through to the config merge (flags win over the files). */
const PASS_THROUGH: Record<StandinRole, string[]> = {
  server: [
    'cluster-init', 'server', 'token', 'token-file', 'node-name', 'node-ip', 'node-label', 'node-taint', 'flannel-iface',
    'tls-san', 'data-dir', 'write-kubeconfig', 'write-kubeconfig-mode', 'datastore-endpoint', 'https-listen-port',
    'etcd-client-port', 'etcd-peer-port', 'time-scale', 'pod-start-delay', 'kubelet-arg', 'kube-controller-manager-arg',
  ],
  agent: ['server', 'token', 'token-file', 'node-name', 'node-ip', 'node-label', 'node-taint', 'flannel-iface', 'data-dir', 'time-scale', 'pod-start-delay', 'kubelet-arg'],
};

function addCommon(cmd: Command): Command {
  return cmd
    .option('--config <path>', `k3s config file (missing is fine); drop-ins are read from <path>.d/*.yaml (default: ${DEFAULT_CONFIG_PATH})`)
    .option('--drop-in-dir <dir>', 'drop-in directory, stand-in only (default: <config>.d, e.g. /etc/rancher/k3s/config.yaml.d)')
    .option('--server <url>', 'server to join, e.g. https://10.244.244.2:6443 (env K3S_URL)')
    .option('--token <token>', 'cluster token shared by every node (env K3S_TOKEN)')
    .option('--token-file <path>', 'read the token from this file')
    .option('--node-name <name>', 'Node name (default: the hostname, lower-cased; env K3S_NODE_NAME)')
    .option('--node-ip <ip>', 'address the node advertises and binds (API :6443, etcd :2379/:2380) (default: 127.0.0.1)')
    .option('--node-label <key=value>', 'label the Node at registration; repeatable, e.g. --node-label node-uuid=1234', collect, [])
    .option('--node-taint <key=value:Effect>', 'taint the Node at registration; repeatable, e.g. dedicated=x:NoSchedule', collect, [])
    .option('--flannel-iface <ifname>', 'accepted for compatibility; the stand-in has no pod network')
    .option('--data-dir <dir>', `state directory (etcd data, certificates, tokens) (default: ${DEFAULT_DATA_DIR})`)
    .option('--kubelet-arg <name=value>', 'kubelet flag; node-status-update-frequency is honoured (default 2s); repeatable', collect, [])
    .option('--time-scale <K>', 'stand-in only: divide every timer (status, grace, tolerations, delays) by K, e.g. 10 (default: 1)')
    .option('--pod-start-delay <duration>', 'stand-in only: time from binding to Running, e.g. 500ms (default: 2s)')
    .option('--etcd-binary <path>', 'stand-in only: etcd executable (default: etcd from PATH)')
    .option('--log-level <spec>', 'log level, optionally per component, e.g. info,k3s.standin.etcd=debug (default: info)');
}

async function run(role: StandinRole, o: Record<string, unknown>): Promise<void> {
  const flags: K3sConfigValues = {};
  for (const key of PASS_THROUGH[role]) {
    const v = o[key.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase())];
    if (v === undefined || v === false || (Array.isArray(v) && v.length === 0)) continue;
    flags[key] = v as string | boolean | string[];
  }
  // k3s reads these environment variables when the flags are absent.
  const env: [string, string][] = [['token', 'K3S_TOKEN'], ['server', 'K3S_URL'], ['node-name', 'K3S_NODE_NAME']];
  for (const [key, name] of env) if (flags[key] === undefined && process.env[name]) flags[key] = process.env[name];
  const logger = createLogger(parseLogLevelSpec(typeof o.logLevel === 'string' ? o.logLevel : 'info'));
  const ac = new AbortController();
  onInterrupt(() => ac.abort());
  await action(async () => {
    await runK3sStandin({
      role,
      logger,
      signal: ac.signal,
      flags,
      ...(typeof o.config === 'string' ? { configPath: o.config } : {}),
      ...(typeof o.dropInDir === 'string' ? { dropInDir: o.dropInDir } : {}),
      ...(typeof o.etcdBinary === 'string' ? { etcdBinary: o.etcdBinary } : {}),
      onReady: (info) => logger.info('k3s stand-in ready', { component: 'k3s.standin', ...info }),
    });
  })();
}

const action = cliAction('k3s', { badInput: (e) => isStandinError(e) && e.kind === 'config' });

/** Registers `edgesim k3s server` and `edgesim k3s agent`. */
export function registerK3sCommands(program: Command): void {
  const k3s = program.command('k3s').description('Run the k3s stand-in (etcd-backed Kubernetes API subset) as k3s would run.');
  addCommon(
    k3s
      .command('server')
      .description('Run a server: etcd member, Kubernetes API on node-ip:6443, kubelet, controllers when elected.\n' +
        'Example: edgesim k3s server --cluster-init --token s3cret --node-ip 127.0.0.2 --node-name edge-dev1 --data-dir /tmp/n1')
      .option('--cluster-init', 'start a new embedded-etcd cluster (first server)')
      .option('--tls-san <name>', 'extra IP or DNS name in the serving certificate; repeatable', collect, [])
      .option('--write-kubeconfig <path>', 'where the admin kubeconfig goes (default: <data-dir>/k3s.yaml)')
      .option('--write-kubeconfig-mode <mode>', 'file mode of the kubeconfig (default: 0600)')
      .option('--datastore-endpoint <url>', 'use an external etcd instead of an embedded member, e.g. http://127.0.0.1:2379')
      .option('--https-listen-port <port>', 'API server port (default: 6443)')
      .option('--etcd-client-port <port>', 'stand-in only: etcd client port, for several nodes on one IP (default: 2379)')
      .option('--etcd-peer-port <port>', 'stand-in only: etcd peer port (default: 2380)')
      .option('--kube-controller-manager-arg <name=value>', 'node-monitor-period (10s) and node-monitor-grace-period (40s) are honoured; repeatable', collect, []),
  ).action((o: Record<string, unknown>) => run('server', o));
  addCommon(
    k3s
      .command('agent')
      .description('Run an agent: kubelet only, joined to --server with --token.\n' +
        'Example: edgesim k3s agent --server https://127.0.0.2:6443 --token s3cret --node-ip 127.0.0.5 --node-name edge-dev4'),
  ).action((o: Record<string, unknown>) => run('agent', o));
}

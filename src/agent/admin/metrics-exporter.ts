/**
 * Prometheus metrics of one agent (prom-client text format) on a loopback HTTP port, `GET /metrics`.
 * Gauges are read from the agent's public status at scrape time; counters count agent events as they happen;
 * histograms take the durations the agent's observer reports (config requests, key store / TPM operations).
 * Off unless `--metrics-listen` is given; the address must be loopback (the agent never exposes this off-host).
 */
import http from 'node:http';
import { isIP } from 'node:net';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Logger } from '../../common/index.js';
import { errorMessage } from '../../common/index.js';
import { FAULT_KINDS, type AgentPhase } from '../index.js';
import { AdminError } from './errors.js';
import { trackConfig, type OperatedAgent } from './operated-agent.js';

const PHASES: AgentPhase[] = ['initialized', 'onboarding', 'attesting', 'running', 'stopping', 'stopped', 'failed'];
const CLUSTER_ROLES = ['none', 'single', 'bootstrap', 'server', 'agent'];
/** Config requests end within timer.send.timeout (120 s, eve-api.md §13); a healthy one on a LAN takes milliseconds. */
const CONFIG_FETCH_BUCKETS_S = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];
/** A soft-key signature takes well under 1 ms; a TPM2_Sign or TPM2_Quote through tpm2-tools tens to hundreds of ms. */
const KEY_OP_BUCKETS_S = [0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export interface MetricsExporterOptions {
  agent: OperatedAgent;
  /** `host:port` on loopback: `127.0.0.1:9464`, `[::1]:9464`, `localhost:9464`; port 0 picks a free one. */
  listen: string;
  /** The edgesim version (label of edgesim_agent_info). */
  version: string;
  logger: Logger;
}

/**
 * Splits and checks a metrics listen address; errors name the flag. `host:port` (`[v6]:port`) or a bare port, which
 * means 127.0.0.1. Loopback only (the agent never exposes its metrics off-host) unless `remote` is set: then any IP
 * address is accepted, as long as it was written out (a fleet pod in Kubernetes is scraped over the pod network).
 */
export function parseMetricsListen(listen: string, o: { remote?: boolean } = {}): { host: string; port: number; loopback: boolean } {
  const m = /^(?:(?:\[([^\]]+)\]|([^:]+)):)?(\d{1,5})$/.exec(listen);
  const bad = (why: string): AdminError =>
    new AdminError('INVALID_ARGUMENT', `--metrics-listen "${listen}": ${why}`, { field: 'metrics-listen', listen });
  if (!m) throw bad('expected host:port or a port, e.g. 127.0.0.1:9464');
  const host = m[1] ?? m[2] ?? '127.0.0.1';
  const port = Number(m[3]);
  if (port > 65535) throw bad('port must be 0-65535');
  const loopback = host === 'localhost' || host === '::1' || (isIP(host) === 4 && host.startsWith('127.'));
  if (!loopback && !o.remote) throw bad('metrics are served on loopback only (127.0.0.0/8, ::1, localhost)');
  if (!loopback && isIP(host) === 0) throw bad('give an IP address to listen on (0.0.0.0 or :: for every interface)');
  return { host, port, loopback };
}

/** Builds the registry with every agent metric (exported for tests that read it without HTTP). */
export function agentMetricsRegistry(agent: OperatedAgent, version: string): Registry {
  const registry = new Registry();
  const config = trackConfig(agent);
  const status = (): ReturnType<OperatedAgent['status']> => agent.status();

  new Gauge({
    name: 'edgesim_agent_info',
    help: 'Constant 1, labelled with the edgesim version and the key store backend.',
    labelNames: ['version', 'key_store'],
    registers: [registry],
    collect() {
      this.reset();
      this.set({ version, key_store: agent.keyStore.kind }, 1);
    },
  });
  new Gauge({
    name: 'edgesim_agent_phase',
    help: 'Agent lifecycle phase: 1 for the current phase, 0 for the others.',
    labelNames: ['phase'],
    registers: [registry],
    collect() {
      const now = status().phase;
      for (const p of PHASES) this.set({ phase: p }, p === now ? 1 : 0);
    },
  });
  new Gauge({
    name: 'edgesim_controller_reachable',
    help: '1 when the last controller exchange got an HTTP answer, else 0.',
    registers: [registry],
    collect() {
      this.set(status().controllerReachable ? 1 : 0);
    },
  });
  new Gauge({
    name: 'edgesim_agent_attested',
    help: '1 while the agent holds an integrity token from attestation.',
    registers: [registry],
    collect() {
      this.set(status().attested ? 1 : 0);
    },
  });
  const configResults = new Counter({
    name: 'edgesim_config_results_total',
    help: 'Configs accepted (by source: controller, checkpoint) and rejected (failed verification or refused) since start.',
    labelNames: ['result', 'source'],
    registers: [registry],
  });
  const configFetch = new Histogram({
    name: 'edgesim_config_fetch_duration_seconds',
    help: 'Config requests to the controller by result (accepted, unchanged, rejected, refused, http-error, unreachable, tpm-error): duration from signing to acceptance.',
    labelNames: ['result'],
    buckets: CONFIG_FETCH_BUCKETS_S,
    registers: [registry],
  });
  const keyOps = new Histogram({
    name: 'edgesim_tpm_op_duration_seconds',
    help: 'Key store operations (TPM through tpm2-tools, or the soft backend; see edgesim_agent_info) by op (sign, ecdh, quote, provision, info) and result (ok, error).',
    labelNames: ['op', 'result'],
    buckets: KEY_OP_BUCKETS_S,
    registers: [registry],
  });
  new Gauge({
    name: 'edgesim_config_last_accepted_timestamp_seconds',
    help: 'Unix time of the last accepted config; 0 before the first.',
    registers: [registry],
    collect() {
      this.set(status().lastConfigAtMs / 1000);
    },
  });
  new Gauge({
    name: 'edgesim_config_rejected',
    help: '1 while the last config reply was rejected (the previous config is kept), else 0.',
    registers: [registry],
    collect() {
      this.set(status().lastConfigError ? 1 : 0);
    },
  });
  new Gauge({
    name: 'edgesim_info_queue_depth',
    help: 'Info messages waiting for the controller (one per object, latest wins).',
    registers: [registry],
    collect() {
      this.set(status().queueDepth);
    },
  });
  new Gauge({
    name: 'edgesim_info_queue_oldest_age_seconds',
    help: 'Age of the oldest waiting info message; 0 when the queue is empty.',
    registers: [registry],
    collect() {
      this.set(status().queueOldestAgeMs / 1000);
    },
  });
  new Gauge({
    name: 'edgesim_fault_active',
    help: 'Injected faults: 1 while active.',
    labelNames: ['kind'],
    registers: [registry],
    collect() {
      for (const k of FAULT_KINDS) this.set({ kind: k }, agent.faults.has(k) ? 1 : 0);
    },
  });
  new Gauge({
    name: 'edgesim_cluster_role',
    help: "This node's cluster role: 1 for the current role (none without k3s).",
    labelNames: ['role'],
    registers: [registry],
    collect() {
      const role = status().cluster?.role ?? 'none';
      for (const r of CLUSTER_ROLES) this.set({ role: r }, r === role ? 1 : 0);
    },
  });
  new Gauge({
    name: 'edgesim_cluster_node_ready',
    help: '1 when this node reports READY in its cluster, else 0.',
    registers: [registry],
    collect() {
      this.set(status().cluster?.nodeStatus === 'READY' ? 1 : 0);
    },
  });
  new Gauge({
    name: 'edgesim_cluster_leader',
    help: '1 while this node holds the cluster leader Lease.',
    registers: [registry],
    collect() {
      this.set(status().cluster?.isLeader ? 1 : 0);
    },
  });
  new Gauge({
    name: 'edgesim_cluster_nodes',
    help: 'Nodes of the cluster as this node last saw them, by readiness.',
    labelNames: ['ready'],
    registers: [registry],
    collect() {
      const nodes = status().cluster?.nodes ?? [];
      this.set({ ready: 'true' }, nodes.filter((n) => n.ready).length);
      this.set({ ready: 'false' }, nodes.filter((n) => !n.ready).length);
    },
  });
  new Gauge({
    name: 'edgesim_apps_configured',
    help: 'App instances in the current config, by activate flag.',
    labelNames: ['activate'],
    registers: [registry],
    collect() {
      const apps = config.current()?.apps ?? [];
      this.set({ activate: 'true' }, apps.filter((a) => a.activate).length);
      this.set({ activate: 'false' }, apps.filter((a) => !a.activate).length);
    },
  });
  new Gauge({
    name: 'edgesim_apps_running',
    help: 'App instances this node runs (cluster_app_running), as the app reconciler last observed them.',
    registers: [registry],
    collect() {
      this.set((status().apps ?? []).filter((a) => a.activated).length);
    },
  });
  new Gauge({
    name: 'edgesim_apps_state',
    help: 'App instances by the state (ZSwState) this node reports for them.',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      this.reset();
      for (const a of status().apps ?? []) this.inc({ state: a.state });
    },
  });
  collectDefaultMetrics({ register: registry, prefix: 'edgesim_agent_' });

  agent.onEvent((e) => {
    const source = typeof e.fields?.source === 'string' ? e.fields.source : 'controller';
    if (e.kind === 'config.accepted') configResults.inc({ result: 'accepted', source });
    else if (e.kind === 'config.rejected') configResults.inc({ result: 'rejected', source: 'controller' });
  });
  agent.observe({
    configFetch: (result, ms) => configFetch.observe({ result }, ms / 1000),
    keyStoreOp: (op, ms, ok) => keyOps.observe({ op, result: ok ? 'ok' : 'error' }, ms / 1000),
  });
  return registry;
}

/** Serves `GET /metrics` on a loopback address. */
export class MetricsExporter {
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly server: http.Server,
    private readonly log: Logger,
    /** The bound address, e.g. `http://127.0.0.1:9464/metrics`. */
    readonly url: string,
  ) {}

  /** Validates the address, builds the registry and listens. */
  static async create(opts: MetricsExporterOptions): Promise<MetricsExporter> {
    const { host, port } = parseMetricsListen(opts.listen);
    const log = opts.logger.child({ component: 'agent.metrics' });
    const registry = agentMetricsRegistry(opts.agent, opts.version);
    const server = http.createServer((req, res) => {
      if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try GET /metrics\n');
        return;
      }
      registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
        (e: unknown) => {
          log.warn('metrics collection failed', { error: errorMessage(e) });
          res.writeHead(500, { 'content-type': 'text/plain' }).end(`${errorMessage(e)}\n`);
        },
      );
    });
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => resolve());
      });
    } catch (e) {
      throw new AdminError('FAILED', `cannot listen for metrics on ${opts.listen}: ${errorMessage(e)}`, { listen: opts.listen });
    }
    const a = server.address() as AddressInfo;
    const url = `http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}/metrics`;
    log.info('metrics serving', { url });
    return new MetricsExporter(server, log, url);
  }

  /** Stops listening and closes open connections. Idempotent. */
  stop(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    }).then(() => this.log.info('metrics stopped'));
    return this.closing;
  }
}

/**
 * One stand-in node: `k3s server` (etcd member or external datastore, API server, kubelet, controllers when
 * elected) or `k3s agent` (kubelet only). Start-up order follows k3s: bootstrap data (new cluster, join, or the
 * data dir on restart) → etcd → API server → kubeconfig and token files → kubelet → leader election.
 * If the etcd member dies the node fails, as k3s does.
 */
import fs from 'node:fs';
import path from 'node:path';
import net from 'node:net';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Clock, Logger } from '../../common/index.js';
import { errorMessage, registerSecret } from '../../common/index.js';
import { writeFileAtomicSync } from '../../common/atomic-file.js';
import { ApiServer } from './api-server.js';
import { tokenPassword, type JoinHandler } from './api-router.js';
import type { StandinConfig } from './config.js';
import { startElectedControllers } from './controller-manager.js';
import { StandinError } from './errors.js';
import { EtcdMember, hostPort, peerUrl } from './etcd-member.js';
import { EtcdMembership, LEARNER_TIMEOUT_MS, waitEtcdReady } from './etcd-membership.js';
import { handleJoin, requestJoin, type BootstrapData } from './join.js';
import { KubeApi } from './kube-api.js';
import { KubeHttpClient } from '../kube-http.js';
import { writeKubeconfig } from './kubeconfig.js';
import { Kubelet } from './kubelet.js';
import type { KubeStore } from './store.js';
import { createClusterCa, issueServingCert, type KeyAndCert } from './tls.js';

/** Options of {@link K3sStandin.create}. */
export interface StandinOptions {
  config: StandinConfig;
  /** etcd binary. @default 'etcd' */
  etcdBinary?: string;
  clock: Clock;
  logger: Logger;
  /** Aborts a start-up that waits (join retries, node registration). */
  signal?: AbortSignal;
}

/** Lifecycle of a node. */
export type StandinState = 'starting' | 'running' | 'stopping' | 'stopped' | 'failed';

/** Where a server keeps its datastore key of the shared bootstrap data (external datastore only). */
const BOOTSTRAP_KEY = '/k3s/bootstrap';

/** A running stand-in node. */
export class K3sStandin {
  private state: StandinState = 'starting';
  private readonly stops: (() => Promise<void> | void)[] = [];
  private failure: ((e: Error) => void) | undefined;
  /** Rejects when the node fails after start-up (etcd member died); never resolves otherwise. */
  readonly failed: Promise<never>;
  /** The API URL of this node (servers) or of its server (agents). */
  apiUrl = '';

  private constructor(
    readonly config: StandinConfig,
    private readonly log: Logger,
  ) {
    this.failed = new Promise<never>((_, reject) => (this.failure = reject));
    this.failed.catch(() => undefined);
  }

  /** Starts a node; on failure releases whatever it had started. */
  static async create(opts: StandinOptions): Promise<K3sStandin> {
    const cfg = opts.config;
    const log = opts.logger.child({ component: 'k3s.standin', node: cfg.nodeName });
    registerSecret(cfg.token);
    registerSecret(tokenPassword(cfg.token));
    const node = new K3sStandin(cfg, log);
    log.info('k3s stand-in state', { from: 'none', to: 'starting', role: cfg.role, nodeIp: cfg.nodeIp });
    try {
      if (cfg.role === 'server') await node.startServer(opts);
      else await node.startAgent(opts);
    } catch (e) {
      await node.stop();
      throw e;
    }
    node.setState('running');
    return node;
  }

  private setState(to: StandinState): void {
    this.log.info('k3s stand-in state', { from: this.state, to });
    this.state = to;
  }

  private async startServer(opts: StandinOptions): Promise<void> {
    const { config: cfg, clock, logger } = opts;
    const serverDir = path.join(cfg.dataDir, 'server');
    fs.mkdirSync(path.join(serverDir, 'tls'), { recursive: true, mode: 0o700 });
    fs.mkdirSync(path.join(serverDir, 'cred'), { recursive: true, mode: 0o700 });
    const bootFile = path.join(serverDir, 'bootstrap.json');
    const etcdDir = path.join(serverDir, 'db', 'etcd');
    let boot: BootstrapData | undefined = fs.existsSync(bootFile) ? (JSON.parse(fs.readFileSync(bootFile, 'utf8')) as BootstrapData) : undefined;
    let store: KubeStore;
    let embedded = false;
    let onJoin: JoinHandler | undefined;
    let serving: Promise<KeyAndCert> | undefined;
    const issueServing = (ca: KeyAndCert): Promise<KeyAndCert> =>
      issueServingCert(ca, { nodeName: cfg.nodeName, nodeIp: cfg.nodeIp, tlsSans: cfg.tlsSans, now: clock.now() });

    if (cfg.datastoreEndpoint !== undefined) {
      const { KubeStore } = await import('./store.js');
      store = KubeStore.create({ endpoints: cfg.datastoreEndpoint.split(','), clock, logger });
      this.stops.push(() => store.close());
      if (!boot && cfg.server !== undefined) boot = await this.join(opts);
      boot ??= await this.sharedBootstrap(store, opts);
    } else {
      const restart = fs.existsSync(path.join(etcdDir, 'member'));
      let initialCluster: string | undefined;
      let clusterState: 'new' | 'existing' = 'new';
      if (restart) {
        if (!boot) throw new StandinError('config', `${bootFile} is missing although etcd data exists; cannot restart`, { file: bootFile });
        this.log.info('restarting with existing etcd data', { dir: etcdDir });
      } else if (cfg.server !== undefined) {
        const res = await requestJoin({
          server: cfg.server,
          token: cfg.token,
          request: { name: cfg.nodeName, role: 'server', peerUrl: peerUrl(cfg.nodeIp, cfg.etcdPeerPort) },
          clock, logger, ...(opts.signal ? { signal: opts.signal } : {}),
        });
        boot = { clusterId: res.clusterId, ca: res.ca, adminToken: res.adminToken };
        initialCluster = res.initialCluster;
        clusterState = 'existing';
      } else {
        boot = { clusterId: randomUUID(), ca: await createClusterCa(clock.now()), adminToken: randomBytes(24).toString('hex') };
      }
      // Atomic: a kill -9 in the middle of a plain write left an empty file, and the node could never start again
      // (kill9-chaos: "Unexpected end of JSON input" on every restart).
      writeFileAtomicSync(bootFile, JSON.stringify(boot), { mode: 0o600 });
      const member = await EtcdMember.create({
        name: cfg.nodeName,
        ip: cfg.nodeIp,
        clientPort: cfg.etcdClientPort,
        peerPort: cfg.etcdPeerPort,
        dataDir: etcdDir,
        ...(initialCluster !== undefined ? { initialCluster } : {}),
        clusterState,
        clusterToken: `k3s-standin-${boot.clusterId}`,
        ...(opts.etcdBinary !== undefined ? { binary: opts.etcdBinary } : {}),
        logFile: path.join(serverDir, 'db', 'etcd.log'),
        clock,
        logger,
      });
      this.stops.push(() => member.stop());
      void member.exit.then((code) => {
        if (this.state === 'stopping' || this.state === 'stopped') return;
        this.log.error('etcd member exited; the node fails', { code });
        this.setState('failed');
        this.failure?.(new StandinError('etcd', `etcd member exited with code ${String(code)}`, { code: code ?? undefined }));
      });
      // The etcd client (grpc-js, protobufjs parsing etcd's protos) takes most of a second to load on a busy
      // machine: load it while the etcd process starts, not before.
      const { KubeStore } = await import('./store.js');
      store = KubeStore.create({ endpoints: [`http://${hostPort(cfg.nodeIp, cfg.etcdClientPort)}`], clock, logger });
      this.stops.push(() => store.close());
      // The serving certificate is CPU work: do it while the etcd process starts.
      serving = issueServing(boot.ca);
      void serving.catch(() => undefined);
      await this.waitEtcd(opts, member, store, etcdDir, clusterState === 'existing' && !restart);
      // The etcd label marks a member of an embedded-etcd cluster; a plain `k3s server` is single-node (§4.4).
      embedded = cfg.clusterInit || cfg.server !== undefined || restart;
      if (embedded) {
        const membership = EtcdMembership.create({ client: store.client, clock, logger });
        this.stops.push(() => membership.stop());
        const joinBoot = boot;
        onJoin = (body) => handleJoin(body, joinBoot, membership, logger);
      }
    }
    const bootData = boot;
    registerSecret(bootData.adminToken);
    writeFileAtomicSync(path.join(serverDir, 'tls', 'server-ca.crt'), bootData.ca.certPem, { mode: 0o644 });
    writeFileAtomicSync(path.join(serverDir, 'tls', 'server-ca.key'), bootData.ca.keyPem, { mode: 0o600 });
    const servingCert = await (serving ?? issueServing(bootData.ca));
    writeFileAtomicSync(path.join(serverDir, 'tls', 'serving-kube-apiserver.crt'), servingCert.certPem, { mode: 0o644 });
    writeFileAtomicSync(path.join(serverDir, 'tls', 'serving-kube-apiserver.key'), servingCert.keyPem, { mode: 0o600 });

    const api = new KubeApi(store, clock, logger);
    const stopNamespaces = clock.every(1_000, () => {
      void api.ensureSystemNamespaces().then((done) => done && stopNamespaces());
    });
    this.stops.push(stopNamespaces);
    const loopback = net.isIP(cfg.nodeIp) === 4 && cfg.nodeIp.startsWith('127.') ? [] : ['127.0.0.1'];
    const server = await ApiServer.create({
      api,
      hosts: [cfg.nodeIp, ...loopback],
      port: cfg.httpsListenPort,
      certPem: servingCert.certPem,
      keyPem: servingCert.keyPem,
      caPem: bootData.ca.certPem,
      adminToken: bootData.adminToken,
      clusterToken: cfg.token || bootData.adminToken,
      onJoin: onJoin ?? ((body) => handleJoin(body, bootData, undefined, logger)),
      clock,
      logger,
    });
    this.stops.push(() => server.stop());
    this.apiUrl = `https://${hostPort(cfg.nodeIp, cfg.httpsListenPort)}`;
    const kubeconfigServer = loopback.length ? `https://127.0.0.1:${cfg.httpsListenPort}` : this.apiUrl;

    // k3s keeps the full token (K10<CA hash>::server:<password>) in server/token and server/node-token; always 0600,
    // also over a file left with a looser mode (writeFileSync's mode applies only when it creates the file).
    const full = `K10${createHash('sha256').update(bootData.ca.certPem).digest('hex')}::server:${tokenPassword(cfg.token || bootData.adminToken)}`;
    writeFileAtomicSync(path.join(serverDir, 'token'), full + '\n', { mode: 0o600 });
    writeFileAtomicSync(path.join(serverDir, 'node-token'), full + '\n', { mode: 0o600 });
    const kc = { server: kubeconfigServer, caPem: bootData.ca.certPem, token: bootData.adminToken };
    writeKubeconfig(path.join(serverDir, 'cred', 'admin.kubeconfig'), { ...kc, server: this.apiUrl }, 0o600);
    writeKubeconfig(cfg.writeKubeconfig, kc, cfg.writeKubeconfigMode);
    this.log.info('kubeconfig written', { path: cfg.writeKubeconfig });

    await this.startKubelet(opts, this.apiUrl, bootData, embedded);
    this.stops.push(
      startElectedControllers({ api, identity: cfg.nodeName, nodeMonitorPeriodMs: cfg.nodeMonitorPeriodMs, nodeMonitorGraceMs: cfg.nodeMonitorGraceMs, clock, logger }),
    );
  }

  /**
   * Waits until the new etcd member votes and serves linearizable reads, so the API server and kubelet start on a
   * working datastore. A joiner's member is a learner until the join server promotes it; if its etcd exits or is
   * not promoted in time, the half-joined data dir is removed so the next start joins afresh (reusing the learner
   * if the cluster still has it), and the start fails with the reason.
   */
  private async waitEtcd(opts: StandinOptions, member: EtcdMember, store: KubeStore, etcdDir: string, joining: boolean): Promise<void> {
    const { clock } = opts;
    const t0 = clock.now();
    const logFile = path.join(path.dirname(etcdDir), 'etcd.log');
    try {
      await waitEtcdReady({
        client: store.client,
        exited: member.exit,
        ...(joining ? { timeoutMs: LEARNER_TIMEOUT_MS + 15_000 } : {}),
        logFile,
        clock,
        logger: this.log,
        ...(opts.signal ? { signal: opts.signal } : {}),
      });
    } catch (e) {
      if (joining) {
        await member.stop();
        fs.rmSync(etcdDir, { recursive: true, force: true });
        this.log.error('etcd did not join; removed its data dir so the next start joins again', { error: errorMessage(e), dir: etcdDir });
      }
      throw e;
    }
    this.log.info('etcd ready', { ms: clock.now() - t0, joined: joining });
  }

  /** External datastore: the first server stores the bootstrap data in etcd, later ones must match its token. */
  private async sharedBootstrap(store: KubeStore, opts: StandinOptions): Promise<BootstrapData> {
    const tokenHash = createHash('sha256').update(tokenPassword(opts.config.token)).digest('hex');
    const mine: BootstrapData & { tokenHash: string } = {
      tokenHash,
      clusterId: randomUUID(),
      ca: await createClusterCa(opts.clock.now()),
      adminToken: randomBytes(24).toString('hex'),
    };
    const key = Buffer.from(BOOTSTRAP_KEY);
    const res = await store.client.kv.txn({
      compare: [{ key, target: 'Create', result: 'Equal', create_revision: 0 }],
      success: [{ request_put: { key, value: Buffer.from(JSON.stringify(mine)) } }],
      failure: [{ request_range: { key } }],
    });
    const stored = res.succeeded ? mine : (JSON.parse(res.responses[0].response_range.kvs[0].value.toString('utf8')) as typeof mine);
    if (stored.tokenHash !== tokenHash) {
      throw new StandinError('join-refused', 'bootstrap data in the datastore was created with a different token', { datastore: opts.config.datastoreEndpoint });
    }
    return { clusterId: stored.clusterId, ca: stored.ca, adminToken: stored.adminToken };
  }

  private async join(opts: StandinOptions): Promise<BootstrapData> {
    const res = await requestJoin({
      server: opts.config.server!,
      token: opts.config.token,
      request: { name: opts.config.nodeName, role: opts.config.role },
      clock: opts.clock,
      logger: opts.logger,
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    return { clusterId: res.clusterId, ca: res.ca, adminToken: res.adminToken };
  }

  private async startAgent(opts: StandinOptions): Promise<void> {
    const boot = await this.join(opts);
    registerSecret(boot.adminToken);
    fs.mkdirSync(path.join(opts.config.dataDir, 'agent'), { recursive: true, mode: 0o700 });
    writeFileAtomicSync(path.join(opts.config.dataDir, 'agent', 'server-ca.crt'), boot.ca.certPem, { mode: 0o644 });
    this.apiUrl = opts.config.server!;
    await this.startKubelet(opts, opts.config.server!, boot, false);
  }

  private async startKubelet(opts: StandinOptions, apiUrl: string, boot: BootstrapData, etcdMember: boolean): Promise<void> {
    const cfg = opts.config;
    const client = new KubeHttpClient({ baseUrl: apiUrl, caPem: boot.ca.certPem, authorization: `Bearer ${boot.adminToken}`, timeoutMs: 10_000, clock: opts.clock });
    const kubelet = await Kubelet.create(
      {
        client,
        nodeName: cfg.nodeName,
        nodeIp: cfg.nodeIp,
        role: cfg.role,
        etcdMember,
        labels: cfg.nodeLabels,
        taints: cfg.nodeTaints,
        statusIntervalMs: cfg.nodeStatusUpdateMs,
        podStartDelayMs: cfg.podStartDelayMs,
        clock: opts.clock,
        logger: opts.logger,
      },
      opts.signal,
    );
    this.stops.push(() => kubelet.stop());
  }

  /** Stops everything in reverse start order (etcd last). Idempotent. */
  async stop(): Promise<void> {
    if (this.state === 'stopping' || this.state === 'stopped') return;
    this.setState('stopping');
    for (const s of this.stops.reverse()) {
      try {
        await s();
      } catch (e) {
        this.log.warn('stop step failed', { error: errorMessage(e) });
      }
    }
    this.stops.length = 0;
    this.setState('stopped');
  }
}

/**
 * One embedded etcd member (Debian's `etcd`, 3.4 or 3.5), as k3s runs it: data under
 * `<data-dir>/server/db/etcd`, client URL `<node-ip>:2379`, peer URL `<node-ip>:2380` (plain HTTP: the stand-in
 * keeps etcd on the cluster network without TLS). Only flags valid on both 3.4 and 3.5 are used.
 *
 * The member must not outlive the stand-in. It runs in its own process group under a tiny `sh` watchdog whose
 * stdin is a pipe held by the stand-in: when the stand-in dies in any way (even SIGKILL) the pipe closes, `read`
 * returns and the watchdog SIGKILLs etcd — a crash of the node, as a crash should look. `stop()` instead sends
 * SIGTERM to the whole group and waits.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Clock, Logger } from '../../common/index.js';
import { errorMessage } from '../../common/index.js';
import { StandinError } from './errors.js';

/** How the member joins: a new cluster, an existing one (after MemberAdd), or its own data dir on restart. */
export type EtcdClusterState = 'new' | 'existing';

/** Options of {@link EtcdMember.create}. */
export interface EtcdMemberOptions {
  /** Member name (the node name). */
  name: string;
  /** Bind address of both URLs (node-ip). */
  ip: string;
  /** @default 2379 */
  clientPort: number;
  /** @default 2380 */
  peerPort: number;
  /** etcd data dir; a member found there restarts with its data and ignores the initial-cluster flags. */
  dataDir: string;
  /** `name=http://ip:2380,...` for a joiner (from the join server), else just this member. */
  initialCluster?: string;
  clusterState: EtcdClusterState;
  /** Cluster token; keeps separate test clusters apart. */
  clusterToken: string;
  /** etcd binary. @default 'etcd' */
  binary?: string;
  /** Where etcd's own log lines go. */
  logFile: string;
  clock: Clock;
  logger: Logger;
}

type MemberState = 'starting' | 'running' | 'stopping' | 'stopped' | 'exited';

// The watchdog: etcd in the background, then block on stdin; EOF means the stand-in is gone.
const WATCHDOG = [
  // Background lists get /dev/null as stdin (POSIX), so keep the pipe on fd 3 first.
  'exec 3<&0',
  '"$@" </dev/null 3<&- & p=$!',
  '( read -r _ <&3; kill -KILL $p 2>/dev/null ) &',
  'w=$!',
  'exec 3<&-',
  'trap \'kill -TERM $p 2>/dev/null\' TERM INT',
  'rc=0',
  'while :; do wait $p; rc=$?; kill -0 $p 2>/dev/null || break; done',
  'kill $w 2>/dev/null',
  'exit $rc',
].join('\n');

/** A running etcd member process. */
export class EtcdMember {
  private state: MemberState = 'starting';
  private readonly exited: Promise<number | null>;

  private constructor(
    private readonly child: ChildProcess,
    private readonly opts: EtcdMemberOptions,
    private readonly log: Logger,
  ) {
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        const from = this.state;
        this.state = from === 'stopping' ? 'stopped' : 'exited';
        this.log.info('etcd member state', { from, to: this.state, code, signal });
        resolve(code);
      });
    });
  }

  /** Client URL of this member, `http://<ip>:<clientPort>`. */
  get clientUrl(): string {
    return `http://${hostPort(this.opts.ip, this.opts.clientPort)}`;
  }

  /** Peer URL of this member. */
  get peerUrl(): string {
    return peerUrl(this.opts.ip, this.opts.peerPort);
  }

  /** Resolves with etcd's exit code when the process ends (for supervision). */
  get exit(): Promise<number | null> {
    return this.exited;
  }

  /** Starts etcd and returns once the process is running (readiness is checked by the datastore client). */
  static async create(opts: EtcdMemberOptions): Promise<EtcdMember> {
    const log = opts.logger.child({ component: 'k3s.standin.etcd' });
    fs.mkdirSync(opts.dataDir, { recursive: true, mode: 0o700 });
    fs.mkdirSync(path.dirname(opts.logFile), { recursive: true });
    const restart = fs.existsSync(path.join(opts.dataDir, 'member'));
    const me = peerUrl(opts.ip, opts.peerPort);
    const client = `http://${hostPort(opts.ip, opts.clientPort)}`;
    const args = [
      `--name=${opts.name}`,
      `--data-dir=${opts.dataDir}`,
      `--listen-client-urls=${client}`,
      `--advertise-client-urls=${client}`,
      `--listen-peer-urls=${me}`,
      `--initial-advertise-peer-urls=${me}`,
      `--initial-cluster=${opts.initialCluster ?? `${opts.name}=${me}`}`,
      `--initial-cluster-state=${opts.clusterState}`,
      `--initial-cluster-token=${opts.clusterToken}`,
      // cluster.md §4.1: snapshot-count 5000, periodic compaction; quota kept small for tests.
      '--snapshot-count=5000',
      '--auto-compaction-mode=periodic',
      '--auto-compaction-retention=1h',
      // Joins are learner-first and serialised by the stand-in (etcd-membership.ts); the strict check would add
      // a 5 s connected-to-all-peers wait before every MemberAdd. Promotion still requires an in-sync learner.
      '--strict-reconfig-check=false',
      '--heartbeat-interval=100',
      '--election-timeout=1000',
      '--logger=zap',
      '--log-level=warn',
    ];
    const logFd = fs.openSync(opts.logFile, 'a');
    let child: ChildProcess;
    try {
      child = spawn('sh', ['-c', WATCHDOG, 'etcd-watchdog', opts.binary ?? 'etcd', ...args], {
        detached: true,
        stdio: ['pipe', logFd, logFd],
        // etcd 3.4 refuses to start on non-amd64 without this; harmless elsewhere and on 3.5.
        env: { ...process.env, ...(process.arch === 'x64' ? {} : { ETCD_UNSUPPORTED_ARCH: process.arch }) },
      });
    } finally {
      fs.closeSync(logFd);
    }
    const member = new EtcdMember(child, opts, log);
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', (e) =>
        reject(new StandinError('etcd', `cannot start etcd: ${errorMessage(e)}`, { binary: opts.binary ?? 'etcd' })),
      );
    });
    // The pipe must not keep our event loop alive; it is only a liveness signal for the watchdog.
    (child.stdin as unknown as { unref?: () => void } | null)?.unref?.();
    child.unref();
    member.state = 'running';
    log.info('etcd member state', {
      from: 'starting',
      to: 'running',
      pid: child.pid,
      restart,
      clusterState: restart ? 'data dir' : opts.clusterState,
      peerUrl: me,
    });
    return member;
  }

  /** Sends SIGTERM to the member's process group and waits up to `graceMs` (spec ms), then SIGKILL. Idempotent. */
  async stop(graceMs = 5_000): Promise<void> {
    if (this.state === 'stopped' || this.state === 'exited') return;
    if (this.state !== 'stopping') {
      this.log.info('etcd member state', { from: this.state, to: 'stopping' });
      this.state = 'stopping';
      this.signalGroup('SIGTERM');
    }
    const timer = new AbortController();
    const killed = this.opts.clock.sleep(graceMs, timer.signal).then(
      () => this.signalGroup('SIGKILL'),
      () => undefined,
    );
    await this.exited;
    timer.abort();
    await killed;
  }

  private signalGroup(sig: NodeJS.Signals): void {
    const pid = this.child.pid;
    if (pid === undefined) return;
    try {
      process.kill(-pid, sig);
    } catch {
      // The group is already gone.
    }
  }
}

/** `ip:port`, bracketing IPv6. */
export function hostPort(ip: string, port: number): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

/** The peer URL etcd advertises for a member. */
export function peerUrl(ip: string, port: number): string {
  return `http://${hostPort(ip, port)}`;
}

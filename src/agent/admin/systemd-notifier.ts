/**
 * sd_notify for `Type=notify` units without a native addon: Node has no AF_UNIX datagram sockets, so every
 * notification is one run of the `systemd-notify` CLI with `--pid=<agent pid>` (the unit sets NotifyAccess=all so
 * systemd accepts messages from that helper; systemd-notify waits for systemd to process each one, the BARRIER=1
 * protocol, so the helper is still alive when systemd looks up its cgroup). See systemd-notify(1), sd_notify(3).
 *
 * What it sends: READY=1 once the agent has its first config (from the controller or the checkpoint), STATUS= lines
 * as the phase, config or connectivity change, WATCHDOG=1 every WATCHDOG_USEC/2 while the agent's main loops make
 * progress, and STOPPING=1 on stop. With NOTIFY_SOCKET unset (not under systemd) it does nothing at all.
 *
 * Watchdog: a ping is a claim that the agent works, not merely that Node's event loop runs, so it follows the passes
 * of the agent's loops (config poll, device info) as EVE's agents touch their watchdog from their own event loops
 * (lf-edge/eve: pkg/pillar/pubsub StillRunning). A loop waiting for its timer is healthy; a pass still running after
 * WATCHDOG_USEC/2 is stuck, and no ping is sent until it ends, so systemd kills and restarts a hung agent after
 * WatchdogSec. A failed agent gets no pings either.
 */
import { spawn } from 'node:child_process';
import type { Clock, Logger } from '../../common/index.js';
import { errorMessage } from '../../common/index.js';
import type { AgentEvent, AgentLoop } from '../index.js';
import type { OperatedAgent } from './operated-agent.js';

/** Event kinds that may change the STATUS= line. */
const STATUS_EVENTS = ['phase', 'config.', 'attested', 'onboarded', 'cluster.phase', 'fault'];

export interface SystemdNotifierOptions {
  agent: OperatedAgent;
  /**
   * The environment the process was started with (NOTIFY_SOCKET, WATCHDOG_USEC, WATCHDOG_PID, PATH). The caller
   * should remove NOTIFY_SOCKET and WATCHDOG_* from its own environment afterwards so children (k3s, which speaks
   * sd_notify itself) cannot mark this unit ready (sd_notify's unset_environment).
   */
  env: Record<string, string | undefined>;
  /** The PID systemd knows as the main process (the agent's `process.pid`). */
  pid: number;
  clock: Clock;
  logger: Logger;
  /** The notify helper. @default 'systemd-notify' */
  command?: string;
}

/** The STATUS= text for a status snapshot, e.g. `running; config 3f2a9c1b from controller; controller reachable; queue 0`. */
export function statusLine(agent: OperatedAgent): string {
  const s = agent.status();
  const parts: string[] = [s.phase];
  parts.push(s.lastConfigHash ? `config ${s.lastConfigHash.slice(0, 8)} from ${s.configSource}` : 'no config yet');
  if (s.lastConfigError) parts.push('last config rejected');
  parts.push(`controller ${s.controllerReachable ? 'reachable' : 'unreachable'}`);
  parts.push(`queue ${s.queueDepth}`);
  if (s.cluster && s.cluster.role !== 'none') parts.push(`cluster ${s.cluster.role} ${s.cluster.nodeStatus || s.cluster.phase}`);
  const faults = agent.faults.list();
  if (faults.length) parts.push(`faults ${faults.map((f) => f.kind).join(',')}`);
  return parts.join('; ');
}

/** Watchdog ping interval in real ms (half of WATCHDOG_USEC, as sd_watchdog_enabled(3) advises), or undefined. */
export function watchdogIntervalMs(env: Record<string, string | undefined>, pid: number): number | undefined {
  const usec = Number(env.WATCHDOG_USEC);
  if (!env.WATCHDOG_USEC || !Number.isFinite(usec) || usec <= 0) return undefined;
  // WATCHDOG_PID names the process the watchdog is meant for; another PID means it is not ours.
  if (env.WATCHDOG_PID && Number(env.WATCHDOG_PID) !== pid) return undefined;
  return usec / 1000 / 2;
}

/** Tells systemd about the agent's readiness, status and liveness. */
export class SystemdNotifier {
  private readyDone = false;
  private lastStatus = '';
  private chain: Promise<void> = Promise.resolve();
  private stopped = false;
  private warned = false;
  private readonly offs: Array<() => void> = [];
  /** Loops inside a pass, with the notifier clock's monotonic reading when the pass began (a duration, not a time). */
  private readonly busySince = new Map<AgentLoop, number>();
  /** The start of the stall last warned about, so one stall logs once. */
  private warnedStallAt: number | undefined;
  private readonly log: Logger;
  private readonly socket: string | undefined;

  private constructor(private readonly opts: SystemdNotifierOptions) {
    this.log = opts.logger.child({ component: 'agent.systemd' });
    this.socket = opts.env.NOTIFY_SOCKET || undefined;
  }

  /** Starts notifying (a no-op notifier when NOTIFY_SOCKET is unset). */
  static create(opts: SystemdNotifierOptions): SystemdNotifier {
    const n = new SystemdNotifier(opts);
    if (n.socket) n.start();
    return n;
  }

  /** True when running under a notify socket. */
  get enabled(): boolean {
    return this.socket !== undefined;
  }

  private start(): void {
    const { agent, clock } = this.opts;
    this.log.info('notifying systemd', { socket: this.socket });
    this.offs.push(
      agent.onEvent((e: AgentEvent) => {
        if (STATUS_EVENTS.some((k) => e.kind.startsWith(k))) this.updateStatus();
      }),
    );
    agent.onConfig(() => {
      if (this.readyDone || this.stopped) return;
      this.readyDone = true;
      this.lastStatus = statusLine(agent);
      this.send(['READY=1', `STATUS=${this.lastStatus}`]);
    });
    this.updateStatus();
    const everyMs = watchdogIntervalMs(this.opts.env, this.opts.pid);
    if (everyMs !== undefined) {
      this.log.info('watchdog enabled', { pingEveryMs: everyMs });
      this.offs.push(
        agent.observe({
          loopPass: (loop, busy) => {
            if (busy) this.busySince.set(loop, clock.monotonic());
            else this.busySince.delete(loop);
          },
        }),
      );
      // The watchdog runs on systemd's real clock: pings stay `everyMs` apart in real time.
      this.offs.push(clock.everyReal(everyMs, () => this.ping(everyMs)));
    }
  }

  /** Pings unless the agent failed or one of its loops has been inside one pass for longer than `stuckAfterMs`. */
  private ping(stuckAfterMs: number): void {
    if (this.stopped || this.opts.agent.status().phase === 'failed') return;
    const now = this.opts.clock.monotonic();
    for (const [loop, since] of this.busySince) {
      if (now - since <= stuckAfterMs) continue;
      if (this.warnedStallAt !== since) this.log.warn('agent loop stuck: withholding the watchdog ping', { loop, busyForMs: now - since });
      this.warnedStallAt = since;
      return;
    }
    const line = statusLine(this.opts.agent);
    const extra = line !== this.lastStatus ? [`STATUS=${line}`] : [];
    this.lastStatus = line;
    this.send(['WATCHDOG=1', ...extra]);
  }

  private updateStatus(): void {
    if (this.stopped) return;
    const line = statusLine(this.opts.agent);
    if (line === this.lastStatus) return;
    this.lastStatus = line;
    this.send([`STATUS=${line}`]);
  }

  /** Sends STOPPING=1, stops the watchdog and waits for pending notifications. Idempotent. */
  async stop(): Promise<void> {
    if (!this.socket || this.stopped) return this.chain;
    this.send(['STOPPING=1', 'STATUS=stopping']);
    this.stopped = true;
    for (const off of this.offs.splice(0)) off();
    return this.chain;
  }

  /** Queues one notification; they leave in order, one helper process at a time. */
  private send(assignments: string[]): void {
    this.chain = this.chain.then(() => this.run(assignments));
  }

  private run(assignments: string[]): Promise<void> {
    const cmd = this.opts.command ?? 'systemd-notify';
    return new Promise<void>((resolve) => {
      const child = spawn(cmd, [`--pid=${this.opts.pid}`, ...assignments], {
        env: { ...this.opts.env, NOTIFY_SOCKET: this.socket },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      const fail = (why: string): void => {
        // One warning, then debug: a broken notify socket must not flood the journal or stop the agent.
        const fields = { assignments: assignments.join(' '), error: why };
        if (this.warned) this.log.debug('systemd notification failed', fields);
        else this.log.warn('systemd notification failed', fields);
        this.warned = true;
      };
      child.on('error', (e) => {
        fail(errorMessage(e));
        resolve();
      });
      child.on('close', (code) => {
        if (code !== 0) fail(`${cmd} exited ${code}: ${stderr.trim()}`);
        resolve();
      });
    });
  }
}

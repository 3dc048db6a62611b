/**
 * Everything an operator uses to run an agent, started together after `Agent.create` and stopped before
 * `agent.stop()`: the admin API socket, the metrics port (optional) and the systemd notifier (active only under a
 * notify socket).
 */
import path from 'node:path';
import type { Clock, Logger } from '../../common/index.js';
import { AdminServer } from './admin-server.js';
import type { MetricsExporter } from './metrics-exporter.js';
import type { OperatedAgent } from './operated-agent.js';
import { SystemdNotifier } from './systemd-notifier.js';

export interface OperationsOptions {
  agent: OperatedAgent;
  /** The agent's state dir; the admin socket defaults to `<stateDir>/admin.sock`. */
  stateDir: string;
  /** Admin socket path override. @default `<stateDir>/admin.sock` */
  adminSocket?: string;
  /** Loopback `host:port` for Prometheus metrics. @default off */
  metricsListen?: string;
  /** The process environment as started (NOTIFY_SOCKET, WATCHDOG_USEC, WATCHDOG_PID, PATH). */
  env: Record<string, string | undefined>;
  /** The agent's PID (what systemd knows as the main process). */
  pid: number;
  /** The edgesim version, reported by Status and the metrics. */
  version: string;
  clock: Clock;
  logger: Logger;
}

/** The admin server, metrics exporter and systemd notifier of one running agent. */
export class Operations {
  private stopping: Promise<void> | undefined;

  private constructor(
    readonly admin: AdminServer,
    readonly metrics: MetricsExporter | undefined,
    readonly notifier: SystemdNotifier,
  ) {}

  /** Starts the three parts; if one fails, stops those already started and rethrows. */
  static async create(opts: OperationsOptions): Promise<Operations> {
    const { agent, clock, logger, version } = opts;
    const socketPath = path.resolve(opts.adminSocket ?? path.join(opts.stateDir, 'admin.sock'));
    const admin = await AdminServer.create({ agent, socketPath, version, clock, logger });
    let metrics: MetricsExporter | undefined;
    try {
      // prom-client is loaded only when metrics are asked for (it is a tenth of the agent's start-up).
      if (opts.metricsListen) {
        const { MetricsExporter } = await import('./metrics-exporter.js');
        metrics = await MetricsExporter.create({ agent, listen: opts.metricsListen, version, logger });
      }
    } catch (e) {
      await admin.stop();
      throw e;
    }
    const notifier = SystemdNotifier.create({ agent, env: opts.env, pid: opts.pid, clock, logger });
    return new Operations(admin, metrics, notifier);
  }

  /** STOPPING=1 to systemd, then closes the metrics port and the admin socket (removing its file). Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      await this.notifier.stop();
      await this.metrics?.stop();
      await this.admin.stop();
    })();
    return this.stopping;
  }
}

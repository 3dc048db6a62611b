/**
 * The agent's admin API: gRPC (edgesim.admin.v1.AgentAdmin, proto/admin/admin.proto) on a unix socket, mode 0600.
 * Handlers read the agent's public API only; errors become gRPC status codes here and nowhere else
 * (FaultError → INVALID_ARGUMENT, no config yet → NOT_FOUND, anything else → INTERNAL).
 */
import { chmod, lstat, unlink } from 'node:fs/promises';
import net from 'node:net';
import * as grpc from '@grpc/grpc-js';
import type { Clock, Logger } from '../../common/index.js';
import { errorMessage, redact } from '../../common/index.js';
import { FaultError, type AgentEvent, type Fault } from '../index.js';
import {
  loadAdminService,
  type AgentAdminHandlers,
  type AppMsg,
  type ClusterNodeMsg,
  type ConfigReply,
  type EventMsg,
  type FaultMsg,
  type InjectFaultRequest,
  type StatusReply,
} from './admin-proto.js';
import { AdminError, isAdminError } from './errors.js';
import { trackConfig, type ConfigTracker, type OperatedAgent } from './operated-agent.js';
import { redactConfig } from './redact-config.js';

/** Longest unix socket path the kernel accepts (sun_path is 108 bytes with the terminating NUL). */
const MAX_SOCKET_PATH = 107;
/** How long open calls (watch streams) get to finish on stop before they are cancelled. */
const STOP_GRACE_MS = 2_000;

export interface AdminServerOptions {
  agent: OperatedAgent;
  /** Absolute path of the unix socket, normally `<state-dir>/admin.sock`. */
  socketPath: string;
  /** The edgesim version reported by Status. */
  version: string;
  logger: Logger;
  clock: Clock;
}

/** Lifecycle of the admin server. */
export type AdminServerState = 'serving' | 'stopping' | 'stopped';

/** Converts an agent fault to its wire form. */
export function faultMsg(f: Fault): FaultMsg {
  return { kind: f.kind, ...(f.value !== undefined ? { value: f.value } : {}), ...(f.untilMs !== undefined ? { untilMs: f.untilMs } : {}) };
}

/** Builds the Status reply from the agent's public state. */
export function statusReply(agent: OperatedAgent, version: string): StatusReply {
  const s = agent.status();
  return {
    phase: s.phase,
    deviceUuid: s.deviceUuid ?? '',
    keyStore: { kind: agent.keyStore.kind, description: agent.keyStore.description },
    controllerReachable: s.controllerReachable,
    attested: s.attested,
    lastConfigHash: s.lastConfigHash,
    lastConfigAtMs: s.lastConfigAtMs,
    configSource: s.configSource,
    lastConfigError: s.lastConfigError ?? '',
    queueDepth: s.queueDepth,
    queueOldestAgeMs: Math.round(s.queueOldestAgeMs),
    version,
    activeFaults: agent.faults.list().map(faultMsg),
    cluster: s.cluster
      ? {
          role: s.cluster.role,
          clusterId: s.cluster.clusterId,
          clusterIp: s.cluster.clusterIp,
          nodeName: s.cluster.nodeName,
          nodeStatus: s.cluster.nodeStatus,
          isLeader: s.cluster.isLeader,
          leader: s.cluster.leader,
          phase: s.cluster.phase,
          error: s.cluster.error ?? '',
        }
      : null,
  };
}

function eventMsg(e: AgentEvent): EventMsg {
  return { timeMs: e.timeMs, kind: e.kind, message: redact(e.message), fieldsJson: e.fields ? redact(JSON.stringify(e.fields)) : '' };
}

function serviceError(e: unknown): Partial<grpc.StatusObject> {
  const details = redact(errorMessage(e));
  if (e instanceof FaultError) return { code: grpc.status.INVALID_ARGUMENT, details };
  if (isAdminError(e) && e.kind === 'NOT_FOUND') return { code: grpc.status.NOT_FOUND, details };
  if (isAdminError(e) && e.kind === 'INVALID_ARGUMENT') return { code: grpc.status.INVALID_ARGUMENT, details };
  return { code: grpc.status.INTERNAL, details };
}

/**
 * Removes a stale socket left by a crashed agent (or fleet); refuses when a live one still answers or the path is no
 * socket.
 */
export async function claimSocketPath(socketPath: string): Promise<void> {
  let isSocket: boolean;
  try {
    isSocket = (await lstat(socketPath)).isSocket();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  if (!isSocket) throw new AdminError('SOCKET_IN_USE', `${socketPath} exists and is not a socket; not replacing it`, { socket: socketPath });
  const alive = await new Promise<boolean>((resolve) => {
    const s = net.connect(socketPath);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
  if (alive) throw new AdminError('SOCKET_IN_USE', `another agent already serves ${socketPath}`, { socket: socketPath });
  await unlink(socketPath);
}

/**
 * Binds `server` on the unix socket, owner-only (0600, design.md: admin.sock). On failure the server is shut down,
 * the socket removed and the error rethrown: nothing is left half-served.
 */
export async function bindOwnerSocket(server: grpc.Server, socketPath: string): Promise<void> {
  try {
    await new Promise<void>((resolve, reject) =>
      server.bindAsync(`unix:${socketPath}`, grpc.ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve())),
    );
    await chmod(socketPath, 0o600);
  } catch (e) {
    server.forceShutdown();
    await unlink(socketPath).catch(() => undefined);
    throw e;
  }
}

/** The gRPC admin server of one agent. */
export class AdminServer {
  private stateValue: AdminServerState = 'serving';
  private stopping: Promise<void> | undefined;
  private readonly watchers = new Set<grpc.ServerWritableStream<unknown, EventMsg>>();
  private readonly log: Logger;
  private readonly config: ConfigTracker;

  private constructor(
    private readonly opts: AdminServerOptions,
    private readonly server: grpc.Server,
  ) {
    this.log = opts.logger.child({ component: 'agent.admin' });
    this.config = trackConfig(opts.agent);
  }

  /** Binds the socket (replacing a stale one), restricts it to 0600 and starts serving. */
  static async create(opts: AdminServerOptions): Promise<AdminServer> {
    const socketPath = opts.socketPath;
    if (!socketPath.startsWith('/')) {
      throw new AdminError('INVALID_ARGUMENT', `admin socket path must be absolute, got "${socketPath}"`, { field: 'admin-socket' });
    }
    if (Buffer.byteLength(socketPath) > MAX_SOCKET_PATH) {
      throw new AdminError('INVALID_ARGUMENT', `admin socket path is longer than ${MAX_SOCKET_PATH} bytes: ${socketPath}`, {
        field: 'admin-socket',
      });
    }
    await claimSocketPath(socketPath);
    const server = new grpc.Server();
    const admin = new AdminServer(opts, server);
    server.addService(loadAdminService(), admin.handlers());
    try {
      await bindOwnerSocket(server, socketPath);
    } catch (e) {
      throw new AdminError('FAILED', `cannot serve the admin API on ${socketPath}: ${errorMessage(e)}`, { socket: socketPath });
    }
    admin.log.info('admin API serving', { socket: socketPath });
    return admin;
  }

  get state(): AdminServerState {
    return this.stateValue;
  }

  get socketPath(): string {
    return this.opts.socketPath;
  }

  /** Ends watch streams, lets calls finish (bounded), closes the socket and removes its file. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= this.stopInner();
    return this.stopping;
  }

  private setState(to: AdminServerState): void {
    this.log.info('admin server state', { from: this.stateValue, to });
    this.stateValue = to;
  }

  private async stopInner(): Promise<void> {
    this.setState('stopping');
    for (const w of this.watchers) w.end();
    this.watchers.clear();
    const grace = new AbortController();
    const closed = new Promise<void>((resolve) => this.server.tryShutdown(() => resolve()));
    const forced = this.opts.clock.sleep(STOP_GRACE_MS, grace.signal).then(
      () => this.server.forceShutdown(),
      () => undefined,
    );
    await Promise.race([closed, forced]);
    grace.abort();
    await unlink(this.opts.socketPath).catch((e: unknown) => {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') this.log.warn('cannot remove the admin socket', { error: errorMessage(e) });
    });
    this.setState('stopped');
  }

  private handlers(): AgentAdminHandlers {
    const { agent, version } = this.opts;
    const unary =
      <Req, Res>(fn: (req: Req) => Res) =>
      (call: grpc.ServerUnaryCall<Req, Res>, callback: grpc.sendUnaryData<Res>): void => {
        try {
          callback(null, fn(call.request));
        } catch (e) {
          callback(serviceError(e));
        }
      };
    return {
      Status: unary(() => statusReply(agent, version)),
      Config: unary((): ConfigReply => {
        const cfg = this.config.current();
        if (!cfg) throw new AdminError('NOT_FOUND', 'the agent has not accepted a config yet');
        const s = agent.status();
        return { json: JSON.stringify(redactConfig(cfg)), configHash: s.lastConfigHash, source: s.configSource, receivedAtMs: s.lastConfigAtMs };
      }),
      Apps: unary(() => {
        const observed = new Map((agent.status().apps ?? []).map((x) => [x.uuid, x.state]));
        return {
        apps: (this.config.current()?.apps ?? []).map(
          (a): AppMsg => ({
            uuid: a.uuid,
            version: a.version,
            displayName: a.displayName,
            activate: a.activate,
            designatedNodeId: a.designatedNodeId,
            affinity: a.affinity,
            state: observed.get(a.uuid) ?? '',
          }),
        ),
        };
      }),
      ClusterNodes: unary(() => ({
        nodes: (agent.status().cluster?.nodes ?? []).map(
          (n): ClusterNodeMsg => ({ name: n.name, nodeId: n.nodeId, ready: n.ready, internalIp: n.internalIp, schedulable: n.schedulable }),
        ),
      })),
      Watch: (call) => this.watch(call),
      InjectFault: unary((req: InjectFaultRequest) => {
        const fault = agent.faults.inject(req.kind, {
          ...(req.value !== undefined ? { value: req.value } : {}),
          ...(req.durationMs !== undefined ? { durationMs: req.durationMs } : {}),
        });
        this.log.warn('fault injected', { fault: req.kind, value: req.value, durationMs: req.durationMs });
        return faultMsg(fault);
      }),
      ClearFault: unary((req: { kind: string }) => {
        const cleared = agent.faults.clear(req.kind);
        this.log.info('fault cleared', { fault: req.kind, cleared });
        return { cleared };
      }),
      ListFaults: unary(() => ({ faults: agent.faults.list().map(faultMsg) })),
    };
  }

  /** Streams agent events and fault changes until the client cancels or the server stops. */
  private watch(call: grpc.ServerWritableStream<{ kinds: string[] }, EventMsg>): void {
    if (this.stateValue !== 'serving') {
      call.end();
      return;
    }
    const kinds = call.request.kinds ?? [];
    const wanted = (kind: string): boolean => kinds.length === 0 || kinds.some((k) => kind.startsWith(k));
    const send = (e: AgentEvent): void => {
      if (wanted(e.kind)) call.write(eventMsg(e));
    };
    const offEvent = this.opts.agent.onEvent(send);
    // Fault changes are part of the stream: an operator watching sees their own inject/clear and timed expiries.
    const offFault = this.opts.agent.faults.onChange((kind, active) => {
      const f = this.opts.agent.faults.get(kind);
      send({
        timeMs: this.opts.clock.now(),
        kind: 'fault',
        message: `${kind} ${active ? 'injected' : 'cleared'}`,
        fields: { fault: kind, active, ...(f?.value !== undefined ? { value: f.value } : {}), ...(f?.untilMs !== undefined ? { untilMs: f.untilMs } : {}) },
      });
    });
    this.watchers.add(call);
    const done = (): void => {
      offEvent();
      offFault();
      this.watchers.delete(call);
    };
    call.on('cancelled', done);
    call.on('close', done);
    call.on('error', done);
  }
}

/**
 * Client of an agent's admin API over its unix socket (what `edgesim ctl` and the tests use). gRPC status codes are
 * turned back into AdminError kinds here, so callers never see grpc-js types.
 */
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import type { MethodDefinition } from '@grpc/proto-loader';
import {
  loadAdminService,
  type AppMsg,
  type ClusterNodeMsg,
  type ConfigReply,
  type EventMsg,
  type FaultMsg,
  type InjectFaultRequest,
  type StatusReply,
} from './admin-proto.js';
import { AdminError, type AdminErrorKind } from './errors.js';

/** Per-call deadline of unary calls, ms. */
const CALL_TIMEOUT_MS = 10_000;

/** The admin socket of an agent whose state dir is `stateDir`. */
export function adminSocketPath(stateDir: string): string {
  return path.join(path.resolve(stateDir), 'admin.sock');
}

function clientError(e: unknown, socket: string): AdminError {
  const err = e as Partial<grpc.ServiceError>;
  const details = err.details || (e instanceof Error ? e.message : String(e));
  const kinds: Partial<Record<number, AdminErrorKind>> = {
    [grpc.status.UNAVAILABLE]: 'UNAVAILABLE',
    [grpc.status.DEADLINE_EXCEEDED]: 'UNAVAILABLE',
    [grpc.status.INVALID_ARGUMENT]: 'INVALID_ARGUMENT',
    [grpc.status.NOT_FOUND]: 'NOT_FOUND',
  };
  const kind = kinds[err.code ?? -1] ?? 'FAILED';
  const message = kind === 'UNAVAILABLE' ? `no agent answers on ${socket} (${details})` : details;
  return new AdminError(kind, message, { socket });
}

/** A connection to one agent's admin socket. Close it when done. */
export class AdminClient {
  private readonly client: grpc.Client;
  private readonly methods: Record<string, MethodDefinition<object, object>>;

  /** Connects lazily to `socketPath` (the first call fails with UNAVAILABLE when no agent listens). */
  constructor(readonly socketPath: string) {
    this.client = new grpc.Client(`unix:${path.resolve(socketPath)}`, grpc.credentials.createInsecure());
    this.methods = loadAdminService();
  }

  private unary<Res>(name: string, req: object = {}): Promise<Res> {
    const m = this.methods[name];
    return new Promise<Res>((resolve, reject) => {
      this.client.makeUnaryRequest(
        m.path,
        m.requestSerialize,
        m.responseDeserialize,
        req,
        new grpc.Metadata(),
        { deadline: Date.now() + CALL_TIMEOUT_MS },
        (err, res) => (err ? reject(clientError(err, this.socketPath)) : resolve(res as Res)),
      );
    });
  }

  /** The agent's status. */
  status(): Promise<StatusReply> {
    return this.unary<StatusReply>('Status');
  }

  /** The current config (redacted JSON text); NOT_FOUND before the first config. */
  config(): Promise<ConfigReply> {
    return this.unary<ConfigReply>('Config');
  }

  /** App instances of the current config. */
  async apps(): Promise<AppMsg[]> {
    return (await this.unary<{ apps: AppMsg[] }>('Apps')).apps;
  }

  /** Nodes of this node's cluster. */
  async clusterNodes(): Promise<ClusterNodeMsg[]> {
    return (await this.unary<{ nodes: ClusterNodeMsg[] }>('ClusterNodes')).nodes;
  }

  /** Activates a fault; INVALID_ARGUMENT for an unknown kind or a non-positive duration. */
  injectFault(req: InjectFaultRequest): Promise<FaultMsg> {
    return this.unary<FaultMsg>('InjectFault', req);
  }

  /** Clears a fault kind (or "all"); returns the kinds that were active. */
  async clearFault(kind: string): Promise<string[]> {
    return (await this.unary<{ cleared: string[] }>('ClearFault', { kind })).cleared;
  }

  /** The active faults. */
  async listFaults(): Promise<FaultMsg[]> {
    return (await this.unary<{ faults: FaultMsg[] }>('ListFaults')).faults;
  }

  /**
   * Agent events from now on (kinds filtered by prefix, empty = all), until `signal` fires (the iterator then ends)
   * or the agent stops (ends too). Fails with UNAVAILABLE when no agent listens.
   */
  async *watch(kinds: string[] = [], signal?: AbortSignal): AsyncGenerator<EventMsg> {
    const m = this.methods.Watch;
    const call = this.client.makeServerStreamRequest(m.path, m.requestSerialize, m.responseDeserialize, { kinds });
    const onAbort = (): void => call.cancel();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      for await (const ev of call as AsyncIterable<EventMsg>) yield ev;
    } catch (e) {
      if ((e as Partial<grpc.ServiceError>).code === grpc.status.CANCELLED && signal?.aborted) return;
      throw clientError(e, this.socketPath);
    } finally {
      signal?.removeEventListener('abort', onAbort);
      call.cancel();
    }
  }

  /** Closes the connection. */
  close(): void {
    this.client.close();
  }
}

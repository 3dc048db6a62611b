/**
 * The fleet's admin API: gRPC (edgesim.admin.v1.FleetAdmin, proto/admin/fleet.proto) on a unix socket next to the
 * state file (`<state>.sock`, mode 0600). Handlers read the Fleet's public API only; errors become gRPC status
 * codes here (FaultError → INVALID_ARGUMENT, unknown serial → NOT_FOUND, anything else → INTERNAL).
 */
import { unlink } from 'node:fs/promises';
import * as grpc from '@grpc/grpc-js';
import type { Logger } from '../common/index.js';
import { errorMessage } from '../common/index.js';
import { FaultError } from '../agent/index.js';
import { bindOwnerSocket, claimSocketPath, loadFleetAdminService } from '../agent/admin/index.js';
import type { FleetAdminHandlers } from '../gen/admin/edgesim/admin/v1/FleetAdmin.js';
import type { FleetDevice__Output } from '../gen/admin/edgesim/admin/v1/FleetDevice.js';
import type { Fleet, FleetDeviceView } from './fleet.js';

/** The wire form of one device. */
function deviceMsg(d: FleetDeviceView): FleetDevice__Output {
  return {
    serial: d.serial,
    uuid: d.uuid ?? '',
    phase: d.phase,
    queueDepth: d.queueDepth,
    reachable: d.reachable,
    faults: d.faults,
    restarts: d.restarts,
    lastError: d.lastError ?? '',
    hardware: d.hardware ?? '',
  };
}

function serviceError(e: unknown): Partial<grpc.StatusObject> {
  const details = errorMessage(e);
  if (e instanceof FaultError) return { code: grpc.status.INVALID_ARGUMENT, details };
  if (e instanceof NotFoundError) return { code: grpc.status.NOT_FOUND, details };
  return { code: grpc.status.INTERNAL, details };
}

/** A device this process does not simulate. */
class NotFoundError extends Error {}

/** Runs a unary handler, mapping its errors to gRPC statuses. */
function unary<Req, Res>(fn: (req: Req) => Res): grpc.handleUnaryCall<Req, Res> {
  return (call, cb) => {
    try {
      cb(null, fn(call.request));
    } catch (e) {
      cb(serviceError(e));
    }
  };
}

export class FleetAdminServer {
  private constructor(
    private readonly server: grpc.Server,
    readonly socketPath: string,
    private readonly logger: Logger,
  ) {}

  /** Binds `socketPath` (replacing a stale socket, refusing a live one), 0600, and serves `fleet`. */
  static async create(fleet: Fleet, socketPath: string, version: string, logger: Logger): Promise<FleetAdminServer> {
    await claimSocketPath(socketPath);
    const server = new grpc.Server();
    const handlers: FleetAdminHandlers = {
      FleetStatus: unary(() => {
        const s = fleet.status();
        return { ...s, version };
      }),
      ListDevices: unary((req) => {
        const all = fleet.list().filter((d) => !req.phase || d.phase === req.phase);
        const page = all.slice(req.offset, req.limit ? req.offset + req.limit : undefined);
        return { devices: page.map(deviceMsg), total: all.length };
      }),
      GetDevice: unary((req) => {
        const d = fleet.device(req.serial);
        if (!d) throw new NotFoundError(`no device "${req.serial}" in this fleet process`);
        return deviceMsg(d);
      }),
      InjectFleetFault: unary((req) => ({
        serials: fleet.injectFault(req.kind, {
          ...(req.serials.length ? { serials: req.serials } : { fraction: req.fraction }),
          ...(req.value !== undefined ? { value: req.value } : {}),
          ...(req.durationMs !== undefined ? { durationMs: req.durationMs } : {}),
        }),
      })),
      ClearFleetFault: unary((req) => ({ devices: fleet.clearFault(req.kind) })),
    };
    server.addService(loadFleetAdminService(), handlers);
    try {
      await bindOwnerSocket(server, socketPath);
    } catch (e) {
      throw new Error(`cannot serve the fleet admin API on ${socketPath}: ${errorMessage(e)}`);
    }
    return new FleetAdminServer(server, socketPath, logger.child({ component: 'fleet.admin' }));
  }

  /** Closes the socket (open calls are unary and short: no grace period) and removes its file. */
  async stop(): Promise<void> {
    this.server.forceShutdown();
    await unlink(this.socketPath).catch((e: unknown) => {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') this.logger.warn('cannot remove the admin socket', { error: errorMessage(e) });
    });
  }
}

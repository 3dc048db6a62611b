/**
 * Client of a fleet process's admin API (what `edgesim fleet status|devices|device|fault` and the tests use); gRPC
 * statuses come back as AdminError kinds.
 */
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import type { MethodDefinition } from '@grpc/proto-loader';
import { AdminError, loadFleetAdminService } from '../agent/admin/index.js';
import type { FleetDevice__Output } from '../gen/admin/edgesim/admin/v1/FleetDevice.js';
import type { FleetStatusReply__Output } from '../gen/admin/edgesim/admin/v1/FleetStatusReply.js';
import type { InjectFleetFaultRequest } from '../gen/admin/edgesim/admin/v1/InjectFleetFaultRequest.js';

/** Per-call deadline, ms. */
const CALL_TIMEOUT_MS = 10_000;

/** The admin socket of the fleet whose state file is `stateFile`. */
export function fleetSocketPath(stateFile: string): string {
  return path.resolve(stateFile) + '.sock';
}

export type FleetDeviceMsg = FleetDevice__Output;
export type FleetStatusMsg = FleetStatusReply__Output;

export class FleetAdminClient {
  private readonly client: grpc.Client;
  private readonly methods: Record<string, MethodDefinition<object, object>>;

  constructor(readonly socketPath: string) {
    this.client = new grpc.Client(`unix:${path.resolve(socketPath)}`, grpc.credentials.createInsecure());
    this.methods = loadFleetAdminService();
  }

  private unary<Res>(name: string, req: object = {}): Promise<Res> {
    const m = this.methods[name];
    return new Promise<Res>((resolve, reject) => {
      this.client.makeUnaryRequest(m.path, m.requestSerialize, m.responseDeserialize, req, new grpc.Metadata(), { deadline: Date.now() + CALL_TIMEOUT_MS }, (err, res) => {
        if (!err) return resolve(res as Res);
        if (err.code === grpc.status.UNAVAILABLE) return reject(new AdminError('UNAVAILABLE', `no fleet answers on ${this.socketPath} (${err.details})`, { socket: this.socketPath }));
        const kind = err.code === grpc.status.INVALID_ARGUMENT ? 'INVALID_ARGUMENT' : err.code === grpc.status.NOT_FOUND ? 'NOT_FOUND' : 'FAILED';
        reject(new AdminError(kind, err.details, { socket: this.socketPath }));
      });
    });
  }

  status(): Promise<FleetStatusMsg> {
    return this.unary('FleetStatus');
  }

  devices(q: { offset?: number; limit?: number; phase?: string } = {}): Promise<{ devices: FleetDeviceMsg[]; total: number }> {
    return this.unary('ListDevices', q);
  }

  device(serial: string): Promise<FleetDeviceMsg> {
    return this.unary('GetDevice', { serial });
  }

  /** Returns the serials the fault reached. */
  async injectFault(req: InjectFleetFaultRequest): Promise<string[]> {
    return (await this.unary<{ serials: string[] }>('InjectFleetFault', req)).serials;
  }

  /** Returns how many devices had it. */
  async clearFault(kind: string): Promise<number> {
    return (await this.unary<{ devices: number }>('ClearFleetFault', { kind })).devices;
  }

  close(): void {
    this.client.close();
  }
}

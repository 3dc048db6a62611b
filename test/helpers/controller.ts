/** Starts an embedded controller on loopback for a test, with a device config folder ready for one agent. */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ControllerAdminClient, ControllerServer } from '../../src/controller/index.js';
import { createClock, silentLogger, type Logger } from '../../src/common/index.js';
import { infoJsonOf } from '../../src/eve/index.js';

/** The JSON of an info row read from controller.db directly (select `json` and `pb`): infos from devices are kept encoded. */
export function storedInfoJson(row: { json: string; pb: Buffer | null }): unknown {
  return row.pb ? infoJsonOf(row.pb) : (JSON.parse(row.json) as unknown);
}

export interface TestController {
  server: ControllerServer;
  admin: ControllerAdminClient;
  dir: string;
  /** Writes a device config folder (server, root cert, onboarding cert) and returns its path. */
  deviceFolder(name: string, serial?: string): Promise<string>;
  /** Stops the controller (the data dir stays, for restarts). */
  stop(): Promise<void>;
  /** Starts it again on the same data dir and port. */
  restart(): Promise<void>;
  /** Stops and removes everything. */
  dispose(): Promise<void>;
}

export async function startTestController(logger: Logger = silentLogger): Promise<TestController> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'edgesim-ctl-'));
  const dataDir = path.join(dir, 'controller');
  const clock = createClock(1);
  let server = await ControllerServer.create({ dataDir, listen: '127.0.0.1:0', adminListen: '127.0.0.1:0', logger, clock });
  void server.run();
  const ep = server.endpoints();
  const devicePort = new URL(ep.deviceUrl).port;
  const adminPort = new URL(ep.adminUrl).port;
  const t: TestController = {
    server,
    admin: new ControllerAdminClient(ep.adminUrl),
    dir,
    async deviceFolder(name, serial) {
      const out = path.join(dir, name, 'config');
      await t.admin.exportDeviceConfig({ outDir: out, serial: serial ?? `sim-${name}` });
      return out;
    },
    async stop() {
      await server.stop();
    },
    async restart() {
      server = await ControllerServer.create({
        dataDir,
        listen: `127.0.0.1:${devicePort}`,
        adminListen: `127.0.0.1:${adminPort}`,
        logger,
        clock,
      });
      t.server = server;
      void server.run();
    },
    async dispose() {
      await server.stop().catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
  return t;
}

/** Starts an embedded controller on loopback for a test, with a device config folder ready for one agent. */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ControllerAdminClient, ControllerServer } from '../../src/controller/index.js';
import { createClock, silentLogger, type Logger } from '../../src/common/index.js';
import { infoJsonOf } from '../../src/eve/index.js';
import { cliCommand } from './cli.js';

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

/**
 * `edgesim controller run` as its own process on a free loopback port; resolves once controller.json is written (both
 * APIs listen). `command` is how to start edgesim (default: the compiled CLI, `cliCommand()`), `env` the whole
 * environment of the process.
 */
export async function startControllerProcess(
  dataDir: string,
  opts: { args?: string[]; command?: [string, string[]]; env?: NodeJS.ProcessEnv } = {},
): Promise<{ child: ChildProcess; deviceUrl: string; adminUrl: string }> {
  const [exe, pre] = opts.command ?? cliCommand();
  const json = path.join(dataDir, 'controller.json');
  // A killed controller leaves its controller.json behind: wait for the new one.
  rmSync(json, { force: true });
  const child = spawn(exe, [...pre, 'controller', 'run', '--data-dir', dataDir, '--listen', '127.0.0.1:0', '--log-level', 'warn', ...(opts.args ?? [])], {
    stdio: ['ignore', 'ignore', 'inherit'],
    ...(opts.env ? { env: opts.env } : {}),
  });
  for (let i = 0; ; i++) {
    if (child.exitCode !== null || i > 1200) {
      child.kill('SIGKILL');
      throw new Error('controller did not start');
    }
    try {
      if (existsSync(json)) return { child, ...(JSON.parse(readFileSync(json, 'utf8')) as { deviceUrl: string; adminUrl: string }) };
    } catch {
      // not complete yet
    }
    await createClock().sleepReal(50);
  }
}

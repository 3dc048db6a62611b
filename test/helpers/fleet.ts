/**
 * Runs `edgesim fleet run` as its own process for a test (so it can be killed with SIGKILL), collecting the live
 * view's JSON lines, and reads the fleet's state file and the controller's database directly.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import Database from 'better-sqlite3';
import { cliCommand } from './cli.js';
import { waitFor } from './wait.js';

/** A live-view line, as much of it as the tests read. */
export interface Snapshot {
  state: string;
  devices: number;
  byPhase: Record<string, number>;
  onboarded: number;
  queueDepth: number;
  requests: Record<string, { perSecond: Record<string, number> }>;
  faults: Record<string, number>;
  clusters?: { planned: number; requested: number; failed: number };
}

export interface FleetProcess {
  child: ChildProcess;
  snapshots: Snapshot[];
  stderr: () => string;
  /** Resolves with the first snapshot (from now on) that satisfies `pred`. */
  until(what: string, pred: (s: Snapshot) => boolean, timeoutMs?: number): Promise<Snapshot>;
  /** Every endpoint that was requested in any snapshot so far. */
  endpointsSeen(): Set<string>;
  exited: Promise<number | null>;
  /** SIGTERM, then waits for the exit code. */
  stop(): Promise<number | null>;
}

/** Starts `edgesim fleet run <args> --output json --view 0.5`. */
export function startFleet(args: string[]): FleetProcess {
  const [exe, pre] = cliCommand();
  const child = spawn(exe, [...pre, 'fleet', 'run', '--output', 'json', '--view', '0.5', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const snapshots: Snapshot[] = [];
  let err = '';
  let buf = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    buf += chunk;
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      try {
        snapshots.push(JSON.parse(line) as Snapshot);
      } catch {
        err += `stdout: ${line}\n`;
      }
    }
  });
  child.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    snapshots,
    stderr: () => err,
    exited,
    until(what, pred, timeoutMs = 90_000) {
      const from = snapshots.length;
      return waitFor(
        `fleet: ${what} (last: ${JSON.stringify(snapshots.at(-1) ?? null).slice(0, 400)}; stderr: ${err.slice(-400)})`,
        () => {
          if (child.exitCode !== null) throw new Error(`fleet exited with ${child.exitCode}: ${err.slice(-600)}`);
          return snapshots.slice(from).find(pred);
        },
        timeoutMs,
      );
    },
    endpointsSeen() {
      return new Set(snapshots.flatMap((s) => Object.keys(s.requests)));
    },
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

/** serial → uuid of every onboarded device in a fleet state file. */
export function stateUuids(file: string): Map<string, string> {
  const db = new Database(file, { readonly: true });
  try {
    const rows = db.prepare('SELECT serial, uuid FROM device WHERE uuid IS NOT NULL').all() as { serial: string; uuid: string }[];
    return new Map(rows.map((r) => [r.serial, r.uuid]));
  } finally {
    db.close();
  }
}

/** serial/role → key PEM of every device in a fleet state file. */
export function stateKeys(file: string): Map<string, string> {
  const db = new Database(file, { readonly: true });
  try {
    const rows = db.prepare('SELECT serial, role, pem FROM device_key').all() as { serial: string; role: string; pem: string }[];
    return new Map(rows.map((r) => [`${r.serial}/${r.role}`, r.pem]));
  } finally {
    db.close();
  }
}

/** Per device serial of the controller: its UUID and how many info types it has stored. */
export function controllerDevices(controllerDataDir: string): Map<string, { uuid: string; infoTypes: number }> {
  const db = new Database(path.join(controllerDataDir, 'controller.db'), { readonly: true });
  try {
    const rows = db
      .prepare('SELECT d.serial, d.uuid, (SELECT count(*) FROM info_latest l WHERE l.device_uuid = d.uuid) AS n FROM device d')
      .all() as { serial: string; uuid: string; n: number }[];
    return new Map(rows.map((r) => [r.serial, { uuid: r.uuid, infoTypes: r.n }]));
  } finally {
    db.close();
  }
}

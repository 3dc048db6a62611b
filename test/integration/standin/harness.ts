/**
 * Test harness for the k3s stand-in: starts `edgesim k3s server|agent` child processes (real etcd members) on
 * loopback addresses with temp data dirs, and reads the cluster with @kubernetes/client-node.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import * as k8s from '@kubernetes/client-node';
import { cliCommand } from '../../helpers/cli.js';

/** Why the stand-in tests cannot run here, or undefined. */
export function missingPrerequisite(): string | undefined {
  if (spawnSync('etcd', ['--version']).status !== 0) return 'etcd not installed (Debian package etcd-server)';
  return undefined;
}

/** One stand-in node process. */
export interface NodeProc {
  name: string;
  ip: string;
  dataDir: string;
  logFile: string;
  child: ChildProcess;
  exited: Promise<number | null>;
}

/** A set of stand-in processes sharing one temp dir. */
export class StandinCluster {
  readonly dir: string;
  readonly nodes = new Map<string, NodeProc>();

  constructor(
    readonly token: string,
    readonly timeScale: number,
  ) {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'standin-'));
  }

  /** Starts `edgesim k3s <role>` for node `name` on `ip` with extra flags. */
  start(role: 'server' | 'agent', name: string, ip: string, extra: string[] = []): NodeProc {
    const [cmd, pre] = cliCommand();
    const dataDir = path.join(this.dir, name);
    fs.mkdirSync(dataDir, { recursive: true });
    const logFile = path.join(this.dir, `${name}.log`);
    const out = fs.openSync(logFile, 'a');
    const args = [
      ...pre, 'k3s', role, '--config', path.join(this.dir, 'no-config.yaml'), '--node-name', name, '--node-ip', ip,
      '--data-dir', dataDir, '--time-scale', String(this.timeScale), '--pod-start-delay', '1s', ...extra,
    ];
    if (!extra.includes('--token')) args.push('--token', this.token);
    const child = spawn(cmd, args, { stdio: ['ignore', out, out] });
    fs.closeSync(out);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const node = { name, ip, dataDir, logFile, child, exited };
    this.nodes.set(name, node);
    return node;
  }

  /** A client config for the kubeconfig written by server `name`. */
  kubeConfig(name: string): k8s.KubeConfig {
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(this.kubeconfigPath(name));
    return kc;
  }

  /** Path of the kubeconfig of server `name`. */
  kubeconfigPath(name: string): string {
    return path.join(this.nodes.get(name)!.dataDir, 'k3s.yaml');
  }

  /** Waits until server `name` has written its kubeconfig. */
  async waitKubeconfig(name: string, timeoutMs = 30_000): Promise<void> {
    await waitFor(`kubeconfig of ${name}`, timeoutMs, () => Promise.resolve(fs.existsSync(this.kubeconfigPath(name))));
  }

  /** SIGKILLs a node process (its etcd dies through the watchdog) and waits for the exit. */
  async kill(name: string): Promise<void> {
    const n = this.nodes.get(name);
    if (!n || n.child.exitCode !== null || n.child.signalCode !== null) return;
    n.child.kill('SIGKILL');
    await n.exited;
  }

  /** Stops every node (SIGTERM, then SIGKILL) and removes the temp dir unless KEEP_STANDIN_LOGS is set. */
  async stopAll(): Promise<void> {
    await Promise.all(
      [...this.nodes.values()].map(async (n) => {
        if (n.child.exitCode !== null || n.child.signalCode !== null) return;
        n.child.kill('SIGTERM');
        const t = sleep(8_000).then(() => n.child.kill('SIGKILL'));
        await n.exited;
        void t;
      }),
    );
    // Give the etcd watchdogs a moment to reap their members.
    await sleep(300);
    if (!process.env.KEEP_STANDIN_LOGS) fs.rmSync(this.dir, { recursive: true, force: true });
  }

  /** The last lines of a node's log (for assertion messages). */
  tail(name: string, lines = 30): string {
    const n = this.nodes.get(name);
    if (!n || !fs.existsSync(n.logFile)) return '';
    return fs.readFileSync(n.logFile, 'utf8').trim().split('\n').slice(-lines).join('\n');
  }
}

/** Polls `check` every 100 ms until it returns true or `timeoutMs` passes. */
export async function waitFor(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < end) {
    try {
      if (await check()) return;
    } catch (e) {
      last = e;
    }
    await sleep(100);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${last instanceof Error ? last.message : JSON.stringify(last)}` : ''}`);
}

/** Node name → Ready condition status. */
export async function readiness(core: k8s.CoreV1Api): Promise<Map<string, string>> {
  const list = await core.listNode();
  return new Map(list.items.map((n) => [n.metadata!.name!, n.status?.conditions?.find((c) => c.type === 'Ready')?.status ?? 'none']));
}

/** Runs kubectl with a kubeconfig; returns stdout, throws with stderr on failure. */
export function kubectl(kubeconfig: string, args: string[]): string {
  const r = spawnSync('kubectl', ['--kubeconfig', kubeconfig, ...args], { encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0) throw new Error(`kubectl ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

/** True when kubectl is on PATH. */
export function haveKubectl(): boolean {
  return spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).status === 0;
}

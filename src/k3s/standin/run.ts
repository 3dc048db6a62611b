/**
 * `edgesim k3s server|agent` as one call: load the k3s config (file, drop-ins, flags), warn about unknown keys,
 * start the node and keep it running until `signal` aborts (then stop cleanly) or the node fails.
 */
import os from 'node:os';
import { createClock, type Clock, type Logger } from '../../common/index.js';
import { compileStandinConfig, loadK3sConfig, type K3sConfigSources, type StandinConfig, type StandinRole } from './config.js';
import { K3sStandin } from './standin.js';

/** Options of {@link runK3sStandin}. */
export interface RunStandinOptions extends K3sConfigSources {
  role: StandinRole;
  logger: Logger;
  /** Aborting stops the node (SIGTERM/SIGINT in the CLI). */
  signal: AbortSignal;
  /** etcd binary. @default 'etcd' */
  etcdBinary?: string;
  /** Called once the node runs, with its API URL and kubeconfig path (servers). */
  onReady?: (info: { apiUrl: string; kubeconfig?: string; nodeName: string }) => void;
}

/** Runs one stand-in node until `signal` aborts. Rejects with a StandinError on bad config, refused join or failure. */
export async function runK3sStandin(opts: RunStandinOptions): Promise<void> {
  const loaded = loadK3sConfig(opts.role, opts);
  for (const w of loaded.warnings) opts.logger.warn(w, { component: 'k3s.standin.config' });
  const config = compileStandinConfig(opts.role, loaded.values, os.hostname());
  const clock = createClock(config.timeScale);
  // Every stand-in timer is unref'd (Clock) and etcd runs detached, so nothing else keeps the process alive
  // while it waits (join retries, registration, steady state). This handle is not a timer of any logic.
  const hold = setInterval(() => undefined, 2 ** 30);
  try {
    await runNode(opts, config, clock);
  } finally {
    clearInterval(hold);
  }
}

async function runNode(opts: RunStandinOptions, config: StandinConfig, clock: Clock): Promise<void> {
  const node = await K3sStandin.create({
    config,
    clock,
    logger: opts.logger,
    signal: opts.signal,
    ...(opts.etcdBinary !== undefined ? { etcdBinary: opts.etcdBinary } : {}),
  });
  opts.onReady?.({ apiUrl: node.apiUrl, nodeName: config.nodeName, ...(config.role === 'server' ? { kubeconfig: config.writeKubeconfig } : {}) });
  const stopped = new Promise<void>((resolve) => {
    if (opts.signal.aborted) resolve();
    opts.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  try {
    await Promise.race([stopped, node.failed]);
  } finally {
    await node.stop();
  }
}

// Settings a Node process reads only at its start, chosen per command (bin/edgesim.cjs applies them).
'use strict';

/** Commands that serve or drive many devices: `fleet run` and the embedded controller. */
const MANY_DEVICES = new Set(['fleet', 'controller']);

/**
 * Environment variables to add for `args` (the command line after `edgesim`); a variable already in `env` is the
 * user's and is kept.
 *
 * UV_THREADPOOL_SIZE=1 for the fleet and the controller: their thread-pool work is short (a signature or a
 * verification, ~35–70 µs), and on a small machine libuv's default of 4 threads per process only adds wake-ups and
 * context switches next to the busy main threads. 10,000-device onboarding with the fleet and the controller on 2
 * cores, 5 paired runs: 1 thread won 4 of 5, 255 against 217 devices/s on average (docs/fleet-figures.md).
 * @param {readonly string[]} args
 * @param {Readonly<Record<string, string | undefined>>} env
 * @returns {Record<string, string>}
 */
function processDefaults(args, env) {
  // The command comes first: `edgesim` itself has no options but --help and --version.
  if (MANY_DEVICES.has(args[0] ?? '') && env.UV_THREADPOOL_SIZE === undefined) return { UV_THREADPOOL_SIZE: '1' };
  return {};
}

module.exports = { processDefaults };

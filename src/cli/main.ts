/**
 * The `edgesim` command. This file only assembles the command groups; each group lives in its own file
 * under src/cli/ and holds no logic of its own (it parses flags and calls one module).
 *
 * Groups are loaded lazily: `edgesim k3s …` (started once per node by every agent) loads only the k3s group, not
 * the controller, the Kubernetes client or gRPC. `--help` and unknown commands load them all.
 */
import { Command } from 'commander';
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

type Register = (program: Command) => void;

// Command groups register themselves here, one line each: top-level command name → its registration.
const groups: Record<string, () => Promise<Register>> = {
  agent: async () => (await import('./agent.js')).registerAgentCommands,
  demo: async () => (await import('./demo.js')).registerDemoCommands,
  fleet: async () => (await import('./fleet.js')).registerFleetCommands,
  cipher: async () => (await import('./cipher.js')).registerCipherCommands,
  controller: async () => (await import('./controller.js')).registerControllerCommands,
  ctl: async () => (await import('./ctl.js')).registerCtlCommands,
  scenario: async () => (await import('./scenario.js')).registerScenarioCommands,
  k3s: async () => (await import('./k3s.js')).registerK3sCommands,
  tpm: async () => (await import('./tpm.js')).registerTpmCommands,
};

// The package root is two levels up from src/cli (source) or three from dist/src/cli (compiled).
const here = path.dirname(fileURLToPath(import.meta.url));
const pkgPath = [path.join(here, '../../package.json'), path.join(here, '../../../package.json')].find((p) => existsSync(p))!;
const pkg = createRequire(import.meta.url)(pkgPath) as { version: string };

const program = new Command('edgesim')
  .description('An LF Edge EVE edge-node agent simulator: EVE API v2, TPM-held keys, k3s clusters.')
  .version(pkg.version)
  .showHelpAfterError('(run with --help for usage)');

const first = process.argv[2];
const wanted = first !== undefined && first in groups ? [groups[first]] : Object.values(groups);
for (const load of wanted) (await load())(program);

await program.parseAsync(process.argv);

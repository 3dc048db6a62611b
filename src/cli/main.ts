/**
 * The `edgesim` command. This file only assembles the command groups; each group lives in its own file
 * under src/cli/ and holds no logic of its own (it parses flags and calls one module).
 */
import { Command } from 'commander';
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { registerAgentCommands } from './agent.js';
import { registerDemoCommands } from './demo.js';
import { registerCipherCommands } from './cipher.js';
import { registerControllerCommands } from './controller.js';
import { registerCtlCommands } from './ctl.js';
import { registerK3sCommands } from './k3s.js';
import { registerTpmCommands } from './tpm.js';

// The package root is two levels up from src/cli (source) or three from dist/src/cli (compiled).
const here = path.dirname(fileURLToPath(import.meta.url));
const pkgPath = [path.join(here, '../../package.json'), path.join(here, '../../../package.json')].find((p) => existsSync(p))!;
const pkg = createRequire(import.meta.url)(pkgPath) as { version: string };

const program = new Command('edgesim')
  .description('An LF Edge EVE edge-node agent simulator: EVE API v2, TPM-held keys, k3s clusters.')
  .version(pkg.version)
  .showHelpAfterError('(run with --help for usage)');

// Command groups register themselves here, one line each.
registerAgentCommands(program);
registerDemoCommands(program);
registerCipherCommands(program);
registerControllerCommands(program);
registerCtlCommands(program);
registerK3sCommands(program);
registerTpmCommands(program);

await program.parseAsync(process.argv);

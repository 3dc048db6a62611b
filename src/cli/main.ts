/**
 * The `edgesim` command. This file only assembles the command groups; each group lives in its own file
 * under src/cli/ and holds no logic of its own (it parses flags and calls one module).
 */
import { Command } from 'commander';
import { createRequire } from 'node:module';

const pkg = createRequire(import.meta.url)('../../../package.json') as { version: string };

const program = new Command('edgesim')
  .description('An LF Edge EVE edge-node agent simulator: EVE API v2, TPM-held keys, k3s clusters.')
  .version(pkg.version)
  .showHelpAfterError('(run with --help for usage)');

// Command groups register themselves here, one line each.

await program.parseAsync(process.argv);

/**
 * How tests start the edgesim CLI: from dist/ when the tests were compiled, else from source through tsx.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const compiled = here.split(path.sep).includes('dist');

/** Absolute path of the repository root. */
export const repoRoot = compiled ? path.resolve(here, '../../..') : path.resolve(here, '../..');

/** The command and leading arguments that run `edgesim` (append the CLI arguments). */
export function cliCommand(): [string, string[]] {
  return compiled
    ? [process.execPath, [path.join(repoRoot, 'dist/src/cli/main.js')]]
    : [process.execPath, ['--import', 'tsx', path.join(repoRoot, 'src/cli/main.ts')]];
}

/** The shared known-answer vectors (a verbatim copy of shared/vectors, see test/fixtures/vectors/README.md). */
export const vectorsDir = path.join(repoRoot, 'test/fixtures/vectors');

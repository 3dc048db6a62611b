/**
 * Runs every benchmark in bench/ (each file but this one) one after another and lets each print its figures.
 * `npm run bench` runs the compiled files; `node --import tsx bench/run.ts` runs the sources.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const self = fileURLToPath(import.meta.url);
const dir = path.dirname(self);
const ext = path.extname(self);
const files = readdirSync(dir)
  .filter((f) => f.endsWith(ext) && !f.endsWith('.d.ts') && path.join(dir, f) !== self)
  .sort();
let failed = 0;
for (const f of files) {
  process.stdout.write(`\n== ${f}\n`);
  const args = ext === '.ts' ? ['--import', 'tsx', path.join(dir, f)] : [path.join(dir, f)];
  const r = spawnSync(process.execPath, args, { stdio: 'inherit' });
  if (r.status !== 0) {
    failed++;
    process.stdout.write(`${f} failed (exit ${String(r.status ?? r.signal)})\n`);
  }
}
process.exitCode = failed === 0 ? 0 : 1;

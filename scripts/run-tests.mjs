#!/usr/bin/env node
// Runs the compiled test files (`*.test.js`) under the given folders (default dist/test) with node:test, one file at
// a time. Node 20's `node --test <dir>` would also run every .js under a folder named `test` (helpers included).
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';

const roots = process.argv.slice(2).length ? process.argv.slice(2) : ['dist/test'];
const files = [];
const walk = (p) => {
  if (statSync(p).isDirectory()) for (const e of readdirSync(p).sort()) walk(path.join(p, e));
  else if (p.endsWith('.test.js')) files.push(p);
};
roots.forEach(walk);
if (files.length === 0) {
  console.error(`no *.test.js files under ${roots.join(', ')} (run npm run build first)`);
  process.exit(1);
}
// A test that hangs fails with its name after 10 min instead of holding CI until its budget ends.
const r = spawnSync(process.execPath, ['--test', '--test-concurrency=1', '--test-timeout=600000', ...files], { stdio: 'inherit' });
process.exit(r.status ?? 1);

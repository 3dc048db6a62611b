#!/usr/bin/env node
// Bundles the dashboard's browser code (src/controller/ui/main.ts: Preact, htm, uPlot) with esbuild into
// dist/src/controller/ui-assets/ (app.js, app.css, index.html), where the controller serves it from. Run by
// `npm run build` after tsc has type-checked the browser code (tsc -p src/controller/ui).
import { build } from 'esbuild';
import { copyFile, mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const src = path.join(root, 'src/controller/ui');
const out = path.join(root, 'dist/src/controller/ui-assets');

await rm(out, { recursive: true, force: true });
await mkdir(out, { recursive: true });
const r = await build({
  entryPoints: { app: path.join(src, 'main.ts') },
  outdir: out,
  bundle: true,
  format: 'esm',
  target: ['chrome110', 'firefox110', 'safari16'],
  minify: true,
  sourcemap: true,
  legalComments: 'linked',
  logLevel: 'warning',
  metafile: true,
});
await copyFile(path.join(src, 'index.html'), path.join(out, 'index.html'));
const bytes = Object.entries(r.metafile.outputs)
  .filter(([f]) => !f.endsWith('.map'))
  .map(([f, o]) => `${path.basename(f)} ${(o.bytes / 1024).toFixed(1)} KiB`);
console.log(`build-ui: ${bytes.join(', ')}`);

#!/usr/bin/env node
// Entry point of the installed `edgesim` command: the compiled CLI (run `npm run build` first).
// CommonJS on purpose: it runs before Node's ES module loader, whose first file read starts libuv's thread pool,
// so the process defaults below (read by libuv only then) still take effect.
'use strict';
const { processDefaults } = require('./process-defaults.cjs');
Object.assign(process.env, processDefaults(process.argv.slice(2), process.env));
import('../dist/src/cli/main.js').catch((e) => {
  console.error(`edgesim: cannot load the compiled CLI (run \`npm run build\` first): ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});

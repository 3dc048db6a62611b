#!/usr/bin/env node
// Entry point of the installed `edgesim` command: the compiled CLI (run `npm run build` first).
// CommonJS on purpose: it runs before Node's ES module loader, whose first file read starts libuv's thread pool,
// so the process defaults below (read by libuv only then) still take effect.
'use strict';
const { processDefaults } = require('./process-defaults.cjs');
Object.assign(process.env, processDefaults(process.argv.slice(2), process.env));
import('../dist/src/cli/main.js').catch((e) => {
  if (e && e.code === 'ERR_MODULE_NOT_FOUND' && String(e.message).includes('dist/src/cli/main.js')) {
    console.error('edgesim: the CLI is not compiled yet: run `npm run build` first');
    process.exit(1);
  }
  // Any other failure is the CLI's own: reported as Node reports an uncaught error (stack, exit code 1).
  process.nextTick(() => {
    throw e;
  });
});

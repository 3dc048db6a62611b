/**
 * Benchmark (cluster issue): `edgesim demo` start → all 3 nodes READY reported to the controller, median of 5 runs.
 * Goal ≤ 10 s. Runs the compiled CLI as the agents' executable; EDGESIM_BENCH_RUNS overrides the run count.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClock, silentLogger } from '../src/common/index.js';
import { runDemo } from '../src/demo/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const compiled = here.split(path.sep).includes('dist');
const root = compiled ? path.resolve(here, '../..') : path.resolve(here, '..');
const self = compiled
  ? [process.execPath, path.join(root, 'dist/src/cli/main.js')]
  : [process.execPath, '--import', 'tsx', path.join(root, 'src/cli/main.ts')];
const runs = Number(process.env.EDGESIM_BENCH_RUNS ?? 5);
const times: number[] = [];
for (let i = 0; i < runs; i++) {
  const view = await runDemo({
    nodes: 3,
    exitWhenReady: true,
    timeoutMs: 180_000,
    selfCommand: self,
    pathEnv: process.env.PATH ?? '',
    onView: () => undefined,
    clock: createClock(1),
    logger: silentLogger,
    signal: new AbortController().signal,
  });
  const s = (view.readyAfterMs ?? view.elapsedMs) / 1000;
  times.push(s);
  console.log(`run ${i + 1}: all 3 READY after ${s.toFixed(1)} s`);
}
times.sort((a, b) => a - b);
console.log(`demo start → 3 READY: median ${times[Math.floor(times.length / 2)].toFixed(1)} s over ${runs} runs (goal ≤ 10 s)`);

/**
 * What every benchmark prints beside its figures: the load average and a host speed probe (so a figure taken on a
 * busy machine says so), and the CPU and memory of a process from /proc (Linux).
 */
import { readFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';

/** Milliseconds a fixed integer loop takes: higher = a slower or busier host. */
function hostSpeedProbeMs(): number {
  const t0 = performance.now();
  let x = 0;
  for (let i = 0; i < 50_000_000; i++) x = (x + i) % 1_000_003;
  if (x < 0) console.log(x);
  return performance.now() - t0;
}

/** `load average a b c (N cores); speed probe M ms`. */
export const host = (): string =>
  `load average ${loadavg().map((l) => l.toFixed(2)).join(' ')} (${availableParallelism()} cores); speed probe ${hostSpeedProbeMs().toFixed(0)} ms`;

/** utime+stime in seconds from a /proc stat file (fields 14 and 15 of proc(5), counted after the comm field). */
function cpuSeconds(statFile: string): number {
  const stat = readFileSync(statFile, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

/**
 * CPU seconds of a process (all threads) and of its main thread (the event loop; the rest is the libuv pool and
 * V8's helpers), and its RSS / peak RSS in MiB (Linux /proc).
 */
export function procStats(pid: number): { cpuS: number; mainS: number; rssMiB: number; hwmMiB: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string): number => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return {
    cpuS: cpuSeconds(`/proc/${pid}/stat`),
    mainS: cpuSeconds(`/proc/${pid}/task/${pid}/stat`),
    rssMiB: kb('VmRSS') / 1024,
    hwmMiB: kb('VmHWM') / 1024,
  };
}

/** Nearest-rank quantile of an ascending array. */
export const quantile = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN;

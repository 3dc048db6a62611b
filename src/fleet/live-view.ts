/**
 * The fleet's live view, one snapshot per period: a compact table for a person at a terminal, one JSON object per
 * line for everything else (CI logs, the tests, `jq`). Pure formatting: a snapshot in, text out.
 */
import type { FleetSnapshot } from './fleet.js';

/** Phases in lifecycle order, for a stable column order. */
const PHASE_ORDER = ['pending', 'provisioning', 'onboarding', 'attesting', 'running', 'rebooting', 'powered-off', 'failed', 'stopping', 'stopped', 'initialized'];

/** One JSON line (no trailing newline). */
export function snapshotJsonLine(s: FleetSnapshot): string {
  return JSON.stringify({ ...s, at: new Date(s.atMs).toISOString(), atMs: undefined });
}

/** A multi-line text block: devices by phase, then one row per endpoint with rates and latency. */
export function snapshotTable(s: FleetSnapshot): string {
  const phases = PHASE_ORDER.filter((p) => (s.byPhase as Record<string, number | undefined>)[p])
    .map((p) => `${p} ${(s.byPhase as Record<string, number>)[p]}`)
    .join(' · ');
  const faults = Object.entries(s.faults).map(([k, n]) => `${k} ${n}`).join(' · ');
  const lines = [
    `${new Date(s.atMs).toISOString().slice(11, 19)}  fleet ${s.state}  shard ${s.shard}  devices ${s.devices} (onboarded ${s.onboarded}): ${phases || '-'}`,
    `  queue ${s.queueDepth}  restarts ${s.restarts}  timers ${s.scheduler.pending} (late ≤ ${s.scheduler.maxLateMs} ms)  rss ${s.rssMiB} MiB (heap ${s.heapUsedMiB})` +
      (faults ? `  faults: ${faults}` : ''),
  ];
  const c = s.clusters;
  if (c.planned) lines.push(`  clusters ${c.planned}: asked of the controller ${c.requested}${c.failed ? `  failed applies ${c.failed} (retried)` : ''}`);
  const rows = Object.entries(s.requests);
  if (rows.length) {
    const w = Math.max(8, ...rows.map(([e]) => e.length));
    lines.push(`  ${'ENDPOINT'.padEnd(w)}  ${'REQ/S BY STATUS'.padEnd(36)}  ${'P50 MS'.padStart(8)}  ${'P99 MS'.padStart(8)}`);
    for (const [endpoint, p] of rows) {
      const rates = Object.entries(p.perSecond).map(([st, r]) => `${st}:${r}`).join(' ');
      lines.push(`  ${endpoint.padEnd(w)}  ${rates.padEnd(36)}  ${String(p.p50Ms).padStart(8)}  ${String(p.p99Ms).padStart(8)}`);
    }
  }
  return lines.join('\n');
}

/** Text for times and ages: the dashboard states everything in words and numbers, never by colour alone. */

/** "4 s ago", "3 min ago", "2 h ago", "never". */
export function age(now: number, at: number | null | undefined): string {
  if (at === null || at === undefined) return 'never';
  const s = Math.max(0, Math.round((now - at) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86_400)} d ago`;
}

/** ISO time without milliseconds, for titles. */
export function iso(at: number | null | undefined): string {
  return at === null || at === undefined ? '-' : new Date(at).toISOString().replace(/\.\d+Z$/, 'Z');
}

/** "10 s", "5 min", "1 h" for a bucket bound in ms. */
export function span(ms: number): string {
  if (ms < 60_000) return `${ms / 1000} s`;
  if (ms < 3_600_000) return `${ms / 60_000} min`;
  return `${ms / 3_600_000} h`;
}

/** Seconds with one decimal. */
export function secs(ms: number | undefined): string {
  return ms === undefined ? '-' : `${(ms / 1000).toFixed(1)} s`;
}

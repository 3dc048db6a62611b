/** The shared output formatter of CLI verbs: an aligned text table, or JSON with `--output json`. */

/** Renders rows as an aligned table with upper-case headers (kubectl style). */
export function formatTable(rows: Array<Record<string, unknown>>, columns?: string[]): string {
  const cols = columns ?? [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const cell = (v: unknown): string => {
    if (v === undefined || v === null) return '';
    if (typeof v === 'string') return v;
    if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
    return JSON.stringify(v);
  };
  const widths = cols.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (vals: string[]): string => vals.map((v, i) => v.padEnd(widths[i])).join('  ').trimEnd();
  return [line(cols.map((c) => c.toUpperCase())), ...rows.map((r) => line(cols.map((c) => cell(r[c]))))].join('\n');
}

/** Prints {@link formatTable} to stdout. */
export function printTable(rows: Array<Record<string, unknown>>, columns?: string[]): void {
  process.stdout.write(formatTable(rows, columns) + '\n');
}

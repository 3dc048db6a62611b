/**
 * A scenario result for people (a timeline table), for programs (JSON) and for CI systems (JUnit XML: one test
 * suite per scenario, one test case per step and per invariant).
 */
import type { ScenarioResult } from './runner.js';

const s1 = (ms: number): string => `${(ms / 1000).toFixed(1)}`;

/** Rows of the timeline table: real and spec seconds from t0 (the cluster formed), step, outcome, what was seen. */
export function timelineRows(r: ScenarioResult): Array<Record<string, string>> {
  // A chaos step's hundreds of lines collapse into its kills; its pauses and restarts stay in the JSON.
  const rows = r.steps
    .filter((x) => !x.ref.includes('.chaos#') || x.label.startsWith('chaos kill') || x.outcome === 'failed')
    .map((x) => ({ real: s1(x.startMs), spec: s1(x.specStartMs), step: x.label, result: x.outcome, seen: x.detail }));
  for (const i of r.invariants) rows.push({ real: '', spec: '', step: `invariant ${i.invariant}`, result: i.held ? 'passed' : 'failed', seen: i.detail });
  return rows;
}

/** The one-line verdict printed under the table. */
export function verdictLine(r: ScenarioResult): string {
  const failedSteps = r.steps.filter((x) => x.outcome === 'failed').length;
  const failedInv = r.invariants.filter((x) => !x.held).length;
  const chaos = r.chaos ? `; kill -9 survived ${r.chaos.survived}/${r.chaos.kills}` : '';
  if (r.error) return `scenario ${r.name}: ERROR — ${r.error} (logs in ${r.workDir})`;
  return r.passed
    ? `scenario ${r.name}: PASSED (${r.steps.length} steps, ${r.invariants.length} invariants${chaos})`
    : `scenario ${r.name}: FAILED (${failedSteps} step(s), ${failedInv} invariant(s)${chaos}; logs in ${r.workDir})`;
}

const xml = (v: string): string => v.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** JUnit XML (the Ant/Jenkins schema most CI systems read) for one or more scenario results. */
export function junitXml(results: ScenarioResult[]): string {
  const suites = results.map((r) => {
    const cases: string[] = [];
    if (r.error) cases.push(`    <testcase classname="${xml(r.name)}" name="start"><error message="${xml(r.error)}"/></testcase>`);
    for (const x of r.steps) {
      const name = `${x.ref} ${x.label}`;
      const time = ((x.endMs - x.startMs) / 1000).toFixed(3);
      const body =
        x.outcome === 'failed' ? `<failure message="${xml(x.detail)}"/>` : x.outcome === 'skipped' ? `<skipped message="${xml(x.detail)}"/>` : '';
      cases.push(`    <testcase classname="${xml(r.name)}" name="${xml(name)}" time="${time}">${body}</testcase>`);
    }
    for (const i of r.invariants) {
      cases.push(`    <testcase classname="${xml(r.name)}" name="invariant ${xml(i.invariant)}">${i.held ? '' : `<failure message="${xml(i.detail)}"/>`}</testcase>`);
    }
    const failures = r.steps.filter((x) => x.outcome === 'failed').length + r.invariants.filter((x) => !x.held).length;
    const skipped = r.steps.filter((x) => x.outcome === 'skipped').length;
    const total = cases.length;
    return `  <testsuite name="${xml(r.name)}" tests="${total}" failures="${failures}" errors="${r.error ? 1 : 0}" skipped="${skipped}">\n${cases.join('\n')}\n  </testsuite>`;
  });
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites>\n${suites.join('\n')}\n</testsuites>\n`;
}

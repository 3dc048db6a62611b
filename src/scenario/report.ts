/**
 * A scenario result for people (a timeline table), for programs (JSON) and for CI systems (JUnit XML: one test
 * suite per scenario, one test case per step and per invariant).
 */
import junitModule, { type Builder } from 'junit-report-builder';
import type { ScenarioResult } from './runner.js';

/**
 * The package's types declare an ES default export, but its CommonJS main assigns the builder to module.exports,
 * which is what an ES import's default is at run time (junit-report-builder 5.x).
 */
const junit = junitModule as unknown as Builder;

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

/**
 * JUnit XML (the Ant/Jenkins schema most CI systems read) for one or more scenario results, built with
 * junit-report-builder (escaping, counts and the schema's attribute names are its job).
 */
export function junitXml(results: ScenarioResult[]): string {
  const report = junit.newBuilder();
  for (const r of results) {
    const suite = report.testSuite().name(r.name);
    if (r.error) suite.testCase().className(r.name).name('start').error(r.error);
    for (const x of r.steps) {
      const c = suite.testCase().className(r.name).name(`${x.ref} ${x.label}`).time((x.endMs - x.startMs) / 1000);
      if (x.outcome === 'failed') c.failure(x.detail);
      // The schema's <skipped/> has no message: the reason goes to the case's output.
      else if (x.outcome === 'skipped') c.skipped().standardOutput(x.detail);
    }
    for (const i of r.invariants) {
      const c = suite.testCase().className(r.name).name(`invariant ${i.invariant}`);
      if (!i.held) c.failure(i.detail);
    }
  }
  return report.build();
}

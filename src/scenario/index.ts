/** Scenarios as files: parse (strict) → plan (seeded) → run on the demo's machinery → report. */
export { parseScenario, type Scenario } from './spec.js';
export { planScenario } from './plan.js';
export { runScenario, type ScenarioResult } from './runner.js';
export { junitXml, timelineRows, verdictLine } from './report.js';
export { loadShippedScenario } from './shipped.js';

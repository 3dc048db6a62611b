/**
 * A scenario's steps as the runner executes them: every `chaos` step expanded into its seeded kill → down → restart
 * → pause sequence, so a run is reproducible from the file alone and the plan can be printed before anything starts.
 * Pure: no I/O, no clock.
 */
import { seededRandom } from '../common/index.js';
import type { Action, Scenario, Step } from './spec.js';

/** An action the runner executes directly (chaos is expanded). */
export type PlannedAction = Exclude<Action, { kind: 'chaos' }>;

export interface PlannedStep {
  /** `steps[3]`, or `steps[3].chaos#12` for the 12th kill of a chaos step. */
  ref: string;
  label: string;
  action: PlannedAction;
  /** Set on the kill of a chaos step: the chaos kill number (1-based), for the survived/total figure. */
  chaosKill?: number;
}


/** The flat list of steps to run. */
export function planScenario(s: Scenario): PlannedStep[] {
  const out: PlannedStep[] = [];
  for (const step of s.steps) {
    if (step.action.kind !== 'chaos') {
      out.push({ ref: step.ref, label: step.label, action: step.action });
      continue;
    }
    out.push(...expandChaos(step, step.action));
  }
  return out;
}

function expandChaos(step: Step, c: Extract<Action, { kind: 'chaos' }>): PlannedStep[] {
  const random = seededRandom(c.seed);
  const out: PlannedStep[] = [];
  const name = (i: number): string => `dev${i + 1}`;
  for (let k = 1; k <= c.kills; k++) {
    const node = c.nodes[Math.floor(random() * c.nodes.length)];
    // Pause jittered over [0.5·every, 1.5·every]: kills land at every phase of a node's start, not on one beat.
    const pause = Math.round(c.everyMs * (0.5 + random()));
    const ref = `${step.ref}.chaos#${k}`;
    out.push({ ref, label: `chaos kill ${k}/${c.kills}: kill -9 ${name(node)}`, action: { kind: 'kill', node }, chaosKill: k });
    if (c.downMs > 0) out.push({ ref, label: `chaos: ${name(node)} down`, action: { kind: 'wait', ms: c.downMs } });
    out.push({ ref, label: `chaos: restart ${name(node)}`, action: { kind: 'restart', node } });
    out.push({ ref, label: `chaos: pause`, action: { kind: 'wait', ms: pause } });
  }
  return out;
}

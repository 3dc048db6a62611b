/**
 * `demo --profile-start`: the timeline of one node's start, so a change to start-up can be judged. Steps come
 * from the demo's own marks (controller up, swtpm up, agent spawned, cluster applied, READY received) and from
 * the node's agent log (JSON lines; the agent's messages named below). Pure: parsing and ordering only.
 */

/** One step: when it ended, ms after the demo started, and how long since the previous step. */
export interface StartStep {
  step: string;
  atMs: number;
  deltaMs: number;
}

/** The demo's own marks, wall-clock ms. */
export class StartMarks {
  readonly list: { step: string; at: number }[] = [];
  constructor(readonly startedAt: number) {}
  mark(step: string, at = Date.now()): void {
    this.list.push({ step, at });
  }
}

/** Agent log messages that end a start step (the first occurrence counts). */
const AGENT_STEPS: ReadonlyArray<[message: string, step: string]> = [
  ['agent process started', 'agent: modules loaded'],
  ['key store opened', 'agent: key store opened'],
  ['controller certs verified', 'agent: controller certs verified'],
  ['onboarded', 'agent: onboarded (register, uuid)'],
  ['attested', 'agent: attested'],
  ['config accepted', 'agent: first config accepted (verified, decrypted)'],
  ['k3s started', 'agent: k3s spawned'],
];

/** The node's start timeline from the demo's marks and its agent log text. */
export function startTimeline(marks: StartMarks, agentLog: string): StartStep[] {
  const at: { step: string; at: number }[] = [...marks.list];
  const seen = new Set<string>();
  for (const line of agentLog.split('\n')) {
    if (!line.startsWith('{')) continue;
    let rec: { message?: unknown; timestamp?: unknown; sinceProcessStartMs?: unknown };
    try {
      rec = JSON.parse(line) as typeof rec;
    } catch {
      continue;
    }
    const hit = AGENT_STEPS.find(([m]) => m === rec.message);
    const t = typeof rec.timestamp === 'string' ? Date.parse(rec.timestamp) : NaN;
    if (!hit || seen.has(hit[0]) || !Number.isFinite(t)) continue;
    seen.add(hit[0]);
    if (typeof rec.sinceProcessStartMs === 'number') at.push({ step: 'agent: process started', at: t - rec.sinceProcessStartMs });
    at.push({ step: hit[1], at: t });
  }
  at.sort((a, b) => a.at - b.at);
  let prev = marks.startedAt;
  return at.map((s) => {
    const step = { step: s.step, atMs: s.at - marks.startedAt, deltaMs: s.at - prev };
    prev = s.at;
    return step;
  });
}

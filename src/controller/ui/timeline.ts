/** Timeline view: recorded failover/scenario runs as charts (spec and real time) against EVE's own timeline. */
import type { TimelineRecord, TimelinesView } from '../ui-types.js';
import { useApi } from './api.js';
import { Chart } from './chart.js';
import { iso, secs } from './format.js';
import { html } from './html.js';
import { Failed, Loading } from './parts.js';

export function Timelines() {
  const r = useApi<TimelinesView>('timelines', (ev) => ev.timelines);
  if (r.error) return html`<${Failed} error=${r.error} />`;
  if (!r.data) return html`<${Loading} />`;
  const list = [...r.data.timelines].reverse();
  return html`<section aria-labelledby="tl-h">
    <h1 id="tl-h">Timelines</h1>
    ${list.length === 0 ? html`<p>No run recorded yet. <code>edgesim demo --scenario failover</code> records one here.</p>` : list.map((t) => html`<${TimelineChart} key=${t.id} t=${t} />`)}
  </section>`;
}

function TimelineChart({ t }: { t: TimelineRecord }) {
  const x = t.steps.map((_, i) => i);
  const nil = (v: number | undefined): number | null => (v === undefined ? null : v / 1000);
  const data = [x, t.steps.map((s) => s.specMs / 1000), t.steps.map((s) => s.realMs / 1000), t.steps.map((s) => nil(s.referenceMs))] as [number[], number[], number[], (number | null)[]];
  return html`<article class="tl">
    <h2>${t.title}</h2>
    <p class="sub">started ${iso(t.startedAt)} · time scale ${t.timeScale} · ${t.complete ? 'complete' : 'incomplete (a step was not seen)'}</p>
    <${Chart} label=${`${t.title}: seconds after the start per step, simulated against EVE's reference`} data=${data} options=${{
      scales: { x: { time: false } },
      axes: [{ values: (_u: unknown, ticks: number[]) => ticks.map((i) => (Number.isInteger(i) ? (t.steps[i]?.label ?? '') : '')) }, { label: 'seconds (spec time)', size: 60 }],
      series: [
        { label: 'step', value: (_u: unknown, i: number | null) => (i === null ? '-' : (t.steps[i]?.label ?? '-')) },
        { label: 'simulated (spec time)', stroke: '#2f6fb5', width: 2, points: { show: true, size: 8 } },
        { label: 'simulated (real time)', stroke: '#6a9f3a', width: 1 },
        { label: "EVE's timeline", stroke: '#b5352f', width: 2, dash: [8, 4], spanGaps: true },
      ],
    }} />
    <table><thead><tr><th scope="col">Step</th><th scope="col">Spec time</th><th scope="col">Real time</th><th scope="col">EVE</th></tr></thead>
      <tbody>${t.steps.map((s) => html`<tr><th scope="row">${s.label}</th><td>${secs(s.specMs)}</td><td>${secs(s.realMs)}</td><td>${s.referenceMs === undefined ? '-' : `T+${s.referenceMs / 1000} s`}</td></tr>`)}</tbody>
    </table>
  </article>`;
}

/** Fleet view: devices by phase, rates over time, last-seen histogram and the searchable, paged device table. */
import { useState } from 'preact/hooks';
import type { DevicePhase, FleetView } from '../ui-types.js';
import { useApi } from './api.js';
import { Chart } from './chart.js';
import { age, iso, span } from './format.js';
import { html } from './html.js';
import { Chip, Failed, Link, Loading, type Tone } from './parts.js';

const PAGE = 25;
const PHASES: { phase: DevicePhase; tone: Tone }[] = [
  { phase: 'onboarding', tone: 'muted' },
  { phase: 'attesting', tone: 'warn' },
  { phase: 'running', tone: 'ok' },
  { phase: 'unreachable', tone: 'bad' },
];
export const phaseTone = (p: DevicePhase): Tone => PHASES.find((x) => x.phase === p)?.tone ?? 'muted';

export function Fleet() {
  const [search, setSearch] = useState('');
  const [offset, setOffset] = useState(0);
  const q = `fleet?limit=${PAGE}&offset=${offset}&search=${encodeURIComponent(search)}`;
  const r = useApi<FleetView>(q);
  if (r.error) return html`<${Failed} error=${r.error} />`;
  const v = r.data;
  return html`<section aria-labelledby="fleet-h">
    <h1 id="fleet-h">Fleet</h1>
    ${v ? html`<${Summary} v=${v} />` : html`<${Loading} />`}
    <h2>Devices</h2>
    <form class="search" role="search" onSubmit=${(e: Event) => e.preventDefault()}>
      <label for="device-search">Search serial, UUID or name</label>
      <input id="device-search" type="search" value=${search} autocomplete="off"
        onInput=${(e: Event) => {
          setSearch((e.target as HTMLInputElement).value);
          setOffset(0);
        }} />
    </form>
    ${v && html`<${DeviceTable} v=${v} offset=${offset} setOffset=${setOffset} />`}
  </section>`;
}

function Summary({ v }: { v: FleetView }) {
  const s = v.summary;
  const rates = v.rates;
  const data: [number[], number[], number[]] = [rates.map((x) => x.at / 1000), rates.map((x) => x.onboardingPerSec), rates.map((x) => x.requestsPerSec)];
  const max = Math.max(1, ...s.lastSeen);
  const labels = [...v.lastSeenBucketsMs.map((ms) => `< ${span(ms)}`), `older`, 'never'];
  return html`
    <ul class="tiles" aria-label="Devices by phase">
      <li class="tile"><span class="n">${s.total}</span> devices</li>
      ${PHASES.map((p) => html`<li class="tile" data-phase=${p.phase}><span class="n">${s.phases[p.phase]}</span> <${Chip} tone=${p.tone} text=${p.phase} /></li>`)}
    </ul>
    <div class="two">
      <figure>
        <figcaption>Onboarding and device API requests per second</figcaption>
        <${Chart} label="Onboarding and request rates over time" data=${data} options=${{
          series: [{}, { label: 'onboarded/s', stroke: '#2f6fb5', width: 2 }, { label: 'requests/s', stroke: '#b5652f', width: 2, dash: [6, 3] }],
          axes: [{}, { size: 50 }],
          scales: { x: { time: true } },
        }} />
      </figure>
      <figure>
        <figcaption>Last seen (devices per age)</figcaption>
        <table class="hist">
          <tbody>
            ${s.lastSeen.map((n, i) => html`<tr><th scope="row">${labels[i]}</th><td><span class="bar" style=${`width:${(100 * n) / max}%`}></span></td><td class="num">${n}</td></tr>`)}
          </tbody>
        </table>
      </figure>
    </div>
    ${v.clusters.length > 0 && html`<h2>Clusters</h2><ul class="clusters">${v.clusters.map((c) => html`<li><${Link} to=${`clusters/${c.id}`}>${c.name}</${Link}> · ${c.members} nodes</li>`)}</ul>`}`;
}

function DeviceTable({ v, offset, setOffset }: { v: FleetView; offset: number; setOffset: (n: number) => void }) {
  const p = v.page;
  const last = Math.min(p.total, offset + p.rows.length);
  return html`
    <div class="table-wrap">
      <table class="devices">
        <caption class="sr-only">Registered devices</caption>
        <thead><tr><th scope="col">Serial</th><th scope="col">Name</th><th scope="col">UUID</th><th scope="col">Model</th><th scope="col">Phase</th><th scope="col">Config</th><th scope="col">Last info</th><th scope="col">Last seen</th><th scope="col">Cluster</th></tr></thead>
        <tbody>
          ${p.rows.map((d) => html`<tr>
            <td><${Link} to=${`devices/${d.uuid}`}>${d.serial}</${Link}></td>
            <td>${d.name ?? '-'}</td>
            <td class="mono">${d.uuid}</td>
            <td>${d.model ?? '-'}</td>
            <td><${Chip} tone=${phaseTone(d.phase)} text=${d.phase} /></td>
            <td>${d.configVersion === null ? '-' : `v${d.configVersion}`}</td>
            <td title=${iso(d.lastInfoAt)}>${d.lastInfoType ?? '-'} ${d.lastInfoAt === null ? '' : age(v.now, d.lastInfoAt)}</td>
            <td title=${iso(d.lastSeenAt)}>${age(v.now, d.lastSeenAt)}</td>
            <td>${d.cluster ?? '-'}</td>
          </tr>`)}
        </tbody>
      </table>
    </div>
    <nav class="pager" aria-label="Device pages">
      <button type="button" disabled=${offset === 0} onClick=${() => setOffset(Math.max(0, offset - p.limit))}>Previous</button>
      <span aria-live="polite" data-testid="page-status">${p.total === 0 ? 'No devices' : `${offset + 1}–${last} of ${p.total}`}</span>
      <button type="button" disabled=${offset + p.limit >= p.total} onClick=${() => setOffset(offset + p.limit)}>Next</button>
    </nav>`;
}

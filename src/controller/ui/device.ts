/** Device view: identity, attestation, config version, faults and its info messages as a timeline. */
import type { DeviceView } from '../ui-types.js';
import { useApi } from './api.js';
import { phaseTone } from './fleet.js';
import { age, iso } from './format.js';
import { html } from './html.js';
import { Chip, Failed, Link, Loading } from './parts.js';

export function Device({ id }: { id: string }) {
  const r = useApi<DeviceView>(`devices/${encodeURIComponent(id)}`, (ev) => ev.many || ev.devices.includes(id));
  if (r.error) return html`<${Failed} error=${r.error} />`;
  if (!r.data) return html`<${Loading} />`;
  const d = r.data;
  return html`<section aria-labelledby="device-h">
    <h1 id="device-h">Device ${d.name ?? d.serial}</h1>
    <dl class="facts">
      <dt>UUID</dt><dd class="mono">${d.uuid}</dd>
      <dt>Serial</dt><dd>${d.serial}</dd>
      <dt>Phase</dt><dd><${Chip} tone=${phaseTone(d.phase)} text=${d.phase} /></dd>
      <dt>Attestation</dt><dd>${d.attested ? html`<${Chip} tone="ok" text="attested" />` : html`<${Chip} tone="warn" text="not attested" />`}
        ${d.attestCerts.length > 0 ? ` · certs ${d.attestCerts.join(', ')}` : ''}</dd>
      <dt>Config</dt><dd>${d.config ? `v${d.config.version}, stored ${iso(d.config.updatedAt)}` : 'none'}</dd>
      <dt>Versions served</dt><dd data-testid="served">${d.configsServed.length === 0 ? 'none since the controller started' : d.configsServed.map((s) => `v${s.version} ${age(d.now, s.at)}`).join(' · ')}</dd>
      <dt>Cluster</dt><dd>${d.cluster ? html`<${Link} to=${`clusters/${d.cluster.id}`}>${d.cluster.name}</${Link}>` : '-'}</dd>
      <dt>Registered</dt><dd>${iso(d.createdAt)}</dd>
      <dt>Last seen</dt><dd title=${iso(d.lastSeenAt)}>${age(d.now, d.lastSeenAt)}</dd>
      <dt>Faults</dt><dd>${d.faults === null ? 'not reported by the agent (see edgesim ctl fault list)' : d.faults.length === 0 ? 'none' : d.faults.join(', ')}</dd>
    </dl>
    <h2>Info messages</h2>
    <ol class="timeline" reversed>
      ${d.infos.map((i) => html`<li><time datetime=${new Date(i.at).toISOString()} title=${iso(i.at)}>${age(d.now, i.at)}</time> <strong>${i.ztype}</strong> <span>${i.summary}</span></li>`)}
    </ol>
  </section>`;
}

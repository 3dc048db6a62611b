/** Apps view: per app the designated node against the node reporting it running; volumes and their nodes. */
import type { AppsView } from '../ui-types.js';
import { useApi } from './api.js';
import { age } from './format.js';
import { html } from './html.js';
import { Chip, Failed, Link, Loading } from './parts.js';

export function Apps() {
  const r = useApi<AppsView>('apps', (ev) => ev.many || ev.ztypes.includes('ZiApp'));
  if (r.error) return html`<${Failed} error=${r.error} />`;
  if (!r.data) return html`<${Loading} />`;
  const v = r.data;
  const node = (uuid: string | null) => (uuid === null ? '-' : html`<${Link} to=${`devices/${uuid}`}>${v.nodeNames[uuid] ?? uuid}</${Link}>`);
  return html`<section aria-labelledby="apps-h">
    <h1 id="apps-h">Apps</h1>
    ${v.apps.length === 0 ? html`<p>No cluster apps configured.</p>` : html`<div class="table-wrap"><table>
      <thead><tr><th scope="col">App</th><th scope="col">Cluster</th><th scope="col">Designated node</th><th scope="col">Running on</th><th scope="col">Affinity</th><th scope="col">State</th></tr></thead>
      <tbody>${v.apps.map((a) => {
        const moved = a.designatedNode !== null && a.runningOn.length > 0 && !a.runningOn.includes(a.designatedNode);
        return html`<tr>
          <td>${a.name}</td><td>${a.cluster ?? '-'}</td><td>${node(a.designatedNode)}</td>
          <td>${a.runningOn.length === 0 ? html`<${Chip} tone="bad" text="not running" />` : a.runningOn.map((u, i) => html`${i > 0 ? ', ' : ''}${node(u)}`)}
            ${moved ? html` <${Chip} tone="warn" text="not on its designated node" />` : ''}</td>
          <td>${a.affinity}</td>
          <td>${a.state ?? '-'}${a.stateAt !== null ? ` (${age(v.now, a.stateAt)})` : ''}</td>
        </tr>`;
      })}</tbody></table></div>`}
    <h2>Volumes</h2>
    ${v.volumes.length === 0 ? html`<p>No volumes configured.</p>` : html`<ul>${v.volumes.map((x) => html`<li>${x.name}: designated ${node(x.designatedNode)}</li>`)}</ul>`}
  </section>`;
}

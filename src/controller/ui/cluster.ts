/** Cluster view: a card per node with its self-report beside the leader's view, admission and update status. */
import type { ChangeEvent, ClusterNodeCard, ClusterView, NodeSelfStatus } from '../ui-types.js';
import { useApi } from './api.js';
import { age, iso } from './format.js';
import { html } from './html.js';
import { Chip, Failed, Link, Loading, type Tone } from './parts.js';

const selfTone: Record<NodeSelfStatus, Tone> = { READY: 'ok', NOTREADY: 'warn', DOWN: 'bad', UNKNOWN: 'muted', NONE: 'muted' };

export function Cluster({ id }: { id: string }) {
  const r = useApi<ClusterView>(`clusters/${encodeURIComponent(id)}`, (ev: ChangeEvent) => ev.many || ev.devices.length > 0);
  if (r.error) return html`<${Failed} error=${r.error} />`;
  if (!r.data) return html`<${Loading} />`;
  const v = r.data;
  const ready = v.nodes.filter((n) => n.selfStatus === 'READY').length;
  return html`<section aria-labelledby="cluster-h">
    <h1 id="cluster-h">Cluster ${v.name}</h1>
    <p class="sub"><span class="mono">${v.id}</span> · ${ready} of ${v.nodes.length} nodes READY ·
      leader ${v.leader ? (v.nodes.find((n) => n.uuid === v.leader)?.name ?? v.leader) : 'none reported'}
      ${v.leaderReportAt !== null && html` (report ${age(v.now, v.leaderReportAt)})`}</p>
    <ul class="cards">${v.nodes.map((n) => html`<${NodeCard} n=${n} now=${v.now} />`)}</ul>
  </section>`;
}

function NodeCard({ n, now }: { n: ClusterNodeCard; now: number }) {
  const failed = n.update?.status === 'FAILED' || n.update?.status === 'DOWNLOAD_FAILED';
  return html`<li class=${`card${n.isLeader ? ' leader' : ''}`} data-node=${n.name ?? n.serial} data-self=${n.selfStatus} data-leader=${n.isLeader ? 'yes' : 'no'}>
    <h2><${Link} to=${`devices/${n.uuid}`}>${n.name ?? n.serial}</${Link}>
      ${n.isLeader && html` <span class="badge" title="Sends ZInfoKubeCluster for the cluster">★ leader</span>`}</h2>
    <dl>
      <dt>Role</dt><dd>${n.role}${n.joinServer ? ', bootstrap' : ''}${n.tieBreaker ? ', tie-breaker' : ''}</dd>
      <dt>Cluster IP</dt><dd class="mono">${n.clusterIp ?? '-'}</dd>
      <dt>Self-reported</dt><dd data-testid="self"><${Chip} tone=${selfTone[n.selfStatus]} text=${n.selfStatus === 'NONE' ? 'no report' : n.selfStatus} /></dd>
      <dt>Leader's view</dt><dd data-testid="leader-view">${n.leaderView === null ? html`<${Chip} tone="muted" text="not listed" />` : html`<${Chip} tone=${n.leaderView === 'Ready' ? 'ok' : 'bad'} text=${n.leaderView} />`}</dd>
      <dt>Admission</dt><dd>${n.admission ?? '-'}</dd>
      <dt>Last report</dt><dd title=${iso(n.selfReportAt)}>${age(now, n.selfReportAt)}</dd>
      <dt>Last seen</dt><dd title=${iso(n.lastSeenAt)}>${age(now, n.lastSeenAt)}</dd>
      <dt>Update</dt><dd>${n.update === null ? '-' : html`<span class=${failed ? 'failed' : ''}>${n.update.component ?? ''} ${failed ? html`<${Chip} tone="bad" text=${n.update.status} />` : n.update.status}${n.update.reason ? html`: <span class="reason">${n.update.reason}</span>` : ''}</span>`}</dd>
    </dl>
  </li>`;
}

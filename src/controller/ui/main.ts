/**
 * The dashboard's browser entry: a shell (header, navigation, live indicator) and a small path router over
 * /ui/, /ui/clusters/<id>, /ui/apps, /ui/devices/<id> and /ui/timeline. Links are plain anchors, so keyboard,
 * middle-click and reload all work; the router only turns same-page clicks into history pushes.
 */
import 'uplot/dist/uPlot.min.css';
import './style.css';
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { useLive } from './api.js';
import { Apps } from './apps.js';
import { Cluster } from './cluster.js';
import { Device } from './device.js';
import { Fleet } from './fleet.js';
import { html } from './html.js';
import { Chip, NotFound } from './parts.js';
import { Timelines } from './timeline.js';

function usePath(): string {
  const [p, setP] = useState(location.pathname);
  useEffect(() => {
    const onPop = (): void => setP(location.pathname);
    const onClick = (e: MouseEvent): void => {
      const a = (e.target as Element | null)?.closest('a');
      if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
      const url = new URL(a.href, location.href);
      if (url.origin !== location.origin || !url.pathname.startsWith('/ui/')) return;
      e.preventDefault();
      history.pushState(null, '', url.pathname);
      setP(url.pathname);
      window.scrollTo(0, 0);
      document.getElementById('main')?.focus();
    };
    addEventListener('popstate', onPop);
    document.addEventListener('click', onClick);
    return () => {
      removeEventListener('popstate', onPop);
      document.removeEventListener('click', onClick);
    };
  }, []);
  return p;
}

function View({ path }: { path: string }) {
  const [view = '', id, ...rest] = path.replace(/^\/ui\/?/, '').split('/').map((s) => decodeURIComponent(s));
  if (rest.length > 0) return html`<${NotFound} what=${`There is no page ${path}.`} />`;
  if (view === '' || view === 'fleet') return html`<${Fleet} />`;
  if (view === 'apps' && id === undefined) return html`<${Apps} />`;
  if (view === 'timeline' && id === undefined) return html`<${Timelines} />`;
  if (view === 'clusters' && id) return html`<${Cluster} key=${id} id=${id} />`;
  if (view === 'devices' && id) return html`<${Device} key=${id} id=${id} />`;
  return html`<${NotFound} what=${`There is no page ${path}.`} />`;
}

function App() {
  const path = usePath();
  const live = useLive();
  const nav: [string, string][] = [['', 'Fleet'], ['apps', 'Apps'], ['timeline', 'Timeline']];
  const current = path.replace(/^\/ui\/?/, '').split('/')[0];
  useEffect(() => {
    document.title = `edgesim · ${nav.find(([to]) => to === current)?.[1] ?? current}`;
  }, [path]);
  return html`
    <header>
      <a class="brand" href="/ui/">edgesim</a>
      <nav aria-label="Views"><ul>
        ${nav.map(([to, label]) => html`<li><a href=${`/ui/${to}`} aria-current=${current === to ? 'page' : undefined}>${label}</a></li>`)}
      </ul></nav>
      <span class="live" aria-live="polite">${live ? html`<${Chip} tone="ok" text="live" />` : html`<${Chip} tone="warn" text="reconnecting" />`}</span>
    </header>
    <main id="main" tabindex="-1"><${View} path=${path} /></main>`;
}

const root = document.getElementById('app')!;
// Preact renders next to existing children: drop the static "Loading" line first.
root.replaceChildren();
render(html`<${App} />`, root);

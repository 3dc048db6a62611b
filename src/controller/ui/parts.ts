/** Small shared pieces of the views: status chips (colour plus text), links, not-found and error panels. */
import type { ComponentChildren } from 'preact';
import type { ApiError } from './api.js';
import { html } from './html.js';

/** Colour class of a status word; the word itself is always shown too. */
export type Tone = 'ok' | 'warn' | 'bad' | 'muted';

/** A status chip: a shape and a colour, with the status as text (colour is never the only signal). */
export function Chip({ tone, text, title }: { tone: Tone; text: string; title?: string }) {
  const mark = { ok: '●', warn: '▲', bad: '✖', muted: '○' }[tone];
  return html`<span class=${`chip ${tone}`} title=${title ?? text}><span aria-hidden="true">${mark} </span>${text}</span>`;
}

/** An in-app link (the router intercepts clicks on /ui/ links). */
export function Link({ to, children, label }: { to: string; children: ComponentChildren; label?: string }) {
  return html`<a href=${`/ui/${to}`} aria-label=${label}>${children}</a>`;
}

/** The page for an unknown device, cluster or route. */
export function NotFound({ what }: { what: string }) {
  return html`<section class="notfound" role="alert">
    <h1>Not found</h1>
    <p>${what}</p>
    <p><${Link} to="">Back to the fleet</${Link}></p>
  </section>`;
}

/** A failed read: not found, or the reason in one line. */
export function Failed({ error }: { error: ApiError }) {
  if (error.status === 404) return html`<${NotFound} what=${error.message} />`;
  return html`<section class="error" role="alert"><h1>Cannot show this page</h1><p>${error.message}</p></section>`;
}

export function Loading() {
  return html`<p class="loading" aria-live="polite">Loading…</p>`;
}

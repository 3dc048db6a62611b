/**
 * The page's side of the dashboard API: JSON reads (`/ui/api/…`) and the one `/ui/events` stream, whose
 * aggregated `change` events tell the open view when to read again.
 */
import { useEffect, useState } from 'preact/hooks';
import type { ChangeEvent } from '../ui-types.js';

/** A read that failed: `status` 404 means "not found", 0 a network error. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** GETs `/ui/api/<path>` as JSON; throws ApiError with the server's one-line reason. */
export async function getJson<T>(path: string): Promise<T> {
  let res: Response;
  try {
    res = await fetch(`/ui/api/${path}`, { headers: { Accept: 'application/json' } });
  } catch {
    throw new ApiError(0, 'the controller cannot be reached');
  }
  const body = (await res.json().catch(() => ({}))) as { error?: string };
  if (!res.ok) throw new ApiError(res.status, body.error ?? `HTTP ${res.status}`);
  return body as T;
}

type Listener = (ev: ChangeEvent) => void;
const listeners = new Set<Listener>();
let source: EventSource | undefined;
let connected = false;
const connListeners = new Set<(up: boolean) => void>();

function ensureSource(): void {
  if (source) return;
  source = new EventSource('/ui/events');
  source.addEventListener('change', (e) => {
    const ev = JSON.parse((e as MessageEvent<string>).data) as ChangeEvent;
    for (const l of listeners) l(ev);
  });
  source.onopen = () => setConnected(true);
  source.onerror = () => setConnected(false);
}

function setConnected(up: boolean): void {
  connected = up;
  for (const l of connListeners) l(up);
}

/** The newest change event (re-renders on each one); undefined until the first arrives. */
export function useChanges(): ChangeEvent | undefined {
  const [ev, setEv] = useState<ChangeEvent | undefined>(undefined);
  useEffect(() => {
    ensureSource();
    listeners.add(setEv);
    return () => void listeners.delete(setEv);
  }, []);
  return ev;
}

/** Whether the live stream is connected. */
export function useLive(): boolean {
  const [up, setUp] = useState(connected);
  useEffect(() => {
    ensureSource();
    connListeners.add(setUp);
    return () => void connListeners.delete(setUp);
  }, []);
  return up;
}

/** State of a read: the data, the error, or still loading. */
export type Loaded<T> = { data: T; error?: undefined } | { data?: undefined; error: ApiError } | { data?: undefined; error?: undefined };

/**
 * Reads `path` now, again when it changes, and again on each change event for which `relevant` says yes
 * (at most as often as the server pushes: a few times a second).
 */
export function useApi<T>(path: string, relevant: (ev: ChangeEvent) => boolean = () => true): Loaded<T> {
  const [state, setState] = useState<Loaded<T>>({});
  const ev = useChanges();
  const [gen, setGen] = useState(0);
  useEffect(() => {
    if (ev && relevant(ev)) setGen((g) => g + 1);
  }, [ev]);
  useEffect(() => {
    let live = true;
    getJson<T>(path).then(
      (data) => live && setState({ data }),
      (e: unknown) => live && setState({ error: e instanceof ApiError ? e : new ApiError(0, String(e)) }),
    );
    return () => {
      live = false;
    };
  }, [path, gen]);
  return state;
}

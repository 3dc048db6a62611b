/**
 * The dashboard's HTTP side (read-only): `/ui/` serves the bundled browser app (built by scripts/build-ui.mjs into
 * dist/src/controller/ui-assets), `/ui/api/…` a small JSON read API over the store, and `/ui/events` Server-Sent
 * Events. Live updates are aggregated: store events only mark what changed, and at most every
 * {@link PUSH_INTERVAL_MS} one `change` event goes to every open page, which refetches what it shows.
 */
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { errorMessage, type Clock, type Logger } from '../common/index.js';
import { certs } from '../eve/index.js';
import { configToObject } from './device-config.js';
import { ControllerError, httpStatusOf, isControllerError } from './errors.js';
import { devicePageParams, sendJson } from './http-util.js';
import { LAST_SEEN_BUCKETS_MS, type ControllerStore, type InfoRecord } from './store.js';
import type {
  AppsView,
  ChangeEvent,
  ClusterView,
  FleetCounts,
  DeviceView,
  FleetView,
  RateSample,
  TimelineRecord,
  TimelinesView,
} from './ui-types.js';
import { buildAppsView, buildClusterView, infoEvents, type AppsDeviceInput, type MemberClusterBlock } from './ui-views.js';

/** Fastest pace of pushed `change` events (the issue: at most a few times a second). */
export const PUSH_INTERVAL_MS = 500;
/** A `change` event is sent at least this often while pages are open, so ages and phases move without infos. */
const IDLE_PUSH_MS = 5_000;
/** Rate samples: one every RATE_SAMPLE_MS, the last RATE_SAMPLES kept (10 minutes). */
const RATE_SAMPLE_MS = 2_000;
const RATE_SAMPLES = 300;
/** A change event lists device UUIDs up to this many, then says `many`. */
const CHANGED_DEVICES_MAX = 200;
/** Config versions remembered per device (the newest). */
const SERVED_MAX = 10;
/** Timelines kept for the timeline view. */
const TIMELINES_MAX = 20;

/** Where the bundled assets are: next to this module once built. */
const ASSETS_DIR = fileURLToPath(new URL('./ui-assets/', import.meta.url));

const ASSET_TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.png': 'image/png',
  '.map': 'application/json',
};

/** One path segment, decoded; a malformed escape is bad input, not a server error. */
function decodePart(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new ControllerError('INVALID_INPUT', `path segment "${s.slice(0, 100)}" is not valid percent-encoding`);
  }
}

/** Options of {@link DashboardUi}. */
export interface DashboardUiOptions {
  store: ControllerStore;
  clock: Clock;
  logger: Logger;
  /** A device silent this long (real ms) counts as unreachable. */
  unreachableMs: number;
}

interface ClusterStoredSpec {
  memberUuids?: string[];
}

/** The dashboard: request handler for `/ui…` plus the change aggregator behind `/ui/events`. */
export class DashboardUi {
  private readonly clients = new Set<ServerResponse>();
  private changedDevices = new Set<string>();
  private changedTypes = new Set<string>();
  private timelinesChanged = false;
  private lastPush = 0;
  private lastSummaryText = '';
  private readonly rates: RateSample[] = [];
  private requests = 0;
  private lastSample: { at: number; devices: number; requests: number } | undefined;
  private readonly timelines: TimelineRecord[] = [];
  /** Per device: the config versions sent to it since the controller started, oldest first. */
  private readonly served = new Map<string, { version: number; at: number }[]>();
  /** The last counts (a scan of the device table): shared by every page and event within PUSH_INTERVAL_MS. */
  private countsMemo: { at: number; value: FleetCounts } | undefined;
  private readonly stopTimers: (() => void)[] = [];
  private readonly onInfo = (r: InfoRecord): void => {
    if (this.changedDevices.size <= CHANGED_DEVICES_MAX) this.changedDevices.add(r.deviceUuid);
    this.changedTypes.add(r.ztype);
  };

  constructor(private readonly o: DashboardUiOptions) {
    o.store.on('info', this.onInfo);
    this.sampleRates();
    this.stopTimers.push(o.clock.everyReal(RATE_SAMPLE_MS, () => this.sampleRates()));
    this.stopTimers.push(o.clock.everyReal(PUSH_INTERVAL_MS, () => this.push()));
  }

  /** Counts one device API request (for the request rate). */
  noteRequest(): void {
    this.requests++;
  }

  /** Records that `version` of the device's config was sent to it (kept in memory, newest SERVED_MAX). */
  noteConfigServed(uuid: string, version: number): void {
    const list = this.served.get(uuid) ?? [];
    if (list.at(-1)?.version === version) return;
    list.push({ version, at: this.o.clock.now() });
    if (list.length > SERVED_MAX) list.shift();
    this.served.set(uuid, list);
  }

  /** Adds a failover or scenario timeline to the timeline view (the newest TIMELINES_MAX are kept). */
  recordTimeline(t: TimelineRecord): void {
    this.timelines.push(structuredClone(t));
    if (this.timelines.length > TIMELINES_MAX) this.timelines.shift();
    this.timelinesChanged = true;
  }

  /** True for the paths this handler owns. */
  static owns(url: string | undefined): boolean {
    return url === '/ui' || (url ?? '').startsWith('/ui/') || (url ?? '').startsWith('/ui?');
  }

  /** Stops the timers and ends the event streams. */
  close(): void {
    this.o.store.off('info', this.onInfo);
    for (const stop of this.stopTimers.splice(0)) stop();
    for (const c of this.clients) c.end();
    this.clients.clear();
  }

  /** Answers one `/ui…` request; never throws. */
  handle(req: IncomingMessage, res: ServerResponse): void {
    this.route(req, res).catch((e: unknown) => {
      const status = isControllerError(e) ? httpStatusOf(e.kind) : 500;
      if (status >= 500) this.o.logger.warn('dashboard request failed', { path: req.url, error: errorMessage(e) });
      if (res.headersSent) {
        res.end();
        return;
      }
      sendJson(res, status, { error: status >= 500 ? 'internal error (see the controller log)' : errorMessage(e) });
    });
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://ui.invalid');
    const p = url.pathname;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain' }).end('the dashboard is read-only\n');
      return;
    }
    if (p === '/ui') {
      res.writeHead(302, { Location: '/ui/' }).end();
      return;
    }
    if (p === '/ui/events') return this.subscribe(req, res);
    if (p.startsWith('/ui/assets/')) return this.asset(res, p.slice('/ui/assets/'.length));
    if (p.startsWith('/ui/api/')) {
      res.setHeader('Cache-Control', 'no-store');
      sendJson(res, 200, this.api(p.slice('/ui/api/'.length), url.searchParams));
      return;
    }
    return this.page(res, p.slice('/ui/'.length));
  }

  /** The JSON read API. Throws ControllerError (NOT_FOUND, INVALID_INPUT) for bad references and parameters. */
  private api(p: string, q: URLSearchParams): FleetView | ClusterView | AppsView | DeviceView | TimelinesView {
    const parts = p.split('/').map(decodePart);
    if (p === 'fleet') return this.fleet(q);
    if (p === 'apps') return this.apps();
    if (p === 'timelines') return { timelines: this.timelines };
    if (parts.length === 2 && parts[0] === 'clusters') return this.cluster(parts[1]);
    if (parts.length === 2 && parts[0] === 'devices') return this.device(parts[1]);
    throw new ControllerError('NOT_FOUND', `no dashboard API /ui/api/${p}`);
  }

  private clusterOf(): Map<string, { id: string; name: string }> {
    const m = new Map<string, { id: string; name: string }>();
    for (const c of this.o.store.listClusters()) {
      for (const u of (c.spec as ClusterStoredSpec).memberUuids ?? []) m.set(u, { id: c.id, name: c.name });
    }
    return m;
  }

  private fleet(q: URLSearchParams): FleetView {
    const { search, limit, offset } = devicePageParams(q);
    const now = this.o.clock.now();
    const page = this.o.store.listDevicePage({ search, limit, offset, now, unreachableMs: this.o.unreachableMs });
    const clusterOf = this.clusterOf();
    const clusters = this.o.store.listClusters().map((c) => ({ id: c.id, name: c.name, members: (c.spec as ClusterStoredSpec).memberUuids?.length ?? 0 }));
    return {
      now,
      unreachableMs: this.o.unreachableMs,
      summary: this.counts(now),
      lastSeenBucketsMs: LAST_SEEN_BUCKETS_MS,
      rates: this.rates,
      clusters,
      page: { total: page.total, offset, limit, search, rows: page.rows.map((r) => ({ ...r, cluster: clusterOf.get(r.uuid)?.name ?? null })) },
    };
  }

  private cluster(id: string): ClusterView {
    const c = this.o.store.listClusters().find((x) => x.id === id || x.name === id);
    if (!c) throw new ControllerError('NOT_FOUND', `cluster "${id}" not found`);
    const members = ((c.spec as ClusterStoredSpec).memberUuids ?? []).flatMap((uuid) => {
      const device = this.o.store.getDevice(uuid);
      if (!device) return [];
      const cfg = this.o.store.getConfig(uuid);
      const block = cfg ? (configToObject(cfg.config).cluster as MemberClusterBlock | undefined) : undefined;
      return [{ device, block, latest: this.o.store.latestInfos(uuid) }];
    });
    return buildClusterView(this.o.clock.now(), c.id, c.name, members);
  }

  /** Apps of cluster members (cluster apps carry a designated node); single devices' apps are not listed. */
  private apps(): AppsView {
    const inputs: AppsDeviceInput[] = [];
    for (const c of this.o.store.listClusters()) {
      for (const uuid of (c.spec as ClusterStoredSpec).memberUuids ?? []) {
        const device = this.o.store.getDevice(uuid);
        if (!device) continue;
        const cfg = this.o.store.getConfig(uuid);
        const obj = cfg ? configToObject(cfg.config) : {};
        inputs.push({
          uuid,
          displayName: device.name ?? device.serial,
          cluster: c.name,
          apps: Array.isArray(obj.apps) ? (obj.apps as Record<string, unknown>[]) : [],
          volumes: Array.isArray(obj.volumes) ? (obj.volumes as Record<string, unknown>[]) : [],
          appInfos: this.o.store.listInfo(uuid, { ztypes: ['ZiApp'] }),
        });
      }
    }
    return buildAppsView(this.o.clock.now(), inputs);
  }

  private device(ref: string): DeviceView {
    let d;
    try {
      d = this.o.store.findDevice(ref);
    } catch (e) {
      throw new ControllerError('CONFLICT', errorMessage(e));
    }
    if (!d) throw new ControllerError('NOT_FOUND', `device "${ref}" not found`);
    const now = this.o.clock.now();
    const row = this.o.store.listDevicePage({ search: d.uuid, limit: 1, offset: 0, now, unreachableMs: this.o.unreachableMs }).rows[0];
    const cfg = this.o.store.getConfig(d.uuid);
    return {
      now,
      uuid: d.uuid,
      name: d.name,
      serial: d.serial,
      phase: row?.phase ?? 'onboarding',
      createdAt: d.createdAt,
      lastSeenAt: d.lastSeenAt,
      attested: d.integrityToken !== null,
      attestCerts: d.attestCerts.map((c) => certs.ZCertType[c.type] ?? String(c.type)),
      config: cfg ? { version: cfg.version, updatedAt: cfg.updatedAt, hash: cfg.configHash } : null,
      configsServed: this.served.get(d.uuid) ?? [],
      cluster: this.clusterOf().get(d.uuid) ?? null,
      infos: infoEvents(this.o.store.listInfo(d.uuid)),
      faults: null,
    };
  }

  /** index.html for the app's routes; 404 (same page, which says "not found") for unknown ones and unknown ids. */
  private async page(res: ServerResponse, route: string): Promise<void> {
    const [view, id, ...rest] = route.split('/').map(decodePart);
    let status = 200;
    if (rest.length > 0 || !['', 'fleet', 'apps', 'timeline', 'clusters', 'devices'].includes(view ?? '')) status = 404;
    else if (view === 'clusters' && !this.o.store.listClusters().some((c) => c.id === id || c.name === id)) status = 404;
    else if (view === 'devices') {
      try {
        if (!id || !this.o.store.findDevice(id)) status = 404;
      } catch {
        // A name shared by several devices: the page explains it.
      }
    }
    let html: Buffer;
    try {
      html = await readFile(path.join(ASSETS_DIR, 'index.html'));
    } catch {
      res.writeHead(503, { 'Content-Type': 'text/plain; charset=utf-8' }).end('dashboard assets are not built: run `npm run build`\n');
      return;
    }
    res.writeHead(status, {
      'Content-Type': ASSET_TYPES['.html'],
      'Content-Length': html.length,
      'Cache-Control': 'no-cache',
      'Content-Security-Policy': "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:",
      'X-Content-Type-Options': 'nosniff',
    });
    res.end(html);
  }

  private async asset(res: ServerResponse, name: string): Promise<void> {
    const type = ASSET_TYPES[path.extname(name)];
    let body: Buffer | undefined;
    if (type && /^[A-Za-z0-9_.-]+$/.test(name) && !name.startsWith('.')) body = await readFile(path.join(ASSETS_DIR, name)).catch(() => undefined);
    if (!body) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
      return;
    }
    res.writeHead(200, { 'Content-Type': type, 'Content-Length': body.length, 'Cache-Control': 'no-cache', 'X-Content-Type-Options': 'nosniff' });
    res.end(body);
  }

  private subscribe(req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store', Connection: 'keep-alive' });
    res.write('retry: 2000\n\n');
    this.clients.add(res);
    req.on('close', () => this.clients.delete(res));
    this.send([res], this.changeEvent(this.o.clock.now()));
  }

  /** Fleet counts, recomputed at most every PUSH_INTERVAL_MS however many pages ask. */
  private counts(now: number): FleetCounts {
    if (!this.countsMemo || now - this.countsMemo.at >= PUSH_INTERVAL_MS || now < this.countsMemo.at) {
      this.countsMemo = { at: now, value: this.o.store.fleetCounts(now, this.o.unreachableMs) };
    }
    return this.countsMemo.value;
  }

  private changeEvent(now: number): ChangeEvent {
    const many = this.changedDevices.size > CHANGED_DEVICES_MAX;
    return {
      at: now,
      summary: this.counts(now),
      devices: many ? [] : [...this.changedDevices],
      many,
      ztypes: [...this.changedTypes],
      timelines: this.timelinesChanged,
    };
  }

  private send(to: Iterable<ServerResponse>, ev: ChangeEvent): void {
    const frame = `event: change\ndata: ${JSON.stringify(ev)}\n\n`;
    for (const c of to) c.write(frame);
  }

  /** One aggregated event when something changed (or IDLE_PUSH_MS passed) and a page listens. */
  private push(): void {
    if (this.clients.size === 0) {
      this.changedDevices.clear();
      this.changedTypes.clear();
      this.timelinesChanged = false;
      return;
    }
    const now = this.o.clock.now();
    const changed = this.changedDevices.size > 0 || this.timelinesChanged;
    const ev = this.changeEvent(now);
    const summaryText = JSON.stringify(ev.summary);
    if (!changed && summaryText === this.lastSummaryText && now - this.lastPush < IDLE_PUSH_MS) return;
    this.lastSummaryText = summaryText;
    this.lastPush = now;
    this.changedDevices.clear();
    this.changedTypes.clear();
    this.timelinesChanged = false;
    this.send(this.clients, ev);
  }

  private sampleRates(): void {
    const at = this.o.clock.now();
    // Only the total: a count, not the scan of every device row that counts(), ~16 ms at 10,000 devices, costs.
    const devices = this.o.store.deviceCount();
    const prev = this.lastSample;
    this.lastSample = { at, devices, requests: this.requests };
    if (!prev || at <= prev.at) return;
    const sec = (at - prev.at) / 1000;
    this.rates.push({
      at,
      onboardingPerSec: Math.max(0, devices - prev.devices) / sec,
      requestsPerSec: (this.requests - prev.requests) / sec,
    });
    if (this.rates.length > RATE_SAMPLES) this.rates.shift();
  }
}

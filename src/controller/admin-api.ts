/**
 * The admin HTTP API (JSON, loopback only): onboarding certs, devices, configs, info messages, the
 * device config bundle and clusters. Shapes in admin-types.ts; the client is admin-client.ts.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { X509Certificate } from 'node:crypto';
import { errorMessage, type Logger } from '../common/index.js';
import { certs, deviceSenderCertHash } from '../eve/index.js';
import { ControllerError, httpStatusOf, isControllerError } from './errors.js';
import { devicePageParams, readBody, sendJson } from './http-util.js';
import type { ControllerPki } from './pki.js';
import { LAST_SEEN_BUCKETS_MS, type ControllerStore, type DeviceRecord, type InfoRecord } from './store.js';
import type { AdminStatus, ConfigView, DeviceConfigBundle, DeviceSummary, FleetPage, InfoItem, OnboardSummary } from './admin-types.js';
import { configSummary, configToObject, setDeviceConfig } from './device-config.js';
import { applyCluster } from './cluster.js';

/** Options of {@link AdminApi}. */
export interface AdminApiOptions {
  store: ControllerStore;
  pki: ControllerPki;
  /** `host:port` devices use (the `server` file). */
  server: string;
  logger: Logger;
  maxBodyBytes: number;
  /** URLs for `GET /admin/status`. */
  status: () => Omit<AdminStatus, 'devices'>;
  /** Epoch ms now, for `GET /admin/fleet`. */
  now: () => number;
  /** A device silent this long (real ms) counts as unreachable in `GET /admin/fleet`. */
  unreachableMs: number;
}

function subjectOf(pem: string): string {
  try {
    return new X509Certificate(pem).subject.replace(/\n/g, ', ');
  } catch {
    return '?';
  }
}

function deviceSummary(store: ControllerStore, d: DeviceRecord): DeviceSummary {
  return {
    uuid: d.uuid,
    name: d.name,
    serial: d.serial,
    certHash: d.certHashHex,
    attested: d.integrityToken !== null,
    attestCerts: d.attestCerts.map((c) => certs.ZCertType[c.type] ?? String(c.type)),
    configVersion: store.getConfig(d.uuid)?.version ?? null,
    createdAt: d.createdAt,
    lastSeenAt: d.lastSeenAt,
  };
}

function infoItem(r: InfoRecord): InfoItem {
  return { seq: r.seq, deviceUuid: r.deviceUuid, receivedAt: r.receivedAt, ztype: r.ztype, info: r.json };
}

function intParam(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  if (/^\d+$/.test(v)) return Number(v);
  const t = Date.parse(v);
  if (name === 'since' && !Number.isNaN(t)) return t;
  throw new ControllerError('INVALID_INPUT', `${name}: "${v}" is not a number${name === 'since' ? ' or ISO time' : ''}`, { field: name });
}

/** Request handler of the admin API. */
export class AdminApi {
  private readonly log: Logger;
  private readonly streams = new Set<ServerResponse>();

  constructor(private readonly o: AdminApiOptions) {
    this.log = o.logger;
  }

  /** Ends every open info stream (called on stop, before the server closes). */
  close(): void {
    for (const res of this.streams) res.end();
    this.streams.clear();
  }

  /** Handles one request; never throws. */
  handle(req: IncomingMessage, res: ServerResponse): void {
    this.route(req, res).catch((e: unknown) => {
      const kind = isControllerError(e) ? e.kind : undefined;
      const status = kind ? httpStatusOf(kind) : 500;
      if (status >= 500) this.log.warn('admin request failed', { method: req.method, path: req.url, error: errorMessage(e) });
      else this.log.debug('admin request refused', { method: req.method, path: req.url, status, error: errorMessage(e) });
      if (res.headersSent) {
        res.end();
        return;
      }
      sendJson(res, status, {
        error: errorMessage(e),
        kind: kind ?? 'INTERNAL',
        ...(isControllerError(e) && e.context.field ? { field: e.context.field } : {}),
      });
    });
  }

  private async json(req: IncomingMessage): Promise<unknown> {
    const r = await readBody(req, this.o.maxBodyBytes);
    if (!r.ok) throw new ControllerError('INVALID_INPUT', r.reason === 'too-large' ? 'body too large' : 'request aborted', { field: 'body' });
    try {
      return JSON.parse(r.body.toString('utf8')) as unknown;
    } catch (e) {
      throw new ControllerError('INVALID_INPUT', `body is not JSON: ${errorMessage(e)}`, { field: 'body' });
    }
  }

  private device(ref: string): DeviceRecord {
    let d: DeviceRecord | undefined;
    try {
      d = this.o.store.findDevice(ref);
    } catch (e) {
      throw new ControllerError('CONFLICT', errorMessage(e), { field: 'device' });
    }
    if (!d) throw new ControllerError('NOT_FOUND', `no device "${ref}" (give a UUID, name or serial)`, { field: 'device' });
    return d;
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://admin');
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    const method = req.method ?? 'GET';
    const { store } = this.o;
    const at = (...p: string[]): boolean => p.length === parts.length && p.every((x, i) => x === '*' || x === parts[i]);

    if (method === 'GET' && at('admin', 'status')) {
      sendJson(res, 200, { ...this.o.status(), devices: store.listDevices().length } satisfies AdminStatus);
    } else if (method === 'POST' && at('admin', 'onboard')) {
      const body = (await this.json(req)) as { certPem?: unknown; serials?: unknown };
      if (typeof body.certPem !== 'string') throw new ControllerError('INVALID_INPUT', 'certPem must be a PEM string', { field: 'certPem' });
      if (!Array.isArray(body.serials) || body.serials.length === 0 || !body.serials.every((s) => typeof s === 'string' && s.length > 0)) {
        throw new ControllerError('INVALID_INPUT', 'serials must be a non-empty list of strings ("*" = any)', { field: 'serials' });
      }
      let hash: string;
      try {
        hash = deviceSenderCertHash(Buffer.from(body.certPem)).toString('hex');
        new X509Certificate(body.certPem);
      } catch (e) {
        throw new ControllerError('INVALID_INPUT', `certPem: ${errorMessage(e)}`, { field: 'certPem' });
      }
      store.addOnboard(hash, body.certPem, body.serials as string[]);
      const rec = store.listOnboard().find((r) => r.certHashHex === hash)!;
      this.log.info('onboarding cert registered', { certHash: hash, serials: rec.serials });
      sendJson(res, 201, { certHash: hash, subject: subjectOf(rec.certPem), serials: rec.serials } satisfies OnboardSummary);
    } else if (method === 'GET' && at('admin', 'onboard')) {
      sendJson(res, 200, store.listOnboard().map((r): OnboardSummary => ({ certHash: r.certHashHex, subject: subjectOf(r.certPem), serials: r.serials })));
    } else if (method === 'GET' && at('admin', 'fleet')) {
      const { search, limit, offset } = devicePageParams(url.searchParams);
      const now = this.o.now();
      const page = store.listDevicePage({ search, limit, offset, now, unreachableMs: this.o.unreachableMs });
      sendJson(res, 200, {
        counts: store.fleetCounts(now, this.o.unreachableMs),
        unreachableMs: this.o.unreachableMs,
        lastSeenBucketsMs: LAST_SEEN_BUCKETS_MS,
        total: page.total,
        offset,
        limit,
        rows: page.rows,
      } satisfies FleetPage);
    } else if (method === 'GET' && at('admin', 'devices')) {
      sendJson(res, 200, store.listDevices().map((d) => deviceSummary(store, d)));
    } else if (method === 'GET' && at('admin', 'device', '*')) {
      sendJson(res, 200, deviceSummary(store, this.device(parts[2])));
    } else if (method === 'PUT' && at('admin', 'device', '*', 'config')) {
      const d = this.device(parts[2]);
      const rec = setDeviceConfig(store, this.o.pki, d.uuid, await this.json(req));
      this.log.info('device config set', { device: d.uuid, version: rec.version });
      sendJson(res, 200, configSummary(rec));
    } else if (method === 'GET' && at('admin', 'device', '*', 'config')) {
      const d = this.device(parts[2]);
      const rec = store.getConfig(d.uuid);
      if (!rec) throw new ControllerError('NOT_FOUND', `device ${d.uuid} has no config`, { field: 'device' });
      sendJson(res, 200, { ...configSummary(rec), config: configToObject(rec.config) } satisfies ConfigView);
    } else if (method === 'DELETE' && at('admin', 'device', '*', 'config')) {
      const d = this.device(parts[2]);
      if (!store.deleteConfig(d.uuid)) throw new ControllerError('NOT_FOUND', `device ${d.uuid} has no config`, { field: 'device' });
      sendJson(res, 200, { uuid: d.uuid });
    } else if (method === 'GET' && at('admin', 'device', '*', 'metrics')) {
      const d = this.device(parts[2]);
      const m = store.getMetrics(d.uuid);
      sendJson(res, 200, m ? { receivedAt: m.receivedAt, metrics: m.json } : null);
    } else if (method === 'GET' && at('admin', 'device', '*', 'info')) {
      this.info(req, res, this.device(parts[2]), url.searchParams);
    } else if (method === 'GET' && at('admin', 'certs', 'device-config')) {
      const { pki } = this.o;
      sendJson(res, 200, {
        server: this.o.server,
        rootCertPem: pki.root.certPem.toString(),
        onboardCertPem: pki.onboard.certPem.toString(),
        onboardKeyPem: pki.onboard.keyPem.toString(),
      } satisfies DeviceConfigBundle);
    } else if (method === 'POST' && at('admin', 'cluster')) {
      const r = await applyCluster(store, this.o.pki, await this.json(req));
      this.log.info('cluster applied', { cluster: r.id, members: r.members.length });
      sendJson(res, 200, r);
    } else {
      throw new ControllerError('NOT_FOUND', `no admin route ${method} ${url.pathname}`);
    }
  }

  /** Lists info messages, or with `follow=1` streams them as newline-delimited JSON until the client leaves. */
  private info(req: IncomingMessage, res: ServerResponse, d: DeviceRecord, q: URLSearchParams): void {
    const sinceMs = intParam(q, 'since');
    const after = intParam(q, 'after');
    const types = (q.get('type') ?? '').split(',').filter(Boolean);
    const filter = { ...(sinceMs !== undefined ? { sinceMs } : {}), ...(after !== undefined ? { sinceSeq: after } : {}), ztypes: types };
    if (q.get('follow') !== '1') {
      sendJson(res, 200, this.o.store.listInfo(d.uuid, filter).map(infoItem));
      return;
    }
    // Subscribe before reading the backlog so nothing that arrives in between is lost; skip duplicates by seq.
    const pending: InfoRecord[] = [];
    let last = after ?? 0;
    let live = false;
    const write = (r: InfoRecord): void => {
      if (r.seq <= last) return;
      last = r.seq;
      res.write(JSON.stringify(infoItem(r)) + '\n');
    };
    const onInfo = (r: InfoRecord): void => {
      if (r.deviceUuid !== d.uuid || (types.length > 0 && !types.includes(r.ztype))) return;
      if (live) write(r);
      else pending.push(r);
    };
    this.o.store.on('info', onInfo);
    this.streams.add(res);
    res.writeHead(200, { 'Content-Type': 'application/x-ndjson', 'Cache-Control': 'no-cache' });
    for (const r of this.o.store.listInfo(d.uuid, filter)) write(r);
    for (const r of pending) write(r);
    live = true;
    const cleanup = (): void => {
      this.o.store.off('info', onInfo);
      this.streams.delete(res);
    };
    req.on('close', cleanup);
    res.on('close', cleanup);
  }
}

/**
 * Lifecycle of the embedded controller: the HTTPS device API and the loopback admin API over one store
 * and one PKI under the data dir, and the read-only dashboard (`/ui/`). `create` acquires everything (and releases it on failure), `run`
 * resolves after `stop` has closed both servers and the database.
 */
import https from 'node:https';
import http from 'node:http';
import type net from 'node:net';
import { mkdir, rm } from 'node:fs/promises';
import { writeFileAtomic } from '../common/atomic-file.js';
import path from 'node:path';
import { createClock, errorMessage, silentLogger, type Clock, type Logger } from '../common/index.js';
import { infoJsonOf } from '../eve/index.js';
import { ControllerError } from './errors.js';
import { formatHostPort, isLoopbackHost, parseHostPort, type HostPort } from './http-util.js';
import { ControllerStore, DEFAULT_INFO_HISTORY } from './store.js';
import { loadOrCreatePki, type ControllerPki } from './pki.js';
import { DeviceApi } from './device-api.js';
import { AdminApi } from './admin-api.js';
import { CONTROLLER_JSON, type ControllerEndpoints } from './admin-client.js';
import { DashboardUi } from './ui-server.js';
import type { TimelineRecord } from './ui-types.js';

/** Options of {@link ControllerServer.create}. */
export interface ControllerServerOptions {
  /** State folder: `certs/`, `controller.db`, `controller.json`. Created (0700) when missing. */
  dataDir: string;
  /** Device API (HTTPS) `host:port`; port 0 picks a free port. @default '127.0.0.1:8080' (Adam's port) */
  listen?: string;
  /** Admin API (HTTP) `host:port`, loopback only. @default device port + 1, or port 0 when the device port is 0 */
  adminListen?: string;
  /**
   * `host[:port]` devices use: written into their `server` file and into the TLS cert's SANs.
   * @default the bound device address (127.0.0.1 when listening on a wildcard)
   */
  advertise?: string;
  /** Serve the read-only dashboard (`/ui/`) on the admin listener, or on `uiListen`. @default true */
  ui?: boolean;
  /** A separate loopback `host:port` for the dashboard (port 0 picks one); the admin listener then does not serve it. */
  uiListen?: string;
  /** The dashboard counts a device silent this long (spec ms, scaled by the clock) as unreachable. @default 180000 */
  unreachableAfterMs?: number;
  /** Largest request body accepted on either API, bytes. @default 4 MiB */
  maxBodyBytes?: number;
  /**
   * Info messages kept per device besides the latest of each ztype (older ones are trimmed).
   * @default DEFAULT_INFO_HISTORY (32)
   */
  infoHistory?: number;
  /** What an acknowledged write survives: a controller crash ('process') or also a power loss ('power', fsync per commit). @default 'process' */
  durability?: 'process' | 'power';
  /** `UuidResponse.manufacturer`. @default 'edgesim' */
  manufacturer?: string;
  /** `UuidResponse.product_name`. @default 'edgesim-device' */
  productName?: string;
  logger?: Logger;
  clock?: Clock;
}

interface CompiledOptions {
  dataDir: string;
  listen: HostPort;
  adminListen: HostPort | undefined;
  ui: boolean;
  uiListen: HostPort | undefined;
  unreachableAfterMs: number;
  advertiseHost: string | undefined;
  advertisePort: number | undefined;
  maxBodyBytes: number;
  infoHistory: number;
  durability: 'process' | 'power';
  manufacturer: string;
  productName: string;
  logger: Logger;
  clock: Clock;
}

/** Fills defaults and validates; throws ControllerError('INVALID_INPUT') naming the option. */
function compileOptions(o: ControllerServerOptions): CompiledOptions {
  if (!o.dataDir) throw new ControllerError('INVALID_INPUT', 'dataDir is required', { field: 'dataDir' });
  const listen = parseHostPort(o.listen ?? '127.0.0.1:8080', 'listen');
  const adminListen = o.adminListen === undefined ? undefined : parseHostPort(o.adminListen, 'adminListen');
  if (adminListen && !isLoopbackHost(adminListen.host)) {
    throw new ControllerError('INVALID_INPUT', `adminListen: ${adminListen.host} is not a loopback address`, {
      field: 'adminListen',
    });
  }
  const uiListen = o.uiListen === undefined ? undefined : parseHostPort(o.uiListen, 'uiListen');
  if (uiListen && !isLoopbackHost(uiListen.host)) {
    throw new ControllerError('INVALID_INPUT', `uiListen: ${uiListen.host} is not a loopback address`, { field: 'uiListen' });
  }
  const unreachableAfterMs = o.unreachableAfterMs ?? 180_000;
  if (!(Number.isFinite(unreachableAfterMs) && unreachableAfterMs > 0)) {
    throw new ControllerError('INVALID_INPUT', `unreachableAfterMs must be a positive number, got ${unreachableAfterMs}`, { field: 'unreachableAfterMs' });
  }
  let advertiseHost: string | undefined;
  let advertisePort: number | undefined;
  if (o.advertise !== undefined) {
    const m = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9.-]+))(?::(\d{1,5}))?$/.exec(o.advertise.trim());
    if (!m) {
      throw new ControllerError('INVALID_INPUT', `advertise: "${o.advertise}" is not host[:port]`, { field: 'advertise' });
    }
    advertiseHost = m[1] ?? m[2];
    advertisePort = m[3] === undefined ? undefined : Number(m[3]);
  }
  const maxBodyBytes = o.maxBodyBytes ?? 4 * 1024 * 1024;
  if (!(Number.isInteger(maxBodyBytes) && maxBodyBytes > 0)) {
    throw new ControllerError('INVALID_INPUT', 'maxBodyBytes must be a positive integer', { field: 'maxBodyBytes' });
  }
  const infoHistory = o.infoHistory ?? DEFAULT_INFO_HISTORY;
  if (!(Number.isInteger(infoHistory) && infoHistory > 0)) {
    throw new ControllerError('INVALID_INPUT', `infoHistory must be a positive integer, got ${infoHistory}`, { field: 'infoHistory' });
  }
  if (o.durability !== undefined && o.durability !== 'process' && o.durability !== 'power') {
    throw new ControllerError('INVALID_INPUT', `durability must be 'process' or 'power', got "${String(o.durability)}"`, { field: 'durability' });
  }
  return {
    dataDir: path.resolve(o.dataDir),
    infoHistory,
    durability: o.durability ?? 'process',
    listen,
    adminListen,
    ui: o.ui ?? true,
    uiListen,
    unreachableAfterMs,
    advertiseHost,
    advertisePort,
    maxBodyBytes,
    manufacturer: o.manufacturer ?? 'edgesim',
    productName: o.productName ?? 'edgesim-device',
    logger: o.logger ?? silentLogger,
    clock: o.clock ?? createClock(),
  };
}

/** Lifecycle states; each transition is logged. */
export type ControllerState = 'running' | 'stopping' | 'stopped';

const WILDCARDS = new Set(['0.0.0.0', '::', '']);

function listenOn(server: net.Server, at: HostPort): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error): void => reject(e);
    server.once('error', onError);
    server.listen(at.port, at.host, () => {
      server.off('error', onError);
      resolve((server.address() as net.AddressInfo).port);
    });
  });
}

function closeServer(server: net.Server | undefined): Promise<void> {
  if (!server?.listening) return Promise.resolve();
  return new Promise((resolve) => {
    server.close(() => resolve());
    (server as http.Server).closeAllConnections?.();
  });
}

/** The embedded development controller (Adam-compatible device API plus admin API). */
export class ControllerServer {
  private stateValue: ControllerState = 'running';
  private stopping: Promise<void> | undefined;
  private readonly done: Promise<void>;
  private resolveDone!: () => void;

  private constructor(
    private readonly log: Logger,
    /** The database; exposed for in-process tests and the demo. */
    readonly store: ControllerStore,
    /** Keys and certs under `<dataDir>/certs`. */
    readonly pki: ControllerPki,
    private readonly deviceServer: https.Server,
    private readonly adminServer: http.Server,
    private readonly adminApi: AdminApi,
    private readonly ui: DashboardUi | undefined,
    private readonly uiServer: http.Server | undefined,
    private readonly ep: ControllerEndpoints,
    private readonly dataDir: string,
  ) {
    this.done = new Promise((r) => (this.resolveDone = r));
  }

  /**
   * Creates the data dir, PKI (first start) and database, binds both APIs and writes
   * `<dataDir>/controller.json`. On any failure releases what it took and throws.
   */
  static async create(opts: ControllerServerOptions): Promise<ControllerServer> {
    const o = compileOptions(opts);
    const log = o.logger.child({ component: 'controller' });
    await mkdir(o.dataDir, { recursive: true, mode: 0o700 });
    let store: ControllerStore | undefined;
    let deviceServer: https.Server | undefined;
    let adminServer: http.Server | undefined;
    let uiServer: http.Server | undefined;
    let ui: DashboardUi | undefined;
    try {
      const tlsHosts = ['localhost', '127.0.0.1', '::1'];
      const mainHost = o.advertiseHost ?? (WILDCARDS.has(o.listen.host) ? '127.0.0.1' : o.listen.host);
      if (!tlsHosts.includes(mainHost)) tlsHosts.unshift(mainHost);
      const pki = await loadOrCreatePki({ dir: path.join(o.dataDir, 'certs'), tlsHosts, clock: o.clock, logger: log });
      store = ControllerStore.open({
        file: path.join(o.dataDir, 'controller.db'),
        clock: o.clock,
        infoHistory: o.infoHistory,
        durability: o.durability,
        renderInfo: infoJsonOf,
      });

      const deviceApi = new DeviceApi({
        store,
        pki,
        logger: o.logger.child({ component: 'controller.api' }),
        maxBodyBytes: o.maxBodyBytes,
        manufacturer: o.manufacturer,
        productName: o.productName,
        onConfigServed: (uuid, version) => ui?.noteConfigServed(uuid, version),
      });
      deviceServer = https.createServer(
        {
          cert: pki.tls.certPem,
          key: pki.tls.keyPem,
          minVersion: 'TLSv1.2',
          // Adam requests the client cert but ignores it (eve-api.md §4).
          requestCert: true,
          rejectUnauthorized: false,
        },
        (req, res) => {
          ui?.noteRequest();
          deviceApi.handle(req, res);
        },
      );
      const devicePort = await listenOn(deviceServer, o.listen);
      const server = formatHostPort(mainHost, o.advertisePort ?? devicePort);
      const deviceUrl = `https://${formatHostPort(WILDCARDS.has(o.listen.host) ? '127.0.0.1' : o.listen.host, devicePort)}`;

      const adminAt = o.adminListen ?? { host: isLoopbackHost(o.listen.host) ? o.listen.host : '127.0.0.1', port: o.listen.port === 0 ? 0 : o.listen.port + 1 };
      const adminApi = new AdminApi({
        store,
        pki,
        server,
        logger: o.logger.child({ component: 'controller.admin' }),
        maxBodyBytes: o.maxBodyBytes,
        status: () => ({ deviceUrl, adminUrl: ep.adminUrl, server }),
        now: () => o.clock.now(),
        unreachableMs: o.clock.scaled(o.unreachableAfterMs),
      });
      if (o.ui) {
        ui = new DashboardUi({ store, clock: o.clock, logger: o.logger.child({ component: 'controller.ui' }), unreachableMs: o.clock.scaled(o.unreachableAfterMs) });
      }
      const uiOnAdmin = o.ui && !o.uiListen ? ui : undefined;
      adminServer = http.createServer((req, res) => {
        if (uiOnAdmin && DashboardUi.owns(req.url)) uiOnAdmin.handle(req, res);
        else adminApi.handle(req, res);
      });
      const adminPort = await listenOn(adminServer, adminAt);
      const adminUrl = `http://${formatHostPort(adminAt.host, adminPort)}`;
      let uiUrl: string | undefined = uiOnAdmin ? `${adminUrl}/ui/` : undefined;
      if (ui && o.uiListen) {
        const only = ui;
        uiServer = http.createServer((req, res) => {
          if (DashboardUi.owns(req.url)) only.handle(req, res);
          else if (req.url === '/') res.writeHead(302, { Location: '/ui/' }).end();
          else res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
        });
        uiUrl = `http://${formatHostPort(o.uiListen.host, await listenOn(uiServer, o.uiListen))}/ui/`;
      }
      const ep: ControllerEndpoints = {
        deviceUrl,
        adminUrl,
        ...(uiUrl ? { uiUrl } : {}),
        server,
        pid: process.pid,
      };
      // Atomic: clients and tests poll for this file and must never read it half-written.
      await writeFileAtomic(path.join(o.dataDir, CONTROLLER_JSON), JSON.stringify(ep, null, 2) + '\n', { mode: 0o644 });
      log.info('state', { from: 'created', to: 'running', deviceUrl: ep.deviceUrl, adminUrl: ep.adminUrl, server });
      return new ControllerServer(log, store, pki, deviceServer, adminServer, adminApi, ui, uiServer, ep, o.dataDir);
    } catch (e) {
      ui?.close();
      await closeServer(uiServer);
      await closeServer(adminServer);
      await closeServer(deviceServer);
      store?.close();
      log.warn('start failed', { error: errorMessage(e) });
      throw e;
    }
  }

  /** Current lifecycle state. */
  get state(): ControllerState {
    return this.stateValue;
  }

  /** Where the APIs listen and what devices are told (`server`). */
  endpoints(): ControllerEndpoints {
    return { ...this.ep };
  }

  /** Shows a failover or scenario timeline in the dashboard's timeline view (no-op without the dashboard). */
  recordTimeline(t: TimelineRecord): void {
    this.ui?.recordTimeline(t);
  }

  /** Resolves once the controller has stopped (after {@link stop}). */
  run(): Promise<void> {
    return this.done;
  }

  /** Stops both APIs (open connections and info streams are closed), removes controller.json, closes the database. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.setState('stopping');
      this.adminApi.close();
      this.ui?.close();
      await Promise.all([closeServer(this.adminServer), closeServer(this.deviceServer), closeServer(this.uiServer)]);
      await rm(path.join(this.dataDir, CONTROLLER_JSON), { force: true });
      this.store.close();
      this.setState('stopped');
      this.resolveDone();
    })();
    return this.stopping;
  }

  private setState(to: ControllerState): void {
    this.log.info('state', { from: this.stateValue, to });
    this.stateValue = to;
  }
}

/**
 * Client of the controller's admin HTTP API, used by the CLI, the demo and tests. It finds the API
 * through `<data-dir>/controller.json`, which a running controller writes.
 */
import http from 'node:http';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { errorMessage } from '../common/index.js';
import { ControllerError } from './errors.js';
import { writeDeviceConfigFolder } from './device-config-folder.js';
import type {
  AdminErrorBody,
  AdminStatus,
  ConfigSummary,
  ConfigView,
  DeviceConfigBundle,
  FleetPage,
  DeviceSummary,
  InfoItem,
  OnboardSummary,
} from './admin-types.js';
import type { ClusterApplyResult } from './cluster.js';

/** Name of the file in the data dir that tells clients where a running controller listens. */
export const CONTROLLER_JSON = 'controller.json';

/** Content of `<data-dir>/controller.json`. */
export interface ControllerEndpoints {
  deviceUrl: string;
  adminUrl: string;
  /** The dashboard's URL, when it is served. */
  uiUrl?: string;
  server: string;
  pid: number;
}

/** Filters of {@link ControllerAdminClient.info} and {@link ControllerAdminClient.followInfo}. */
export interface InfoQuery {
  /** Only messages received at or after this time (epoch ms). */
  sinceMs?: number;
  /** Only messages with a sequence number above this one. */
  after?: number;
  /** Only these `ZInfoTypes` names (e.g. `ZiDevice`). */
  types?: string[];
}

/** Options of {@link ControllerAdminClient.exportDeviceConfig}. */
export interface ExportDeviceConfigOptions {
  /** Folder to write (created when missing). */
  outDir: string;
  /** Soft serial to write and register with the onboarding cert. @default random `edgesim-<8 hex>` */
  serial?: string;
}

/** Talks JSON to the admin API at `adminUrl` (e.g. `http://127.0.0.1:8081`). */
export class ControllerAdminClient {
  constructor(readonly adminUrl: string) {}

  /** A client for the controller whose data dir is `dataDir` (reads its controller.json). */
  static async fromDataDir(dataDir: string): Promise<ControllerAdminClient> {
    const file = path.join(dataDir, CONTROLLER_JSON);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (e) {
      throw new ControllerError('ADMIN_HTTP', `no running controller found: cannot read ${file} (${errorMessage(e)})`, {
        field: 'data-dir',
      });
    }
    const ep = JSON.parse(text) as Partial<ControllerEndpoints>;
    if (typeof ep.adminUrl !== 'string') {
      throw new ControllerError('ADMIN_HTTP', `${file} has no adminUrl`, { field: 'data-dir' });
    }
    return new ControllerAdminClient(ep.adminUrl);
  }

  /** Controller URLs and counts. */
  status(signal?: AbortSignal): Promise<AdminStatus> {
    return this.call<AdminStatus>('GET', '/admin/status', undefined, signal);
  }

  /** Registers an onboarding cert with serials (`*` = any); adds serials when the cert is known. */
  addOnboard(certPem: string, serials: string[], signal?: AbortSignal): Promise<OnboardSummary> {
    return this.call<OnboardSummary>('POST', '/admin/onboard', { certPem, serials }, signal);
  }

  /** Registered onboarding certs. */
  listOnboard(signal?: AbortSignal): Promise<OnboardSummary[]> {
    return this.call<OnboardSummary[]>('GET', '/admin/onboard', undefined, signal);
  }

  /** Registered devices. */
  devices(signal?: AbortSignal): Promise<DeviceSummary[]> {
    return this.call<DeviceSummary[]>('GET', '/admin/devices', undefined, signal);
  }

  /** Device counts by phase and last-seen age with one page of devices (registration order), optionally searched. */
  fleet(q: { search?: string; limit?: number; offset?: number } = {}, signal?: AbortSignal): Promise<FleetPage> {
    const p = new URLSearchParams();
    if (q.search) p.set('search', q.search);
    if (q.limit !== undefined) p.set('limit', String(q.limit));
    if (q.offset !== undefined) p.set('offset', String(q.offset));
    return this.call<FleetPage>('GET', `/admin/fleet?${p.toString()}`, undefined, signal);
  }

  /** One device by UUID, name or serial. */
  device(ref: string, signal?: AbortSignal): Promise<DeviceSummary> {
    return this.call<DeviceSummary>('GET', `/admin/device/${encodeURIComponent(ref)}`, undefined, signal);
  }

  /**
   * Replaces a device's config. `config` is an EdgeDevConfig with proto field names (as in
   * test/fixtures/vectors/config/edgedevconfig.json); `id`, and `controllercert_confighash` are filled by the
   * controller.
   */
  setConfig(ref: string, config: unknown, signal?: AbortSignal): Promise<ConfigSummary> {
    return this.call<ConfigSummary>('PUT', `/admin/device/${encodeURIComponent(ref)}/config`, config, signal);
  }

  /** A device's current config. */
  getConfig(ref: string, signal?: AbortSignal): Promise<ConfigView> {
    return this.call<ConfigView>('GET', `/admin/device/${encodeURIComponent(ref)}/config`, undefined, signal);
  }

  /** Deletes a device's config; the device then gets 404 on /config. */
  async deleteConfig(ref: string, signal?: AbortSignal): Promise<void> {
    await this.call<unknown>('DELETE', `/admin/device/${encodeURIComponent(ref)}/config`, undefined, signal);
  }

  /** The info messages received so far, oldest first. */
  info(ref: string, q: InfoQuery = {}, signal?: AbortSignal): Promise<InfoItem[]> {
    return this.call<InfoItem[]>('GET', this.infoPath(ref, q, false), undefined, signal);
  }

  /**
   * Info messages as they arrive: first those matching `q`, then each new one, until `signal` fires
   * (the iterator then ends without error) or the controller stops.
   */
  async *followInfo(ref: string, q: InfoQuery = {}, signal?: AbortSignal): AsyncGenerator<InfoItem> {
    const res = await this.open('GET', this.infoPath(ref, q, true), undefined, signal);
    if (res.statusCode !== 200) throw await this.failure(res, 'GET', this.infoPath(ref, q, true));
    let buf = '';
    try {
      for await (const chunk of res as AsyncIterable<Buffer>) {
        buf += chunk.toString('utf8');
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl).trim();
          buf = buf.slice(nl + 1);
          if (line) yield JSON.parse(line) as InfoItem;
        }
      }
    } catch (e) {
      if (signal?.aborted) return;
      throw e;
    }
  }

  /** Latest metrics of a device (ZMetricMsg in proto field names), or null. */
  metrics(ref: string, signal?: AbortSignal): Promise<{ receivedAt: number; metrics: unknown } | null> {
    return this.call('GET', `/admin/device/${encodeURIComponent(ref)}/metrics`, undefined, signal);
  }

  /** The files of a device config folder (includes the onboarding private key). */
  deviceConfigBundle(signal?: AbortSignal): Promise<DeviceConfigBundle> {
    return this.call<DeviceConfigBundle>('GET', '/admin/certs/device-config', undefined, signal);
  }

  /**
   * Writes a ready-to-use EVE config folder (`server`, `root-certificate.pem`, `onboard.cert.pem`,
   * `onboard.key.pem` 0600, `soft_serial`) and registers the onboarding cert with its serial.
   * Returns the serial used.
   */
  async exportDeviceConfig(opts: ExportDeviceConfigOptions, signal?: AbortSignal): Promise<{ serial: string; files: string[] }> {
    const serial = opts.serial ?? `edgesim-${randomBytes(4).toString('hex')}`;
    if (!/^[a-zA-Z0-9_-]{1,256}$/.test(serial)) {
      throw new ControllerError('INVALID_INPUT', `serial "${serial}" must be 1-256 characters of [a-zA-Z0-9_-]`, {
        field: 'serial',
      });
    }
    const bundle = await this.deviceConfigBundle(signal);
    await this.addOnboard(bundle.onboardCertPem, [serial], signal);
    const files = await writeDeviceConfigFolder(opts.outDir, bundle, serial);
    return { serial, files };
  }

  /** Applies a cluster definition (see cluster.ts) and returns the members' new config versions. */
  applyCluster(spec: unknown, signal?: AbortSignal): Promise<ClusterApplyResult> {
    return this.call<ClusterApplyResult>('POST', '/admin/cluster', spec, signal);
  }

  private infoPath(ref: string, q: InfoQuery, follow: boolean): string {
    const p = new URLSearchParams();
    if (q.sinceMs !== undefined) p.set('since', String(q.sinceMs));
    if (q.after !== undefined) p.set('after', String(q.after));
    if (q.types && q.types.length > 0) p.set('type', q.types.join(','));
    if (follow) p.set('follow', '1');
    const qs = p.toString();
    return `/admin/device/${encodeURIComponent(ref)}/info${qs ? '?' + qs : ''}`;
  }

  private open(method: string, p: string, body: unknown, signal?: AbortSignal): Promise<http.IncomingMessage> {
    const url = new URL(p, this.adminUrl);
    const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    return new Promise((resolve, reject) => {
      const req = http.request(
        url,
        {
          method,
          agent: false,
          headers: data ? { 'Content-Type': 'application/json', 'Content-Length': data.length } : {},
          ...(signal ? { signal } : {}),
        },
        resolve,
      );
      req.on('error', (e) =>
        reject(
          signal?.aborted
            ? e
            : new ControllerError('ADMIN_HTTP', `admin API ${method} ${url.href}: ${e.message}`, { url: url.href }),
        ),
      );
      req.end(data);
    });
  }

  private async failure(res: http.IncomingMessage, method: string, p: string): Promise<ControllerError> {
    const chunks: Buffer[] = [];
    for await (const c of res as AsyncIterable<Buffer>) chunks.push(c);
    const text = Buffer.concat(chunks).toString('utf8');
    let parsed: Partial<AdminErrorBody> = {};
    try {
      parsed = JSON.parse(text) as AdminErrorBody;
    } catch {
      parsed = { error: text.trim() };
    }
    const kind = parsed.kind === 'NOT_FOUND' || parsed.kind === 'INVALID_INPUT' || parsed.kind === 'CONFLICT' ? parsed.kind : 'ADMIN_HTTP';
    return new ControllerError(kind, parsed.error ?? `admin API ${method} ${p}: HTTP ${res.statusCode}`, {
      status: res.statusCode ?? 0,
      url: new URL(p, this.adminUrl).href,
      ...(parsed.field ? { field: parsed.field } : {}),
    });
  }

  private async call<T>(method: string, p: string, body: unknown, signal?: AbortSignal): Promise<T> {
    const res = await this.open(method, p, body, signal);
    if ((res.statusCode ?? 0) >= 300) throw await this.failure(res, method, p);
    const chunks: Buffer[] = [];
    for await (const c of res as AsyncIterable<Buffer>) chunks.push(c);
    const text = Buffer.concat(chunks).toString('utf8');
    return (text.trim() ? JSON.parse(text) : undefined) as T;
  }
}

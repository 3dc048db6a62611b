/**
 * JSON shapes of the admin HTTP API (loopback only), shared by the server (admin-api.ts) and the client
 * (admin-client.ts). Times are epoch milliseconds.
 */
import type { DeviceListRow, FleetCounts } from './ui-types.js';

/** `GET /admin/status`. */
export interface AdminStatus {
  /** Base URL devices use, e.g. `https://127.0.0.1:8080`. */
  deviceUrl: string;
  /** Base URL of this admin API, e.g. `http://127.0.0.1:8081`. */
  adminUrl: string;
  /** `host:port` written into the devices' `server` file. */
  server: string;
  devices: number;
}

/** `POST /admin/onboard` body. */
export interface OnboardRequest {
  /** Onboarding certificate PEM. */
  certPem: string;
  /** Serials the cert may register (`*` = any). */
  serials: string[];
}

/** `POST /admin/onboard` reply and `GET /admin/onboard` items. */
export interface OnboardSummary {
  /** SHA-256 hex of the cert DER. */
  certHash: string;
  subject: string;
  serials: string[];
}

/** `GET /admin/devices` items and `GET /admin/device/<ref>`. */
export interface DeviceSummary {
  uuid: string;
  name: string | null;
  serial: string;
  /** SHA-256 hex of the device cert DER. */
  certHash: string;
  /** Whether the device holds an integrity token (attested once). */
  attested: boolean;
  /** `ZCertType` names of the certs published with ATTEST_REQ_CERT. */
  attestCerts: string[];
  /** Current config version, null without config. */
  configVersion: number | null;
  createdAt: number;
  lastSeenAt: number | null;
}

/** `GET /admin/fleet?search=&limit=&offset=`: device counts and one page of the device table. */
export interface FleetPage {
  /** Counts by phase and last-seen age (`unreachableMs` decides "unreachable"). */
  counts: FleetCounts;
  unreachableMs: number;
  /** Upper bounds of `counts.lastSeen` buckets, ms ago; then older, then never. */
  lastSeenBucketsMs: readonly number[];
  total: number;
  offset: number;
  limit: number;
  rows: DeviceListRow[];
}

/** `PUT /admin/device/<ref>/config` reply and the metadata of `GET …/config`. */
export interface ConfigSummary {
  uuid: string;
  version: number;
  configHash: string;
  updatedAt: number;
}

/** `GET /admin/device/<ref>/config`: metadata plus the config in protojson-style field names. */
export interface ConfigView extends ConfigSummary {
  config: Record<string, unknown>;
}

/** One info message, as `GET /admin/device/<ref>/info` lists it (and streams it, one per line, with `follow=1`). */
export interface InfoItem {
  /** Arrival sequence number; pass it as `after` to resume. */
  seq: number;
  deviceUuid: string;
  receivedAt: number;
  /** `ZInfoTypes` name. */
  ztype: string;
  /** The ZInfoMsg in protojson-style field names. */
  info: unknown;
}

/** `GET /admin/certs/device-config`: everything a device config folder holds (eve-api.md §6). */
export interface DeviceConfigBundle {
  /** Content of `server`: controller `host:port`. */
  server: string;
  rootCertPem: string;
  onboardCertPem: string;
  /** Onboarding private key (PKCS#8 PEM). A secret: written 0600, never logged. */
  onboardKeyPem: string;
}

/** Error body of every non-2xx admin reply. */
export interface AdminErrorBody {
  error: string;
  kind: string;
  field?: string;
}

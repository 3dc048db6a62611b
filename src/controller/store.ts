/**
 * The controller's SQLite store: onboarding certs and their serials, devices, per-device configs, info
 * messages, latest metrics and clusters. Plain rows in, plain records out; no protobuf and no HTTP here.
 * Adam keeps the same data in files (`lf-edge/adam: pkg/driver/file/device_manager_file.go`).
 *
 * Write path at fleet scale: what devices send all the time (infos, metrics, last-seen) goes through a
 * group-commit queue — every item queued during one turn of the event loop is written in one transaction, and
 * each item's promise settles only after that commit, so a device is acknowledged only for what a crash of the
 * controller cannot lose (see {@link StoreOptions.durability}). Statements are prepared once and cached.
 * Info history is bounded: per device the newest `infoHistory` messages plus the latest of each ztype.
 * Infos from devices are kept as the bytes they arrived as and rendered to JSON when read
 * ({@link StoreOptions.renderInfo}): the ingest path neither renders nor stores the ~3× larger JSON.
 */
import Database from 'better-sqlite3';
import { EventEmitter } from 'node:events';
import { closeSync, openSync } from 'node:fs';
import type { Clock } from '../common/index.js';
import type { DeviceListRow, DevicePhase, FleetCounts } from './ui-types.js';

/** A certificate a device published with ATTEST_REQ_CERT, kept verbatim (eve-api.md §8: "stores the list verbatim"). */
export interface AttestCertRecord {
  /** `ZCertType` number (11 restricted signing, 12 EK, 13 ECDH). */
  type: number;
  /** `HashAlgorithm` number of `certHash`. */
  hashAlgo: number;
  /** `ZCert.certHash` as sent, hex. */
  certHashHex: string;
  /** `ZCert.cert` bytes as sent (PEM text incl. the trailing newline), base64. */
  certB64: string;
}

/** A registered device. */
export interface DeviceRecord {
  uuid: string;
  /** `device_name` of the current config, when set. */
  name: string | null;
  serial: string;
  /** SHA-256 hex of the DER of the onboarding cert that registered it; null when pre-registered. */
  onboardHashHex: string | null;
  /** Device certificate PEM (from `ZRegisterMsg.pemCert`). */
  certPem: string;
  /** SHA-256 hex of the device cert DER: the `senderCertHash` its requests carry (eve-api.md §5.2). */
  certHashHex: string;
  attestCerts: AttestCertRecord[];
  /** 128 hex characters, created at the first successful quote and kept (eve-api.md §8). */
  integrityToken: string | null;
  /** Last nonce handed out by ATTEST_REQ_NONCE (12 hex characters). */
  nonce: string | null;
  /** Serialized `AttestStorageKeys` escrowed with STORE_KEYS (returned with later quote replies), or null. */
  storageKeys: Buffer | null;
  /** Epoch ms. */
  createdAt: number;
  /** Epoch ms of the last authenticated request, null before the first one. */
  lastSeenAt: number | null;
}

/**
 * What a device request is checked against (eve-api.md §5.2): the device its cert hash names and that cert. Both
 * fields never change once the device row exists, so the store hands out the same object for every request.
 */
export interface DeviceSender {
  uuid: string;
  /** Device certificate PEM (one Buffer per device, kept: its parsed key is cached by object). */
  certPem: Buffer;
}

/** A stored device config: the serialized EdgeDevConfig with its hash and version counter. */
export interface ConfigRecord {
  deviceUuid: string;
  config: Buffer;
  /** Opaque hash sent as `ConfigResponse.configHash`. */
  configHash: string;
  /** Incremented on each change; also written into `EdgeDevConfig.id.version`. */
  version: number;
  updatedAt: number;
}

/** One received info message. */
export interface InfoRecord {
  /** Monotonic row id; `since` filters use it. */
  seq: number;
  deviceUuid: string;
  /** Epoch ms at which the controller received it. */
  receivedAt: number;
  /** `ZInfoTypes` name, e.g. `ZiDevice`. */
  ztype: string;
  /** The decoded message as JSON (proto field names); for an info kept encoded, rendered on first access. */
  json: unknown;
}

/** A cluster definition as applied by `controller cluster apply`, plus its token. */
export interface ClusterRecord {
  id: string;
  name: string;
  /** The applied definition, as JSON text. */
  spec: unknown;
  /** The k3s cluster token; generated once per cluster. Never log it. */
  token: string;
  updatedAt: number;
}

/** Onboarding cert with its permitted serials (`*` = any). */
export interface OnboardRecord {
  certHashHex: string;
  certPem: string;
  serials: string[];
}

/** Events emitted by the store. `info` fires after each appended info message. */
export interface StoreEvents {
  info: [InfoRecord];
}

/** Query of {@link ControllerStore.listDevicePage}. */
export interface DevicePageQuery {
  /** Case-insensitive substring of serial, UUID or name; empty = all. */
  search?: string;
  limit: number;
  offset: number;
  /** Epoch ms now, and how long a device may stay silent before it counts as unreachable. */
  now: number;
  unreachableMs: number;
}

/** Upper bounds (ms ago) of the last-seen histogram buckets; a last bucket takes the older ones, another the never seen. */
export const LAST_SEEN_BUCKETS_MS: readonly number[] = [10_000, 30_000, 60_000, 300_000, 900_000, 3_600_000];

/** The phase of a device row as SQL (one definition for counts, pages and filters): needs @stale (epoch ms). */
const PHASE_SQL = `CASE
  WHEN d.last_seen_at IS NOT NULL AND d.last_seen_at < @stale THEN 'unreachable'
  WHEN d.integrity_token IS NOT NULL THEN 'running'
  WHEN d.nonce IS NOT NULL OR d.attest_certs <> '[]' THEN 'attesting'
  ELSE 'onboarding' END`;

const SEARCH_SQL = `(@like = '' OR d.serial LIKE @like ESCAPE '\\' OR d.uuid LIKE @like ESCAPE '\\' OR d.name LIKE @like ESCAPE '\\')`;

/** `%text%` for LIKE with its wildcards escaped; '' for no filter. */
function likePattern(search: string | undefined): string {
  const t = (search ?? '').trim();
  return t === '' ? '' : `%${t.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** Options of {@link ControllerStore.open}. */
export interface StoreOptions {
  /** SQLite file path, or ':memory:'. */
  file: string;
  clock: Clock;
  /**
   * Info messages kept per device (newest first); the latest message of each ztype is kept even when older.
   * A device's log is trimmed each time it has grown by a step of ⌈infoHistory/8⌉, so it holds at most
   * infoHistory + ⌈infoHistory/8⌉ − 1 messages plus one per ztype. @default {@link DEFAULT_INFO_HISTORY}
   */
  infoHistory?: number;
  /** Most queued writes committed in one transaction; a full queue commits at once. @default 1000 */
  maxBatch?: number;
  /**
   * What a commit survives. 'process' (SQLite synchronous=NORMAL in WAL mode): a crash or kill -9 of the controller
   * loses no committed transaction; a power loss or OS crash may lose the last ones. 'power' (synchronous=FULL):
   * each commit waits for fsync — measured 6 ms here, on the event loop, which caps batches per second and makes
   * every registration and attestation write wait too. @default 'process'
   */
  durability?: 'process' | 'power';
  /**
   * A last-seen time with no other write queued is committed at most this long after the request (it joins any
   * earlier commit): onboarding's uuid/attest/config requests then share commits instead of one each. @default 1000
   */
  seenFlushMs?: number;
  /**
   * Renders an info kept encoded ({@link ControllerStore.queueEncodedInfo}) as the JSON readers get; the same
   * bytes must always give the same JSON (the scenario ledger fingerprints it). Without it encoded infos are refused.
   */
  renderInfo?: (encoded: Buffer) => unknown;
}

/** Default of {@link StoreOptions.infoHistory}: ~30 KB per device at ~900 bytes per stored ZInfoDevice. */
export const DEFAULT_INFO_HISTORY = 32;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS onboard (
  cert_hash TEXT PRIMARY KEY,
  cert_pem TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS onboard_serial (
  cert_hash TEXT NOT NULL REFERENCES onboard(cert_hash) ON DELETE CASCADE,
  serial TEXT NOT NULL,
  PRIMARY KEY (cert_hash, serial)
);
CREATE TABLE IF NOT EXISTS device (
  uuid TEXT PRIMARY KEY,
  name TEXT,
  serial TEXT NOT NULL,
  onboard_hash TEXT,
  cert_pem TEXT NOT NULL,
  cert_hash TEXT NOT NULL UNIQUE,
  attest_certs TEXT NOT NULL DEFAULT '[]',
  integrity_token TEXT,
  nonce TEXT,
  storage_keys BLOB,
  created_at INTEGER NOT NULL,
  last_seen_at INTEGER
);
CREATE TABLE IF NOT EXISTS config (
  device_uuid TEXT PRIMARY KEY REFERENCES device(uuid) ON DELETE CASCADE,
  config BLOB NOT NULL,
  config_hash TEXT NOT NULL,
  version INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
-- The last config version issued per device; survives a config delete, so versions never go back (agents refuse
-- an older version than the one they run, README "Config rollback guard").
CREATE TABLE IF NOT EXISTS config_counter (
  device_uuid TEXT PRIMARY KEY REFERENCES device(uuid) ON DELETE CASCADE,
  version INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS info (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  device_uuid TEXT NOT NULL,
  received_at INTEGER NOT NULL,
  ztype TEXT NOT NULL,
  -- The message as JSON text, or '' when it is kept encoded in pb.
  json TEXT NOT NULL,
  pb BLOB
);
CREATE INDEX IF NOT EXISTS info_device ON info(device_uuid, seq);
-- The newest info of each (device, ztype): exempt from history trimming, and the answer to "latest by type".
CREATE TABLE IF NOT EXISTS info_latest (
  device_uuid TEXT NOT NULL,
  ztype TEXT NOT NULL,
  seq INTEGER NOT NULL,
  PRIMARY KEY (device_uuid, ztype)
) WITHOUT ROWID;
-- Hot lookups: onboardCheck (every registration), findDevice by serial or name.
CREATE INDEX IF NOT EXISTS device_onboard_serial ON device(onboard_hash, serial);
CREATE INDEX IF NOT EXISTS device_serial ON device(serial);
CREATE INDEX IF NOT EXISTS device_name ON device(name);
-- The dashboard's device table pages in registration order.
CREATE INDEX IF NOT EXISTS device_created ON device(created_at, uuid);
CREATE TABLE IF NOT EXISTS metrics (
  device_uuid TEXT PRIMARY KEY,
  received_at INTEGER NOT NULL,
  json TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS cluster (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  spec TEXT NOT NULL,
  token TEXT NOT NULL,
  updated_at INTEGER NOT NULL
);
`;

/**
 * Upgrades of an existing database, in order: entry i takes `PRAGMA user_version` i to i + 1 and runs after
 * SCHEMA (which creates what is missing), in the same transaction. Append; never edit a released step.
 */
const MIGRATIONS: readonly ((db: Database.Database) => void)[] = [
  // 0 → 1: info_latest filled from the unbounded info table of older versions (trimmed lazily per device).
  (db) => {
    db.exec(`INSERT OR REPLACE INTO info_latest (device_uuid, ztype, seq)
             SELECT device_uuid, ztype, max(seq) FROM info GROUP BY device_uuid, ztype`);
  },
  // 1 → 2: config_counter from the configs that exist.
  (db) => {
    db.exec('INSERT OR REPLACE INTO config_counter (device_uuid, version) SELECT device_uuid, version FROM config');
  },
  // 2 → 3: info.pb (infos kept encoded); SCHEMA already has it in a database created by this version.
  (db) => {
    const cols = db.pragma('table_info(info)') as { name: string }[];
    if (!cols.some((c) => c.name === 'pb')) db.exec('ALTER TABLE info ADD COLUMN pb BLOB');
  },
];

const METRICS_UPSERT = `INSERT INTO metrics (device_uuid, received_at, json) VALUES (?, ?, ?)
  ON CONFLICT(device_uuid) DO UPDATE SET received_at = excluded.received_at, json = excluded.json`;

/** A queued info or metrics write, settled after its batch commits. */
type QueuedWrite =
  | {
      kind: 'info';
      uuid: string;
      ztype: string;
      /** JSON text, or the encoded message (text ''). */
      text: string;
      pb: Buffer | null;
      json: () => unknown;
      at: number;
      done: (r: InfoRecord) => void;
      fail: (e: unknown) => void;
    }
  | { kind: 'metrics'; uuid: string; text: string; at: number; done: () => void; fail: (e: unknown) => void }
  | { kind: 'device'; uuid: string; column: 'nonce' | 'attest_certs'; value: string; done: () => void; fail: (e: unknown) => void };

interface DeviceRow {
  uuid: string;
  name: string | null;
  serial: string;
  onboard_hash: string | null;
  cert_pem: string;
  cert_hash: string;
  attest_certs: string;
  integrity_token: string | null;
  nonce: string | null;
  storage_keys: Buffer | null;
  created_at: number;
  last_seen_at: number | null;
}

function toDevice(r: DeviceRow): DeviceRecord {
  return {
    uuid: r.uuid,
    name: r.name,
    serial: r.serial,
    onboardHashHex: r.onboard_hash,
    certPem: r.cert_pem,
    certHashHex: r.cert_hash,
    attestCerts: JSON.parse(r.attest_certs) as AttestCertRecord[],
    integrityToken: r.integrity_token,
    nonce: r.nonce,
    storageKeys: r.storage_keys,
    createdAt: r.created_at,
    lastSeenAt: r.last_seen_at,
  };
}

interface InfoRow {
  seq: number;
  device_uuid: string;
  received_at: number;
  ztype: string;
  json: string;
  pb: Buffer | null;
}

/** An InfoRecord whose `json` is computed on first access (an own enumerable property, so spreads and JSON see it). */
function lazyInfoRecord(seq: number, deviceUuid: string, receivedAt: number, ztype: string, json: () => unknown): InfoRecord {
  let value: unknown;
  let done = false;
  const rec = { seq, deviceUuid, receivedAt, ztype } as InfoRecord;
  Object.defineProperty(rec, 'json', {
    enumerable: true,
    get: () => {
      if (!done) {
        value = json();
        done = true;
      }
      return value;
    },
  });
  return rec;
}

/**
 * The controller database. Synchronous (better-sqlite3): every method is one short transaction, so
 * request handlers never interleave half-done updates.
 */
export class ControllerStore extends EventEmitter<StoreEvents> {
  private readonly statements = new Map<string, Database.Statement>();
  private queue: QueuedWrite[] = [];
  /** Devices seen since the last commit, with the time (last_seen_at is written with the next batch). */
  private seen = new Map<string, number>();
  private flushScheduled = false;
  /** Pending commit of last-seen times alone (see {@link StoreOptions.seenFlushMs}). */
  private seenTimer: NodeJS.Timeout | undefined;
  private readonly seenFlushMs: number;
  /** Per device: info rows written since its log was last trimmed (absent: not trimmed since open). */
  private readonly sinceTrim = new Map<string, number>();
  private readonly infoHistory: number;
  private readonly trimStep: number;
  private readonly maxBatch: number;
  /**
   * Senders by cert hash, filled on registration and on first lookup (misses are not cached: a device registered
   * later is found).
   * Correct because a device row's uuid and cert never change and rows are never deleted; whatever deletes a
   * device or changes its cert must evict its entry here.
   */
  private readonly senders = new Map<string, DeviceSender>();
  private readonly renderInfo: ((encoded: Buffer) => unknown) | undefined;

  private constructor(
    private readonly db: Database.Database,
    private readonly clock: Clock,
    opts: StoreOptions,
  ) {
    super();
    this.infoHistory = opts.infoHistory ?? DEFAULT_INFO_HISTORY;
    this.trimStep = Math.ceil(this.infoHistory / 8);
    this.maxBatch = opts.maxBatch ?? 1000;
    this.seenFlushMs = opts.seenFlushMs ?? 1000;
    this.renderInfo = opts.renderInfo;
    // For SQL over infos (the device page's model column): the JSON text of a row, encoded or not.
    db.function('info_json', { deterministic: true }, (json: unknown, pb: unknown) =>
      Buffer.isBuffer(pb) ? JSON.stringify(this.render(pb)) : json,
    );
  }

  /** The JSON of an info kept encoded. */
  private render(pb: Buffer): unknown {
    if (!this.renderInfo) throw new Error('the controller store was opened without renderInfo: cannot read an encoded info');
    return this.renderInfo(pb);
  }

  private toInfo(r: InfoRow): InfoRecord {
    return {
      seq: r.seq,
      deviceUuid: r.device_uuid,
      receivedAt: r.received_at,
      ztype: r.ztype,
      json: r.pb ? this.render(r.pb) : (JSON.parse(r.json) as unknown),
    };
  }

  /**
   * Opens (creating when missing) the database, creates what the schema lacks and runs pending MIGRATIONS.
   * WAL mode, synchronous per {@link StoreOptions.durability}, foreign keys on.
   * @throws RangeError naming the option when infoHistory or maxBatch is not a positive integer
   */
  static open(opts: StoreOptions): ControllerStore {
    for (const k of ['infoHistory', 'maxBatch', 'seenFlushMs'] as const) {
      const v = opts[k];
      if (v !== undefined && !(Number.isInteger(v) && v > 0)) throw new RangeError(`${k} must be a positive integer, got ${v}`);
    }
    // The database holds integrity and cluster tokens: create it 0600 (SQLite gives its -wal/-shm the same mode).
    if (opts.file !== ':memory:') closeSync(openSync(opts.file, 'a', 0o600));
    const db = new Database(opts.file);
    try {
      if (opts.file !== ':memory:') db.pragma('journal_mode = WAL');
      db.pragma(`synchronous = ${opts.durability === 'power' ? 'FULL' : 'NORMAL'}`);
      db.pragma('foreign_keys = ON');
      db.transaction(() => {
        db.exec(SCHEMA);
        const from = db.pragma('user_version', { simple: true }) as number;
        for (let v = from; v < MIGRATIONS.length; v++) MIGRATIONS[v](db);
        if (from < MIGRATIONS.length) db.pragma(`user_version = ${MIGRATIONS.length}`);
      })();
    } catch (e) {
      db.close();
      throw e;
    }
    return new ControllerStore(db, opts.clock, opts);
  }

  /** Commits what is queued, then closes the database; later calls throw. Idempotent. */
  close(): void {
    if (!this.db.open) return;
    this.flush();
    this.db.close();
  }

  /** The statement for `sql`, prepared on first use. */
  private q(sql: string): Database.Statement {
    let st = this.statements.get(sql);
    if (!st) {
      st = this.db.prepare(sql);
      this.statements.set(sql, st);
    }
    return st;
  }

  // ---- onboarding ----

  /** Registers an onboarding cert (by DER hash) and adds `serials` to its list (`*` allows any serial). */
  addOnboard(certHashHex: string, certPem: string, serials: readonly string[]): void {
    this.db.transaction(() => {
      this.q('INSERT INTO onboard (cert_hash, cert_pem) VALUES (?, ?) ON CONFLICT(cert_hash) DO NOTHING')
        .run(certHashHex, certPem);
      const ins = this.q('INSERT OR IGNORE INTO onboard_serial (cert_hash, serial) VALUES (?, ?)');
      for (const s of serials) ins.run(certHashHex, s);
    })();
  }

  /** All onboarding certs with their serials. */
  listOnboard(): OnboardRecord[] {
    const rows = this.q('SELECT cert_hash, cert_pem FROM onboard ORDER BY cert_hash').all() as {
      cert_hash: string;
      cert_pem: string;
    }[];
    const serials = this.q('SELECT serial FROM onboard_serial WHERE cert_hash = ? ORDER BY serial');
    return rows.map((r) => ({
      certHashHex: r.cert_hash,
      certPem: r.cert_pem,
      serials: (serials.all(r.cert_hash) as { serial: string }[]).map((s) => s.serial),
    }));
  }

  /**
   * Adam's `OnboardCheck` (eve-api.md §6): 'unknown-cert' when the onboarding cert is not registered,
   * 'unknown-serial' when `serial` is neither listed nor covered by `*`, 'used' when a device already
   * registered with this onboarding cert and serial, else 'ok'.
   */
  onboardCheck(certHashHex: string, serial: string): 'ok' | 'unknown-cert' | 'unknown-serial' | 'used' {
    const known = this.q('SELECT 1 FROM onboard WHERE cert_hash = ?').get(certHashHex);
    if (known === undefined) return 'unknown-cert';
    const listed = this.q("SELECT 1 FROM onboard_serial WHERE cert_hash = ? AND (serial = ? OR serial = '*')")
      .get(certHashHex, serial);
    if (listed === undefined) return 'unknown-serial';
    const used = this.q('SELECT 1 FROM device WHERE onboard_hash = ? AND serial = ?')
      .get(certHashHex, serial);
    return used === undefined ? 'ok' : 'used';
  }

  // ---- devices ----

  /** Creates a device. Throws when its cert hash or UUID already exists (callers check first). */
  addDevice(d: { uuid: string; serial: string; onboardHashHex: string | null; certPem: string; certHashHex: string }): DeviceRecord {
    const now = this.clock.now();
    this.q(
        'INSERT INTO device (uuid, serial, onboard_hash, cert_pem, cert_hash, created_at) VALUES (?, ?, ?, ?, ?, ?)',
      )
      .run(d.uuid, d.serial, d.onboardHashHex, d.certPem, d.certHashHex, now);
    // The device's first request is authenticated from memory (its row's uuid and cert never change).
    this.senders.set(d.certHashHex, { uuid: d.uuid, certPem: Buffer.from(d.certPem, 'latin1') });
    // What the row now holds (the columns' defaults), without reading it back.
    return {
      uuid: d.uuid,
      name: null,
      serial: d.serial,
      onboardHashHex: d.onboardHashHex,
      certPem: d.certPem,
      certHashHex: d.certHashHex,
      attestCerts: [],
      integrityToken: null,
      nonce: null,
      storageKeys: null,
      createdAt: now,
      lastSeenAt: null,
    };
  }

  /** The device with this UUID, or undefined. */
  getDevice(uuid: string): DeviceRecord | undefined {
    const r = this.q('SELECT * FROM device WHERE uuid = ?').get(uuid) as DeviceRow | undefined;
    return r && toDevice(r);
  }

  /** The device whose cert DER hashes to `certHashHex` (all 32 bytes, eve-api.md §5.2), or undefined. */
  getDeviceByCertHash(certHashHex: string): DeviceRecord | undefined {
    const r = this.q('SELECT * FROM device WHERE cert_hash = ?').get(certHashHex) as DeviceRow | undefined;
    return r && toDevice(r);
  }

  /**
   * The sender whose cert DER hashes to `certHashHex` (all 32 bytes), or undefined: what every device request is
   * authenticated with, answered from memory after the device's first request (no query, no row decoding).
   */
  deviceSender(certHashHex: string): DeviceSender | undefined {
    const cached = this.senders.get(certHashHex);
    if (cached) return cached;
    const r = this.q('SELECT uuid, cert_pem FROM device WHERE cert_hash = ?').get(certHashHex) as { uuid: string; cert_pem: string } | undefined;
    if (!r) return undefined;
    const sender: DeviceSender = { uuid: r.uuid, certPem: Buffer.from(r.cert_pem, 'latin1') };
    this.senders.set(certHashHex, sender);
    return sender;
  }

  /**
   * Finds a device by UUID, else by name (`device_name` of its config), else by serial. Undefined when
   * nothing matches; throws when a name or serial matches several devices.
   */
  findDevice(ref: string): DeviceRecord | undefined {
    const byUuid = this.getDevice(ref);
    if (byUuid) return byUuid;
    for (const col of ['name', 'serial'] as const) {
      const rows = this.q(`SELECT * FROM device WHERE ${col} = ?`).all(ref) as DeviceRow[];
      if (rows.length > 1) throw new Error(`device reference "${ref}" matches ${rows.length} devices by ${col}`);
      if (rows.length === 1) return toDevice(rows[0]);
    }
    return undefined;
  }

  /** All devices, oldest first. */
  listDevices(): DeviceRecord[] {
    return (this.q('SELECT * FROM device ORDER BY created_at, uuid').all() as DeviceRow[]).map(toDevice);
  }

  /**
   * One page of devices in registration order, filtered by {@link DevicePageQuery.search}, with the number of
   * matches. Indexed paging; the search scans (a few ms at 10,000 devices).
   */
  listDevicePage(q: DevicePageQuery): { total: number; rows: DeviceListRow[] } {
    const like = likePattern(q.search);
    const total = (this.q(`SELECT count(*) AS n FROM device d WHERE ${SEARCH_SQL}`).get({ like }) as { n: number }).n;
    const rows = this.q(
      `SELECT d.uuid, d.name, d.serial, d.created_at, d.last_seen_at, ${PHASE_SQL} AS phase,
         (SELECT version FROM config c WHERE c.device_uuid = d.uuid) AS config_version,
         (SELECT i.received_at || ' ' || i.ztype FROM info_latest l JOIN info i ON i.seq = l.seq
            WHERE l.device_uuid = d.uuid ORDER BY l.seq DESC LIMIT 1) AS last_info,
         (SELECT trim(coalesce(json_extract(info_json(i.json, i.pb), '$.dinfo.platform'), '') || ' ' || coalesce(json_extract(info_json(i.json, i.pb), '$.dinfo.machineArch'), ''))
            FROM info_latest l JOIN info i ON i.seq = l.seq WHERE l.device_uuid = d.uuid AND l.ztype = 'ZiDevice') AS model
       FROM device d WHERE ${SEARCH_SQL} ORDER BY d.created_at, d.uuid LIMIT @limit OFFSET @offset`,
    ).all({ like, stale: q.now - q.unreachableMs, limit: q.limit, offset: q.offset }) as {
      uuid: string;
      name: string | null;
      serial: string;
      created_at: number;
      last_seen_at: number | null;
      phase: DevicePhase;
      config_version: number | null;
      last_info: string | null;
      model: string | null;
    }[];
    return {
      total,
      rows: rows.map((r) => {
        const [at, type] = r.last_info === null ? [null, null] : r.last_info.split(' ');
        return {
          uuid: r.uuid,
          name: r.name,
          serial: r.serial,
          phase: r.phase,
          configVersion: r.config_version,
          model: r.model || null,
          createdAt: r.created_at,
          lastSeenAt: r.last_seen_at,
          lastInfoAt: at === null ? null : Number(at),
          lastInfoType: type ?? null,
        };
      }),
    };
  }

  /** Number of registered devices (SQLite counts the entries of an index b-tree: no row is read). */
  deviceCount(): number {
    return (this.q('SELECT count(*) AS n FROM device').get() as { n: number }).n;
  }

  /** Device counts by phase and by last-seen age (one scan of the device table). */
  fleetCounts(now: number, unreachableMs: number): FleetCounts {
    const bucket = `CASE WHEN d.last_seen_at IS NULL THEN ${LAST_SEEN_BUCKETS_MS.length + 1} ${LAST_SEEN_BUCKETS_MS.map(
      (ms, i) => `WHEN d.last_seen_at >= @now - ${ms} THEN ${i}`,
    ).join(' ')} ELSE ${LAST_SEEN_BUCKETS_MS.length} END`;
    const rows = this.q(`SELECT ${PHASE_SQL} AS phase, ${bucket} AS bucket, count(*) AS n FROM device d GROUP BY 1, 2`).all({
      now,
      stale: now - unreachableMs,
    }) as { phase: DevicePhase; bucket: number; n: number }[];
    const out: FleetCounts = {
      total: 0,
      phases: { onboarding: 0, attesting: 0, running: 0, unreachable: 0 },
      lastSeen: new Array<number>(LAST_SEEN_BUCKETS_MS.length + 2).fill(0),
    };
    for (const r of rows) {
      out.total += r.n;
      out.phases[r.phase] += r.n;
      out.lastSeen[r.bucket] += r.n;
    }
    return out;
  }

  /**
   * Replaces the device's published attestation certs (Adam overwrites, eve-api.md §8) with the next group commit;
   * resolves once committed (answer the device then), rejects when the commit fails.
   */
  setAttestCerts(uuid: string, certs: readonly AttestCertRecord[]): Promise<void> {
    return this.queueDeviceUpdate(uuid, 'attest_certs', JSON.stringify(certs));
  }

  /** Stores the last nonce handed out with the next group commit; settles like {@link setAttestCerts}. */
  setNonce(uuid: string, nonce: string): Promise<void> {
    return this.queueDeviceUpdate(uuid, 'nonce', nonce);
  }

  private queueDeviceUpdate(uuid: string, column: 'nonce' | 'attest_certs', value: string): Promise<void> {
    return new Promise((done, fail) => this.enqueue({ kind: 'device', uuid, column, value, done, fail }));
  }

  /** Stores the escrowed storage keys (serialized `AttestStorageKeys`). */
  setStorageKeys(uuid: string, keys: Buffer): void {
    this.q('UPDATE device SET storage_keys = ? WHERE uuid = ?').run(keys, uuid);
  }

  /** Returns the device's integrity token, storing `create()` first when it has none (created once per device). */
  ensureIntegrityToken(uuid: string, create: () => string): string {
    // Kept after the first quote: a read, no write transaction, on every later one.
    const kept = this.q('SELECT integrity_token FROM device WHERE uuid = ?').get(uuid) as { integrity_token: string | null } | undefined;
    if (kept?.integrity_token) return kept.integrity_token;
    return this.db.transaction(() => {
      const r = this.q('SELECT integrity_token FROM device WHERE uuid = ?').get(uuid) as
        | { integrity_token: string | null }
        | undefined;
      if (r === undefined) throw new Error(`device ${uuid} not found`);
      if (r.integrity_token !== null) return r.integrity_token;
      const token = create();
      this.q('UPDATE device SET integrity_token = ? WHERE uuid = ?').run(token, uuid);
      return token;
    })();
  }

  /** Records an authenticated request from the device, now (its own transaction). */
  touchDevice(uuid: string): void {
    this.q('UPDATE device SET last_seen_at = ? WHERE uuid = ?').run(this.clock.now(), uuid);
  }

  /** Records an authenticated request from the device with the next group commit (the caller does not wait). */
  noteSeen(uuid: string): void {
    this.seen.set(uuid, this.clock.now());
    if (this.flushScheduled || this.seenTimer) return;
    this.seenTimer = setTimeout(() => this.flush(), this.seenFlushMs);
    // A pending last-seen commit does not keep the process alive (close() commits it).
    this.seenTimer.unref();
  }

  // ---- configs ----

  /**
   * Stores a device config. `build(version)` gets the next version number (one more than the last issued, also after
   * a delete) and returns the serialized
   * config with its hash; runs in one transaction so concurrent sets get distinct versions. Also
   * records `name` as the device's name (null clears it).
   */
  setConfig(uuid: string, name: string | null, build: (version: number) => { config: Buffer; configHash: string }): ConfigRecord {
    return this.db.transaction(() => {
      const prev = this.q('SELECT version FROM config_counter WHERE device_uuid = ?').get(uuid) as
        | { version: number }
        | undefined;
      const version = (prev?.version ?? 0) + 1;
      this.q('INSERT OR REPLACE INTO config_counter (device_uuid, version) VALUES (?, ?)').run(uuid, version);
      const { config, configHash } = build(version);
      const now = this.clock.now();
      this.q(
          `INSERT INTO config (device_uuid, config, config_hash, version, updated_at) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT(device_uuid) DO UPDATE SET config = excluded.config, config_hash = excluded.config_hash,
           version = excluded.version, updated_at = excluded.updated_at`,
        )
        .run(uuid, config, configHash, version, now);
      this.q('UPDATE device SET name = ? WHERE uuid = ?').run(name, uuid);
      return { deviceUuid: uuid, config, configHash, version, updatedAt: now };
    })();
  }

  /** The device's current config, or undefined. */
  getConfig(uuid: string): ConfigRecord | undefined {
    const r = this.q('SELECT * FROM config WHERE device_uuid = ?').get(uuid) as
      | { device_uuid: string; config: Buffer; config_hash: string; version: number; updated_at: number }
      | undefined;
    return (
      r && { deviceUuid: r.device_uuid, config: r.config, configHash: r.config_hash, version: r.version, updatedAt: r.updated_at }
    );
  }

  /** Deletes the device's config (the device then gets 404 on /config). True when one existed. */
  deleteConfig(uuid: string): boolean {
    return this.q('DELETE FROM config WHERE device_uuid = ?').run(uuid).changes > 0;
  }

  // ---- info and metrics ----

  /** Appends an info message now (its own transaction), trims the device's history and emits `info`. */
  addInfo(uuid: string, ztype: string, json: unknown): InfoRecord {
    const receivedAt = this.clock.now();
    const text = JSON.stringify(json);
    const seq = this.db.transaction(() => this.insertInfo(uuid, ztype, text, null, receivedAt))();
    const rec: InfoRecord = { seq, deviceUuid: uuid, receivedAt, ztype, json };
    this.emit('info', rec);
    return rec;
  }

  /**
   * Queues an info message for the next group commit. Resolves with its record once the batch is committed
   * (`info` is emitted then); rejects when the commit fails. Answer the device only after it resolves.
   */
  queueInfo(uuid: string, ztype: string, json: unknown): Promise<InfoRecord> {
    return new Promise((done, fail) => {
      this.enqueue({ kind: 'info', uuid, ztype, text: JSON.stringify(json), pb: null, json: () => json, at: this.clock.now(), done, fail });
    });
  }

  /**
   * Queues an info kept as its encoded bytes (rendered by {@link StoreOptions.renderInfo} when read); settles like
   * {@link queueInfo}. The caller has checked that the bytes decode.
   * @throws Error when the store was opened without renderInfo
   */
  queueEncodedInfo(uuid: string, ztype: string, encoded: Buffer): Promise<InfoRecord> {
    if (!this.renderInfo) throw new Error('the controller store was opened without renderInfo: cannot keep an encoded info');
    return new Promise((done, fail) => {
      this.enqueue({ kind: 'info', uuid, ztype, text: '', pb: encoded, json: () => this.render(encoded), at: this.clock.now(), done, fail });
    });
  }

  /** Queues the device's latest metrics for the next group commit; settles like {@link queueInfo}. */
  queueMetrics(uuid: string, json: unknown): Promise<void> {
    return new Promise((done, fail) => {
      this.enqueue({ kind: 'metrics', uuid, text: JSON.stringify(json), at: this.clock.now(), done, fail });
    });
  }

  private enqueue(w: QueuedWrite): void {
    if (!this.db.open) {
      w.fail(new Error('the controller database is not open'));
      return;
    }
    this.queue.push(w);
    if (this.queue.length >= this.maxBatch) this.flush();
    else this.scheduleFlush();
  }

  /**
   * The batch closes when the current event-loop turn ends: every request whose body arrived in this turn joins
   * it, and while a commit (fsync) blocks the loop the next batch grows by itself — no timer needed.
   */
  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  /** Commits every queued write and last-seen time in one transaction, then settles the writes' promises. */
  private flush(): void {
    this.flushScheduled = false;
    clearTimeout(this.seenTimer);
    this.seenTimer = undefined;
    if (this.queue.length === 0 && this.seen.size === 0) return;
    const batch = this.queue;
    const seen = this.seen;
    this.queue = [];
    this.seen = new Map();
    const seqs: number[] = [];
    try {
      this.db.transaction(() => {
        for (const w of batch) {
          if (w.kind === 'info') seqs.push(this.insertInfo(w.uuid, w.ztype, w.text, w.pb, w.at));
          else if (w.kind === 'metrics') this.q(METRICS_UPSERT).run(w.uuid, w.at, w.text);
          else this.q(w.column === 'nonce' ? 'UPDATE device SET nonce = ? WHERE uuid = ?' : 'UPDATE device SET attest_certs = ? WHERE uuid = ?').run(w.value, w.uuid);
        }
        const touch = this.q('UPDATE device SET last_seen_at = ? WHERE uuid = ?');
        for (const [uuid, at] of seen) touch.run(at, uuid);
      })();
    } catch (e) {
      // The trim counters counted rows that were rolled back: start them afresh.
      this.sinceTrim.clear();
      for (const w of batch) w.fail(e);
      return;
    }
    const records: InfoRecord[] = [];
    let i = 0;
    for (const w of batch) {
      if (w.kind === 'info') {
        const rec = lazyInfoRecord(seqs[i++], w.uuid, w.at, w.ztype, w.json);
        records.push(rec);
        w.done(rec);
      } else w.done();
    }
    // Runs from setImmediate: a throwing listener must not crash the controller nor starve the other listeners.
    for (const r of records) {
      try {
        this.emit('info', r);
      } catch (e) {
        process.emitWarning(`controller store: an info listener failed: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
  }

  /** Inserts one info row and marks it latest of its type; trims the device's log every trimStep rows. Call inside a transaction. */
  private insertInfo(uuid: string, ztype: string, text: string, pb: Buffer | null, at: number): number {
    const seq = Number(
      this.q('INSERT INTO info (device_uuid, received_at, ztype, json, pb) VALUES (?, ?, ?, ?, ?)').run(uuid, at, ztype, text, pb).lastInsertRowid,
    );
    this.q(
      `INSERT INTO info_latest (device_uuid, ztype, seq) VALUES (?, ?, ?)
       ON CONFLICT(device_uuid, ztype) DO UPDATE SET seq = excluded.seq`,
    ).run(uuid, ztype, seq);
    const n = this.sinceTrim.get(uuid);
    if (n === undefined || n + 1 >= this.trimStep) {
      // Keeps the newest infoHistory rows and every row that is the latest of its ztype.
      this.q(
        `DELETE FROM info WHERE device_uuid = @uuid
           AND seq < (SELECT seq FROM info WHERE device_uuid = @uuid ORDER BY seq DESC LIMIT 1 OFFSET @skip)
           AND seq NOT IN (SELECT seq FROM info_latest WHERE device_uuid = @uuid)`,
      ).run({ uuid, skip: this.infoHistory - 1 });
      this.sinceTrim.set(uuid, 0);
    } else this.sinceTrim.set(uuid, n + 1);
    return seq;
  }

  /**
   * Info messages of a device in arrival order, with `seq > sinceSeq` and `receivedAt >= sinceMs`,
   * optionally only of the given ztypes.
   */
  listInfo(uuid: string, filter: { sinceSeq?: number; sinceMs?: number; ztypes?: readonly string[] } = {}): InfoRecord[] {
    const rows = this.q('SELECT * FROM info WHERE device_uuid = ? AND seq > ? AND received_at >= ? ORDER BY seq')
      .all(uuid, filter.sinceSeq ?? 0, filter.sinceMs ?? 0) as InfoRow[];
    const types = filter.ztypes && filter.ztypes.length > 0 ? new Set(filter.ztypes) : undefined;
    return rows.filter((r) => !types || types.has(r.ztype)).map((r) => this.toInfo(r));
  }

  /** The newest info message of each ztype the device sent, oldest first. */
  latestInfos(uuid: string): InfoRecord[] {
    const rows = this.q(
      'SELECT i.* FROM info_latest l JOIN info i ON i.seq = l.seq WHERE l.device_uuid = ? ORDER BY i.seq',
    ).all(uuid) as InfoRow[];
    return rows.map((r) => this.toInfo(r));
  }

  /** Replaces the device's latest metrics, now (its own transaction). */
  setMetrics(uuid: string, json: unknown): void {
    this.q(METRICS_UPSERT).run(uuid, this.clock.now(), JSON.stringify(json));
  }

  /** The device's latest metrics, or undefined. */
  getMetrics(uuid: string): { receivedAt: number; json: unknown } | undefined {
    const r = this.q('SELECT received_at, json FROM metrics WHERE device_uuid = ?').get(uuid) as
      | { received_at: number; json: string }
      | undefined;
    return r && { receivedAt: r.received_at, json: JSON.parse(r.json) as unknown };
  }

  // ---- clusters ----

  /** Creates or updates a cluster by id; keeps the existing token unless `rotate` (`token()` runs for new clusters and rotations). */
  upsertCluster(id: string, name: string, spec: unknown, token: () => string, rotate = false): ClusterRecord {
    return this.db.transaction(() => {
      const prev = this.q('SELECT token FROM cluster WHERE id = ?').get(id) as { token: string } | undefined;
      const tok = rotate || !prev ? token() : prev.token;
      const now = this.clock.now();
      this.q(
          `INSERT INTO cluster (id, name, spec, token, updated_at) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT(id) DO UPDATE SET name = excluded.name, spec = excluded.spec, token = excluded.token, updated_at = excluded.updated_at`,
        )
        .run(id, name, JSON.stringify(spec), tok, now);
      return { id, name, spec, token: tok, updatedAt: now };
    })();
  }

  /** All clusters. */
  listClusters(): ClusterRecord[] {
    const rows = this.q('SELECT * FROM cluster ORDER BY name').all() as {
      id: string;
      name: string;
      spec: string;
      token: string;
      updated_at: number;
    }[];
    return rows.map((r) => ({ id: r.id, name: r.name, spec: JSON.parse(r.spec) as unknown, token: r.token, updatedAt: r.updated_at }));
  }
}

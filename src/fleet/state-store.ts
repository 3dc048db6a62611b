/**
 * The fleet's state: one SQLite file holding, for every device, what `edgesim agent` keeps under its state dir —
 * UUID, soft keys, certificates, the cert and config checkpoints (main + backup copy) and the info queue's slots.
 * Each device sees it through the same interfaces the agent's files implement (DeviceStore, SoftKeyStorage), so the
 * protocol code does not know which it runs on.
 *
 * Crash safety: WAL with synchronous=NORMAL. Writes are group-committed: those issued in one turn of the event loop
 * share one transaction, and each write's promise resolves only once it is committed to the WAL (thousands of devices
 * provisioning at once made a dozen transactions each). A killed process (SIGKILL, OOM) loses nothing committed. Power loss may lose the last transactions
 * (synchronous=FULL would fsync each commit): a fleet is a load generator, a lost heartbeat is re-sent.
 * The file holds private keys: it is created 0600 (SQLite gives its -wal and -shm files the same mode).
 */
import { closeSync, openSync } from 'node:fs';
import { chmod } from 'node:fs/promises';
import Database from 'better-sqlite3';
import type { Logger } from '../common/index.js';
import { errorMessage } from '../common/index.js';
import type { CheckpointStore, DeviceStore, QueueStore } from '../agent/index.js';
import { parseStoredSlot, serializeStoredSlot } from '../agent/index.js';
import type { CertStorage, SoftKeyStorage } from '../tpm/index.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS device (
  serial TEXT PRIMARY KEY,
  uuid TEXT
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS device_key (
  serial TEXT NOT NULL,
  role TEXT NOT NULL,
  pem TEXT NOT NULL,
  PRIMARY KEY (serial, role)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS device_cert (
  serial TEXT NOT NULL,
  role TEXT NOT NULL,
  pem BLOB NOT NULL,
  PRIMARY KEY (serial, role)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS checkpoint (
  serial TEXT NOT NULL,
  name TEXT NOT NULL,
  main BLOB NOT NULL,
  backup BLOB,
  PRIMARY KEY (serial, name)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS queue_slot (
  serial TEXT NOT NULL,
  key TEXT NOT NULL,
  slot TEXT NOT NULL,
  PRIMARY KEY (serial, key)
) WITHOUT ROWID;
`;

/** Counts over the whole file (status, tests). */
export interface StateCounts {
  devices: number;
  onboarded: number;
  queued: number;
}

/** The fleet's SQLite state file. Open with `FleetStateStore.open`, `close()` when done. */
export class FleetStateStore {
  private readonly stmt;
  /** Writes waiting for the next group commit. */
  private pending: { run: () => void; done: () => void; fail: (e: unknown) => void }[] = [];

  private constructor(
    private readonly db: Database.Database,
    readonly file: string,
    private readonly logger: Logger,
  ) {
    const p = (sql: string): Database.Statement => db.prepare(sql);
    this.stmt = {
      metaGet: p('SELECT value FROM meta WHERE key = ?'),
      metaSet: p('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)'),
      uuidGet: p('SELECT uuid FROM device WHERE serial = ?'),
      uuidSet: p('INSERT INTO device (serial, uuid) VALUES (?, ?) ON CONFLICT(serial) DO UPDATE SET uuid = excluded.uuid'),
      keyGet: p('SELECT pem FROM device_key WHERE serial = ? AND role = ?'),
      keyPut: p('INSERT OR IGNORE INTO device_key (serial, role, pem) VALUES (?, ?, ?)'),
      certGet: p('SELECT pem FROM device_cert WHERE serial = ? AND role = ?'),
      certPut: p('INSERT OR IGNORE INTO device_cert (serial, role, pem) VALUES (?, ?, ?)'),
      cpGet: p('SELECT main, backup FROM checkpoint WHERE serial = ? AND name = ?'),
      cpSave: p(`INSERT INTO checkpoint (serial, name, main, backup) VALUES (?, ?, ?, NULL)
                 ON CONFLICT(serial, name) DO UPDATE SET backup = checkpoint.main, main = excluded.main`),
      slotsGet: p('SELECT key, slot FROM queue_slot WHERE serial = ?'),
      slotPut: p('INSERT OR REPLACE INTO queue_slot (serial, key, slot) VALUES (?, ?, ?)'),
      slotDel: p('DELETE FROM queue_slot WHERE serial = ? AND key = ?'),
      countDevices: p('SELECT count(*) AS n, count(uuid) AS onboarded FROM device'),
      countSlots: p('SELECT count(*) AS n FROM queue_slot'),
    };
  }

  /** Queues a write for the group commit; resolves once it is committed. */
  private write(run: () => void): Promise<void> {
    return new Promise((done, fail) => {
      if (this.pending.length === 0) setImmediate(() => this.flush());
      this.pending.push({ run, done, fail });
    });
  }

  /** Commits every queued write in one transaction, then settles their promises (all fail if it rolls back). */
  private flush(): void {
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    try {
      if (!this.db.open) throw new Error(`--state ${this.file} is closed`);
      this.db.transaction(() => {
        for (const w of batch) w.run();
      })();
    } catch (e) {
      for (const w of batch) w.fail(e);
      return;
    }
    for (const w of batch) w.done();
  }

  /** Opens (creating, 0600) the state file. */
  static async open(file: string, logger: Logger): Promise<FleetStateStore> {
    closeSync(openSync(file, 'a', 0o600));
    await chmod(file, 0o600);
    let db: Database.Database;
    try {
      db = new Database(file);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma('busy_timeout = 5000');
      db.exec(SCHEMA);
    } catch (e) {
      throw new Error(`--state ${file}: not a usable SQLite state file: ${errorMessage(e)}`);
    }
    return new FleetStateStore(db, file, logger.child({ component: 'fleet.state' }));
  }

  /** A value of the fleet's own metadata (the controller the file belongs to). */
  meta(key: string): string | undefined {
    return (this.stmt.metaGet.get(key) as { value: string } | undefined)?.value;
  }

  setMeta(key: string, value: string): void {
    this.flush();
    this.stmt.metaSet.run(key, value);
  }

  /** The UUID of a device, if onboarded (synchronous: the fleet's status reads it for thousands of devices). */
  uuidOf(serial: string): string | undefined {
    return (this.stmt.uuidGet.get(serial) as { uuid: string | null } | undefined)?.uuid ?? undefined;
  }

  counts(): StateCounts {
    const d = this.stmt.countDevices.get() as { n: number; onboarded: number };
    const q = this.stmt.countSlots.get() as { n: number };
    return { devices: d.n, onboarded: d.onboarded, queued: q.n };
  }

  /** One device's DeviceStore (UUID, checkpoints, queue slots). */
  deviceStore(serial: string): DeviceStore {
    const s = this.stmt;
    const checkpoint = (name: string): CheckpointStore => ({
      save: (bytes) => this.write(() => void s.cpSave.run(serial, name, Buffer.from(bytes))),
      candidates: () => {
        const row = s.cpGet.get(serial, name) as { main: Buffer; backup: Buffer | null } | undefined;
        return Promise.resolve(row ? [row.main, ...(row.backup ? [row.backup] : [])] : []);
      },
    });
    const queue: QueueStore = {
      load: () => {
        const out = [];
        for (const row of s.slotsGet.all(serial) as { key: string; slot: string }[]) {
          try {
            out.push(parseStoredSlot(row.slot));
          } catch (e) {
            this.logger.warn('dropping unreadable queue slot', { serial, key: row.key, error: errorMessage(e) });
            void this.write(() => void s.slotDel.run(serial, row.key)).catch(() => undefined);
          }
        }
        return Promise.resolve(out);
      },
      put: (slot) => {
        const text = serializeStoredSlot(slot);
        return this.write(() => void s.slotPut.run(serial, slot.key, text));
      },
      remove: (key) => this.write(() => void s.slotDel.run(serial, key)),
    };
    return {
      certCheckpoint: checkpoint('controllercerts'),
      configCheckpoint: checkpoint('lastconfig'),
      queue,
      readUuid: () => Promise.resolve(this.uuidOf(serial)),
      writeUuid: (uuid) => this.write(() => void s.uuidSet.run(serial, uuid)),
    };
  }

  /** One device's soft keys and certificates (created once, never replaced). */
  softKeyStorage(serial: string): SoftKeyStorage {
    const s = this.stmt;
    const where = (kind: string, role: string): string => `${this.file}#${serial}/${kind}/${role}`;
    const certs: CertStorage = {
      read: (role) => Promise.resolve((s.certGet.get(serial, role) as { pem: Buffer } | undefined)?.pem),
      write: (role, pem) => this.write(() => void s.certPut.run(serial, role, Buffer.from(pem))),
      where: (role) => where('cert', role),
    };
    return {
      readKey: (role) => {
        const row = s.keyGet.get(serial, role) as { pem: string } | undefined;
        return Promise.resolve(row ? Buffer.from(row.pem) : undefined);
      },
      writeKey: (role, pem) => this.write(() => void s.keyPut.run(serial, role, pem)),
      whereKey: (role) => where('key', role),
      certs,
    };
  }

  /** Closes the file (a WAL checkpoint folds the log back into it). Idempotent. */
  close(): void {
    if (this.db.open) {
      this.flush();
      this.db.close();
    }
  }
}

/**
 * Where one device keeps what must survive a restart: its UUID (`status/uuid`), the checkpoints (last good config
 * and controller certs, as signed bytes with a backup copy) and the info queue's slots. Behind one small interface:
 * files under the state dir for `edgesim agent`, rows of one SQLite file for a fleet (src/fleet/state-store.ts).
 */
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { createHash } from 'node:crypto';
import type { Logger } from '../common/index.js';
import { errorMessage } from '../common/index.js';
import { writeFileAtomic } from '../common/atomic-file.js';
import { Checkpoint } from './checkpoint.js';
import type { StoredSlot } from './queue-slot.js';

/** A last-good copy with its backup (eve-api.md §12); the reader re-verifies what it gets. */
export interface CheckpointStore {
  /** Saves `bytes`, keeping the previous copy as the backup. */
  save(bytes: Uint8Array): Promise<void>;
  /** The copies that exist, newest first (main, then backup). */
  candidates(): Promise<Buffer[]>;
}

/** The info queue's persisted slots, one per object key. */
export interface QueueStore {
  /** Every slot a previous run left behind (unreadable ones are dropped and logged). */
  load(): Promise<StoredSlot[]>;
  /** Writes (or replaces) the slot of `slot.key`. */
  put(slot: StoredSlot): Promise<void>;
  /** Removes the slot of `key` (no error when absent). */
  remove(key: string): Promise<void>;
}

/** One device's persistent state. */
export interface DeviceStore {
  readonly certCheckpoint: CheckpointStore;
  readonly configCheckpoint: CheckpointStore;
  readonly queue: QueueStore;
  /** The UUID the controller gave, once onboarded. */
  readUuid(): Promise<string | undefined>;
  writeUuid(uuid: string): Promise<void>;
}

/** The agent's state dir: `checkpoint/{controllercerts,lastconfig}[.bak]`, `queue/*.json`, `status/uuid`. */
export function fileDeviceStore(stateDir: string, logger: Logger): DeviceStore {
  const checkpointDir = path.join(stateDir, 'checkpoint');
  const uuidFile = path.join(stateDir, 'status', 'uuid');
  return {
    certCheckpoint: new Checkpoint(checkpointDir, 'controllercerts'),
    configCheckpoint: new Checkpoint(checkpointDir, 'lastconfig'),
    queue: fileQueueStore(path.join(stateDir, 'queue'), logger),
    async readUuid() {
      try {
        return (await readFile(uuidFile, 'utf8')).trim() || undefined;
      } catch {
        return undefined;
      }
    },
    async writeUuid(uuid) {
      await writeFileAtomic(uuidFile, uuid + '\n', { mode: 0o600 });
    },
  };
}

/** Queue slots as `<dir>/<sha256(key)[:32]>.json` (0600, folder 0700), written atomically. */
export function fileQueueStore(dir: string, logger: Logger): QueueStore {
  const fileFor = (key: string): string => path.join(dir, createHash('sha256').update(key).digest('hex').slice(0, 32) + '.json');
  return {
    async load() {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      const out: StoredSlot[] = [];
      for (const name of await readdir(dir)) {
        if (!name.endsWith('.json')) continue;
        try {
          out.push(parseStoredSlot(await readFile(path.join(dir, name), 'utf8')));
        } catch (e) {
          logger.warn('dropping unreadable queue file', { file: name, error: errorMessage(e) });
          await rm(path.join(dir, name), { force: true });
        }
      }
      return out;
    },
    async put(slot) {
      await writeFileAtomic(fileFor(slot.key), serializeStoredSlot(slot), { mode: 0o600, mkdir: false });
    },
    async remove(key) {
      await rm(fileFor(key), { force: true });
    },
  };
}

/** JSON form of a slot (payload base64), shared by every QueueStore. */
export function serializeStoredSlot(slot: StoredSlot): string {
  return JSON.stringify({ ...slot, payload: Buffer.from(slot.payload).toString('base64') });
}

/** Parses `serializeStoredSlot` output; throws on anything else. */
export function parseStoredSlot(text: string): StoredSlot {
  const raw = JSON.parse(text) as Omit<StoredSlot, 'payload'> & { payload: unknown };
  if (typeof raw.key !== 'string' || typeof raw.payload !== 'string' || typeof raw.seq !== 'number') {
    throw new Error('not a queue slot');
  }
  return { ...raw, payload: Buffer.from(raw.payload, 'base64') };
}

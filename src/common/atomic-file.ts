/**
 * The one way edgesim replaces a file that must survive a crash (drop-ins, identity and keys, checkpoints, the info
 * queue, status/uuid, kubeconfig): write a temp file beside it, fsync it, rename it over the old one, fsync the
 * folder. A reader sees the old file or the new one, never a torn one, and after the call returns the new one
 * survives power loss.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import path from 'node:path';

export interface AtomicWriteOptions {
  /** Mode of the new file. @default 0o600 */
  mode?: number;
  /** Create the parent folder (with `dirMode`) when missing. @default true */
  mkdir?: boolean;
  /** @default 0o700 */
  dirMode?: number;
}

function tempName(file: string): string {
  // Unique per call: two writers of one file (or a crashed earlier one) never share a temp file.
  return `${file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
}

/** Replaces `file` with `data` atomically and durably (see the module comment). */
export async function writeFileAtomic(file: string, data: string | Uint8Array, options: AtomicWriteOptions = {}): Promise<void> {
  const mode = options.mode ?? 0o600;
  const dir = path.dirname(file);
  if (options.mkdir ?? true) await mkdir(dir, { recursive: true, mode: options.dirMode ?? 0o700 });
  const tmp = tempName(file);
  try {
    const fh = await open(tmp, 'wx', mode);
    try {
      await fh.writeFile(data);
      // open()'s mode is filtered by the umask; the caller's mode is what the file must have.
      await fh.chmod(mode);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, file);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
  const dh = await open(dir, 'r');
  try {
    await dh.sync();
  } finally {
    await dh.close();
  }
}

/** The synchronous form, for the few places that write during a synchronous start (the stand-in's kubeconfig). */
export function writeFileAtomicSync(file: string, data: string | Uint8Array, options: AtomicWriteOptions = {}): void {
  const mode = options.mode ?? 0o600;
  const dir = path.dirname(file);
  if (options.mkdir ?? true) fs.mkdirSync(dir, { recursive: true, mode: options.dirMode ?? 0o700 });
  const tmp = tempName(file);
  try {
    const fd = fs.openSync(tmp, 'wx', mode);
    try {
      fs.writeFileSync(fd, data);
      fs.fchmodSync(fd, mode);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
  const dfd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(dfd);
  } finally {
    fs.closeSync(dfd);
  }
}

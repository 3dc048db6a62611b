/**
 * Last-good files with a backup copy, written atomically: `<name>` and `<name>.bak` (eve-api.md §12:
 * /persist/checkpoint/lastconfig and controllercerts). Reading tries the main copy, then the backup; the caller
 * re-verifies what it reads (a checkpoint is only as good as its signature).
 */
import { mkdir, readFile, copyFile } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../common/atomic-file.js';

export class Checkpoint {
  constructor(
    private readonly dir: string,
    private readonly name: string,
  ) {}

  private get file(): string {
    return path.join(this.dir, this.name);
  }

  /** Saves `bytes`, keeping the previous copy as `.bak`. Files are 0600, the folder 0700. */
  async save(bytes: Uint8Array): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    try {
      await copyFile(this.file, `${this.file}.bak`);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    await writeFileAtomic(this.file, bytes, { mode: 0o600 });
  }

  /**
   * Returns the copies that exist, newest first (main, then backup), for the caller to verify in turn.
   */
  async candidates(): Promise<Buffer[]> {
    const out: Buffer[] = [];
    for (const f of [this.file, `${this.file}.bak`]) {
      try {
        out.push(await readFile(f));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      }
    }
    return out;
  }
}

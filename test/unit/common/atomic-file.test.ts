/** The one atomic, durable file write: old or new content, never torn; the caller's mode; no temp file left. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, stat, writeFile, chmod } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { writeFileAtomic, writeFileAtomicSync } from '../../../src/common/atomic-file.js';

async function tempDir(): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), 'edgesim-atomic-'));
}

test('writes the content with the caller mode despite the umask, creating the folder 0700', async () => {
  const dir = await tempDir();
  const old = process.umask(0o077);
  try {
    const file = path.join(dir, 'status', 'uuid');
    await writeFileAtomic(file, 'u-1\n', { mode: 0o644 });
    assert.equal(await readFile(file, 'utf8'), 'u-1\n');
    assert.equal((await stat(file)).mode & 0o777, 0o644);
    assert.equal((await stat(path.dirname(file))).mode & 0o777, 0o700);
  } finally {
    process.umask(old);
    await rm(dir, { recursive: true, force: true });
  }
});

test('replaces an existing file (and its looser mode) and leaves no temp file', async () => {
  const dir = await tempDir();
  try {
    const file = path.join(dir, 'token');
    await writeFile(file, 'old');
    await chmod(file, 0o666);
    await writeFileAtomic(file, Buffer.from('new'));
    assert.equal(await readFile(file, 'utf8'), 'new');
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.deepEqual(await readdir(dir), ['token']);
    writeFileAtomicSync(file, 'sync', { mode: 0o640 });
    assert.equal(await readFile(file, 'utf8'), 'sync');
    assert.equal((await stat(file)).mode & 0o777, 0o640);
    assert.deepEqual(await readdir(dir), ['token']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a failed write keeps the old file and removes its temp file', async () => {
  const dir = await tempDir();
  try {
    const file = path.join(dir, 'lastconfig');
    await writeFileAtomic(file, 'good');
    // The target is a non-empty folder: rename fails after the temp file was written.
    const blocked = path.join(dir, 'blocked');
    await writeFileAtomic(path.join(blocked, 'x'), 'x');
    await assert.rejects(writeFileAtomic(blocked, 'new'), /EISDIR|ENOTEMPTY|EEXIST/);
    assert.throws(() => writeFileAtomicSync(blocked, 'new'), /EISDIR|ENOTEMPTY|EEXIST/);
    assert.deepEqual((await readdir(dir)).sort(), ['blocked', 'lastconfig']);
    assert.equal(await readFile(file, 'utf8'), 'good');
    await assert.rejects(writeFileAtomic(path.join(dir, 'none', 'f'), 'x', { mkdir: false }), /ENOENT/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

/** Shared setup of the TPM integration tests: a real swtpm in a temp dir, skipped when the binaries are missing. */
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createClock, silentLogger } from '../../../src/common/index.js';
import { SwtpmProcess } from '../../../src/tpm/index.js';

/** Why TPM tests cannot run here, or undefined when swtpm and tpm2-tools are installed. */
export function missingTpmTools(): string | undefined {
  for (const [bin, arg] of [['swtpm', '--version'], ['tpm2_getcap', '--version']] as const) {
    if (spawnSync(bin, [arg]).error) return `${bin} not installed (scripts/setup.sh installs swtpm and tpm2-tools)`;
  }
  return undefined;
}

export const clock = createClock();
export const logger = silentLogger;

/** A temp dir plus a swtpm whose state lives in `<dir>/tpm`. */
export interface SwtpmFixture {
  dir: string;
  swtpm: SwtpmProcess;
}

/** Starts swtpm on a random port in a fresh temp dir. */
export async function startSwtpm(): Promise<SwtpmFixture> {
  const dir = await mkdtemp(path.join(tmpdir(), 'edgesim-tpm-it-'));
  try {
    return { dir, swtpm: await SwtpmProcess.create({ stateDir: path.join(dir, 'tpm'), logger, clock }) };
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
}

/** Stops swtpm and removes the temp dir; safe on a partial fixture. */
export async function stopSwtpm(f: SwtpmFixture | undefined): Promise<void> {
  if (!f) return;
  await f.swtpm.stop();
  await rm(f.dir, { recursive: true, force: true });
}

/**
 * A real headless Chromium for browser tests: Debian's /usr/bin/chromium (scripts/setup.sh installs it) driven by
 * playwright-core, with a fresh profile that is removed on close. Pages only ever load loopback URLs.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

const CHROMIUM = process.env.EDGESIM_CHROMIUM ?? '/usr/bin/chromium';

/** Flags that keep Chromium quiet and off the network (no QUIC, sync, component updates or first-run). */
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface TestBrowser {
  context: BrowserContext;
  close(): Promise<void>;
}

/** Launches Chromium with a fresh user data dir; throws naming the missing binary when it is not installed. */
export async function launchBrowser(viewport = { width: 1280, height: 800 }): Promise<TestBrowser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: run scripts/setup.sh (installs Debian's chromium)`);
  const profile = await mkdtemp(path.join(os.tmpdir(), 'edgesim-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: FLAGS,
    viewport,
    timeout: 60_000,
  });
  return {
    context,
    async close() {
      await context.close().catch(() => undefined);
      await rm(profile, { recursive: true, force: true });
    },
  };
}

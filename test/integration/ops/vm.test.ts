/**
 * Opt-in (`npm run test:vm`, EDGESIM_TEST_VM=1; skipped otherwise and in `npm test`): builds the Debian 12 image
 * with scripts/vm/build-image.sh, boots it with scripts/vm/run.sh (qemu, swtpm as tpm-tis, user networking that
 * reaches only the controller on host loopback), and asserts that the agent under real systemd onboards with its
 * keys in the guest's TPM (/dev/tpmrm0), attests with a TPM2_Quote, reports ZInfoDevice (HSM enabled), and becomes
 * "Started" (READY=1) once it has a config. Needs root and scripts/vm/deps.sh's packages; without KVM (TCG) the
 * boot takes minutes. EDGESIM_VM_IMAGE_DIR reuses an image built before. run.sh forwards the guest's journal to the
 * serial console, so a failed wait shows the agent's own log lines.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ControllerAdminClient, ControllerServer } from '../../../src/controller/index.js';
import { createClock, errorMessage, silentLogger } from '../../../src/common/index.js';
import { repoRoot } from '../../helpers/cli.js';
import { waitFor } from '../../helpers/wait.js';

const BUILD_TIMEOUT_MS = 30 * 60_000;
const BOOT_TIMEOUT_MS = 15 * 60_000;

/** The last lines of the serial console (kernel, systemd and, forwarded from the journal, the agent's logs). */
async function consoleTail(file: string, lines = 40): Promise<string> {
  const text = await readFile(file, 'utf8').catch(() => '(no console output)');
  return text.split('\n').slice(-lines).join('\n');
}

/** waitFor that adds the console tail to its timeout error. */
async function waitWithConsole<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs: number, consoleLog: string): Promise<T> {
  try {
    return await waitFor(what, fn, timeoutMs, 2_000);
  } catch (e) {
    throw new Error(`${errorMessage(e)}\n--- console tail ---\n${await consoleTail(consoleLog)}`);
  }
}

const has = (cmd: string): boolean => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
const reason = (): string | undefined => {
  if (process.env.EDGESIM_TEST_VM !== '1') return 'opt-in: run with npm run test:vm (EDGESIM_TEST_VM=1)';
  if (process.getuid?.() !== 0) return 'needs root (debootstrap, chroot)';
  for (const cmd of ['qemu-system-x86_64', 'swtpm', 'socat', ...(process.env.EDGESIM_VM_IMAGE_DIR ? [] : ['debootstrap'])]) {
    if (!has(cmd)) return `${cmd} not installed (apt-get install qemu-system-x86 debootstrap swtpm socat)`;
  }
  return undefined;
};
const skip = reason();

let dir: string;
let server: ControllerServer | undefined;
let admin: ControllerAdminClient;
let vm: ChildProcess | undefined;
let port: number;

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const p = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return p;
}

function run(cmd: string, args: string[], timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'], timeout: timeoutMs });
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} exited ${code}`))));
  });
}

before(async () => {
  if (skip) return;
  dir = await mkdtemp(path.join(os.tmpdir(), 'edgesim-vmtest-'));
  port = await freePort();
  server = await ControllerServer.create({
    dataDir: path.join(dir, 'controller'),
    listen: `127.0.0.1:${port}`,
    adminListen: '127.0.0.1:0',
    advertise: `10.0.2.100:${port}`, // the guest's view of the controller (run.sh forwards it to 127.0.0.1)
    logger: silentLogger,
    clock: createClock(1),
  });
  void server.run();
  admin = new ControllerAdminClient(server.endpoints().adminUrl);
  await admin.exportDeviceConfig({ outDir: path.join(dir, 'device-config'), serial: 'vm-1' });
});
after(async () => {
  if (vm?.pid && vm.exitCode === null) {
    process.kill(-vm.pid, 'SIGKILL'); // run.sh's process group: qemu, swtpm, socat
  }
  await server?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('the agent in a qemu VM onboards and attests through the guest TPM, reports, and is Started by systemd once it has a config', { skip }, async (t) => {
  const imageDir = process.env.EDGESIM_VM_IMAGE_DIR ?? path.join(dir, 'image');
  if (!process.env.EDGESIM_VM_IMAGE_DIR) {
    const t0 = performance.now();
    await run(path.join(repoRoot, 'scripts/vm/build-image.sh'), ['--out', imageDir], BUILD_TIMEOUT_MS);
    t.diagnostic(`image built in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  }
  const consoleLog = path.join(dir, 'console.log');
  const t0 = performance.now();
  vm = spawn(
    path.join(repoRoot, 'scripts/vm/run.sh'),
    ['--image-dir', imageDir, '--device-config', path.join(dir, 'device-config'), '--controller-port', String(port), '--console', consoleLog, '--work-dir', path.join(dir, 'vm')],
    { stdio: 'ignore', detached: true },
  );
  const since = (): string => `${((performance.now() - t0) / 1000).toFixed(0)} s after qemu started`;
  const device = await waitWithConsole('the VM device to onboard', async () => (await admin.devices()).find((d) => d.serial === 'vm-1'), BOOT_TIMEOUT_MS, consoleLog);
  t.diagnostic(`onboarded ${since()}`);
  const uuid = device.uuid;
  await admin.setConfig(uuid, { device_name: 'vm-node' });
  const attested = await waitWithConsole(
    'attestation with a TPM2_Quote from the guest TPM',
    async () => {
      const d = await admin.device(uuid);
      return d.attested ? d : undefined;
    },
    5 * 60_000,
    consoleLog,
  );
  t.diagnostic(`attested ${since()}`);
  assert.ok(attested.attestCerts.includes('CERT_TYPE_DEVICE_RESTRICTED_SIGNING'), `attest certs: ${attested.attestCerts.join(', ')}`);
  // The controller answers a quote-less (TPM-less) request too: the agent's own log line, forwarded from the guest's
  // journal (it reaches the console after the controller issued the token), says which one it sent.
  const how = await waitWithConsole(
    "the agent's attested log line",
    async () => /"message":"attested","quote":"([^"]+)"/.exec(await readFile(consoleLog, 'utf8'))?.[1],
    2 * 60_000,
    consoleLog,
  );
  assert.equal(how, 'TPM2_Quote', 'the agent attested with a quote from the guest TPM');
  const dinfo = await waitWithConsole('ZInfoDevice from the VM', async () => (await admin.info(uuid, { types: ['ZiDevice'] })).at(-1), 5 * 60_000, consoleLog);
  assert.equal((dinfo.info as { dinfo: { HSMStatus: string } }).dinfo.HSMStatus, 'ENABLED', 'the agent reports its TPM');
  const started = await waitWithConsole(
    'systemd to report the unit Started (READY=1)',
    async () => /Started edgesim-agent\.service|Started .*edgesim EVE edge-node agent/.exec(await readFile(consoleLog, 'utf8'))?.[0],
    5 * 60_000,
    consoleLog,
  );
  t.diagnostic(`Started (READY=1) ${since()}`);
  assert.ok(started);
  const consoleText = await readFile(consoleLog, 'utf8');
  assert.doesNotMatch(consoleText, /edgesim-agent\.service: (Main process exited|Watchdog timeout|Failed with result)/);
});

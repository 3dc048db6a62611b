/**
 * TPM benchmark: cluster-token decrypt (the ECDH step through TPM2_ECDH_ZGen, cipher-and-tpm.md §5) and
 * AuthContainer signing (TPM2_Sign), through a real swtpm and through the soft backend. Both TPM commands are
 * marshalled by edgesim (password session, nothing left loaded) and sent through one long-lived `tpm2_send`
 * (src/tpm/tpm2-send.ts), so a call costs the TPM round trip, not a tpm2-tools process start.
 * Target: decrypt p99 through swtpm ≤ 50 ms on 2 cores. Real time, sequential operations.
 * Node start: what `edgesim tpm provision` does on a fresh swtpm (open, create the three EVE keys, issue the three
 * certificates, read back what exists, close), every step a raw command through the same tpm2_send; swtpm
 * start-up itself is not counted.
 * Run: `node --import tsx bench/tpm.ts` (or `node dist/bench/tpm.js` after `npm run build`).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { createClock, silentLogger } from '../src/common/index.js';
import { encryptTokenForDevice } from '../test/helpers/cipher.js';
import { SwtpmProcess, openKeyStore, provisionKeyStore, type KeyStore } from '../src/tpm/index.js';
import { TpmKeyStore } from '../src/tpm/tpm-keystore.js';

const N = 100;
/** Fresh swtpm instances for the provisioning figure (each costs a swtpm start). */
const FRESH = 5;
const clock = createClock();

function pct(samples: number[], p: number): number {
  const s = [...samples].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
}

function report(label: string, samples: number[]): void {
  const f = (v: number): string => v.toFixed(1).padStart(7);
  process.stdout.write(`${label.padEnd(38)} p50 ${f(pct(samples, 50))} ms  p99 ${f(pct(samples, 99))} ms  (n=${samples.length})\n`);
}

async function measure(label: string, fn: () => Promise<unknown>, settle?: () => Promise<void>): Promise<void> {
  for (let i = 0; i < 3; i++) await fn(); // warm-up
  const samples: number[] = [];
  for (let i = 0; i < N; i++) {
    if (settle) await settle();
    const t = performance.now();
    await fn();
    samples.push(performance.now() - t);
  }
  report(label, samples);
}

/** `edgesim tpm provision` on `FRESH` new swtpm instances (empty TPM, empty state directory). */
async function freshProvision(dir: string): Promise<void> {
  const samples: number[] = [];
  for (let i = 0; i < FRESH; i++) {
    const swtpm = await SwtpmProcess.create({ stateDir: path.join(dir, `fresh-${i}`, 'tpm'), logger: silentLogger, clock });
    try {
      const t = performance.now();
      await provisionKeyStore({ spec: swtpm.tcti, stateDir: path.join(dir, `fresh-${i}`, 'dev'), logger: silentLogger, clock });
      samples.push(performance.now() - t);
    } finally {
      await swtpm.stop();
    }
  }
  report('fresh swtpm: provision 3 keys + certs', samples);
}

async function bench(name: string, store: KeyStore): Promise<void> {
  const id = await store.provision();
  const token = await encryptTokenForDevice({ token: 'K10-bench-token', deviceEcdhCertPem: id.ecdhCertPem, deviceEcdh: store.ecdh, clock });
  const decrypt = (): Promise<unknown> => token.decrypt();
  await measure(`${name}: cluster-token decrypt`, decrypt);
  if (store instanceof TpmKeyStore) {
    // The worst case: tpm2_send ended before every decrypt (the first call of a process; every call on an
    // exclusive /dev/tpm0, where the channel closes after each command), so each one pays the process start.
    await measure(`${name}: decrypt, tpm2_send restarted`, decrypt, () => store.runner.release());
  }
  const digest = createHash('sha256').update('payload').digest();
  await measure(`${name}: AuthContainer sign`, () => store.deviceSigner.signDigest(digest));
}

const missing = ['swtpm', 'tpm2_getcap'].find((b) => spawnSync(b, ['--version']).error);
const dir = await mkdtemp(path.join(tmpdir(), 'edgesim-bench-tpm-'));
process.stdout.write(`load average ${loadavg().map((l) => l.toFixed(2)).join(' ')} (${availableParallelism()} cores)\n`);
try {
  const soft = await openKeyStore({ spec: 'soft', stateDir: path.join(dir, 'soft'), logger: silentLogger, clock });
  await bench('soft', soft);
  await soft.close();
  if (missing) {
    process.stdout.write(`swtpm part skipped: ${missing} not installed\n`);
  } else {
    const swtpm = await SwtpmProcess.create({ stateDir: path.join(dir, 'tpm'), logger: silentLogger, clock });
    try {
      const tpm = await openKeyStore({ spec: swtpm.tcti, stateDir: path.join(dir, 'dev'), logger: silentLogger, clock });
      await bench('swtpm', tpm);
      await tpm.close();
    } finally {
      await swtpm.stop();
    }
    await freshProvision(dir);
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}

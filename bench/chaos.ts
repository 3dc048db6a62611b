/**
 * Chaos figures (issue 14), printed with the load average:
 *  1. kill -9: scenarios/kill9-chaos.yaml (60 seeded kills of a random node's agent and k3s, 3 nodes, loopback, time
 *     scale 10) — kills survived (the node reported READY again after its restart) / total, and the verdict.
 *  2. controller outage: one agent queues info while the controller is stopped — 20 objects × 5 updates each; after
 *     the restart the controller must hold each object's latest update (per-object latest-wins keeps 20 of 100).
 *  3. fuzz: random bytes, and bit flips / truncations / insertions of a real signed config reply, into the agent's
 *     config path (AuthContainer verify → ConfigResponse decode → parseDeviceConfig). A crash is anything but a clean
 *     rejection (a TypeError/RangeError from inside, a non-Error); a mutated reply that is accepted is counted apart.
 * Bounded: ~2 min in all; everything on loopback. Run: `npm run build && node dist/bench/chaos.js`.
 */
import { readFile } from 'node:fs/promises';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Agent } from '../src/agent/index.js';
import { parseDeviceConfig } from '../src/agent/parse-config.js';
import { createClock, seededRandom, silentLogger } from '../src/common/index.js';
import { auth, decode, info } from '../src/eve/index.js';
import { parseScenario, runScenario } from '../src/scenario/index.js';
import { startTestController } from '../test/helpers/controller.js';
import { repoRoot } from '../test/helpers/cli.js';
import { waitFor } from '../test/helpers/wait.js';

const load = (): string => os.loadavg().map((x) => x.toFixed(2)).join(' ');

async function killChaos(): Promise<void> {
  const s = parseScenario(await readFile(path.join(repoRoot, 'scenarios', 'kill9-chaos.yaml'), 'utf8'));
  const workDir = await mkdtemp(path.join(os.tmpdir(), 'edgesim-bench-chaos-'));
  const t0 = performance.now();
  const r = await runScenario(s, {
    workDir,
    selfCommand: [process.execPath, path.join(repoRoot, 'bin', 'edgesim.js')],
    pathEnv: process.env.PATH ?? '',
    clock: createClock(1),
    logger: silentLogger,
    signal: new AbortController().signal,
  });
  const secs = ((performance.now() - t0) / 1000).toFixed(0);
  process.stdout.write(
    `kill -9 chaos (${s.name}, 3 nodes, time scale ${s.topology.timeScale}): survived ${r.chaos?.survived ?? 0}/${r.chaos?.kills ?? 0} kills; ` +
      `scenario ${r.passed ? 'PASSED' : `FAILED${r.error ? ` (${r.error})` : ''}`} in ${secs} s; load average ${load()} (1/5/15 min)\n`,
  );
  for (const i of r.invariants) process.stdout.write(`  invariant ${i.invariant}: ${i.held ? 'held' : `VIOLATED — ${i.detail}`}\n`);
  if (r.passed) await rm(workDir, { recursive: true, force: true });
  else process.stdout.write(`  logs in ${workDir}\n`);
}

async function outageAndFuzz(): Promise<void> {
  const ctl = await startTestController();
  const agent = await Agent.create({
    configDir: await ctl.deviceFolder('bench'),
    stateDir: path.join(ctl.dir, 'bench', 'state'),
    configIntervalMs: 500,
    requestTimeoutMs: 2_000,
    clock: createClock(1),
    logger: silentLogger,
  });
  try {
    void agent.run();
    const uuid = await waitFor('onboarding', () => agent.status().deviceUuid, 60_000);
    await ctl.admin.setConfig(uuid, { device_name: 'bench' });
    await waitFor('a config', () => agent.status().configSource === 'controller', 60_000);

    // 2. Outage: produce while the controller is down, count what it stored once back.
    const OBJECTS = 20;
    const UPDATES = 5;
    await ctl.stop();
    await waitFor('the agent noticing the outage', () => !agent.status().controllerReachable, 30_000);
    const appId = (k: number): string => `00000000-0000-4000-8000-${String(k).padStart(12, '0')}`;
    for (let u = 1; u <= UPDATES; u++) {
      for (let k = 0; k < OBJECTS; k++) {
        await agent.publishInfo(`app:${appId(k)}`, {
          ztype: info.ZInfoTypes.ZiApp,
          devId: uuid,
          ainfo: { AppID: appId(k), AppName: `bench-${k}`, appVersion: String(u), state: info.ZSwState.RUNNING },
        });
      }
    }
    const queued = agent.status().queueDepth;
    const t0 = performance.now();
    await ctl.restart();
    const stored = await waitFor(
      'the queue delivered',
      async () => {
        const items = await ctl.admin.info(uuid, { types: ['ZiApp'] });
        const latest = new Map<string, string>();
        for (const it of items) {
          const a = (it.info as { ainfo?: { AppID?: string; appVersion?: string } }).ainfo;
          if (a?.AppID) latest.set(a.AppID, a.appVersion ?? '');
        }
        return agent.status().queueDepth === 0 && latest.size >= OBJECTS ? { items: items.length, latest } : undefined;
      },
      120_000,
      250,
    );
    const correct = [...stored.latest.values()].filter((v) => v === String(UPDATES)).length;
    process.stdout.write(
      `controller outage: ${OBJECTS * UPDATES} infos produced (${OBJECTS} objects × ${UPDATES} updates), ${queued} queued (latest-wins), ` +
        `${stored.items} stored after the restart, ${correct}/${OBJECTS} objects at their latest update; drained in ` +
        `${((performance.now() - t0) / 1000).toFixed(1)} s; load average ${load()}\n`,
    );

    // 3. Fuzz the config path with a real signed reply as the seed.
    const signed = await readFile(path.join(ctl.dir, 'bench', 'state', 'checkpoint', 'lastconfig'));
    const api = agent.core.api;
    const random = seededRandom(14);
    const byte = (): number => Math.floor(random() * 256);
    const inputs: Buffer[] = [];
    for (let i = 0; i < 1000; i++) inputs.push(Buffer.from(Array.from({ length: Math.floor(random() * 2048) }, byte)));
    for (let i = 0; i < 1000; i++) {
      const m = Buffer.from(signed);
      const kind = i % 3;
      if (kind === 0) for (let f = 0; f <= i % 4; f++) m[Math.floor(random() * m.length)] ^= 1 << Math.floor(random() * 8);
      if (kind === 1) inputs.push(m.subarray(0, Math.floor(random() * m.length)));
      else if (kind === 2) {
        const at = Math.floor(random() * m.length);
        inputs.push(Buffer.concat([m.subarray(0, at), Buffer.from([byte(), byte()]), m.subarray(at)]));
      } else inputs.push(m);
    }
    let crashes = 0;
    let accepted = 0;
    let envelopeOnly = 0;
    const payloadOf = (b: Buffer): Buffer => Buffer.from(decode(auth.AuthContainer, b).protectedPayload?.payload ?? []);
    const signedPayload = payloadOf(signed);
    const crashKinds = new Map<string, number>();
    const t1 = performance.now();
    for (const raw of inputs) {
      try {
        parseDeviceConfig((await api.openConfigReply(raw)).config ?? {});
        // A change outside the signed payload (an unsigned envelope field, a dropped trailing field) is harmless.
        if (!raw.equals(signed)) {
          if (payloadOf(raw).equals(signedPayload)) envelopeOnly++;
          else accepted++;
        }
      } catch (e) {
        if (!(e instanceof Error) || e instanceof TypeError || e instanceof ReferenceError || e instanceof RangeError) {
          crashes++;
          const k = e instanceof Error ? `${e.name}: ${e.message.slice(0, 80)}` : String(e);
          crashKinds.set(k, (crashKinds.get(k) ?? 0) + 1);
        }
      }
    }
    process.stdout.write(
      `fuzz (config path): ${inputs.length} inputs (1000 random, 1000 mutated signed replies) in ${((performance.now() - t1) / 1000).toFixed(1)} s: ` +
        `${crashes} crashes, ${accepted} replies with a mutated payload accepted (${envelopeOnly} with only the unsigned envelope changed ` +
        `accepted, harmless); load average ${load()}\n`,
    );
    for (const [k, n] of crashKinds) process.stdout.write(`  crash ×${n}: ${k}\n`);
  } finally {
    await agent.stop();
    await ctl.dispose();
  }
}

await outageAndFuzz();
await killChaos();

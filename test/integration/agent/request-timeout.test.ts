/**
 * The controller request deadline is exact — connect, TLS and the answer, the wait for a pooled connection
 * included — and a frozen controller is noticed on the first timeout: `ctl status` and the metrics say
 * "unreachable", one warning is logged, and the agent recovers when the controller thaws. All on loopback: a TCP
 * server that accepts and never answers, and a TCP relay in front of the real controller that can freeze (what
 * SIGSTOP does to the controller, seen from the network).
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { Writable } from 'node:stream';
import { Agent } from '../../../src/agent/index.js';
import { ControllerClient, ControllerUnreachableError } from '../../../src/agent/controller-client.js';
import { SchedulerClock } from '../../../src/fleet/scheduler-clock.js';
import { Operations } from '../../../src/agent/admin/index.js';
import { createClock, createLogger, silentLogger } from '../../../src/common/index.js';
import { cliCommand } from '../../helpers/cli.js';
import { startTestController } from '../../helpers/controller.js';
import { waitFor } from '../../helpers/wait.js';

const cleanups: Array<() => Promise<unknown> | void> = [];
after(async () => {
  for (const c of cleanups.reverse()) await Promise.resolve(c()).catch(() => undefined);
});

/** A TCP relay to `upstream`; while frozen it accepts connections and moves no byte, in either direction. */
async function freezableRelay(upstream: { host: string; port: number }): Promise<{ port: number; frozen: boolean; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const relay = { port: 0, frozen: false, close: async () => undefined as void };
  const srv = net.createServer((down) => {
    sockets.add(down);
    const up = net.connect(upstream.port, upstream.host);
    sockets.add(up);
    const pipe = (from: net.Socket, to: net.Socket): void => {
      from.on('data', (d: Buffer) => {
        if (!relay.frozen) to.write(d);
      });
      from.on('close', () => to.destroy());
      from.on('error', () => to.destroy());
    };
    pipe(down, up);
    pipe(up, down);
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  relay.port = (srv.address() as net.AddressInfo).port;
  relay.close = () => {
    for (const s of sockets) s.destroy();
    return new Promise<void>((r) => srv.close(() => r()));
  };
  return relay;
}

/** A TCP server that accepts every connection and never sends a byte. */
async function silentServer(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const srv = net.createServer((s) => {
    sockets.add(s);
    s.on('error', () => undefined);
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return {
    port: (srv.address() as net.AddressInfo).port,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise<void>((r) => srv.close(() => r()));
    },
  };
}

for (const [timer, deadlineTimer] of [
  ['a process timer (the agent)', undefined],
  ["the scheduler clock's heap (a fleet)", new SchedulerClock(1).afterReal],
] as const) {
  test(`the request deadline holds whatever the queueing, on ${timer}: every request ends within timeout + 300 ms`, async () => {
    const silent = await silentServer();
    cleanups.push(() => silent.close());
    const client = new ControllerClient({
      server: `127.0.0.1:${silent.port}`,
      rootCertPem: Buffer.from(''),
      timeoutMs: 800,
      maxInFlight: 1,
      ...(deadlineTimer ? { deadlineTimer } : {}),
    });
    cleanups.push(() => client.close());
    // The scheduler clock's timer is unref'd: hold the loop open meanwhile.
    const hold = setInterval(() => undefined, 1_000);
    const t0 = performance.now();
    // Three requests on one connection slot: the second and third wait for the first; the deadline counts that wait.
    const results = await Promise.all(
      [0, 1, 2].map(async () => {
        try {
          await client.request(client.url('ping'), undefined);
          return { ms: performance.now() - t0, error: undefined };
        } catch (e) {
          return { ms: performance.now() - t0, error: e };
        }
      }),
    );
    clearInterval(hold);
    for (const r of results) {
      assert.ok(r.error instanceof ControllerUnreachableError, `no answer is an unreachable error: ${String(r.error)}`);
      assert.equal(r.error.timedOut, true);
      assert.match(r.error.reason, /no answer within 800 ms/);
      assert.ok(r.ms >= 790 && r.ms < 1_100, `ended after ${r.ms.toFixed(0)} ms, deadline 800 ms`);
    }
  });
}

test("a caller's abort ends the request at once with an AbortError (not a timeout)", async () => {
  const silent = await silentServer();
  cleanups.push(() => silent.close());
  const client = new ControllerClient({ server: `127.0.0.1:${silent.port}`, rootCertPem: Buffer.from(''), timeoutMs: 5_000 });
  cleanups.push(() => client.close());
  const ctl = new AbortController();
  const t0 = performance.now();
  const p = client.request(client.url('ping'), undefined, { signal: ctl.signal });
  setTimeout(() => ctl.abort(), 100);
  await assert.rejects(p, { name: 'AbortError' });
  assert.ok(performance.now() - t0 < 1_000);
});

test('a frozen controller is marked unreachable on the first timeout (status, ctl status, metrics) and recovers', async () => {
  const ctl = await startTestController();
  cleanups.push(() => ctl.dispose());
  const configDir = await ctl.deviceFolder('frozen');
  const [host, port] = ctl.server.endpoints().server.split(':');
  const relay = await freezableRelay({ host: host, port: Number(port) });
  cleanups.push(() => relay.close());
  await writeFile(path.join(configDir, 'server'), `127.0.0.1:${relay.port}\n`);
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  const stateDir = path.join(ctl.dir, 'frozen', 'state');
  const clock = createClock(1);
  const agent = await Agent.create({
    configDir,
    stateDir,
    configIntervalMs: 300,
    requestTimeoutMs: 1_000,
    clock,
    logger: createLogger({ format: 'json', stream, level: 'info' }),
  });
  cleanups.push(() => agent.stop());
  const ops = await Operations.create({ agent, stateDir, metricsListen: '127.0.0.1:0', env: {}, pid: process.pid, version: 'test', clock, logger: silentLogger });
  cleanups.push(() => ops.stop());
  void agent.run();
  const uuid = await waitFor('onboarding', () => agent.status().deviceUuid);
  await ctl.admin.setConfig(uuid, { device_name: 'f1' });
  await waitFor('the first config', () => agent.status().configSource === 'controller' && agent.status().controllerReachable);

  relay.frozen = true;
  const frozenAt = performance.now();
  await waitFor('controller marked unreachable', () => !agent.status().controllerReachable, 5_000, 20);
  const noticedMs = performance.now() - frozenAt;
  // At most one poll interval (300 ms) + one request deadline (1,000 ms) + the scheduling slack.
  assert.ok(noticedMs < 1_300 + 500, `noticed after ${noticedMs.toFixed(0)} ms`);

  const [cmd, args] = cliCommand();
  const { stdout } = await promisify(execFile)(cmd, [...args, 'ctl', '--state-dir', stateDir, 'status', '--output', 'json']);
  assert.equal((JSON.parse(stdout) as { controllerReachable: boolean }).controllerReachable, false, 'ctl status shows it');
  const metrics = await (await fetch(ops.metrics!.url)).text();
  assert.match(metrics, /^edgesim_controller_reachable 0$/m, 'the metric shows it');

  await new Promise((r) => setTimeout(r, 2_500)); // more timed-out polls
  const warnings = lines.filter((l) => l.message === 'controller unreachable');
  assert.equal(warnings.length, 1, `one warning per outage: ${JSON.stringify(warnings)}`);
  assert.equal(warnings[0].timedOut, true);

  relay.frozen = false;
  await waitFor('reachable again', () => agent.status().controllerReachable, 10_000);
  assert.equal(lines.filter((l) => l.message === 'controller reachable again').length, 1);
});

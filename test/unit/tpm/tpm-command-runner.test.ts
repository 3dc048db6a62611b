/**
 * The raw-command runner against a real tpm2_send talking to a loopback socket that never answers (a
 * stand-in for a hung TPM; no real TPM hangs on demand): timeouts, serialisation, unreachable classification.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import net from 'node:net';
import { p256 } from '@noble/curves/nist.js';
import { silentLogger } from '../../../src/common/index.js';
import { TpmCommandRunner } from '../../../src/tpm/tpm-command-runner.js';
import { isTpmError, toolError } from '../../../src/tpm/errors.js';
import { ecdhZGenCommand, parseEcdhZGenResponse } from '../../../src/tpm/tpm-commands.js';
import { getHandlesCommand, HANDLE_RANGE, listHandles, parseGetHandlesResponse } from '../../../src/tpm/tpm-object-commands.js';

const skip = spawnSync('tpm2_getcap', ['--version']).error ? 'tpm2-tools not installed' : undefined;

let port = 0;
const sockets = new Set<net.Socket>();

/** Listens on a random port P and on P+1 (the swtpm TCTI also connects to its control port). */
async function listenPair(): Promise<net.Server[]> {
  for (;;) {
    const a = net.createServer(onConnection);
    await new Promise<void>((r) => a.listen(0, '127.0.0.1', r));
    const p = (a.address() as net.AddressInfo).port;
    const b = net.createServer(onConnection);
    const ok = await new Promise<boolean>((r) => {
      b.once('error', () => r(false));
      b.listen(p + 1, '127.0.0.1', () => r(true));
    });
    if (ok) return [a, b];
    await new Promise<void>((r) => a.close(() => r()));
  }
}

function onConnection(s: net.Socket): void {
  sockets.add(s);
  s.on('close', () => sockets.delete(s));
  s.on('error', () => undefined);
}

let servers: net.Server[] = [];
before(async () => {
  servers = await listenPair();
  port = (servers[0].address() as net.AddressInfo).port;
});
after(async () => {
  for (const s of sockets) s.destroy();
  for (const srv of servers) await new Promise<void>((r) => srv.close(() => r()));
});

void test('a hung TPM command times out with kind TIMEOUT; sequences run one at a time', { skip }, async () => {
  const runner = new TpmCommandRunner({ tcti: `swtpm:host=127.0.0.1,port=${port}`, flush: true, timeoutMs: 300, logger: silentLogger });
  const started = performance.now();
  const list = (): Promise<unknown> => runner.sequence((tx) => listHandles(tx, HANDLE_RANGE.persistent));
  const results = await Promise.allSettled([1, 2, 3].map(list));
  // Serial: three 300 ms timeouts back to back, not side by side.
  assert.ok(performance.now() - started >= 900, `took ${performance.now() - started} ms`);
  for (const r of results) {
    assert.equal(r.status, 'rejected');
    assert.ok(isTpmError(r.reason) && r.reason.kind === 'TIMEOUT', String(r.reason));
    assert.match((r.reason as Error).message, /timed out after 300 ms/);
  }
});

const peer = Buffer.from(p256.ProjectivePoint.BASE.toRawBytes(false));

void test('a hung raw command times out with kind TIMEOUT; the next one starts a new tpm2_send', { skip }, async () => {
  const runner = new TpmCommandRunner({ tcti: `swtpm:host=127.0.0.1,port=${port}`, flush: true, timeoutMs: 300, logger: silentLogger });
  const started = performance.now();
  const cmd = ecdhZGenCommand(0x81000005, peer);
  const results = await Promise.allSettled([1, 2].map(() => runner.send(cmd, parseEcdhZGenResponse)));
  assert.ok(performance.now() - started >= 600, `took ${performance.now() - started} ms`);
  for (const r of results) {
    assert.equal(r.status, 'rejected');
    assert.ok(isTpmError(r.reason) && r.reason.kind === 'TIMEOUT', String(r.reason));
    assert.match((r.reason as Error).message, /^TPM2_ECDH_ZGen: TPM call timed out after 300 ms \(TCTI swtpm:/);
  }
  // A timed-out tpm2_send is killed: it may hold half a conversation with the TPM.
  assert.equal(runner.stats.sendStarts, 2);
  assert.equal(runner.stats.commands, 2);
  await runner.release();
});

void test('an aborted raw command rejects with the AbortError at once and kills its tpm2_send', { skip }, async () => {
  const runner = new TpmCommandRunner({ tcti: `swtpm:host=127.0.0.1,port=${port}`, flush: true, timeoutMs: 60_000, logger: silentLogger });
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 200);
  const started = performance.now();
  await assert.rejects(runner.send(ecdhZGenCommand(0x81000005, peer), parseEcdhZGenResponse, ac.signal), { name: 'AbortError' });
  assert.ok(performance.now() - started < 30_000, 'not held until the timeout');
  await assert.rejects(runner.send(ecdhZGenCommand(0x81000005, peer), parseEcdhZGenResponse, ac.signal), { name: 'AbortError' });
  assert.equal(runner.stats.sendStarts, 1, 'an already aborted signal starts nothing');
  await runner.release();
});

void test('a closed port is UNREACHABLE and names the TCTI, with and without a session', { skip }, async () => {
  const probe = net.createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const closed = (probe.address() as net.AddressInfo).port;
  await new Promise<void>((r) => probe.close(() => r()));
  const runner = new TpmCommandRunner({ tcti: `swtpm:host=127.0.0.1,port=${closed}`, flush: true, timeoutMs: 5000, logger: silentLogger });
  const unreachable = (e: unknown): boolean => {
    assert.ok(isTpmError(e));
    assert.equal(e.kind, 'UNREACHABLE');
    assert.match(e.message, new RegExp(`TCTI swtpm:host=127.0.0.1,port=${closed}`));
    return true;
  };
  await assert.rejects(runner.send(getHandlesCommand(HANDLE_RANGE.persistent), parseGetHandlesResponse), unreachable);
  await assert.rejects(runner.send(ecdhZGenCommand(0x81000005, peer), parseEcdhZGenResponse), unreachable);
  await runner.release();
});

void test('tpm2_send stderr is classified by the printed TSS2 code, else by the TCTI text', () => {
  assert.equal(toolError('x', 'ERROR: Could not load tcti, got: "swtpm:host=127.0.0.1,port=1"', '').kind, 'UNREACHABLE');
  // tpm2_send (tpm2-tools 5.4) when swtpm went away between two commands.
  const gone = toolError(
    'TPM2_ECDH_ZGen',
    'WARNING:tcti:src/util/io.c:262:socket_connect() Failed to connect to host 127.0.0.1, port 24321: errno 111: Connection refused\n' +
      'ERROR: tss2_tcti_transmit failed: 0xa000a\nERROR: Unable to run tpm2_send',
    'exit 1',
  );
  assert.equal(gone.kind, 'UNREACHABLE');
  assert.equal(gone.code, 0xa000a);
  assert.equal(toolError('x', 'something else', 'exit 3').kind, 'TOOL_FAILED');
});

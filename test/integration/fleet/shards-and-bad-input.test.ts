/**
 * Two `edgesim fleet run --shard i/2` processes against one controller simulate disjoint devices that add up to
 * the fleet; and each bad input (unreachable controller, untrusted root certificate, refused onboarding certificate,
 * unknown profile key) ends the run with exit code 2 and one line naming the cause, leaving a state file that a
 * correct run then uses without trouble.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cp, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { startTestController, type TestController } from '../../helpers/controller.js';
import { controllerDevices, startFleet, stateUuids } from '../../helpers/fleet.js';

/** A throwaway self-signed P-256 certificate and key (openssl, installed by scripts/setup.sh). */
function selfSigned(dir: string, name: string): { cert: string; key: string } {
  const cert = path.join(dir, `${name}.cert.pem`);
  const key = path.join(dir, `${name}.key.pem`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert, '-subj', `/CN=${name}`, '-days', '1'], {
    stdio: 'ignore',
  });
  return { cert, key };
}

void describe('fleet: shards and bad input', () => {
  let ctl: TestController;
  let folder: string;
  before(async () => {
    ctl = await startTestController();
    folder = await ctl.deviceFolder('fleet');
    await ctl.admin.addOnboard(await readFile(path.join(folder, 'onboard.cert.pem'), 'utf8'), ['*']);
  });
  after(async () => {
    await ctl?.dispose();
  });

  void it('two shards are disjoint and together make the fleet', async () => {
    const common = ['--config-dir', folder, '--count', '41', '--ramp', '500', '--time-scale', '10', '--serial-prefix', 'shard-', '--serial-start', '100'];
    const states = [0, 1].map((i) => path.join(ctl.dir, `shard-${i}.db`));
    const shards = [0, 1].map((i) => startFleet([...common, '--shard', `${i}/2`, '--state', states[i]]));
    try {
      const sizes = await Promise.all(shards.map((f) => f.until('shard running', (s) => s.byPhase.running === s.devices && s.queueDepth === 0).then((s) => s.devices)));
      assert.deepEqual(sizes, [20, 21]);
    } finally {
      await Promise.all(shards.map((f) => f.stop()));
    }
    const [a, b] = states.map((f) => new Set(stateUuids(f).keys()));
    assert.equal([...a].filter((s) => b.has(s)).length, 0, 'a serial in both shards');
    const all = new Set([...a, ...b]);
    assert.deepEqual([...all].sort(), Array.from({ length: 41 }, (_, i) => `shard-${100 + i}`).sort());
    const registered = [...controllerDevices(path.join(ctl.dir, 'controller')).keys()].filter((s) => s.startsWith('shard-'));
    assert.equal(registered.length, 41);
  });

  /** Runs a fleet that must fail; returns its stderr lines. */
  async function mustFail(args: string[]): Promise<string[]> {
    const f = startFleet(['--count', '3', '--ramp', '100', '--serial-prefix', 'bad-', ...args]);
    const code = await f.exited;
    const lines = f.stderr().trim().split('\n');
    assert.equal(code, 2, `exit code (stderr: ${f.stderr()})`);
    assert.equal(lines.length, 1, `one line: ${f.stderr()}`);
    // The live view may show the proving device; no other device ever starts.
    for (const s of f.snapshots) assert.ok(s.state === 'proving' || s.state === 'failed', `state ${s.state} before the inputs were proven`);
    return lines;
  }

  void it('bad inputs: one line naming the cause, exit 2, and the state file stays usable', async () => {
    const state = path.join(ctl.dir, 'bad.db');
    const at = (name: string): string => path.join(ctl.dir, name);

    await cp(folder, at('unreachable'), { recursive: true });
    await writeFile(path.join(at('unreachable'), 'server'), '127.0.0.1:18997\n');
    const [unreachable] = await mustFail(['--config-dir', at('unreachable'), '--state', state]);
    assert.match(unreachable, /^edgesim fleet run: controller unreachable at https:\/\/127\.0\.0\.1:18997: .*ECONNREFUSED/);

    await cp(folder, at('wrong-root'), { recursive: true });
    await cp(selfSigned(ctl.dir, 'wrong-root').cert, path.join(at('wrong-root'), 'root-certificate.pem'));
    const [untrusted] = await mustFail(['--config-dir', at('wrong-root'), '--state', state]);
    assert.match(untrusted, /presented a TLS certificate that .*wrong-root\/root-certificate\.pem does not trust/);

    await cp(folder, at('refused'), { recursive: true });
    const other = selfSigned(ctl.dir, 'onboard-other');
    await cp(other.cert, path.join(at('refused'), 'onboard.cert.pem'));
    await cp(other.key, path.join(at('refused'), 'onboard.key.pem'));
    const [refused] = await mustFail(['--config-dir', at('refused'), '--state', state]);
    assert.match(refused, /the controller refused onboarding \(register answered HTTP 403\).*"bad-0".*onboard\.cert\.pem/);

    const profile = at('profile.yaml');
    await writeFile(profile, 'faults:\n  - kind: controller-delay\n    fration: 0.1\n');
    const [unknownKey] = await mustFail(['--config-dir', folder, '--state', state, '--profile', profile]);
    assert.match(unknownKey, /faults\[0\]\.fration: unknown key/);

    // The same state file, now with good input: every device onboards, the refused serials included.
    const good = startFleet(['--config-dir', folder, '--state', state, '--count', '3', '--ramp', '100', '--time-scale', '10', '--serial-prefix', 'bad-']);
    try {
      await good.until('the good run runs', (s) => s.byPhase.running === 3 && s.onboarded === 3);
    } finally {
      assert.equal(await good.stop(), 0);
    }
  });
});

/**
 * deploy/kubernetes/fleet-job.yaml is a valid Indexed Job for `edgesim fleet run`. kubectl's client-side dry run
 * (`kubectl create --dry-run=client`) still needs an API server for discovery, which CI does not have; so this test
 * parses the manifest and checks what matters: an Indexed Job whose shard count matches its completions, every
 * argument an option of the real `fleet run` command, the profile valid under the strict profile parser, and the EVE
 * config folder assembled from the ConfigMap (server) and the Secret (certificates and key).
 */
import { describe, it } from 'node:test';
import { spawnSync } from 'node:child_process';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { parseAllDocuments } from 'yaml';
import { registerFleetCommands } from '../../../src/cli/fleet.js';
import { parseProfile } from '../../../src/fleet/profile.js';
import { parseMetricsListen } from '../../../src/agent/admin/index.js';
import { repoRoot } from '../../helpers/cli.js';

/** The value at `keys` under `o` (undefined when any step is missing). */
function at(o: unknown, ...keys: (string | number)[]): unknown {
  let v = o;
  for (const k of keys) v = v !== null && typeof v === 'object' ? (v as Record<string | number, unknown>)[k] : undefined;
  return v;
}
const list = (v: unknown): unknown[] => (Array.isArray(v) ? (v as unknown[]) : []);
const text = (v: unknown): string => (typeof v === 'string' || typeof v === 'number' ? String(v) : '');

const docs = parseAllDocuments(readFileSync(path.join(repoRoot, 'deploy/kubernetes/fleet-job.yaml'), 'utf8'));
const objects = docs.map((d) => {
  assert.equal(d.errors.length, 0, d.errors.join('; '));
  return d.toJS() as unknown;
});
const byKind = (kind: string): unknown => {
  const o = objects.find((x) => at(x, 'kind') === kind);
  assert.ok(o, `no ${kind} in the manifest`);
  return o;
};

void describe('deploy/kubernetes/fleet-job.yaml', () => {
  const job = byKind('Job');
  const cm = byKind('ConfigMap');
  const pod = at(job, 'spec', 'template', 'spec');
  const container = at(pod, 'containers', 0);
  const args = list(at(container, 'args')).map(text);
  const arg = (flag: string): string => args.find((a) => a.startsWith(`${flag}=`))?.split('=')[1] ?? '';
  const mountOf = (name: string): string => text(at(list(at(container, 'volumeMounts')).find((m) => at(m, 'name') === name), 'mountPath'));

  void it('is an Indexed Job whose EDGESIM_FLEET_SHARDS equals its completions', () => {
    assert.equal(at(job, 'apiVersion'), 'batch/v1');
    assert.equal(at(job, 'spec', 'completionMode'), 'Indexed');
    assert.equal(at(job, 'spec', 'parallelism'), at(job, 'spec', 'completions'));
    const shards = list(at(container, 'env')).find((e) => at(e, 'name') === 'EDGESIM_FLEET_SHARDS');
    assert.equal(Number(at(shards, 'value')), at(job, 'spec', 'completions'));
    assert.ok(['OnFailure', 'Never'].includes(text(at(pod, 'restartPolicy'))));
    assert.match(text(at(container, 'resources', 'limits', 'memory')), /^\d+(Mi|Gi)$/);
    assert.ok(text(at(container, 'resources', 'requests', 'cpu')));
  });

  void it('sets NODE_OPTIONS that node accepts (a typo or a flag NODE_OPTIONS refuses would stop every pod)', () => {
    const value = text(at(list(at(container, 'env')).find((e) => at(e, 'name') === 'NODE_OPTIONS'), 'value'));
    assert.match(value, /--max-semi-space-size=\d+/);
    const r = spawnSync(process.execPath, ['-e', 'process.exit(0)'], { env: { ...process.env, NODE_OPTIONS: value }, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  });

  void it('passes only options that `edgesim fleet run` has', () => {
    const program = new Command('edgesim');
    registerFleetCommands(program);
    const run = program.commands.find((c) => c.name() === 'fleet')!.commands.find((c) => c.name() === 'run')!;
    const known = new Set(run.options.map((o) => o.long));
    assert.deepEqual(args.slice(0, 2), ['fleet', 'run']);
    for (const a of args.slice(2)) assert.ok(known.has(a.split('=')[0]), `${a} is not an option of fleet run`);
    for (const required of ['--config-dir', '--state', '--count']) assert.ok(arg(required), `${required} missing`);
  });

  void it('serves metrics on the pod address, on the port its Prometheus annotations and container port name', () => {
    const listen = arg('--metrics-listen');
    assert.match(listen, /^0\.0\.0\.0:\d+$/);
    const port = listen.split(':')[1];
    const annotations = at(job, 'spec', 'template', 'metadata', 'annotations');
    assert.equal(at(annotations, 'prometheus.io/scrape'), 'true');
    assert.equal(at(annotations, 'prometheus.io/port'), port);
    assert.equal(at(annotations, 'prometheus.io/path'), '/metrics');
    const declared = list(at(container, 'ports')).find((p) => at(p, 'name') === 'metrics');
    assert.equal(String(at(declared, 'containerPort')), port);
    // The fleet accepts it only because it is written out; the agent's parser would refuse it.
    assert.deepEqual(parseMetricsListen(listen, { remote: true }), { host: '0.0.0.0', port: Number(port), loopback: false });
    assert.throws(() => parseMetricsListen(listen), /loopback only/);
  });

  void it('assembles the config folder from the ConfigMap and the Secret, and the profile parses', () => {
    assert.equal(mountOf('device-config'), arg('--config-dir'));
    const sources = list(at(list(at(pod, 'volumes')).find((v) => at(v, 'name') === 'device-config'), 'projected', 'sources'));
    const files = sources.flatMap((s) => list(at(s, 'configMap', 'items') ?? at(s, 'secret', 'items')).map((i) => text(at(i, 'path')))).sort();
    assert.deepEqual(files, ['onboard.cert.pem', 'onboard.key.pem', 'root-certificate.pem', 'server']);
    assert.equal(at(sources.find((s) => at(s, 'secret')), 'secret', 'name'), 'edgesim-fleet-onboarding');
    assert.equal(at(sources.find((s) => at(s, 'configMap')), 'configMap', 'name'), at(cm, 'metadata', 'name'));
    assert.match(text(at(cm, 'data', 'server')), /^[A-Za-z0-9.-]+:\d+$/);
    assert.equal(path.dirname(arg('--profile')), mountOf('profile'));
    parseProfile(text(at(cm, 'data', 'profile.yaml')), 'ConfigMap profile.yaml');
  });
});

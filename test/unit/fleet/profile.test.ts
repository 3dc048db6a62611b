/** Fleet profiles: strict parsing (unknown keys named) and exact, stable assignment of traits. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { assignTraits, parseProfile } from '../../../src/fleet/profile.js';

const EXAMPLE = `
hardware:
  - fraction: 0.25
    manufacturer: Supermicro
    productName: SYS-E100
    ncpu: 4
  - fraction: 0.5
    manufacturer: Advantech
    productName: ARK-1123
faults:
  - kind: controller-delay
    fraction: 0.1
    value: 2000
    duration: 5m
churn:
  rebootsPerHour: 0.5
clockSkew:
  - fraction: 0.2
    ms: -30000
clusters:
  - count: 50
    size: 3
    apps: [{ name: web, affinity: preferred }, { name: db, affinity: required }]
  - count: 2
    size: 5
    workers: 1
    tieBreaker: true
`;

void describe('fleet profile', () => {
  void it('parses every section', () => {
    const p = parseProfile(EXAMPLE);
    assert.equal(p.hardware.length, 2);
    assert.deepEqual(p.faults, [{ kind: 'controller-delay', fraction: 0.1, value: 2000, durationMs: 300_000 }]);
    assert.equal(p.rebootsPerHour, 0.5);
    assert.deepEqual(p.clockSkew, [{ fraction: 0.2, ms: -30000 }]);
    assert.deepEqual(p.clusters, [
      { count: 50, size: 3, workers: 0, tieBreaker: false, apps: [{ name: 'web', affinity: 'preferred' }, { name: 'db', affinity: 'required' }] },
      { count: 2, size: 5, workers: 1, tieBreaker: true, apps: [] },
    ]);
    assert.deepEqual(parseProfile(''), { hardware: [], clusters: [], faults: [], rebootsPerHour: 0, clockSkew: [] });
  });

  void it('names the offending key in every error', () => {
    const cases: [string, RegExp][] = [
      ['fautls: []', /^f\.yaml: fautls: unknown key/],
      ['faults:\n  - kind: controller-delay\n    fration: 0.1', /^f\.yaml: faults\[0\]\.fration: unknown key \(expected one of: kind, fraction, value, duration\)/],
      ['faults:\n  - kind: disk-full\n    fraction: 0.1', /faults\[0\]\.kind: "disk-full" is not one of: controller-unreachable/],
      ['faults:\n  - kind: controller-5xx\n    fraction: 1.5', /faults\[0\]\.fraction: must be a number from 0 to 1/],
      ['faults:\n  - kind: controller-5xx\n    fraction: 0.5\n    duration: soon', /faults\[0\]\.duration: expected a duration/],
      ['churn:\n  rebootsPerHour: -1', /churn\.rebootsPerHour: must be a number ≥ 0/],
      ['churn:\n  rebootsPerDay: 1', /churn\.rebootsPerDay: unknown key/],
      ['hardware:\n  - fraction: 0.7\n    manufacturer: a\n    productName: b\n  - fraction: 0.7\n    manufacturer: c\n    productName: d', /hardware: fractions add up to 1\.4/],
      ['hardware:\n  - fraction: 0.7\n    manufacturer: a\n    productName: b\n    ncpu: 2.5', /hardware\[0\]\.ncpu: must be a positive integer/],
      ['clockSkew: {fraction: 1}', /clockSkew: must be a list/],
      ['clusters:\n  - count: 5\n    size: 3\n    worker: 1', /^f\.yaml: clusters\[0\]\.worker: unknown key \(expected one of: count, size, workers, tieBreaker, apps\)/],
      ['clusters:\n  - count: 5\n    size: 3\n    apps: [{ name: web, afinity: required }]', /clusters\[0\]\.apps\[0\]\.afinity: unknown key/],
      ['clusters:\n  - count: 0\n    size: 3', /clusters\[0\]\.count: must be an integer ≥ 1/],
      ['clusters:\n  - count: 1', /clusters\[0\]\.size: must be an integer ≥ 1/],
      ['clusters:\n  - count: 1\n    size: 3\n    workers: 3', /clusters\[0\]\.workers: leaves no server for the bootstrap member/],
      ['clusters:\n  - count: 1\n    size: 2\n    tieBreaker: true', /clusters\[0\]\.tieBreaker: needs a size of at least 3/],
      ['clusters:\n  - count: 1\n    size: 3\n    apps: [{ name: web, affinity: sometimes }]', /clusters\[0\]\.apps\[0\]\.affinity: must be preferred or required/],
      ['clusters:\n  - count: 1\n    size: 3\n    apps: [{ name: web }, { name: web }]', /clusters\[0\]\.apps\[1\]\.name: "web" is listed twice/],
      ['clusters:\n  - count: 1\n    size: 3\n    apps: [{ name: Web_1 }]', /clusters\[0\]\.apps\[0\]\.name: use 1 to 32/],
      ['[1, 2]', /\(top level\): must be a mapping/],
      ['a: [', /YAML/],
    ];
    for (const [text, re] of cases) assert.throws(() => parseProfile(text, 'f.yaml'), (e: Error) => e.name === 'ProfileError' && re.test(e.message), text);
  });

  void it('gives each entry exactly round(fraction · n) devices, the same ones on every call', () => {
    const serials = Array.from({ length: 1000 }, (_, i) => `d-${i}`);
    const p = parseProfile(EXAMPLE);
    const t = assignTraits(serials, p);
    const count = (f: (x: ReturnType<typeof t.get>) => boolean): number => serials.filter((s) => f(t.get(s))).length;
    assert.equal(count((x) => x!.hardware?.manufacturer === 'Supermicro'), 250);
    assert.equal(count((x) => x!.hardware?.manufacturer === 'Advantech'), 500);
    assert.equal(count((x) => x!.hardware === undefined), 250);
    assert.equal(count((x) => x!.faults.length === 1), 100);
    assert.equal(count((x) => x!.clockSkewMs === -30000), 200);
    assert.deepEqual(assignTraits(serials, p), t);
  });
});

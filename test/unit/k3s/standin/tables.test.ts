import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { humanDuration, toTable } from '../../../../src/k3s/standin/tables.js';
import { resourceOf } from '../../../../src/k3s/standin/resources.js';

describe('server-side tables', () => {
  it('prints ages like kubectl', () => {
    assert.equal(humanDuration(45_000), '45s');
    assert.equal(humanDuration(200_000), '3m20s');
    assert.equal(humanDuration(30 * 60_000), '30m');
    assert.equal(humanDuration(5 * 3600_000 + 60_000), '5h1m');
    assert.equal(humanDuration(3 * 86_400_000), '3d');
  });

  it('renders node rows with the real API server columns', () => {
    const now = Date.parse('2026-01-01T00:10:00Z');
    const node = {
      metadata: { name: 'edge-dev1', creationTimestamp: '2026-01-01T00:00:00Z', labels: { 'node-role.kubernetes.io/control-plane': 'true', 'node-role.kubernetes.io/etcd': 'true' } },
      spec: { unschedulable: true },
      status: { conditions: [{ type: 'Ready', status: 'Unknown' }], addresses: [{ type: 'InternalIP', address: '10.244.244.2' }], nodeInfo: { kubeletVersion: 'v1.31.4+k3s1' } },
    };
    const t = toTable(resourceOf('nodes'), [node], { now }) as { columnDefinitions: { name: string; priority: number }[]; rows: { cells: unknown[]; object: { kind: string } }[] };
    assert.deepEqual(t.columnDefinitions.filter((c) => c.priority === 0).map((c) => c.name), ['Name', 'Status', 'Roles', 'Age', 'Version']);
    assert.deepEqual(t.rows[0].cells.slice(0, 6), ['edge-dev1', 'Unknown,SchedulingDisabled', 'control-plane,etcd', '10m', 'v1.31.4+k3s1', '10.244.244.2']);
    assert.equal(t.rows[0].object.kind, 'PartialObjectMetadata');
  });

  it('shows Terminating pods', () => {
    const pod = { metadata: { name: 'p', creationTimestamp: '2026-01-01T00:00:00Z', deletionTimestamp: '2026-01-01T00:01:00Z' }, spec: { containers: [{}], nodeName: 'n' }, status: { phase: 'Running' } };
    const t = toTable(resourceOf('pods'), [pod], { now: Date.parse('2026-01-01T00:02:00Z') }) as { rows: { cells: unknown[] }[] };
    assert.deepEqual(t.rows[0].cells.slice(0, 4), ['p', '0/1', 'Terminating', 0]);
  });
});

/** The profile's clusters in a fleet: which serials form which cluster (pure, per shard) and what the controller is asked. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { clusterRequest, planClusters } from '../../../src/fleet/fleet-clusters.js';
import { ProfileError, type ClusterGroup } from '../../../src/fleet/profile.js';
import { shardSerials } from '../../../src/fleet/shard.js';

const group = (g: Partial<ClusterGroup> & { count: number; size: number }): ClusterGroup => ({ workers: 0, tieBreaker: false, apps: [], ...g });
const serials = (total: number, index = 0, count = 1): string[] => shardSerials({ total, shard: { index, count }, prefix: 's-', start: 0 });

void describe('fleet clusters', () => {
  void it('plans clusters over the serials in order, group after group, one network each', () => {
    const plans = planClusters({ serials: serials(10), groups: [group({ count: 2, size: 3 }), group({ count: 1, size: 2 })], shard: { index: 0, count: 1 }, serialPrefix: 's-' });
    assert.deepEqual(
      plans.map((p) => [p.name, p.prefix, p.members]),
      [
        ['s-cluster-0', '10.0.0.0/24', ['s-0', 's-1', 's-2']],
        ['s-cluster-1', '10.0.1.0/24', ['s-3', 's-4', 's-5']],
        ['s-cluster-2', '10.0.2.0/24', ['s-6', 's-7']],
      ],
    );
    const many = planClusters({ serials: serials(900), groups: [group({ count: 300, size: 3 })], shard: { index: 0, count: 1 }, serialPrefix: 's-' });
    assert.equal(many[257].prefix, '10.1.1.0/24');
    assert.equal(new Set(many.map((p) => p.prefix)).size, 300);
  });

  void it('gives each shard every n-th cluster, formed from its own serials; the shards together plan each cluster once', () => {
    const groups = [group({ count: 5, size: 3 })];
    const all = [0, 1].flatMap((i) => planClusters({ serials: serials(20, i, 2), groups, shard: { index: i, count: 2 }, serialPrefix: 's-' }));
    assert.deepEqual(all.map((p) => p.index).sort(), [0, 1, 2, 3, 4]);
    const shard1 = new Set(serials(20, 1, 2));
    for (const p of all.filter((x) => x.index % 2 === 1)) assert.ok(p.members.every((m) => shard1.has(m)), p.name);
    assert.deepEqual(planClusters({ serials: serials(20, 1, 2), groups, shard: { index: 1, count: 2 }, serialPrefix: 's-' }), all.filter((p) => p.index % 2 === 1));
  });

  void it('refuses a profile whose clusters need more devices than the shard has, saying how many', () => {
    assert.throws(
      () => planClusters({ serials: serials(8), groups: [group({ count: 3, size: 3 })], shard: { index: 0, count: 1 }, serialPrefix: 's-' }),
      (e: Error) => e instanceof ProfileError && /need 9 devices, it has 8 \(raise --count\)/.test(e.message),
    );
  });

  void it('asks for workers and the tie-breaker last, apps round-robin on the server members, stable app UUIDs', () => {
    const [plan] = planClusters({
      serials: serials(5),
      groups: [group({ count: 1, size: 5, workers: 1, tieBreaker: true, apps: [{ name: 'web', affinity: 'preferred' }, { name: 'db', affinity: 'required' }, { name: 'q', affinity: 'preferred' }] })],
      shard: { index: 0, count: 1 },
      serialPrefix: 's-',
    });
    const uuids = ['u0', 'u1', 'u2', 'u3', 'u4'];
    const r = clusterRequest(plan, uuids);
    assert.deepEqual(r.definition, {
      name: 's-cluster-0',
      interface: 'ethernet1',
      prefix: '10.0.0.0/24',
      members: [{ device: 'u0' }, { device: 'u1' }, { device: 'u2' }, { device: 'u3', isWorker: true }, { device: 'u4' }],
      tieBreaker: 'u4',
    });
    assert.deepEqual(r.apps.map((a) => [a.displayname, a.designated_node_id, a.affinity]), [
      ['web-0', 'u0', 'AFFINITY_TYPE_PREFERRED'],
      ['db-0', 'u1', 'AFFINITY_TYPE_REQUIRED'],
      ['q-0', 'u2', 'AFFINITY_TYPE_PREFERRED'],
    ]);
    const ids = r.apps.map((a) => (a.uuidandversion as { uuid: string }).uuid);
    for (const id of ids) assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.deepEqual(clusterRequest(plan, uuids).apps.map((a) => (a.uuidandversion as { uuid: string }).uuid), ids);
    assert.equal(new Set(ids).size, 3);
  });
});

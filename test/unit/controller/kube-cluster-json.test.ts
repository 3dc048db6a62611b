import assert from 'node:assert/strict';
import { test } from 'node:test';
import { leaderReport, listedReady, type KubeClusterReport } from '../../../src/controller/kube-cluster-json.js';

const CID = 'c0000000-0000-4000-8000-000000000001';
const OTHER = 'c0000000-0000-4000-8000-000000000002';
const r = (sender: string, receivedAt: number, clusterId?: string): KubeClusterReport<string> => ({
  sender,
  receivedAt,
  cluster: clusterId === undefined ? {} : { cluster_id: clusterId },
});

// [name, reports, cluster filter, expected leader]
const rows: Array<[string, KubeClusterReport<string>[], string | undefined, string | undefined]> = [
  ['no report: no leader', [], CID, undefined],
  ['one report', [r('a', 10, CID)], CID, 'a'],
  ['the newest received wins, whatever the order', [r('a', 30, CID), r('b', 20, CID), r('c', 25, CID)], CID, 'a'],
  ['a later sender takes over', [r('a', 10, CID), r('b', 20, CID)], CID, 'b'],
  ['a tie keeps the first', [r('a', 20, CID), r('b', 20, CID)], CID, 'a'],
  ['another cluster is skipped', [r('a', 10, CID), r('b', 99, OTHER)], CID, 'a'],
  ['only other clusters: no leader', [r('b', 99, OTHER)], CID, undefined],
  ['a report without a cluster id counts', [r('a', 10, CID), r('b', 20)], CID, 'b'],
  ['no filter: every cluster counts', [r('a', 10, CID), r('b', 99, OTHER)], undefined, 'b'],
];
for (const [name, reports, clusterId, expected] of rows) {
  test(`leaderReport: ${name}`, () => assert.equal(leaderReport(reports, clusterId)?.sender, expected));
}

test('listedReady: the Ready condition set, one without a type taken as it', () => {
  assert.equal(listedReady({ conditions: [{ type: 'KUBE_NODE_CONDITION_TYPE_READY', set: true }] }), true);
  assert.equal(listedReady({ conditions: [{ set: true }] }), true);
  assert.equal(listedReady({ conditions: [{ type: 'KUBE_NODE_CONDITION_TYPE_READY', set: false }] }), false);
  assert.equal(listedReady({ conditions: [] }), false);
  assert.equal(listedReady(undefined), false);
});

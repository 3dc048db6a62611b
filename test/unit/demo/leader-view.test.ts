/** The demo table's leader column: each node as the leader's ZInfoKubeCluster lists it. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { leaderViewOf } from '../../../src/demo/demo.js';

const READY = 'KUBE_NODE_CONDITION_TYPE_READY';

type Entry = Parameters<typeof leaderViewOf>[0];
const cases: Array<[string, Entry, string]> = [
  ['not listed by the leader', undefined, '-'],
  ['Ready condition set', { node_id: 'u', conditions: [{ type: READY, set: true }] }, 'Ready'],
  ['Ready condition clear (the leader saw it NotReady)', { node_id: 'u', conditions: [{ type: READY, set: false }] }, 'NotReady'],
  ['listed without conditions', { node_id: 'u' }, 'NotReady'],
  ['only another condition set', { node_id: 'u', conditions: [{ type: 'KUBE_NODE_CONDITION_TYPE_DISK_PRESSURE', set: true }] }, 'NotReady'],
];
for (const [name, entry, expected] of cases) {
  test(`leader view: ${name}`, () => assert.equal(leaderViewOf(entry), expected));
}

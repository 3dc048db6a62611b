import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ChangeFeed, nodeChangeMatters, passDue, type PassState } from '../../../../src/k3s/standin/change-feed.js';
import { MemoryStore } from '../../../../src/k3s/standin/memory-store.js';
import type { KubeObject } from '../../../../src/k3s/standin/object-store.js';

const cond = (status: string, beat: string, since = '2026-01-01T00:00:00Z') => ({ type: 'Ready', status, lastHeartbeatTime: beat, lastTransitionTime: since, reason: 'KubeletReady' });
const node = (over: { rv?: string; ready?: ReturnType<typeof cond>; taints?: unknown[]; labels?: Record<string, string> } = {}): KubeObject => ({
  metadata: { name: 'n1', resourceVersion: over.rv ?? '10', labels: over.labels ?? { a: 'b' } },
  spec: { taints: over.taints ?? [] },
  status: { conditions: [over.ready ?? cond('True', '2026-01-01T00:00:02Z')], nodeInfo: { kubeletVersion: 'v1' } },
});

/** A node as a store keeps it: JSON text without its resourceVersion. */
const stored = (o: KubeObject | undefined): string | undefined => (o ? JSON.stringify({ ...o, metadata: { ...o.metadata, resourceVersion: undefined } }) : undefined);

describe('nodeChangeMatters', () => {
  const cases: [string, KubeObject | undefined, KubeObject | undefined, boolean][] = [
    ['a status post that only moves the heartbeat', node(), node({ rv: '11', ready: cond('True', '2026-01-01T00:00:04Z') }), false],
    ['the same object again', node(), node(), false],
    ['Ready turns Unknown', node(), node({ rv: '11', ready: cond('Unknown', '2026-01-01T00:00:02Z', '2026-01-01T00:00:40Z') }), true],
    ['a NoExecute taint added', node(), node({ rv: '11', taints: [{ key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' }] }), true],
    ['a label changed', node(), node({ rv: '11', labels: { a: 'c' } }), true],
    ['a label whose value looks like a heartbeat changed', node({ labels: { a: '"lastHeartbeatTime":"1"' } }), node({ rv: '11', labels: { a: '"lastHeartbeatTime":"2"' } }), true],
    ['a new node', undefined, node(), true],
    ['a node gone', node(), undefined, true],
  ];
  for (const [name, prev, next, want] of cases) it(`${name} → ${want}`, () => assert.equal(nodeChangeMatters(stored(prev), stored(next)), want));
});

describe('passDue', () => {
  const base: PassState = { changed: false, watching: true, now: 1_000, dueAt: Infinity };
  const cases: [string, Partial<PassState>, boolean][] = [
    ['nothing changed, nothing due', {}, false],
    ['a change seen', { changed: true }, true],
    ['not watching (first pass, watch failed)', { watching: false }, true],
    ['a deadline ahead', { dueAt: 1_001 }, false],
    ['a deadline due now', { dueAt: 1_000 }, true],
    ['a deadline past', { dueAt: 500 }, true],
  ];
  for (const [name, over, want] of cases) it(`${name} → ${want}`, () => assert.equal(passDue({ ...base, ...over }), want));
});

describe('ChangeFeed on a MemoryStore', () => {
  const settle = (): Promise<void> => new Promise((r) => setImmediate(() => setImmediate(r)));
  it('raises changed for changes after the read, not for heartbeat-only node posts, and falls back when the watch fails', async () => {
    let up = true;
    const store = new MemoryStore({ available: () => up, historyLimit: 5 });
    const n = await store.create('/registry/minions/n1', node());
    const feed = new ChangeFeed(store, [{ prefix: '/registry/minions/', matters: nodeChangeMatters }, { prefix: '/registry/pods/' }]);
    assert.equal(feed.watching, false);
    const { revision } = await store.list('/registry/minions/');
    await feed.follow(revision);
    assert.equal(feed.watching, true);
    await settle();
    feed.changed = false;
    const n2 = await store.update('/registry/minions/n1', node({ ready: cond('True', '2026-01-01T00:00:04Z') }), n.metadata.resourceVersion!);
    await settle();
    assert.equal(feed.changed, false, 'a heartbeat-only post is not a change');
    await store.update('/registry/minions/n1', node({ taints: [{ key: 'k', effect: 'NoExecute' }] }), n2.metadata.resourceVersion!);
    await settle();
    assert.equal(feed.changed, true, 'a taint is');
    feed.changed = false;
    await store.create('/registry/pods/ns/p', { metadata: { name: 'p', namespace: 'ns' } });
    await settle();
    assert.equal(feed.changed, true, 'a pod is');
    feed.close();
    up = false;
    const closed = new ChangeFeed(store, [{ prefix: '/registry/pods/' }]);
    closed.changed = false;
    await closed.follow(revision);
    assert.equal(closed.watching, false, 'a watch that cannot start leaves the feed polling');
    assert.equal(closed.changed, true);
    up = true;
    // A start revision compacted away: the watch ends at once, the feed marks a change and stops watching.
    for (let i = 0; i < 6; i++) await store.create(`/registry/pods/ns/q${i}`, { metadata: { name: `q${i}`, namespace: 'ns' } });
    const late = new ChangeFeed(store, [{ prefix: '/registry/pods/' }]);
    late.changed = false;
    await late.follow(revision);
    await settle();
    assert.equal(late.watching, false);
    assert.equal(late.changed, true);
    late.close();
  });
});

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { applyPatch, jsonPatch, mergePatch, patchTypeOf } from '../../../../src/k3s/standin/patch.js';

describe('patches', () => {
  it('merge patch (RFC 7386): null deletes, objects merge, arrays replace', () => {
    const doc = { metadata: { labels: { a: '1', b: '2' } }, spec: { taints: [{ key: 'x' }], unschedulable: true } };
    assert.deepEqual(mergePatch(doc, { metadata: { labels: { b: null, c: '3' } }, spec: { taints: [], unschedulable: null } }), {
      metadata: { labels: { a: '1', c: '3' } },
      spec: { taints: [] },
    });
  });

  it('strategic merge drops $-directives (kubectl cordon)', () => {
    assert.deepEqual(applyPatch('strategic', { spec: {} }, { spec: { unschedulable: true, $retainKeys: ['x'] } }), { spec: { unschedulable: true } });
  });

  it('JSON patch (RFC 6902): add, replace, remove, test, move, copy; failures are 422', () => {
    const doc = { a: [1, 2], b: { c: 'x' } };
    assert.deepEqual(
      jsonPatch(doc, [
        { op: 'add', path: '/a/-', value: 3 },
        { op: 'replace', path: '/b/c', value: 'y' },
        { op: 'test', path: '/b/c', value: 'y' },
        { op: 'copy', from: '/b/c', path: '/d' },
        { op: 'move', from: '/d', path: '/e' },
        { op: 'remove', path: '/a/0' },
        { op: 'add', path: '/b/k~1v', value: 1 },
      ]),
      { a: [2, 3], b: { c: 'y', 'k/v': 1 }, e: 'y' },
    );
    assert.deepEqual(doc, { a: [1, 2], b: { c: 'x' } }, 'the input is not modified');
    assert.throws(() => jsonPatch(doc, [{ op: 'test', path: '/b/c', value: 'no' }]), (e: unknown) => (e as { code?: number }).code === 422);
    assert.throws(() => jsonPatch(doc, [{ op: 'remove', path: '/zz' }]), (e: unknown) => (e as { code?: number }).code === 422);
  });

  it('maps content types', () => {
    assert.equal(patchTypeOf('application/merge-patch+json; charset=utf-8'), 'merge');
    assert.equal(patchTypeOf('application/json-patch+json'), 'json');
    assert.equal(patchTypeOf('application/strategic-merge-patch+json'), 'strategic');
    assert.equal(patchTypeOf('application/apply-patch+yaml'), undefined);
  });
});

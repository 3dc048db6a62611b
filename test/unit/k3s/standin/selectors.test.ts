import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { matchFields, matchLabels, matchNodeSelectorTerm, parseFieldSelector, parseLabelSelector } from '../../../../src/k3s/standin/selectors.js';

describe('label selectors', () => {
  const labels = { app: 'web', tier: 'front', 'kubernetes.io/hostname': 'edge-dev1' };
  const cases: [string, boolean][] = [
    ['', true],
    ['app=web', true],
    ['app==web,tier=front', true],
    ['app!=web', false],
    ['app in (web, api)', true],
    ['app notin (web)', false],
    ['tier', true],
    ['!tier', false],
    ['missing!=x', true],
    ['kubernetes.io/hostname=edge-dev1', true],
  ];
  for (const [sel, want] of cases) {
    it(`"${sel}" → ${want}`, () => assert.equal(matchLabels(parseLabelSelector(sel), labels), want));
  }
  it('rejects garbage with 400', () => assert.throws(() => parseLabelSelector('a=(b'), (e: unknown) => (e as { code?: number }).code === 400));
});

describe('field selectors', () => {
  const pod = { metadata: { name: 'p', namespace: 'eve-kube-app' }, spec: { nodeName: 'edge-dev2' }, status: { phase: 'Running' } };
  it('matches spec.nodeName and status.phase', () => {
    assert.equal(matchFields(parseFieldSelector('spec.nodeName=edge-dev2'), pod), true);
    assert.equal(matchFields(parseFieldSelector('spec.nodeName=edge-dev1'), pod), false);
    assert.equal(matchFields(parseFieldSelector('status.phase!=Running'), pod), false);
    // An absent field compares as "" (unscheduled pods: spec.nodeName=).
    assert.equal(matchFields(parseFieldSelector('spec.nodeName='), { metadata: {}, spec: {} }), true);
  });
});

describe('node selector terms', () => {
  it('matches In on kubernetes.io/hostname and metadata.name fields; an empty term matches nothing', () => {
    const labels = { 'kubernetes.io/hostname': 'edge-dev1' };
    assert.equal(matchNodeSelectorTerm({ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['edge-dev1'] }] }, 'edge-dev1', labels), true);
    assert.equal(matchNodeSelectorTerm({ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['edge-dev2'] }] }, 'edge-dev1', labels), false);
    assert.equal(matchNodeSelectorTerm({ matchFields: [{ key: 'metadata.name', operator: 'NotIn', values: ['edge-dev2'] }] }, 'edge-dev1', labels), true);
    assert.equal(matchNodeSelectorTerm({}, 'edge-dev1', labels), false);
  });
});

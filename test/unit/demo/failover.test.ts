/**
 * The failover result as people and the dashboard see it: the table rows (EVE's time beside each step) and the
 * dashboard's timeline record (only the steps seen, spec and real ms, EVE's reference where it has one).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { failoverRows, failoverSummary, failoverTimelineRecord, type FailoverScenarioResult } from '../../../src/demo/failover.js';

const result: FailoverScenarioResult = {
  app: { uuid: 'a', name: 'failover-app', designatedNode: 'edge-dev1', designatedUuid: 'u1', affinity: 'preferred' },
  lostNode: 'edge-dev1',
  runningAfterMs: 1_000,
  timeline: {
    timeScale: 10,
    killedAtMs: 1_700_000_000_000,
    notReadySeenMs: 4_100,
    notReadyMessage: 'Kubelet stopped posting node status.',
    podEvictedMs: 5_600,
    newPodScheduledMs: 5_650,
    newNode: 'edge-dev2',
    // Not seen: running and reporting (the timeout came first).
    spec: { notReadySeenMs: 41_000, podEvictedMs: 56_000, newPodScheduledMs: 56_500 },
    complete: false,
  },
};

void describe('failover result', () => {
  void it('table rows: every step, EVE time beside it, — when not seen', () => {
    assert.deepEqual(
      failoverRows(result).map((r) => [r.event, r.real, r.spec, r.eve]),
      [
        ['NotReady seen', '4.1 s', '41.0 s', 'T+40 s'],
        ['old pod evicted', '5.6 s', '56.0 s', 'T+55 s'],
        ['new pod scheduled', '5.7 s', '56.5 s', 'T+55 s'],
        ['new pod running', '—', '—', ''],
        ['new host reporting', '—', '—', '~T+65 s'],
      ],
    );
  });

  void it('dashboard record: the steps seen with their reference', () => {
    const r = failoverTimelineRecord(result);
    assert.deepEqual(
      { ...r, steps: r.steps.map((s) => [s.label, s.realMs, s.specMs, s.referenceMs]) },
      {
        id: 'failover-1700000000000',
        title: 'failover of failover-app (edge-dev1 lost)',
        startedAt: 1_700_000_000_000,
        timeScale: 10,
        complete: false,
        steps: [
          ['NotReady seen', 4_100, 41_000, 40_000],
          ['old pod evicted', 5_600, 56_000, 55_000],
          ['new pod scheduled', 5_650, 56_500, 55_000],
        ],
      },
    );
  });

  void it('one-line summary (the scenario timeline): spec seconds after the kill, — when not seen', () => {
    assert.equal(
      failoverSummary(result.timeline),
      'NotReady seen T+41 s, old pod evicted T+56 s, new pod scheduled T+57 s, new pod running —, new host reporting — (spec)',
    );
  });
});

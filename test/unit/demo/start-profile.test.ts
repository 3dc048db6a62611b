import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StartMarks, startTimeline } from '../../../src/demo/start-profile.js';

test('startTimeline: demo marks and the first agent log line of each milestone, ordered, with the step durations', () => {
  const t0 = Date.parse('2026-01-01T00:00:00.000Z');
  const marks = new StartMarks(t0);
  marks.mark('demo: controller up', t0 + 1000);
  marks.mark('demo: agent spawned', t0 + 1200);
  marks.mark('controller: node READY received', t0 + 9000);
  const line = (ms: number, message: string, extra: Record<string, unknown> = {}): string =>
    JSON.stringify({ level: 'info', message, timestamp: new Date(t0 + ms).toISOString(), ...extra });
  const log = [
    line(2500, 'agent process started', { sinceProcessStartMs: 1200 }),
    'not json',
    line(3000, 'key store opened'),
    line(4000, 'onboarded'),
    line(4500, 'attested'),
    line(5000, 'config accepted'),
    line(7000, 'config accepted'), // a later config: not the first
    line(6000, 'k3s started'),
  ].join('\n');
  assert.deepEqual(
    startTimeline(marks, log).map((s) => [s.step, s.atMs, s.deltaMs]),
    [
      ['demo: controller up', 1000, 1000],
      ['demo: agent spawned', 1200, 200],
      ['agent: process started', 1300, 100],
      ['agent: modules loaded', 2500, 1200],
      ['agent: key store opened', 3000, 500],
      ['agent: onboarded (register, uuid)', 4000, 1000],
      ['agent: attested', 4500, 500],
      ['agent: first config accepted (verified, decrypted)', 5000, 500],
      ['agent: k3s spawned', 6000, 1000],
      ['controller: node READY received', 9000, 3000],
    ],
  );
});

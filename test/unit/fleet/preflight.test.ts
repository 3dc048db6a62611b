/** The first device's failure, explained in one line naming the cause. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ControllerReplyError, ControllerUnreachableError, OnboardingRefusedError } from '../../../src/agent/index.js';
import { explainStartFailure } from '../../../src/fleet/preflight.js';

void describe('explainStartFailure', () => {
  const table: [unknown, string, RegExp][] = [
    [new ControllerUnreachableError('https://h:1/x', 'connect ECONNREFUSED 127.0.0.1:1'), 'unreachable', /^controller unreachable at https:\/\/h:1: connect ECONNREFUSED/],
    [new ControllerUnreachableError('https://h:1/x', 'unable to verify the first certificate'), 'untrusted', /TLS certificate that \/cfg\/root-certificate\.pem does not trust/],
    [new ControllerUnreachableError('https://h:1/x', 'self-signed certificate in certificate chain'), 'untrusted', /does not trust/],
    [new OnboardingRefusedError(403, 'sim-1'), 'onboarding-refused', /refused onboarding .*"sim-1".*onboard\.cert\.pem in \/cfg/],
    [new ControllerReplyError('uuid', 500, 'HTTP 500'), 'controller-error', /answered uuid: HTTP 500/],
    [new Error('boom'), 'controller-error', /could not complete its cycle against h:1: boom/],
  ];
  for (const [e, kind, re] of table) {
    void it(`${(e as Error).message} → ${kind}`, () => {
      const f = explainStartFailure(e, 'h:1', '/cfg');
      assert.equal(f.kind, kind);
      assert.match(f.message, re);
      assert.ok(!f.message.includes('\n'));
    });
  }
});

/** EVE's naming rules, table-driven (cluster.md §4.5, §7.2, §8, §9.1; lf-edge/eve: pkg/pillar/base/kubevirt.go). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { appKubeName, appKubeNameWithPurge, pvcName, sanitizeKubeName, toK8sNodeName, volumeIdFromPvcName } from '../../../src/k3s/index.js';

const APP = '0E7A9F00-1111-4222-8333-944455566677';

void describe('toK8sNodeName', () => {
  for (const [dev, want] of [
    ['dev1', 'dev1'],
    ['Edge_Dev1', 'edge-dev1'],
    ['EDGE__NODE_3', 'edge--node-3'],
    ['edge-dev2.site', 'edge-dev2.site'],
  ] as const) {
    void it(`${dev} → ${want}`, () => assert.equal(toK8sNodeName(dev), want));
  }
});

void describe('app kube names', () => {
  const cases: [string, string][] = [
    ['nginx', 'nginx'],
    ['My_App', 'my-app'],
    ['web server!#1', 'webserver1'],
    ['a.-.b', 'a-b'],
    ['x..y--z', 'x-y-z'],
    ['Ubuntu 22.04 (cloud)', 'ubuntu22-04cloud'],
    ['a-very-long-application-display-name', 'a-very-long-application-di'],
  ];
  for (const [display, sanitized] of cases) {
    void it(`${JSON.stringify(display)} → ${sanitized}`, () => {
      assert.equal(sanitizeKubeName(display).slice(0, 26), sanitized);
      assert.equal(appKubeName(display, APP), `${sanitized}-0e7a9`);
      assert.equal(appKubeNameWithPurge(display, APP, 3), `${sanitized}-0e7a9-3`);
    });
  }
  void it('never exceeds 32 characters before the purge counter', () => {
    assert.equal(appKubeName('x'.repeat(80), APP).length, 32);
  });
  void it('rejects a negative or fractional purge counter', () => {
    assert.throws(() => appKubeNameWithPurge('a', APP, -1), RangeError);
    assert.throws(() => appKubeNameWithPurge('a', APP, 1.5), RangeError);
  });
});

void describe('PVC names', () => {
  const vol = '8E3A6F3B-5B0B-4A57-9C39-2B8E1F0C7D11';
  void it('is <volume uuid>-pvc-<generation>', () => {
    assert.equal(pvcName(vol, 0), '8e3a6f3b-5b0b-4a57-9c39-2b8e1f0c7d11-pvc-0');
    assert.equal(pvcName(vol, 2), '8e3a6f3b-5b0b-4a57-9c39-2b8e1f0c7d11-pvc-2');
    assert.throws(() => pvcName(vol, -1), RangeError);
  });
  void it('volume_id drops only a -pvc-0 suffix', () => {
    assert.equal(volumeIdFromPvcName(pvcName(vol, 0)), vol.toLowerCase());
    assert.equal(volumeIdFromPvcName(pvcName(vol, 2)), `${vol.toLowerCase()}-pvc-2`);
  });
});

/** The ZInfoApp reporting gate (cluster.md §7.5), state mapping and message, as tables. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appInfo, appInfoDigest, appInfoMessage, appSwState, decideAppReport, type AppReportInput, type AppStateInput } from '../../../../src/agent/apps/app-report.js';
import { info } from '../../../../src/eve/index.js';

const base: AppReportInput = { deleted: false, designated: false, kubeStatus: 'Running', scheduledOnThisNode: false };

test('decideAppReport follows the §7.5 table', () => {
  const rows: Array<[string, Partial<AppReportInput>, ReturnType<typeof decideAppReport>]> = [
    ['hosting node reports', { scheduledOnThisNode: true }, 'status'],
    ['hosting node reports a Pending-but-bound pod', { scheduledOnThisNode: true, kubeStatus: 'NotRunning' }, 'status'],
    ['designated node, pod elsewhere: silent', { designated: true }, 'silent'],
    ['designated node, no pod anywhere: reports', { designated: true, kubeStatus: 'NotInCluster' }, 'status'],
    ['designated node before the first status: reports', { designated: true, kubeStatus: 'Unknown' }, 'status'],
    ['other node before the first status: silent', { kubeStatus: 'Unknown' }, 'silent'],
    ['other node, no pod anywhere: silent', { kubeStatus: 'NotInCluster' }, 'silent'],
    ['REQUIRED with designated down: Pending unbound pod, designated silent', { designated: true, kubeStatus: 'NotRunning' }, 'silent'],
    ['REQUIRED with designated down: others silent', { kubeStatus: 'NotRunning' }, 'silent'],
    ['isolated node (API unreachable) is silent even as designated', { designated: true, kubeStatus: 'APIUnreachable' }, 'silent'],
    ['isolated node is silent even if it thought it hosted the pod', { scheduledOnThisNode: true, kubeStatus: 'APIUnreachable' }, 'silent'],
    ['delete: every node sends it', { deleted: true }, 'delete'],
    ['delete: also a node that never reported', { deleted: true, kubeStatus: 'APIUnreachable' }, 'delete'],
  ];
  for (const [name, over, want] of rows) assert.equal(decideAppReport({ ...base, ...over }), want, name);
});

test('appSwState maps the kube view to ZSwState (PENDING 23, SCHEDULING 24, RUNNING 7)', () => {
  const S = info.ZSwState;
  assert.equal(S.PENDING, 23);
  assert.equal(S.SCHEDULING, 24);
  const b: AppStateInput = { activate: true, kubeStatus: 'Running', waitingForDetach: false };
  const rows: Array<[string, Partial<AppStateInput>, info.ZSwState]> = [
    ['running here', { localPodPhase: 'Running' }, S.RUNNING],
    ['bound here, not running yet', { localPodPhase: 'Pending', kubeStatus: 'NotRunning' }, S.SCHEDULING],
    ['no pod yet (designated, NotInCluster)', { kubeStatus: 'NotInCluster' }, S.PENDING],
    ['cold start', { kubeStatus: 'Unknown' }, S.PENDING],
    ['failover held by the gate', { localPodPhase: 'Running', waitingForDetach: true }, S.PENDING],
    ['volume still downloading', { storageState: S.DOWNLOAD_STARTED, kubeStatus: 'NotInCluster' }, S.DOWNLOAD_STARTED],
    ['deactivated, pod still here', { activate: false, localPodPhase: 'Running' }, S.HALTING],
    ['deactivated, pod gone', { activate: false, kubeStatus: 'NotInCluster' }, S.HALTED],
  ];
  for (const [name, over, want] of rows) assert.equal(appSwState({ ...b, ...over }), want, name);
});

test('appInfo fills the ZInfoApp fields; the delete message carries only AppID', () => {
  const a = appInfo({ uuid: 'u1', version: '3', displayName: 'web', state: info.ZSwState.RUNNING, clusterAppRunning: true, volumeRefs: ['v1'], bootTimeMs: 1_000 });
  assert.deepEqual(
    { ...a, bootTime: undefined },
    { AppID: 'u1', appVersion: '3', AppName: 'web', state: info.ZSwState.RUNNING, volumeRefs: ['v1'], cluster_app_running: true, bootTime: undefined },
  );
  const msg = appInfoMessage('dev', 5_000, { AppID: 'u1' });
  assert.equal(msg.ztype, info.ZInfoTypes.ZiApp);
  const wire = info.ZInfoMsg.decode(info.ZInfoMsg.encode(msg).finish());
  assert.equal(wire.ainfo?.AppID, 'u1');
  assert.equal(wire.ainfo?.cluster_app_running, false, 'UUID-only message → cluster_app_running false');
  assert.equal(wire.ainfo?.AppName, '');
  assert.equal(wire.ainfo?.state, info.ZSwState.INVALID);
});

test('appInfoDigest ignores error timestamps but not the error text', () => {
  const err = (timeMs: number, description = 'held'): ReturnType<typeof appInfo> =>
    appInfo({ uuid: 'u', version: '1', displayName: 'a', state: info.ZSwState.PENDING, clusterAppRunning: false, volumeRefs: [], error: { description, severity: info.Severity.SEVERITY_WARNING, timeMs } });
  assert.equal(appInfoDigest(err(1)), appInfoDigest(err(2)));
  assert.notEqual(appInfoDigest(err(1)), appInfoDigest(err(1, 'other')));
  assert.equal(err(1).appErr?.[0]?.severity, info.Severity.SEVERITY_WARNING);
});

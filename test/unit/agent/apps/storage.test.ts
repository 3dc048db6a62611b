/** Volumes and content trees across nodes (cluster.md §7.6, §8). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { contentTreeInfoMessage, contentTreeStatus, isDesignated, volumeInfoMessage, volumePvc, volumeStatus } from '../../../../src/agent/apps/storage.js';
import { info } from '../../../../src/eve/index.js';

const me = '9b4a0c1e-2f3d-4e5a-8b6c-7d8e9f0a1b01';
const other = '9b4a0c1e-2f3d-4e5a-8b6c-7d8e9f0a1b02';
const S = info.ZSwState;

test('isDesignated: empty or own UUID (case-insensitive)', () => {
  assert.ok(isDesignated('', me));
  assert.ok(isDesignated(me, me.toUpperCase()));
  assert.ok(!isDesignated(other, me));
});

test('content tree: designated → downloads with progress, then LOADED; other node → LOADED, not local; CONTAINER → local everywhere', () => {
  const tree = { uuid: 't', displayName: 'disk', designatedNodeId: me, isContainer: false };
  const at = (nowMs: number, ownUuid = me): ReturnType<typeof contentTreeStatus> => contentTreeStatus(tree, { ownUuid, startedAtMs: 1_000, nowMs, downloadMs: 1_000 });
  assert.deepEqual([at(1_000).state, at(1_000).progress, at(1_000).local], [S.DOWNLOAD_STARTED, 0, true]);
  assert.deepEqual([at(1_500).state, at(1_500).progress], [S.DOWNLOAD_STARTED, 50]);
  assert.deepEqual([at(2_000).state, at(2_000).progress], [S.LOADED, 100]);
  assert.deepEqual([at(1_000, other).state, at(1_000, other).local], [S.LOADED, false]);
  const ctr = contentTreeStatus({ ...tree, isContainer: true }, { ownUuid: other, startedAtMs: 0, nowMs: 100, downloadMs: 1_000 });
  assert.deepEqual([ctr.local, ctr.state], [true, S.DOWNLOAD_STARTED]);
});

test('volume: designated follows its tree, CREATING_VOLUME until its PVC <uuid>-pvc-<gen> exists, then CREATED_VOLUME; others CREATED_VOLUME at once', () => {
  const vol = { uuid: 'B2E1D4C3-6A5F-4B7A-9D8E-1F2A3B4C5D01', displayName: 'v', designatedNodeId: me, generationCount: 1, contentTreeId: 't', maxSizeBytes: 1 << 30 };
  const loading = { uuid: 't', displayName: 'disk', local: true, state: S.DOWNLOAD_STARTED, progress: 40 };
  const loaded = { ...loading, state: S.LOADED, progress: 100 };
  const mine = volumeStatus(vol, { ownUuid: me, tree: loading, pvcCreated: false });
  assert.deepEqual([mine.state, mine.progress, mine.designated, mine.pvc, mine.pvcCreated], [S.DOWNLOAD_STARTED, 40, true, 'b2e1d4c3-6a5f-4b7a-9d8e-1f2a3b4c5d01-pvc-1', false]);
  assert.equal(volumeStatus(vol, { ownUuid: me, tree: loaded, pvcCreated: false }).state, S.CREATING_VOLUME, 'loaded, no PVC yet');
  const created = volumeStatus(vol, { ownUuid: me, tree: loaded, pvcCreated: true });
  assert.deepEqual([created.state, created.pvcCreated], [S.CREATED_VOLUME, true]);
  assert.equal(volumeStatus(vol, { ownUuid: me, tree: undefined, pvcCreated: false }).state, S.CREATING_VOLUME, 'blank volume waits for its PVC too');
  assert.equal(volumeStatus(vol, { ownUuid: me, tree: undefined, pvcCreated: true }).state, S.CREATED_VOLUME);
  const theirs = volumeStatus(vol, { ownUuid: other, tree: loading, pvcCreated: false });
  assert.deepEqual([theirs.state, theirs.progress, theirs.designated, theirs.pvcCreated], [S.CREATED_VOLUME, 100, false, false]);
});

test('volume PVC: EVE NewPVCDefinition shape (block, RWO, storage class, max size)', () => {
  const vol = { uuid: 'v', displayName: 'v', designatedNodeId: me, generationCount: 0, contentTreeId: '', maxSizeBytes: 1073741824 };
  const pvc = volumePvc(vol, 'v-pvc-0', 'lh-sc-rep2');
  assert.equal(pvc.metadata?.name, 'v-pvc-0');
  assert.deepEqual(pvc.spec, { storageClassName: 'lh-sc-rep2', accessModes: ['ReadWriteOnce'], volumeMode: 'Block', resources: { requests: { storage: '1073741824' } } });
});

test('info messages: full and UUID-only deletes', () => {
  const v = volumeInfoMessage('dev', 0, 'vol', volumeStatus({ uuid: 'vol', displayName: 'v', designatedNodeId: other, generationCount: 2, contentTreeId: '', maxSizeBytes: 0 }, { ownUuid: me, tree: undefined, pvcCreated: false }));
  assert.equal(v.ztype, info.ZInfoTypes.ZiVolume);
  assert.deepEqual(v.vinfo, { uuid: 'vol', displayName: 'v', state: S.CREATED_VOLUME, progressPercentage: 100, generation_count: 2 });
  assert.deepEqual(volumeInfoMessage('dev', 0, 'vol', undefined).vinfo, { uuid: 'vol' });
  const c = contentTreeInfoMessage('dev', 0, 't', undefined);
  assert.equal(c.ztype, info.ZInfoTypes.ZiContentTree);
  assert.deepEqual(c.cinfo, { uuid: 't' });
});

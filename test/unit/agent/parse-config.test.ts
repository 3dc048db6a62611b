/**
 * The config parser (src/agent/parse-config.ts) fed a proto as EVE's parseconfig_test does: every config goes
 * through the wire (encode → decode) first. The cluster block's decisions — absent vs invalid (field and reason)
 * vs valid, and the role decided once with a normalised address compare — then the plain app/volume/content-tree
 * data and the config-item timers with EVE's ranges.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { configTimers, parseDeviceConfig, type ClusterParse } from '../../../src/agent/parse-config.js';
import { config, decode, encode } from '../../../src/eve/index.js';

type Cluster = config.IEdgeNodeCluster;
const CLUSTER_ID = '6F1C7D2E-5A4B-4C3D-9E8F-0A1B2C3D4E5F';
const TIE = 'AAAAAAAA-BBBB-4CCC-8DDD-EEEEEEEEEEEE';
const token = { cipherContextId: 'ctx-1', initialValue: Buffer.alloc(16, 1), cipherData: Buffer.from('sealed'), clearTextSha256: Buffer.alloc(32, 2) };
const goodBlock: Cluster = {
  cluster_name: 'c1',
  cluster_id: CLUSTER_ID,
  cluster_interface: 'ethernet1',
  cluster_ip_prefix: '10.244.244.3/24',
  join_server_ip: '10.244.244.2',
  encrypted_cluster_token: token,
};

/** Through the wire, as the controller sends it. */
function parse(cfg: config.IEdgeDevConfig): ReturnType<typeof parseDeviceConfig> {
  return parseDeviceConfig(decode(config.EdgeDevConfig, encode(config.EdgeDevConfig, cfg)));
}
const parseCluster = (cluster: Cluster | undefined, extra: config.IEdgeDevConfig = {}): ClusterParse =>
  parse({ id: { uuid: 'dev', version: '1' }, ...(cluster ? { cluster } : {}), ...extra }).cluster;

test('cluster block: absent is apart from invalid; each invalid field named with its reason', () => {
  assert.deepEqual(parseCluster(undefined), { kind: 'absent' });
  const rows: Array<[string, Cluster, string, RegExp]> = [
    ['no prefix length', { cluster_ip_prefix: '10.244.244.3' }, 'cluster.cluster_ip_prefix', /not an address with a prefix length/],
    ['not an address', { cluster_ip_prefix: 'ten/24' }, 'cluster.cluster_ip_prefix', /"ten\/24"/],
    ['IPv4 prefix above 32', { cluster_ip_prefix: '10.244.244.3/33' }, 'cluster.cluster_ip_prefix', /prefix length/],
    ['IPv6 prefix above 128', { cluster_ip_prefix: 'fd00::3/129' }, 'cluster.cluster_ip_prefix', /prefix length/],
    ['join server not an IP', { join_server_ip: 'bootstrap.local' }, 'cluster.join_server_ip', /"bootstrap.local" is not an IP address/],
    ['join server missing', { join_server_ip: '' }, 'cluster.join_server_ip', /not an IP address/],
    ['cluster id not a UUID', { cluster_id: 'c1' }, 'cluster.cluster_id', /"c1" is not a UUID/],
    ['tie-breaker not a UUID', { tie_breaker_node_id: 'dev3' }, 'cluster.tie_breaker_node_id', /"dev3" is not a UUID/],
    ['no token', { encrypted_cluster_token: null }, 'cluster.encrypted_cluster_token', /missing or incomplete/],
    ['token without a context id', { encrypted_cluster_token: { ...token, cipherContextId: '' } }, 'cluster.encrypted_cluster_token', /missing or incomplete/],
    ['token without cipher data', { encrypted_cluster_token: { ...token, cipherData: Buffer.alloc(0) } }, 'cluster.encrypted_cluster_token', /missing or incomplete/],
    ['no cluster interface', { cluster_interface: '' }, 'cluster.cluster_interface', /empty/],
  ];
  for (const [what, over, field, reason] of rows) {
    const p = parseCluster({ ...goodBlock, ...over });
    assert.equal(p.kind, 'invalid', what);
    if (p.kind !== 'invalid') continue;
    assert.equal(p.field, field, what);
    assert.match(p.reason, reason, what);
    assert.doesNotMatch(p.reason, /sealed/, 'the token never appears in an error');
  }
});

test('cluster block: the role is decided once, bootstrap by a normalised address compare (§2.2, §4.6)', () => {
  const role = (over: Cluster): string | undefined => {
    const p = parseCluster({ ...goodBlock, ...over });
    return p.kind === 'valid' ? p.config.role : `invalid ${p.kind === 'invalid' ? p.field : ''}`;
  };
  const rows: Array<[string, Cluster, string]> = [
    ['own IP is the join server', { cluster_ip_prefix: '10.244.244.2/24' }, 'bootstrap'],
    ['another member', {}, 'server'],
    ['worker flag on a member', { is_worker_node: true }, 'agent'],
    ['worker flag on the bootstrap is ignored', { cluster_ip_prefix: '10.244.244.2/24', is_worker_node: true }, 'bootstrap'],
    ['IPv6 written two ways is one address', { cluster_ip_prefix: 'fd00:0:0::2/64', join_server_ip: 'fd00::2' }, 'bootstrap'],
    ['IPv6 member', { cluster_ip_prefix: 'fd00::3/64', join_server_ip: 'fd00::2' }, 'server'],
  ];
  for (const [what, over, want] of rows) assert.equal(role(over), want, what);
});

test('cluster block: a valid one becomes plain data (ids lower-cased, token as bytes with its named context)', () => {
  const ctx = { contextId: 'ctx-1', hashScheme: 1, keyExchangeScheme: 1, encryptionScheme: 1, deviceCertHash: Buffer.alloc(16, 3), controllerCertHash: Buffer.alloc(32, 4) };
  const p = parseCluster({ ...goodBlock, tie_breaker_node_id: TIE, cluster_type: 1 }, { cipherContexts: [ctx, { contextId: 'other' }] });
  assert.equal(p.kind, 'valid');
  if (p.kind !== 'valid') return;
  const c = p.config;
  assert.deepEqual(
    [c.clusterName, c.clusterId, c.clusterInterface, c.clusterIp, c.prefixLength, c.joinServerIp, c.tieBreakerNodeId, c.clusterType],
    ['c1', CLUSTER_ID.toLowerCase(), 'ethernet1', '10.244.244.3', 24, '10.244.244.2', TIE.toLowerCase(), 1],
  );
  assert.equal(c.encryptedToken.contextId, 'ctx-1');
  assert.deepEqual(c.encryptedToken.cipherData, Buffer.from('sealed'));
  assert.deepEqual(c.encryptedToken.context?.deviceCertHash, Buffer.alloc(16, 3));
  assert.equal(c.encryptedToken.context?.encryptionScheme, 1);
  const orphan = parseCluster(goodBlock, { cipherContexts: [{ contextId: 'other' }] });
  assert.ok(orphan.kind === 'valid' && orphan.config.encryptedToken.context === undefined, 'a context the config lacks is left for the decryption to report');
});

test('apps, volumes and content trees as plain data', () => {
  const d = parse({
    id: { uuid: 'dev', version: '7' },
    device_name: 'edge-1',
    controller_epoch: 3,
    configItems: [{ key: 'timer.config.interval', value: '30' }],
    apps: [
      {
        uuidandversion: { uuid: 'app-1', version: '2' },
        displayname: 'web',
        activate: true,
        designated_node_id: 'DEV-B',
        affinity: 1,
        purge: { counter: 2 },
        restart: { counter: 4 },
        volumeRefList: [{ uuid: 'vol-1' }, { uuid: '' }],
        fixedresources: { vcpus: 2, memory: 524288 },
      },
      { uuidandversion: { uuid: 'app-2', version: '1' }, displayname: 'db' },
    ],
    volumes: [{ uuid: 'vol-1', displayName: 'data', designated_node_id: 'DEV-B', generationCount: 3, origin: { downloadContentTreeID: 'ct-1' }, maxsizebytes: 1024 }],
    contentInfo: [
      { uuid: 'ct-1', displayName: 'img', iformat: 8 },
      { uuid: 'ct-2', displayName: 'disk', iformat: 2, designated_node_id: 'DEV-B' },
    ],
  });
  assert.deepEqual([d.deviceUuid, d.version, d.deviceName, d.controllerEpoch, d.configItems.get('timer.config.interval')], ['dev', '7', 'edge-1', 3, '30']);
  assert.deepEqual(d.cluster, { kind: 'absent' });
  const [a1, a2] = d.apps;
  assert.deepEqual(
    [a1?.affinity, a1?.designatedNodeId, a1?.purgeCounter, a1?.restartCounter, a1?.volumeRefs, a1?.cpus, a1?.memoryKb, a1?.activate],
    ['required', 'dev-b', 2, 4, ['vol-1'], 2, 524288, true],
  );
  assert.deepEqual([a2?.affinity, a2?.designatedNodeId, a2?.activate, a2?.volumeRefs], ['preferred', '', false, []], 'defaults: preferred, every node designated');
  assert.deepEqual(d.volumes, [{ uuid: 'vol-1', displayName: 'data', designatedNodeId: 'dev-b', generationCount: 3, contentTreeId: 'ct-1', maxSizeBytes: 1024 }]);
  assert.deepEqual(d.contentTrees.map((t) => [t.uuid, t.isContainer, t.designatedNodeId]), [['ct-1', true, ''], ['ct-2', false, 'dev-b']]);
});

test('configTimers: EVE defaults; a value outside its range or not a number falls back to the default', () => {
  const t = (items: Record<string, string>): ReturnType<typeof configTimers> => configTimers(new Map(Object.entries(items)));
  assert.deepEqual(t({}), { configMs: 60_000, deviceInfoMs: 600_000, metricMs: 60_000 });
  assert.deepEqual(t({ 'timer.config.interval': '5', 'timer.deviceinfo.interval': '30', 'timer.metric.interval': '3600' }), { configMs: 5_000, deviceInfoMs: 30_000, metricMs: 3_600_000 });
  assert.deepEqual(t({ 'timer.config.interval': '4', 'timer.deviceinfo.interval': '29', 'timer.metric.interval': '3601' }), { configMs: 60_000, deviceInfoMs: 600_000, metricMs: 60_000 });
  assert.deepEqual(t({ 'timer.config.interval': 'soon', 'timer.metric.interval': '' }), { configMs: 60_000, deviceInfoMs: 600_000, metricMs: 60_000 });
});

/**
 * k3s config rendering, table-driven with the exact expected files (cluster.md §4; lf-edge/eve:
 * pkg/kube/kube-init/k3s/config.go), and applying them to a real temp directory (modes, removal on leave, dry run).
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import {
  applyK3sConfig,
  etcdMemberExists,
  isK3sConfigError,
  k3sNodeRole,
  removeK3sConfig,
  renderBaseConfig,
  renderDropIns,
  type K3sClusterInput,
  type K3sDropInInput,
} from '../../../src/k3s/index.js';
import { captureLogger } from './capture-logger.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'edgesim-dropins-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const TOKEN = 'dGVzdC1jbHVzdGVyLXRva2VuLTIwYnl0ZXM=';
const DEV_UUID = '9A1C1E8E-3F7E-4C55-8F0E-2A7B9D6C4E10';
const cluster = (over: Partial<K3sClusterInput> = {}): K3sClusterInput => ({
  clusterId: '5b2b5e1c-8a46-4c5f-9a57-7f3c1c2e0d11',
  clusterIp: '10.244.244.3',
  joinServerIp: '10.244.244.2',
  token: TOKEN,
  clusterIfName: 'eth1',
  clusterType: 2,
  ...over,
});
const input = (c?: K3sClusterInput, over: Partial<K3sDropInInput> = {}): K3sDropInInput => ({
  deviceName: 'Edge_Dev2',
  deviceUuid: DEV_UUID,
  cluster: c,
  ...over,
});

const NODENAME = ['00-nodename.yaml', 'node-name: edge-dev2\n'];
const DISABLE = ['03-enc-disable-local-path.yaml', '# Use longhorn storage\ndisable: local-storage\n'];
const WATCH = [
  '04-multinode-watch-cache.yaml',
  '# Multi-node clusters only: no kube-apiserver watch cache, every LIST/WATCH is served from etcd.\n' +
    'kube-apiserver-arg+:\n  - "watch-cache=false"\n',
];

const table: { name: string; in: K3sDropInInput; role: string; files: string[][] }[] = [
  { name: 'single-node (no cluster block)', in: input(), role: 'single', files: [NODENAME] },
  {
    name: 'single-node with user overrides',
    in: input(undefined, { userOverrides: 'kubelet-arg+:\n  - "v=4"\n' }),
    role: 'single',
    files: [NODENAME, ['99-k3s-config-user-overrides.yaml', 'kubelet-arg+:\n  - "v=4"\n']],
  },
  {
    name: 'bootstrap, first cluster start',
    in: input(cluster({ clusterIp: '10.244.244.2' })),
    role: 'bootstrap',
    files: [
      NODENAME,
      [
        '01-clusterconfig.yaml',
        `cluster-init: true\ntoken: "${TOKEN}"\ntls-san:\n  - "10.244.244.2"\nflannel-iface: "eth1"\nnode-ip: "10.244.244.2"\n`,
      ],
      DISABLE,
      WATCH,
    ],
  },
  {
    name: 'bootstrap restart with etcd: rejoins itself; is_worker_node ignored',
    in: input(cluster({ clusterIp: '10.244.244.2', etcdInitialized: true, isWorkerNode: true, agentMode: true })),
    role: 'bootstrap',
    files: [
      NODENAME,
      [
        '01-clusterconfig.yaml',
        `server: "https://10.244.244.2:6443"\ntoken: "${TOKEN}"\ntls-san:\n  - "10.244.244.2"\nflannel-iface: "eth1"\nnode-ip: "10.244.244.2"\n`,
      ],
      DISABLE,
      WATCH,
    ],
  },
  {
    name: 'joining server, K3S_BASE (no disable-local-path)',
    in: input(cluster({ clusterType: 1 })),
    role: 'server',
    files: [
      NODENAME,
      [
        '01-clusterconfig.yaml',
        `server: "https://10.244.244.2:6443"\ntoken: "${TOKEN}"\nflannel-iface: "eth1"\nnode-ip: "10.244.244.3"\n`,
      ],
      WATCH,
    ],
  },
  {
    name: 'is_worker_node without agent mode: a server as in EVE',
    in: input(cluster({ isWorkerNode: true })),
    role: 'server',
    files: [
      NODENAME,
      [
        '01-clusterconfig.yaml',
        `server: "https://10.244.244.2:6443"\ntoken: "${TOKEN}"\nflannel-iface: "eth1"\nnode-ip: "10.244.244.3"\n`,
      ],
      DISABLE,
      WATCH,
    ],
  },
  {
    name: 'agent mode (simulator choice §4.6): node-uuid label, no server-only drop-ins',
    in: input(cluster({ isWorkerNode: true, agentMode: true })),
    role: 'agent',
    files: [
      NODENAME,
      [
        '01-clusterconfig.yaml',
        `server: "https://10.244.244.2:6443"\ntoken: "${TOKEN}"\nflannel-iface: "eth1"\nnode-ip: "10.244.244.3"\n` +
          'node-label:\n  - "node-uuid=9a1c1e8e-3f7e-4c55-8f0e-2a7b9d6c4e10"\n',
      ],
    ],
  },
  {
    name: 'IPv6 join server is bracketed in the URL',
    in: input(cluster({ clusterIp: 'fd00::3', joinServerIp: 'fd00::2' })),
    role: 'server',
    files: [
      NODENAME,
      ['01-clusterconfig.yaml', `server: "https://[fd00::2]:6443"\ntoken: "${TOKEN}"\nflannel-iface: "eth1"\nnode-ip: "fd00::3"\n`],
      DISABLE,
      WATCH,
    ],
  },
];

void describe('renderDropIns', () => {
  for (const t of table) {
    void it(t.name, () => {
      assert.equal(k3sNodeRole(t.in), t.role);
      const files = renderDropIns(t.in);
      assert.deepEqual(
        files.map((f) => [f.name, f.content]),
        t.files,
      );
      assert.deepEqual(
        files.filter((f) => f.secret).map((f) => f.name),
        t.in.cluster ? ['01-clusterconfig.yaml'] : [],
      );
    });
  }

  const bad: [string, K3sDropInInput, string][] = [
    ['empty device name', input(undefined, { deviceName: ' ' }), 'deviceName'],
    ['cluster id', input(cluster({ clusterId: 'nope' })), 'cluster.clusterId'],
    ['cluster IP with prefix', input(cluster({ clusterIp: '10.244.244.3/24' })), 'cluster.clusterIp'],
    ['join server', input(cluster({ joinServerIp: 'bootstrap' })), 'cluster.joinServerIp'],
    ['empty token', input(cluster({ token: '' })), 'cluster.token'],
    ['ifname', input(cluster({ clusterIfName: '' })), 'cluster.clusterIfName'],
    ['agent without device UUID', input(cluster({ isWorkerNode: true, agentMode: true }), { deviceUuid: '' }), 'deviceUuid'],
  ];
  for (const [name, inp, field] of bad) {
    void it(`rejects bad input: ${name}`, () => {
      assert.throws(
        () => renderDropIns(inp),
        (e) => isK3sConfigError(e, 'INVALID_INPUT') && e.context.field === field && e.message.includes(field),
      );
    });
  }
});

void describe('renderBaseConfig', () => {
  void it('server: EVE base settings', () => {
    assert.equal(
      renderBaseConfig({ mode: 'server', extra: { 'https-listen-port': 16443, 'bind-address': '127.0.0.2' } }).content,
      [
        '# k3s base configuration rendered by edgesim (cluster.md §4.1)',
        'disable:',
        '  - "servicelb"',
        '  - "traefik"',
        'disable-network-policy: true',
        'disable-cloud-controller: true',
        'write-kubeconfig-mode: "0600"',
        'kubelet-arg:',
        '  - "node-status-update-frequency=2s"',
        'kube-controller-manager-arg:',
        '  - "node-monitor-period=10s"',
        '  - "node-monitor-grace-period=40s"',
        'etcd-arg:',
        '  - "quota-backend-bytes=8589934592"',
        '  - "auto-compaction-mode=periodic"',
        '  - "auto-compaction-retention=1h"',
        '  - "snapshot-count=5000"',
        'bind-address: "127.0.0.2"',
        'https-listen-port: 16443',
        '',
      ].join('\n'),
    );
  });
  void it('agent: kubelet and runtime only', () => {
    assert.equal(
      renderBaseConfig({ mode: 'agent', staticCpuManager: true, containerRuntimeEndpoint: '/run/c.sock' }).content,
      '# k3s base configuration rendered by edgesim (cluster.md §4.1)\nkubelet-arg:\n  - "node-status-update-frequency=2s"\n' +
        '  - "cpu-manager-policy=static"\ncontainer-runtime-endpoint: "/run/c.sock"\n',
    );
  });
});

void describe('applyK3sConfig', () => {
  const dir = path.join(tmp, 'k3s');
  const d = path.join(dir, 'config.yaml.d');
  const mode = (p: string): number => statSync(p).mode & 0o777;

  void it('writes 0600 files in 0700 dirs, reports changes, removes cluster drop-ins on leave', async () => {
    const logger = captureLogger();
    const joined = input(cluster());
    const r1 = await applyK3sConfig({ configDir: dir, input: joined, base: {}, logger });
    assert.equal(r1.role, 'server');
    assert.equal(r1.nodeName, 'edge-dev2');
    assert.ok(r1.changed);
    assert.deepEqual(r1.written, [
      'config.yaml',
      'config.yaml.d/00-nodename.yaml',
      'config.yaml.d/01-clusterconfig.yaml',
      'config.yaml.d/03-enc-disable-local-path.yaml',
      'config.yaml.d/04-multinode-watch-cache.yaml',
    ]);
    assert.equal(mode(dir), 0o700);
    assert.equal(mode(d), 0o700);
    for (const f of readdirSync(d)) assert.equal(mode(path.join(d, f)), 0o600, f);
    assert.equal(mode(path.join(dir, 'config.yaml')), 0o600);
    assert.match(readFileSync(path.join(d, '01-clusterconfig.yaml'), 'utf8'), new RegExp(`token: "${TOKEN}"`));
    assert.ok(!JSON.stringify(logger.lines).includes(TOKEN), 'the token is never logged');
    // The token is only in 01-clusterconfig.yaml.
    for (const f of ['config.yaml', ...readdirSync(d).map((n) => `config.yaml.d/${n}`)]) {
      const has = readFileSync(path.join(dir, f), 'utf8').includes(TOKEN);
      assert.equal(has, f.endsWith('01-clusterconfig.yaml'), f);
    }

    const r2 = await applyK3sConfig({ configDir: dir, input: joined, base: {} });
    assert.equal(r2.changed, false, 'a second apply with the same input changes nothing');

    writeFileSync(path.join(d, '50-foreign.yaml'), 'foo: bar\n');
    const dry = await applyK3sConfig({ configDir: dir, input: input(), base: {}, dryRun: true });
    assert.deepEqual(dry.removed, [
      'config.yaml.d/01-clusterconfig.yaml',
      'config.yaml.d/03-enc-disable-local-path.yaml',
      'config.yaml.d/04-multinode-watch-cache.yaml',
    ]);
    assert.equal(readdirSync(d).length, 5, 'dry run touches nothing');

    const left = await applyK3sConfig({ configDir: dir, input: input(), base: {} });
    assert.deepEqual(left.removed, dry.removed);
    assert.deepEqual(left.written, []);
    assert.deepEqual(readdirSync(d).sort(), ['00-nodename.yaml', '50-foreign.yaml']);

    assert.deepEqual(await removeK3sConfig(dir), ['config.yaml', 'config.yaml.d/00-nodename.yaml']);
    assert.deepEqual(readdirSync(d), ['50-foreign.yaml']);
  });

  void it('agent role gets the agent base config', async () => {
    const dir2 = path.join(tmp, 'agent');
    const r = await applyK3sConfig({ configDir: dir2, input: input(cluster({ isWorkerNode: true, agentMode: true })), base: {} });
    assert.equal(r.role, 'agent');
    assert.ok(!readFileSync(path.join(dir2, 'config.yaml'), 'utf8').includes('etcd-arg'));
  });

  void it('detects an initialised etcd member directory', async () => {
    const data = path.join(tmp, 'data');
    assert.equal(await etcdMemberExists(data), false);
    mkdirSync(path.join(data, 'server/db/etcd'), { recursive: true });
    assert.equal(await etcdMemberExists(data), false, 'the parent directory alone does not count');
    mkdirSync(path.join(data, 'server/db/etcd/member'));
    assert.equal(await etcdMemberExists(data), true);
  });
});

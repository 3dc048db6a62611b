import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { compileStandinConfig, loadK3sConfig, parseGoDuration, parseTaint } from '../../../../src/k3s/standin/config.js';
import { isStandinError } from '../../../../src/k3s/standin/errors.js';

function tree(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'k3scfg-'));
  for (const [f, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    fs.writeFileSync(path.join(dir, f), text);
  }
  return dir;
}

describe('k3s config merge', () => {
  it('merges config.yaml and drop-ins in lexical order, appends with key+, flags win', () => {
    const dir = tree({
      'config.yaml': 'node-name: base\nnode-label: [a=1]\nkubelet-arg: ["node-status-update-frequency=2s"]\n',
      'config.yaml.d/00-nodename.yaml': 'node-name: edge-dev1\n',
      'config.yaml.d/01-clusterconfig.yaml': 'cluster-init: true\ntoken: "t0k"\ntls-san: ["10.244.244.2"]\nflannel-iface: "eth1"\nnode-ip: "10.244.244.2"\n',
      'config.yaml.d/02-labels.yaml': 'node-label+: [b=2]\n',
      'config.yaml.d/04-multinode-watch-cache.yaml': 'kube-apiserver-arg+: watch-cache=false\n',
      'config.yaml.d/README.txt': 'not yaml: [',
    });
    const { values, warnings, files } = loadK3sConfig('server', { configPath: path.join(dir, 'config.yaml'), flags: { 'node-ip': '127.0.0.2' } });
    assert.equal(files.length, 5);
    assert.equal(values['node-name'], 'edge-dev1');
    assert.equal(values['cluster-init'], true);
    assert.deepEqual(values['node-label'], ['a=1', 'b=2']);
    assert.equal(values['node-ip'], '127.0.0.2');
    assert.deepEqual(warnings, []);
  });

  it('warns about unknown keys and keys of the other role, like k3s', () => {
    const dir = tree({ 'config.yaml': 'no-such-flag: 1\ncluster-init: true\nnode-name: n\n' });
    const { values, warnings } = loadK3sConfig('agent', { configPath: path.join(dir, 'config.yaml') });
    assert.deepEqual(warnings, ['Unknown flag --no-such-flag found in config.yaml, skipping', 'Unknown flag --cluster-init found in config.yaml, skipping']);
    assert.equal(values['cluster-init'], undefined);
  });

  it('names the key of a badly typed value', () => {
    const dir = tree({ 'config.yaml': 'cluster-init: maybe\n' });
    assert.throws(() => loadK3sConfig('server', { configPath: path.join(dir, 'config.yaml') }), (e: unknown) => isStandinError(e, 'config') && /cluster-init/.test(e.message));
  });

  it('treats a missing config file as empty', () => {
    assert.deepEqual(loadK3sConfig('server', { configPath: '/nonexistent/config.yaml' }).values, {});
  });
});

describe('compileStandinConfig', () => {
  it('fills defaults and honours kubelet and controller-manager args', () => {
    const c = compileStandinConfig('server', {
      'data-dir': '/tmp/x', 'node-label': ['node-uuid=1'], 'kube-controller-manager-arg': ['node-monitor-grace-period=20s', 'node-monitor-period=5s'],
    }, 'My-Host');
    assert.equal(c.nodeName, 'my-host');
    assert.equal(c.nodeIp, '127.0.0.1');
    assert.equal(c.writeKubeconfig, '/tmp/x/k3s.yaml');
    assert.equal(c.writeKubeconfigMode, 0o600);
    assert.equal(c.httpsListenPort, 6443);
    assert.equal(c.nodeMonitorGraceMs, 20_000);
    assert.equal(c.nodeMonitorPeriodMs, 5_000);
    assert.equal(c.nodeStatusUpdateMs, 2_000);
    assert.deepEqual(c.nodeLabels, { 'node-uuid': '1' });
  });

  it('rejects an agent without a server, a joiner without a token, a bad node-ip', () => {
    assert.throws(() => compileStandinConfig('agent', {}, 'h'), /server/);
    assert.throws(() => compileStandinConfig('server', { server: 'https://10.0.0.1:6443' }, 'h'), /token/);
    assert.throws(() => compileStandinConfig('server', { 'node-ip': '10.0.0.300' }, 'h'), /node-ip/);
  });

  it('parses Go durations and taints', () => {
    assert.equal(parseGoDuration('2m30s', 'x'), 150_000);
    assert.equal(parseGoDuration('500ms', 'x'), 500);
    assert.throws(() => parseGoDuration('10', 'x'), /duration/);
    assert.deepEqual(parseTaint('dedicated=edge:NoSchedule'), { key: 'dedicated', value: 'edge', effect: 'NoSchedule' });
    assert.throws(() => parseTaint('x:Sometimes'), /node-taint/);
  });
});

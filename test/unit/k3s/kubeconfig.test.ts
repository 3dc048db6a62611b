/** kubeconfig.ts: what a kubeconfig's current context resolves to, and the errors that name what is wrong. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { KubeconfigError, parseKubeconfig, readKubeconfig } from '../../../src/k3s/kubeconfig.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'edgesim-kubeconfig-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const b64 = (s: string): string => Buffer.from(s).toString('base64');
const doc = (o: { cluster?: Record<string, unknown>; user?: Record<string, unknown>; current?: string; extra?: boolean }) =>
  stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      { name: 'default', cluster: o.cluster ?? { server: 'https://127.0.0.1:6443', 'certificate-authority-data': b64('CA') } },
      ...(o.extra ? [{ name: 'other', cluster: { server: 'https://127.0.0.2:6443', 'insecure-skip-tls-verify': true } }] : []),
    ],
    contexts: [
      { name: 'default', context: { cluster: 'default', user: 'default' } },
      ...(o.extra ? [{ name: 'other', context: { cluster: 'other', user: 'default' } }] : []),
    ],
    users: [{ name: 'default', user: o.user ?? { token: 't0k' } }],
    'current-context': o.current ?? 'default',
  });

void describe('parseKubeconfig', () => {
  const cases: { name: string; text: string; want: object }[] = [
    { name: 'stand-in: CA data and a bearer token', text: doc({}), want: { server: 'https://127.0.0.1:6443', caPem: 'CA', token: 't0k' } },
    {
      name: 'k3s: client certificate and key data',
      text: doc({ user: { 'client-certificate-data': b64('CERT'), 'client-key-data': b64('KEY') } }),
      want: { server: 'https://127.0.0.1:6443', caPem: 'CA', certPem: 'CERT', keyPem: 'KEY' },
    },
    {
      name: 'the current context picks the cluster; insecure has no CA',
      text: doc({ current: 'other', extra: true }),
      want: { server: 'https://127.0.0.2:6443', token: 't0k' },
    },
    { name: 'a plain http server needs no CA', text: doc({ cluster: { server: 'http://127.0.0.1:8001/' } }), want: { server: 'http://127.0.0.1:8001', token: 't0k' } },
  ];
  for (const c of cases) {
    void it(c.name, () => assert.deepEqual(parseKubeconfig(c.text, '/x/k3s.yaml'), c.want));
  }

  const bad: { name: string; text: string; says: RegExp }[] = [
    { name: 'not YAML', text: 'a: [', says: /not YAML/ },
    { name: 'unknown current context', text: doc({ current: 'nope' }), says: /context "nope" not found/ },
    { name: 'server not a URL', text: doc({ cluster: { server: '127.0.0.1:6443', 'certificate-authority-data': b64('CA') } }), says: /server must be an https:\/\// },
    { name: 'https without a CA', text: doc({ cluster: { server: 'https://127.0.0.1:6443' } }), says: /neither certificate-authority/ },
    { name: 'a certificate without its key', text: doc({ user: { 'client-certificate-data': b64('CERT') } }), says: /without its key/ },
  ];
  for (const c of bad) {
    void it(`refuses ${c.name}`, () =>
      assert.throws(() => parseKubeconfig(c.text, '/x/k3s.yaml'), (e) => e instanceof KubeconfigError && c.says.test(e.message) && e.message.includes('/x/k3s.yaml')),
    );
  }
});

void describe('readKubeconfig', () => {
  void it('reads certificate files relative to the kubeconfig and names a missing one', () => {
    writeFileSync(path.join(tmp, 'ca.crt'), 'CAFILE');
    const file = path.join(tmp, 'k.yaml');
    writeFileSync(file, doc({ cluster: { server: 'https://127.0.0.1:6443', 'certificate-authority': 'ca.crt' } }));
    assert.equal(readKubeconfig(file).caPem, 'CAFILE');
    writeFileSync(file, doc({ cluster: { server: 'https://127.0.0.1:6443', 'certificate-authority': 'gone.crt' } }));
    assert.throws(() => readKubeconfig(file), /certificate-authority gone\.crt/);
  });
});

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadOrCreatePki } from '../../../src/controller/pki.js';
import { createClock, silentLogger } from '../../../src/common/index.js';

void describe('controller PKI', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'edgesim-pki-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const opts = (tlsHosts: string[]) => ({ dir, tlsHosts, clock: createClock(), logger: silentLogger });

  void it('creates a root CA that issues TLS, signing, encrypt and onboarding certs; keys are 0600', async () => {
    const pki = await loadOrCreatePki(opts(['10.1.2.3', 'localhost', '127.0.0.1']));
    const root = new X509Certificate(pki.root.certPem);
    assert.equal(root.ca, true);
    for (const [name, pair] of Object.entries({ tls: pki.tls, signing: pki.signing, encrypt: pki.encrypt, onboard: pki.onboard })) {
      const c = new X509Certificate(pair.certPem);
      assert.ok(c.verify(root.publicKey), `${name} is signed by the root`);
      assert.equal(c.ca, false, name);
      assert.ok(pair.certPem.toString().endsWith('-----END CERTIFICATE-----\n'), name);
    }
    const tls = new X509Certificate(pki.tls.certPem);
    assert.ok(tls.checkIP('10.1.2.3'));
    assert.ok(tls.checkHost('localhost'));
    for (const f of ['root-certificate-key.pem', 'server-key.pem', 'signing-key.pem', 'encrypt-key.pem', 'onboard.key.pem']) {
      assert.equal((await stat(path.join(dir, f))).mode & 0o777, 0o600, f);
    }
  });

  void it('reuses its files on the next start and re-issues only the TLS cert when the hosts change', async () => {
    const signing = await readFile(path.join(dir, 'signing.pem'));
    const tls = await readFile(path.join(dir, 'server.pem'));
    const same = await loadOrCreatePki(opts(['10.1.2.3', 'localhost', '127.0.0.1']));
    assert.deepEqual(same.signing.certPem, signing);
    assert.deepEqual(same.tls.certPem, tls);
    const moved = await loadOrCreatePki(opts(['10.9.9.9', 'localhost', '127.0.0.1']));
    assert.deepEqual(moved.signing.certPem, signing);
    assert.notDeepEqual(moved.tls.certPem, tls);
    assert.ok(new X509Certificate(moved.tls.certPem).checkIP('10.9.9.9'));
  });
});

/** Controller cert set verification (eve-api.md §7) against certs/zcontrollercert.bin and root-ca.pem. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import {
  certs,
  decode,
  isControllerCertError,
  trimPem,
  verifyControllerCerts,
  type ControllerCertErrorKind,
} from '../../../src/eve/index.js';
import { vectorsDir } from '../../helpers/cli.js';
import { vec } from './fixtures.js';

const rootCaPem = vec('certs/root-ca.pem');
const NOW = Date.parse('2026-06-01T00:00:00Z');
const T = certs.ZCertType;

function set(): certs.ZControllerCert {
  return decode(certs.ZControllerCert, vec('certs/zcontrollercert.bin'));
}

function expectKind(kind: ControllerCertErrorKind): (e: unknown) => boolean {
  return (e) => isControllerCertError(e) && e.kind === kind;
}

void describe('controller certs', () => {
  void it('verifies the vector set and indexes it by hex(certHash)', () => {
    const v = verifyControllerCerts(vec('certs/zcontrollercert.bin'), { rootCaPem, nowMs: NOW });
    assert.deepEqual(v.signingCertPem, trimPem(vec('certs/controller-signing.pem')));
    assert.deepEqual([...v.certsByHashHex.keys()].sort(), ['13fbcf8287c099fbd3e7decded169d80', 'f6da771cebbbe2e951b7c233451dc6cf']);
    assert.deepEqual(v.certsByHashHex.get('f6da771cebbbe2e951b7c233451dc6cf'), trimPem(vec('certs/controller-encrypt.pem')));
    assert.equal(v.hashSetKey, '13fbcf8287c099fbd3e7decded169d80,f6da771cebbbe2e951b7c233451dc6cf');
  });

  void it('a set verified once (bytes) is answered again only while every cert is valid, and never for another root', () => {
    const bytes = vec('certs/zcontrollercert.bin');
    const first = verifyControllerCerts(bytes, { rootCaPem, nowMs: NOW });
    assert.equal(verifyControllerCerts(Buffer.from(bytes), { rootCaPem, nowMs: NOW + 1000 }), first);
    assert.throws(() => verifyControllerCerts(bytes, { rootCaPem, nowMs: Date.parse('2100-01-02T00:00:00Z') }), expectKind('VALIDITY'));
    assert.throws(() => verifyControllerCerts(bytes, { rootCaPem, nowMs: Date.parse('1990-01-02T00:00:00Z') }), expectKind('VALIDITY'));
    assert.throws(() => verifyControllerCerts(bytes, { rootCaPem: vec('certs/device.pem'), nowMs: NOW }), expectKind('CHAIN'));
  });

  void it('gives the same hash-set key whatever the order', () => {
    const s = set();
    s.certs.reverse();
    assert.equal(
      verifyControllerCerts(s, { rootCaPem, nowMs: NOW }).hashSetKey,
      verifyControllerCerts(set(), { rootCaPem, nowMs: NOW }).hashSetKey,
    );
  });

  void it('accepts an intermediate pool entry', () => {
    const s = set();
    s.certs.push(certs.ZCert.create({ type: T.CERT_TYPE_CONTROLLER_INTERMEDIATE, cert: rootCaPem, certHash: Buffer.alloc(16, 1) }));
    assert.equal(verifyControllerCerts(s, { rootCaPem, nowMs: NOW }).certsByHashHex.size, 3);
  });

  void it('refuses a wrong root, wrong type counts, other types and expired certs', () => {
    assert.throws(() => verifyControllerCerts(set(), { rootCaPem: vec('certs/device.pem'), nowMs: NOW }), expectKind('CHAIN'));
    const twoSigning = set();
    twoSigning.certs.forEach((c) => (c.type = T.CERT_TYPE_CONTROLLER_SIGNING));
    assert.throws(() => verifyControllerCerts(twoSigning, { rootCaPem, nowMs: NOW }), expectKind('SIGNING_COUNT'));
    const noEcdh = set();
    noEcdh.certs = noEcdh.certs.filter((c) => c.type !== T.CERT_TYPE_CONTROLLER_ECDH_EXCHANGE);
    assert.throws(() => verifyControllerCerts(noEcdh, { rootCaPem, nowMs: NOW }), expectKind('NO_ECDH'));
    const other = set();
    other.certs.push(certs.ZCert.create({ type: T.CERT_TYPE_DEVICE_ONBOARDING, cert: vec('certs/onboard.pem') }));
    assert.throws(() => verifyControllerCerts(other, { rootCaPem, nowMs: NOW }), expectKind('UNEXPECTED_TYPE'));
    assert.throws(() => verifyControllerCerts(set(), { rootCaPem, nowMs: Date.parse('2100-01-02T00:00:00Z') }), expectKind('VALIDITY'));
    assert.throws(() => verifyControllerCerts(Buffer.from([0x0a, 0x09]), { rootCaPem, nowMs: NOW }), expectKind('MALFORMED'));
  });

  void it('refuses a leaf whose extended key usage excludes serverAuth (Go x509.Verify default)', (t) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'edgesim-eku-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const ext = path.join(dir, 'ext.cnf');
    writeFileSync(ext, 'extendedKeyUsage=clientAuth\n');
    const csr = path.join(dir, 'leaf.csr');
    const leaf = path.join(dir, 'leaf.pem');
    try {
      execFileSync('openssl', ['req', '-new', '-key', path.join(vectorsDir, 'certs/controller-signing.key.pem'), '-subj', '/CN=client-only', '-out', csr], { stdio: 'pipe' });
      execFileSync('openssl', ['x509', '-req', '-in', csr, '-CA', path.join(vectorsDir, 'certs/root-ca.pem'),
        '-CAkey', path.join(vectorsDir, 'certs/root-ca.key.pem'), '-set_serial', '7', '-days', '3650', '-extfile', ext, '-out', leaf], { stdio: 'pipe' });
    } catch {
      t.skip('openssl CLI not available');
      return;
    }
    const s = set();
    const signing = s.certs.find((c) => c.type === T.CERT_TYPE_CONTROLLER_SIGNING);
    assert.ok(signing);
    signing.cert = readFileSync(leaf);
    assert.throws(() => verifyControllerCerts(s, { rootCaPem, nowMs: Date.now() }), expectKind('KEY_USAGE'));
  });
});

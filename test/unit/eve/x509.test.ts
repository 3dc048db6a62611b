import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, sign, verify, X509Certificate } from 'node:crypto';
import { AsnConvert, AsnParser } from '@peculiar/asn1-schema';
import {
  AuthorityKeyIdentifier,
  Certificate,
  SubjectKeyIdentifier,
  id_ce_authorityKeyIdentifier,
  id_ce_basicConstraints,
  id_ce_subjectKeyIdentifier,
  type Extension,
} from '@peculiar/asn1-x509';
import { p256 } from '@noble/curves/nist.js';
import {
  createCertificate,
  derSignatureToRaw,
  eveAttestCertTemplate,
  eveDeviceCertTemplate,
  eveEcdhCertTemplate,
  isX509Error,
  rawSignatureToDer,
} from '../../../src/eve/x509.js';
import type { Signer } from '../../../src/eve/keys.js';
import { vectorsDir } from '../../helpers/cli.js';

const certs = path.join(vectorsDir, 'certs');
const keys = JSON.parse(readFileSync(path.join(certs, 'keys.json'), 'utf8')) as {
  keys: Record<string, { privateKeyHex: string; publicXHex: string; publicYHex: string; serialHex: string }>;
};

/** RFC 6979 signer without low-S normalisation, the way the vectors were signed (vectors README). */
function deterministicSigner(privHex: string): Signer {
  return { signDigest: (d) => Promise.resolve(p256.sign(d, privHex, { lowS: false, prehash: false }).toCompactRawBytes()) };
}

/** A signer over a node KeyObject (random nonces, as EVE and Adam sign). */
function nodeSigner(key: ReturnType<typeof generateKeyPairSync>['privateKey']): Signer {
  return {
    signDigest: (d) => {
      // node:crypto has no "sign this digest" for ECDSA; noble does, fed with the exported scalar.
      const d32 = Buffer.from(key.export({ format: 'jwk' }).d!, 'base64url');
      return Promise.resolve(p256.sign(d, d32, { prehash: false }).toCompactRawBytes());
    },
  };
}

function extensions(pem: string): Map<string, Extension> {
  const cert = AsnParser.parse(new X509Certificate(pem).raw, Certificate);
  return new Map((cert.tbsCertificate.extensions ?? []).map((e) => [e.extnID, e]));
}

function point(label: string): Uint8Array {
  const k = keys.keys[label];
  return Buffer.from('04' + k.publicXHex + k.publicYHex, 'hex');
}

void test('a self-signed CA made with a soft signer verifies in node:crypto', async () => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const pem = await createCertificate({
    subject: { C: 'US', O: 'edgesim', CN: 'root ✓' },
    issuer: 'self',
    publicKey,
    signer: nodeSigner(privateKey),
    notBefore: new Date('2025-01-01T00:00:00.123Z'),
    notAfter: new Date('2099-12-31T23:59:59Z'),
    isCA: true,
    pathLen: 1,
    keyUsage: ['certSign', 'crlSign'],
    extKeyUsage: [],
  });
  assert.ok(pem.endsWith('-----END CERTIFICATE-----\n'));
  const c = new X509Certificate(pem);
  assert.ok(c.verify(publicKey));
  assert.ok(c.checkIssued(c));
  assert.equal(c.ca, true);
  assert.equal(c.subject, 'C=US\nO=edgesim\nCN=root ✓');
  assert.equal(c.validTo, 'Dec 31 23:59:59 2099 GMT'); // GeneralizedTime past 2049
  assert.equal(c.validFrom, 'Jan  1 00:00:00 2025 GMT');
});

void test('a leaf issued by a CA chains, carries SANs and the CA key id as AKI', async () => {
  const ca = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const leaf = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const caPem = await createCertificate({
    subject: { CN: 'ca' },
    issuer: 'self',
    publicKey: ca.publicKey,
    signer: nodeSigner(ca.privateKey),
    notBefore: new Date('2025-01-01T00:00:00Z'),
    notAfter: new Date('2030-01-01T00:00:00Z'),
    isCA: true,
    keyUsage: ['certSign'],
    extKeyUsage: [],
  });
  const leafPem = await createCertificate({
    subject: { CN: 'server' },
    issuer: { certPem: caPem },
    publicKey: leaf.publicKey,
    signer: nodeSigner(ca.privateKey),
    serial: 0x80n,
    notBefore: new Date('2025-01-01T00:00:00Z'),
    notAfter: new Date('2026-01-01T00:00:00Z'),
    isCA: false,
    keyUsage: ['digitalSignature', 'keyEncipherment'],
    extKeyUsage: ['serverAuth'],
    subjectAltNames: { dns: ['localhost'], ip: ['127.0.0.1'] },
  });
  const c = new X509Certificate(leafPem);
  const caCert = new X509Certificate(caPem);
  assert.ok(c.verify(ca.publicKey));
  assert.ok(c.checkIssued(caCert));
  assert.equal(c.serialNumber, '80');
  assert.equal(c.subjectAltName, 'DNS:localhost, IP Address:127.0.0.1');
  assert.equal(c.checkIP('127.0.0.1'), '127.0.0.1');
  assert.equal(c.ca, false);
  assert.deepEqual(c.keyUsage, ['1.3.6.1.5.5.7.3.1']);
  // A leaf gets no SKI (Go sets it for CAs only) and an AKI equal to the CA's SKI.
  const leafExt = extensions(leafPem);
  assert.equal(leafExt.get(id_ce_subjectKeyIdentifier), undefined);
  const aki = AsnParser.parse(leafExt.get(id_ce_authorityKeyIdentifier)!.extnValue.buffer, AuthorityKeyIdentifier);
  const caSki = AsnParser.parse(extensions(caPem).get(id_ce_subjectKeyIdentifier)!.extnValue.buffer, SubjectKeyIdentifier);
  assert.deepEqual(Buffer.from(aki.keyIdentifier!.buffer), Buffer.from(caSki.buffer));
  assert.equal(caSki.byteLength, 20);
});

void test('re-created device and ECDH certs from the vector keys equal the vector certs byte for byte', async () => {
  const devicePem = readFileSync(path.join(certs, 'device.pem'), 'utf8');
  const ecdhPem = readFileSync(path.join(certs, 'device-ecdh.pem'), 'utf8');
  const signer = deterministicSigner(keys.keys['device'].privateKeyHex);
  const tpl = eveDeviceCertTemplate(Date.parse('2025-01-02T00:00:00Z'));
  assert.deepEqual(tpl.notBefore, new Date('2025-01-01T00:00:00Z'));
  assert.deepEqual(tpl.notAfter, new Date('2045-01-01T00:00:00Z'));
  const device = await createCertificate({
    ...tpl,
    issuer: 'self',
    publicKey: point('device'),
    signer,
    serial: BigInt('0x' + keys.keys['device'].serialHex),
  });
  assert.equal(device, devicePem);
  const ecdh = await createCertificate({
    ...eveEcdhCertTemplate(devicePem),
    issuer: { certPem: devicePem },
    publicKey: point('device-ecdh'),
    signer,
    serial: BigInt('0x' + keys.keys['device-ecdh'].serialHex),
  });
  assert.equal(ecdh, ecdhPem);
});

void test('attestation template: no basic constraints, chained to the device cert', async () => {
  const devicePem = readFileSync(path.join(certs, 'device.pem'), 'utf8');
  const signer = deterministicSigner(keys.keys['device'].privateKeyHex);
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const pem = await createCertificate({ ...eveAttestCertTemplate(devicePem), issuer: { certPem: devicePem }, publicKey, signer });
  const c = new X509Certificate(pem);
  assert.ok(c.checkIssued(new X509Certificate(devicePem)));
  assert.ok(c.verify(createPublicKey(createPrivateKey(readFileSync(path.join(certs, 'device.key.pem'))))));
  assert.equal(c.subject, 'C=US\nST=CA\nL=San Francisco\nO=The Linux Foundation\nCN=Device Attestation certificate');
  assert.equal(extensions(pem).get(id_ce_basicConstraints), undefined);
  assert.equal(c.validFrom, new X509Certificate(devicePem).validFrom);
});

void test('raw r‖s and DER signatures convert both ways, high bits and leading zeros included', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  // 40 random signatures hit r or s with the high bit set (DER adds 0x00) and, now and then, shorter integers.
  for (let i = 0; i < 40; i++) {
    const der = sign('sha256', Buffer.from([i]), privateKey);
    const raw = derSignatureToRaw(der);
    assert.equal(raw.length, 64);
    assert.ok(verify('sha256', Buffer.from([i]), { key: publicKey, dsaEncoding: 'ieee-p1363' }, raw));
    assert.deepEqual(rawSignatureToDer(raw), der);
  }
});

void test('bad input is refused with the field named', async () => {
  const base = {
    subject: { CN: 'x' },
    issuer: 'self' as const,
    signer: deterministicSigner(keys.keys['device'].privateKeyHex),
    notBefore: new Date('2025-01-01T00:00:00Z'),
    notAfter: new Date('2026-01-01T00:00:00Z'),
    isCA: false,
    keyUsage: [],
    extKeyUsage: [],
  };
  await assert.rejects(createCertificate({ ...base, publicKey: new Uint8Array(33) }), (e) => isX509Error(e) && e.field === 'publicKey');
  await assert.rejects(
    createCertificate({ ...base, publicKey: point('device'), notAfter: base.notBefore }),
    (e) => isX509Error(e) && e.field === 'notAfter',
  );
  assert.throws(() => rawSignatureToDer(new Uint8Array(63)), (e) => isX509Error(e) && e.kind === 'BAD_SIGNATURE');
});

void test('certificates patched from a shape template equal the full ASN.1 encoding of their own fields', async () => {
  const { privateKey: caKey, publicKey: caPub } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const signer = nodeSigner(caKey);
  // notAfter on both sides of 2050 switches UTCTime → GeneralizedTime: each is a shape of its own.
  for (const [i, notAfter] of ['2046-03-04T05:06:07Z', '2051-12-31T23:59:59Z', '2046-03-04T05:06:08Z'].entries()) {
    const now = Date.parse('2026-12-07T16:00:00Z') + i * 1000;
    const ca = await createCertificate({ ...eveDeviceCertTemplate(now), notAfter: new Date(notAfter), issuer: 'self', publicKey: caPub, signer });
    for (let j = 0; j < 6; j++) {
      const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      // Serials of 9 to 17 content bytes: each length is a shape; the random default is 16 or 17.
      const serial = j < 3 ? BigInt('0x' + randomBytes(8 + j).toString('hex')) | 1n : undefined;
      const leaf = await createCertificate({ ...eveEcdhCertTemplate(ca), issuer: { certPem: ca }, publicKey, signer, ...(serial ? { serial } : {}) });
      for (const [pem, key] of [[ca, caPub], [leaf, publicKey]] as const) {
        const der = new X509Certificate(pem).raw;
        const parsed = AsnParser.parse(der, Certificate);
        assert.deepEqual(Buffer.from(AsnConvert.serialize(parsed)), der, 're-encoding the parsed fields gives the same bytes');
        assert.deepEqual(Buffer.from(parsed.tbsCertificate.subjectPublicKeyInfo.subjectPublicKey), Buffer.from(key.export({ format: 'der', type: 'spki' })).subarray(-65));
      }
      const c = new X509Certificate(leaf);
      assert.ok(c.verify(caPub) && c.checkIssued(new X509Certificate(ca)));
      assert.equal(c.validTo, new X509Certificate(ca).validTo);
      if (serial) assert.equal(BigInt('0x' + c.serialNumber), serial);
      const aki = AsnParser.parse(extensions(leaf).get(id_ce_authorityKeyIdentifier)!.extnValue, AuthorityKeyIdentifier);
      const ski = AsnParser.parse(extensions(ca).get(id_ce_subjectKeyIdentifier)!.extnValue, SubjectKeyIdentifier);
      assert.deepEqual(Buffer.from(aki.keyIdentifier!.buffer), Buffer.from(ski.buffer));
      assert.deepEqual(Buffer.from(ski.buffer), createHash('sha1').update(Buffer.from(caPub.export({ format: 'der', type: 'spki' })).subarray(-65)).digest());
    }
  }
});

/**
 * PKCS#10 self-signatures, checked over the request's own bytes: every algorithm Windows and
 * Apple devices sign with, the captured Windows 10 request, and refusals; each verdict is held
 * equal to `openssl req -verify` (the binary), so the two check each other.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { KeyObject, sign, webcrypto } from 'node:crypto';
import { describe, test } from 'node:test';
import { CsrError, verifyCsr } from '../../src/pki/csr.ts';
import { elements, readOnly } from '../../src/pki/der.ts';
import { x509 } from '../../src/pki/x509.ts';
import { fleetCapturedCsrBase64 } from '../helpers/fleet-windows-dump.ts';

const openssl = spawnSync('openssl', ['version'], { encoding: 'utf8' });
const noOpenssl = openssl.error || openssl.status !== 0 ? 'the openssl binary is not installed' : false;

/** What `openssl req -verify` says of a DER request. */
function opensslVerifies(der: Buffer): boolean {
  const run = spawnSync('openssl', ['req', '-inform', 'DER', '-noout', '-verify'], { input: der, encoding: 'utf8' });
  return run.status === 0 && /verify OK/i.test(run.stdout + run.stderr);
}

function tlv(tag: number, content: Buffer): Buffer {
  const n = content.length;
  const length = n < 0x80 ? Buffer.from([n]) : n < 0x100 ? Buffer.from([0x81, n]) : Buffer.from([0x82, n >> 8, n & 0xff]);
  return Buffer.concat([Buffer.from([tag]), length, content]);
}

const ALGORITHMS = {
  sha1WithRSAEncryption: { oid: '1.2.840.113549.1.1.5', der: '2a864886f70d010105', hash: 'sha1', key: 'rsa', params: true },
  sha1WithRSASignatureOiw: { oid: '1.3.14.3.2.29', der: '2b0e03021d', hash: 'sha1', key: 'rsa', params: true },
  sha256WithRSAEncryption: { oid: '1.2.840.113549.1.1.11', der: '2a864886f70d01010b', hash: 'sha256', key: 'rsa', params: true },
  sha384WithRSAEncryption: { oid: '1.2.840.113549.1.1.12', der: '2a864886f70d01010c', hash: 'sha384', key: 'rsa', params: true },
  sha512WithRSAEncryption: { oid: '1.2.840.113549.1.1.13', der: '2a864886f70d01010d', hash: 'sha512', key: 'rsa', params: true },
  ecdsaWithSHA256: { oid: '1.2.840.10045.4.3.2', der: '2a8648ce3d040302', hash: 'sha256', key: 'ec', params: false },
  ecdsaWithSHA384: { oid: '1.2.840.10045.4.3.3', der: '2a8648ce3d040303', hash: 'sha384', key: 'ec', params: false },
  ecdsaWithSHA512: { oid: '1.2.840.10045.4.3.4', der: '2a8648ce3d040304', hash: 'sha512', key: 'ec', params: false },
} as const;
type Algorithm = { oid: string; der: string; hash: string; params: boolean };

const RSA = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]) };
const EC = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
const keyPairs = new Map<string, Promise<{ info: Buffer; privateKey: KeyObject; publicKey: KeyObject }>>();

/** A key and a CertificationRequestInfo for it (made by @peculiar/x509, then signed here as each algorithm signs). */
function requestInfo(kind: 'rsa' | 'ec') {
  let pending = keyPairs.get(kind);
  if (!pending) {
    pending = (async () => {
      const algorithm = kind === 'rsa' ? RSA : EC;
      const keys = (await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
      const made = await x509.Pkcs10CertificateRequestGenerator.create({ name: 'CN=DESKTOP-TEST', keys, signingAlgorithm: algorithm });
      const [info] = elements(readOnly(Buffer.from(made.rawData), 'request'));
      return { info: Buffer.from(info!.bytes), privateKey: KeyObject.from(keys.privateKey), publicKey: KeyObject.from(keys.publicKey) };
    })();
    keyPairs.set(kind, pending);
  }
  return pending;
}

function assemble(info: Buffer, algorithm: Pick<Algorithm, 'der' | 'params'>, signature: Buffer): Buffer {
  const identifier = tlv(0x30, Buffer.concat([tlv(0x06, Buffer.from(algorithm.der, 'hex')), ...(algorithm.params ? [Buffer.from([0x05, 0x00])] : [])]));
  return tlv(0x30, Buffer.concat([info, identifier, tlv(0x03, Buffer.concat([Buffer.from([0]), signature]))]));
}

function problemOf(der: Buffer): string {
  try {
    verifyCsr(der);
    return 'none';
  } catch (error) {
    assert.ok(error instanceof CsrError, String(error));
    return error.problem;
  }
}

describe('PKCS#10 self-signatures', () => {
  for (const [name, algorithm] of Object.entries(ALGORITHMS)) {
    test(`${name} (${algorithm.oid}) verifies, as openssl says`, async () => {
      const { info, privateKey, publicKey } = await requestInfo(algorithm.key);
      const der = assemble(info, algorithm, sign(algorithm.hash, info, { key: privateKey, dsaEncoding: 'der' }));
      const verified = verifyCsr(der);
      assert.equal(verified.signatureAlgorithm, algorithm.oid);
      assert.ok(verified.publicKey.equals(publicKey));
      assert.equal(verified.commonName, 'DESKTOP-TEST');
      if (!noOpenssl) assert.equal(opensslVerifies(der), true, 'openssl agrees');
    });
  }

  test("the captured Windows 10 request: OIW sha1WithRSASignature, a CN with '!' and a NUL, as openssl says", () => {
    const der = Buffer.from(fleetCapturedCsrBase64(), 'base64');
    const verified = verifyCsr(der);
    assert.equal(verified.signatureAlgorithm, '1.3.14.3.2.29');
    assert.equal(verified.commonName, '562A7F9A-6CD8-40B0-9E7E-0DBDD8!B5B954E81FBCB94EB79BD08BE625F4EE\u0000');
    assert.equal(verified.publicKey.asymmetricKeyDetails?.modulusLength, 2048);
    if (!noOpenssl) assert.equal(opensslVerifies(der), true);
  });

  test('refusals: a changed byte, a signature by another key, a mismatched or unknown algorithm, bad DER', async () => {
    const captured = Buffer.from(fleetCapturedCsrBase64(), 'base64');
    const tampered = Buffer.from(captured);
    tampered[200]! ^= 0x01;
    assert.equal(problemOf(tampered), 'signature');
    if (!noOpenssl) assert.equal(opensslVerifies(tampered), false, 'openssl refuses it too');

    const rsa = await requestInfo('rsa');
    const ec = await requestInfo('ec');
    const sha256 = ALGORITHMS.sha256WithRSAEncryption;
    const byOther = assemble(rsa.info, sha256, sign('sha256', ec.info, { key: (await requestInfo('rsa')).privateKey }));
    assert.equal(problemOf(byOther), 'signature', 'signed over other bytes');
    assert.equal(problemOf(assemble(ec.info, sha256, sign('sha256', ec.info, ec.privateKey))), 'unsupported', 'an RSA algorithm with an EC key');
    const md5 = { der: '2a864886f70d010104', params: true };
    assert.equal(problemOf(assemble(rsa.info, md5, sign('sha256', rsa.info, rsa.privateKey))), 'unsupported', 'md5WithRSAEncryption');
    const good = assemble(rsa.info, sha256, sign('sha256', rsa.info, rsa.privateKey));
    assert.equal(problemOf(good), 'none');
    assert.equal(problemOf(Buffer.concat([good, Buffer.from([0])])), 'malformed', 'trailing byte');
    assert.equal(problemOf(good.subarray(0, good.length - 1)), 'malformed', 'truncated');
    assert.equal(problemOf(Buffer.from('not a request')), 'malformed');
    const integerParams = tlv(0x30, Buffer.concat([tlv(0x06, Buffer.from(sha256.der, 'hex')), Buffer.from([0x02, 0x01, 0x01])]));
    const withParams = tlv(0x30, Buffer.concat([rsa.info, integerParams, tlv(0x03, Buffer.concat([Buffer.from([0]), sign('sha256', rsa.info, rsa.privateKey)]))]));
    assert.equal(problemOf(withParams), 'malformed', 'parameters other than NULL');
  });
});

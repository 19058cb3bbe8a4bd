/**
 * Openroll's CMS against a verifier that re-encodes: micromdm's SCEP library (Go pkcs7), the one
 * its scepclient and the tools built on it use, enrolls over HTTP against a real listening
 * server, on a success and a failure, and checks a signed profile. Go's pkcs7 verifies the
 * signature over the signed attributes as it re-encodes them (a sorted DER SET), so an answer
 * signed over attributes in any other order fails there ("crypto/rsa: verification error")
 * while passing OpenSSL. The DER order itself is also checked here without Go.
 */
import assert from 'node:assert/strict';
import { verify, X509Certificate } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { parse as parsePlist } from 'plist';
import { elements, readOnly, type DerValue } from '../../../src/pki/der.ts';
import { createMdmUser, createOrg, type TestOrg } from '../../helpers/factories.ts';
import { buildScepVerifier, runScepVerifier, type ScepVerifier } from '../../helpers/scep-verifier.ts';
import { buildTestApp, call, type TestContext } from '../../helpers/test-app.ts';
import { createToken } from '../../helpers/tokens.ts';
import { makePushCertificate, openSignedProfile, TestAppleDevice } from './apple-device.ts';
import { PKI_TYPE } from './apple-fixtures.ts';

type Dict = Record<string, unknown>;
let ctx: TestContext;
let tenant: TestOrg;
let baseUrl: string;
// Built once for the file, before the tests are declared: their skip depends on it.
const verifier: ScepVerifier = buildScepVerifier();

before(async () => {
  ctx = await buildTestApp();
  tenant = await createOrg(ctx);
  const push = await makePushCertificate();
  const res = await call(ctx.app, tenant.adminKey, { method: 'PUT', url: `/v1/organizations/${tenant.org.id}/mdm/apple/enterprise/push-certificate`, payload: { certificate: push.certificate, privateKey: push.privateKey } });
  assert.equal(res.status, 200);
  await ctx.app.listen({ host: '127.0.0.1', port: 0 });
  baseUrl = `http://127.0.0.1:${(ctx.app.server.address() as AddressInfo).port}`;
});
after(() => ctx.close());

const scepPath = () => `/mdm/apple/${tenant.org.id}/scep`;

/** A fresh token's profile, as the device downloads it: its signed bytes and its SCEP challenge. */
async function downloadProfile(): Promise<{ signed: Buffer; challenge: string }> {
  const user = await createMdmUser(ctx, tenant.org);
  const created = await createToken(ctx, tenant.adminKey, tenant.org.id, 'apple', { mdmUserId: user.id, sendEmail: false });
  const res = await ctx.app.inject({ method: 'GET', url: `${new URL(created.body.data.enrollmentLink).pathname}/profile.mobileconfig` });
  assert.equal(res.statusCode, 200, res.body);
  const payloads = (parsePlist((await openSignedProfile(res.rawPayload)).xml) as Dict).PayloadContent as Dict[];
  const challenge = String((payloads.find((p) => p.PayloadType === 'com.apple.security.scep')!.PayloadContent as Dict).Challenge);
  return { signed: res.rawPayload, challenge };
}

/** ContentInfo(SignedData) -> its one SignerInfo's signed attributes, as sent, and the signature. */
function signerInfoOf(der: Buffer): { attributes: DerValue; signature: Buffer } {
  const [, explicit] = elements(readOnly(der, 'ContentInfo'));
  const [signedData] = elements(explicit!);
  const fields = elements(signedData!);
  const [signerInfo] = elements(fields[fields.length - 1]!);
  const parts = elements(signerInfo!);
  const attributes = parts.find((p) => p.tag === 0xa0)!;
  const signature = parts[parts.indexOf(attributes) + 2]!;
  return { attributes, signature: signature.contents };
}

function assertDerSorted(der: Buffer, caCertificateDer: Buffer, what: string) {
  const { attributes, signature } = signerInfoOf(der);
  const encodings = elements(attributes).map((a) => a.bytes);
  assert.ok(encodings.length >= 3, what);
  for (let i = 1; i < encodings.length; i++) assert.ok(Buffer.compare(encodings[i - 1]!, encodings[i]!) < 0, `${what}: attribute ${i} is out of DER order`);
  // The signature covers that SET as a DER SET OF (tag 0x31), byte for byte.
  const asSet = Buffer.concat([Buffer.from([0x31]), attributes.bytes.subarray(1)]);
  assert.ok(verify('sha256', asSet, new X509Certificate(caCertificateDer).publicKey, signature), `${what}: the signature covers the sorted set`);
}

describe('CMS that Openroll signs is DER', () => {
  test('signed attributes are sorted as a DER SET OF in both CertReps and the profile, and signed so', async () => {
    const ca = (await ctx.app.inject({ method: 'GET', url: `${scepPath()}?operation=GetCACert` })).rawPayload;
    const { signed, challenge } = await downloadProfile();
    assertDerSorted(signed, ca, 'profile');
    const device = await TestAppleDevice.create();
    const success = await ctx.app.inject({ method: 'POST', url: `${scepPath()}?operation=PKIOperation`, payload: (await device.pkcsReq(ca, challenge)).message, headers: { 'content-type': PKI_TYPE } });
    assert.equal((await device.readCertRep(success.rawPayload)).pkiStatus, '0');
    assertDerSorted(success.rawPayload, ca, 'SUCCESS CertRep');
    const failure = await ctx.app.inject({ method: 'POST', url: `${scepPath()}?operation=PKIOperation`, payload: (await device.pkcsReq(ca, 'f'.repeat(64))).message, headers: { 'content-type': PKI_TYPE } });
    assert.equal((await device.readCertRep(failure.rawPayload)).pkiStatus, '2');
    assertDerSorted(failure.rawPayload, ca, 'FAILURE CertRep');
  });
});

describe("micromdm's SCEP library (Go pkcs7) against a listening server", () => {
  const skip = 'missing' in verifier ? verifier.missing : false;
  const binary = () => ('binary' in verifier ? verifier.binary : '');

  test('SUCCESS: the library verifies the CertRep, opens it, and gets a certificate of its key from the CA', { skip }, async () => {
    const { challenge } = await downloadProfile();
    const result = await runScepVerifier(binary(), ['enroll', '-url', `${baseUrl}${scepPath()}`, '-challenge', challenge]);
    assert.equal(result.pkiStatus, '0', JSON.stringify(result));
    assert.equal(result.transactionIdEqual, true);
    assert.equal(result.recipientNonceEqualsSenderNonce, true);
    assert.equal(result.signerIsCa, true);
    assert.equal(result.keyMatches, true);
    assert.equal(result.issuedByCa, true);
    const issued = await ctx.container.certificateAuthority.findIssuedCertificate(tenant.org.id, { serialNumber: String(result.serialNumber).padStart(32, '0') });
    assert.equal(issued?.platform, 'apple', 'the certificate is recorded as issued to an Apple device');
  });

  test('FAILURE: a wrong challenge gets a CertRep the library verifies, with failInfo badRequest', { skip }, async () => {
    const result = await runScepVerifier(binary(), ['enroll', '-url', `${baseUrl}${scepPath()}`, '-challenge', 'f'.repeat(64)]);
    assert.equal(result.pkiStatus, '2', JSON.stringify(result));
    assert.equal(result.failInfo, '2');
    assert.equal(result.transactionIdEqual, true);
    assert.equal(result.recipientNonceEqualsSenderNonce, true);
    assert.equal(result.signerIsCa, true);
  });

  test('the signed profile verifies under Go pkcs7, signed by the organization CA', { skip }, async () => {
    const { signed } = await downloadProfile();
    const result = await runScepVerifier(binary(), ['verify-signed'], signed);
    assert.match(String(result.signer), new RegExp(`OU=${tenant.org.id}`));
    assert.match(String(result.contentSha256), /^[0-9a-f]{64}$/);
  });
});

/**
 * A real Windows 10 21H1 PC's enrollment, replayed from Fleet's capture byte for byte
 * (test/fixtures/windows/README.md): its Discover, GetPolicies and RequestSecurityToken, with
 * only the demo user name and password replaced by an Openroll user's email and code. Its CSR is
 * signed with the OIW sha1WithRSASignature identifier and its CN holds '!' and a NUL: the shape
 * a CSR made here never had.
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { createMdmUser, createOrg, type TestOrg } from '../../helpers/factories.ts';
import { fleetCapturedCsrBase64, fleetCapturedRequest, fleetIssuedCertificateBase64, FLEET_DEVICE_ID, FLEET_HWDEVID, withCredentials } from '../../helpers/fleet-windows-dump.ts';
import { buildTestApp, call, type TestContext } from '../../helpers/test-app.ts';
import { createToken, tokensPath } from '../../helpers/tokens.ts';
import { all, characteristic, childTypes, faultSubcode, parm, parse, provisioningDocOf, text } from '../../helpers/windows-device.ts';

let ctx: TestContext;
let tenant: TestOrg;
const SOAP = { 'content-type': 'application/soap+xml; charset=utf-8' };
const post = (url: string, payload: string) => ctx.app.inject({ method: 'POST', url, payload, headers: SOAP });

async function newToken() {
  const user = await createMdmUser(ctx, tenant.org);
  const created = await createToken(ctx, tenant.adminKey, tenant.org.id, 'windows', { mdmUserId: user.id, sendEmail: false });
  assert.equal(created.status, 200, JSON.stringify(created.body));
  return { id: created.body.data.id as string, email: user.email, code: created.body.data.enrollCode as string };
}
const tokenState = async (id: string) => (await call(ctx.app, tenant.adminKey, { method: 'GET', url: `${tokensPath(tenant.org.id, 'windows')}/${id}` })).body.data;

before(async () => {
  ctx = await buildTestApp();
  tenant = await createOrg(ctx);
});
after(() => ctx.close());

describe('the captured Windows 10 PC enrolls', () => {
  test('its Discover and GetPolicies, as captured, are answered', async () => {
    const discover = await post('/EnrollmentServer/Discovery.svc', fleetCapturedRequest('/EnrollmentServer/Discovery.svc').body);
    assert.equal(discover.statusCode, 200, discover.body);
    assert.equal(text(parse(discover.body), 'AuthPolicy'), 'OnPremise');
    assert.equal(text(parse(discover.body), 'RelatesTo'), 'urn:uuid:748132ec-a575-4329-b01b-6171a9cf8478');
    const token = await newToken();
    const policies = await post('/EnrollmentServer/Policy.svc', withCredentials(fleetCapturedRequest('/EnrollmentServer/Policy.svc').body, token.email, token.code));
    assert.equal(policies.statusCode, 200, policies.body);
    assert.equal(faultSubcode(policies.body), undefined, policies.body);
    assert.equal(text(parse(policies.body), 'RelatesTo'), 'urn:uuid:72048B64-0F19-448F-8C2E-B4C661860AA0');
  });

  test('its RequestSecurityToken with one bit of the CSR flipped is a CertificateRequest fault; the token stays PENDING', async () => {
    const token = await newToken();
    const csr = fleetCapturedCsrBase64();
    const der = Buffer.from(csr, 'base64');
    der[200]! ^= 0x01; // inside the modulus, so inside the signed CertificationRequestInfo
    const body = withCredentials(fleetCapturedRequest('/EnrollmentServer/Enrollment.svc').body, token.email, token.code).replace(csr, der.toString('base64'));
    const res = await post('/EnrollmentServer/Enrollment.svc', body);
    assert.equal(faultSubcode(res.body), 's:CertificateRequest', res.body);
    assert.match(text(parse(res.body), 'Text') ?? '', /signature does not verify/);
    assert.equal((await tokenState(token.id)).state, 'PENDING');
  });

  test('its RequestSecurityToken, CSR and all, gets a certificate of the CSR key and the device is recorded', async () => {
    const token = await newToken();
    const res = await post('/EnrollmentServer/Enrollment.svc', withCredentials(fleetCapturedRequest('/EnrollmentServer/Enrollment.svc').body, token.email, token.code));
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(faultSubcode(res.body), undefined, res.body);
    assert.equal(text(parse(res.body), 'RelatesTo'), 'urn:uuid:0d5a1441-5891-453b-becf-a2e5f6ea3749');

    const doc = provisioningDocOf(res.body);
    const rootStore = characteristic(doc, 'CertificateStore', 'Root', 'System');
    const [caThumbprint] = childTypes(rootStore);
    const ca = new X509Certificate(Buffer.from(parm(characteristic(rootStore!, caThumbprint!), 'EncodedCertificate')!, 'base64'));
    const userStore = characteristic(all(doc, 'characteristic').find((c) => c.getAttribute('type') === 'My')!, 'User');
    const [clientThumbprint] = childTypes(userStore).filter((t) => t !== 'PrivateKeyContainer');
    const issued = new X509Certificate(Buffer.from(parm(characteristic(userStore!, clientThumbprint!), 'EncodedCertificate')!, 'base64'));
    // Fleet's server issued a certificate for the same request: the key in it is the CSR's.
    const fleetIssued = new X509Certificate(Buffer.from(fleetIssuedCertificateBase64(), 'base64'));
    assert.ok(issued.publicKey.equals(fleetIssued.publicKey), 'the certificate carries the captured CSR key');
    assert.ok(issued.checkIssued(ca) && issued.verify(ca.publicKey), 'chains to the CA in the document');
    assert.equal(issued.subject, `CN=${FLEET_DEVICE_ID}`);
    assert.deepEqual(issued.keyUsage, ['1.3.6.1.5.5.7.3.2']);

    const state = await tokenState(token.id);
    assert.equal(state.state, 'DONE');
    const device = (await call(ctx.app, tenant.adminKey, { method: 'GET', url: `/v1/organizations/${tenant.org.id}/mdm/windows/devices/${state.winDeviceId}` })).body.data;
    assert.equal(device.deviceId, FLEET_DEVICE_ID);
    assert.equal(device.hwDevId, FLEET_HWDEVID);
    assert.equal(device.deviceName, 'DESKTOP-28FGAI6');
    assert.equal(device.osVersion, '10.0.19043.2364');
    assert.equal(device.enrollmentContext.MAC, '00-0C-29-51-60-9D,1A-77-20-52-41-53,1A-77-20-52-41-53,00-0C-29-51-60-A7,18-14-20-52-41-53,00-0C-29-51-60-93');
  });
});

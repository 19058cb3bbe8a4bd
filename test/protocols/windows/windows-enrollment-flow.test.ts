import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { createMdmUser, createOrg, type TestOrg } from '../../helpers/factories.ts';
import { buildTestApp, call, type TestContext } from '../../helpers/test-app.ts';
import { createToken, tokensPath } from '../../helpers/tokens.ts';
import {
  all,
  BEHIND_PROXY,
  CERT_HEADER,
  characteristic,
  deviceCertificateOf,
  childTypes,
  discoverBody,
  faultSubcode,
  FIXTURE_DEVICE_ID,
  getPoliciesBody,
  makeCsr,
  parm,
  parse,
  provisioningDocOf,
  requestSecurityTokenBody,
  syncmlBody,
  text,
} from '../../helpers/windows-device.ts';

/**
 * The whole device side of a Windows enrollment over HTTP, from captured protocol messages:
 * discovery, a wrong code, policy, enrollment, the first OMA-DM session, then a second device on
 * the same token and a revoked token. Sessions come through a proxy on 127.0.0.1 that forwards
 * the device's certificate (BEHIND_PROXY), as in production.
 */
let ctx: TestContext;
let tenant: TestOrg;
let email: string;
let tokenId: string;
let code: string;
const SOAP = { 'content-type': 'application/soap+xml; charset=utf-8' };
/** The certificate of the device's latest enrollment answer, as its proxy forwards it. */
let devicePem = '';
const asDevice = () => ({ 'content-type': 'application/vnd.syncml.dm+xml', [CERT_HEADER]: encodeURIComponent(devicePem) });

const post = (url: string, payload: string, headers: Record<string, string> = SOAP) => ctx.app.inject({ method: 'POST', url, payload, headers });
const tokenState = async (id = tokenId) => (await call(ctx.app, tenant.adminKey, { method: 'GET', url: `${tokensPath(tenant.org.id, 'windows')}/${id}` })).body.data;

before(async () => {
  ctx = await buildTestApp(BEHIND_PROXY);
  tenant = await createOrg(ctx);
  const user = await createMdmUser(ctx, tenant.org, { email: 'jane.doe@contoso.com' });
  email = user.email;
  const created = await createToken(ctx, tenant.adminKey, tenant.org.id, 'windows', { mdmUserId: user.id, sendEmail: false });
  assert.equal(created.status, 200, JSON.stringify(created.body));
  tokenId = created.body.data.id;
  code = created.body.data.enrollCode;
});
after(() => ctx.close());

describe('a Windows PC enrolls with an Openroll token', () => {
  let enrollmentResponse = '';
  let csrKeyPem = '';

  test('discovery: GET answers 200, POST answers OnPremise with absolute URLs from PUBLIC_URL', async () => {
    const probe = await ctx.app.inject({ method: 'GET', url: '/EnrollmentServer/Discovery.svc' });
    assert.equal(probe.statusCode, 200);
    const res = await post('/EnrollmentServer/Discovery.svc', discoverBody(email));
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.headers['content-type'], 'application/soap+xml; charset=utf-8');
    assert.equal(Number(res.headers['content-length']), Buffer.byteLength(res.body));
    const root = parse(res.body);
    assert.equal(text(root, 'AuthPolicy'), 'OnPremise');
    assert.equal(text(root, 'EnrollmentVersion'), '3.0');
    assert.equal(text(root, 'EnrollmentPolicyServiceUrl'), 'https://mdm.example.test/EnrollmentServer/Policy.svc');
    assert.equal(text(root, 'EnrollmentServiceUrl'), 'https://mdm.example.test/EnrollmentServer/Enrollment.svc');
    assert.equal(text(root, 'RelatesTo'), 'urn:uuid: 748132ec-a575-4329-b01b-6171a9cf8478');
    assert.match(text(root, 'Action') ?? '', /IDiscoveryService\/DiscoverResponse$/);
  });

  test('a wrong code is an Authentication fault and leaves the token PENDING', async () => {
    const res = await post('/EnrollmentServer/Policy.svc', getPoliciesBody(email, 'WRONGCODE'));
    assert.equal(faultSubcode(res.body), 's:Authentication', res.body);
    assert.equal(res.headers['content-type'], 'application/soap+xml; charset=utf-8');
    const rst = await post('/EnrollmentServer/Enrollment.svc', requestSecurityTokenBody({ email, code: 'WRONGCODE', csr: await makeCsr() }));
    assert.equal(faultSubcode(rst.body), 's:Authentication', rst.body);
    const other = await post('/EnrollmentServer/Policy.svc', getPoliciesBody('someone.else@contoso.com', code));
    assert.equal(faultSubcode(other.body), 's:Authentication', 'the right code with another email');
    assert.equal((await tokenState()).state, 'PENDING');
  });

  test('policy: the email and code are accepted without consuming the token; 2048-bit keys, SHA-256', async () => {
    const res = await post('/EnrollmentServer/Policy.svc', getPoliciesBody(email.toUpperCase(), code.toLowerCase()));
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(faultSubcode(res.body), undefined, res.body);
    const root = parse(res.body);
    assert.equal(text(root, 'minimalKeyLength'), '2048');
    assert.equal(text(root, 'value'), '2.16.840.1.101.3.4.2.1');
    assert.equal(text(root, 'RelatesTo'), 'urn:uuid:72048B64-0F19-448F-8C2E-B4C661860AA0');
    assert.equal((await tokenState()).state, 'PENDING');
  });

  test('enrollment: the certificate carries the CSR key, chains to the CA in the document, clientAuth, valid', async () => {
    const csr = await makeCsr({ hash: 'SHA-1' });
    csrKeyPem = csr.publicKey.export({ type: 'spki', format: 'pem' }) as string;
    const res = await post('/EnrollmentServer/Enrollment.svc', requestSecurityTokenBody({ email, code, csr }));
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(faultSubcode(res.body), undefined, res.body);
    enrollmentResponse = res.body;
    devicePem = deviceCertificateOf(res.body);
    const root = parse(res.body);
    assert.match(text(root, 'Action') ?? '', /RSTRC\/wstep$/);
    assert.equal(all(root, 'BinarySecurityToken')[0]!.getAttribute('ValueType'), 'http://schemas.microsoft.com/5.0.0.0/ConfigurationManager/Enrollment/DeviceEnrollmentProvisionDoc');

    const doc = provisioningDocOf(res.body);
    const rootStore = characteristic(doc, 'CertificateStore', 'Root', 'System');
    const [caThumbprint] = childTypes(rootStore);
    const caCert = new X509Certificate(Buffer.from(parm(characteristic(rootStore!, caThumbprint!), 'EncodedCertificate')!, 'base64'));
    assert.equal(caCert.fingerprint.replace(/:/g, ''), caThumbprint);
    assert.equal(caCert.ca, true);

    const myStore = all(doc, 'characteristic').find((c) => c.getAttribute('type') === 'My');
    const userStore = characteristic(myStore!, 'User');
    const [clientThumbprint] = childTypes(userStore).filter((t) => t !== 'PrivateKeyContainer');
    assert.ok(childTypes(userStore).includes('PrivateKeyContainer'));
    const client = new X509Certificate(Buffer.from(parm(characteristic(userStore!, clientThumbprint!), 'EncodedCertificate')!, 'base64'));
    assert.equal(client.fingerprint.replace(/:/g, ''), clientThumbprint);
    assert.equal(client.publicKey.export({ type: 'spki', format: 'pem' }), csrKeyPem, 'the certificate carries the CSR key');
    assert.ok(client.checkIssued(caCert) && client.verify(caCert.publicKey), 'chains to the CA in the document');
    assert.deepEqual(client.keyUsage, ['1.3.6.1.5.5.7.3.2']);
    const now = ctx.clock.now().getTime();
    assert.ok(new Date(client.validFrom).getTime() <= now && new Date(client.validTo).getTime() > now + 300 * 86_400_000);
    assert.equal(client.subject, `CN=${FIXTURE_DEVICE_ID}`);

    const app = all(doc, 'characteristic').find((c) => c.getAttribute('type') === 'APPLICATION')!;
    assert.equal(parm(app, 'APPID'), 'w7');
    assert.equal(parm(app, 'ADDR'), `https://mdm.example.test/ManagementServer/MDM.svc/${tenant.org.id}`);
    assert.equal(parm(app, 'PROVIDER-ID'), 'Openroll');
    const poll = characteristic(doc, 'DMClient', 'Provider', 'Openroll', 'Poll');
    assert.equal(parm(poll, 'IntervalForRemainingScheduledRetries'), '1560');
  });

  test('the token is DONE, points at the device, and its trail records the redeem with the device', async () => {
    const token = await tokenState();
    assert.equal(token.state, 'DONE');
    assert.match(token.winDeviceId, /^[0-9a-f]{24}$/);
    const device = await call(ctx.app, tenant.adminKey, { method: 'GET', url: `/v1/organizations/${tenant.org.id}/mdm/windows/devices/${token.winDeviceId}` });
    assert.equal(device.status, 200, JSON.stringify(device.body));
    assert.equal(device.body.data.deviceId, FIXTURE_DEVICE_ID);
    assert.equal(device.body.data.hwDevId, 'F'.repeat(64));
    assert.equal(device.body.data.deviceName, 'MY_WINDOWS_DEVICE');
    assert.equal(device.body.data.osVersion, '10.0.9999.0');
    assert.equal(device.body.data.state, 'enrolled');
    assert.equal(device.body.data.winEnrollmentTokenId, tokenId);
    assert.equal(device.body.data.enrollmentContext.MAC, 'FF:FF:FF:FF:FF:FF,CC:CC:CC:CC:CC:CC');
    const events = await call(ctx.app, tenant.adminKey, { method: 'GET', url: `${tokensPath(tenant.org.id, 'windows')}/${tokenId}/events` });
    const redeemed = events.body.data.items.find((e: { type: string }) => e.type === 'redeemed');
    assert.ok(redeemed, JSON.stringify(events.body));
    assert.equal(redeemed.changes.deviceId, token.winDeviceId);
    assert.equal(redeemed.changes.device.deviceIdentifier, FIXTURE_DEVICE_ID);
    const list = await call(ctx.app, tenant.adminKey, { method: 'GET', url: `/v1/organizations/${tenant.org.id}/mdm/windows/devices` });
    assert.deepEqual(list.body.data.items.map((d: { id: string }) => d.id), [token.winDeviceId]);
  });

  test('the first OMA-DM session: a Status for the header and each command, Final; DevInfo recorded', async () => {
    const res = await post(`/ManagementServer/MDM.svc/${tenant.org.id}`, syncmlBody('syncml-first-session.xml'), asDevice());
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.headers['content-type'], 'application/vnd.syncml.dm+xml');
    assert.equal(Number(res.headers['content-length']), Buffer.byteLength(res.body));
    const root = parse(res.body);
    const statuses = all(root, 'Status').map((s) => [text(s, 'CmdRef'), text(s, 'Cmd'), text(s, 'Data'), text(s, 'MsgRef')]);
    assert.deepEqual(statuses, [
      ['0', 'SyncHdr', '200', '1'],
      ['1', 'Alert', '200', '1'],
      ['2', 'Alert', '200', '1'],
      ['3', 'Replace', '200', '1'],
    ]);
    assert.equal(all(root, 'Final').length, 1);
    assert.equal(text(all(root, 'Target')[0]!, 'LocURI'), FIXTURE_DEVICE_ID);
    const token = await tokenState();
    const device = await call(ctx.app, tenant.adminKey, { method: 'GET', url: `/v1/organizations/${tenant.org.id}/mdm/windows/devices/${token.winDeviceId}` });
    assert.deepEqual(device.body.data.devInfo, { DevId: FIXTURE_DEVICE_ID, Man: 'Microsoft Corporation', Mod: '{operating system description}', DmV: '1.3', Lang: 'en-US' });
    assert.equal(device.body.data.lastSeenAt, ctx.clock.now().toISOString());
  });

  test('a retry from the same PC within the window gets the same device; another PC gets a fault', async () => {
    const token = await tokenState();
    const retry = await post('/EnrollmentServer/Enrollment.svc', requestSecurityTokenBody({ email, code, csr: await makeCsr() }));
    assert.equal(faultSubcode(retry.body), undefined, retry.body);
    const replaced = asDevice();
    devicePem = deviceCertificateOf(retry.body);
    const old = await post(`/ManagementServer/MDM.svc/${tenant.org.id}`, syncmlBody('syncml-first-session.xml'), replaced);
    assert.equal(old.statusCode, 401, 'the certificate the retry replaced opens no session');
    assert.equal(faultSubcode(old.body), 's:InvalidSecurity');
    assert.equal((await post(`/ManagementServer/MDM.svc/${tenant.org.id}`, syncmlBody('syncml-first-session.xml'), asDevice())).statusCode, 200, 'the new one does');
    const again = await call(ctx.app, tenant.adminKey, { method: 'GET', url: `/v1/organizations/${tenant.org.id}/mdm/windows/devices` });
    assert.equal(again.body.data.totalDocs, 1);
    assert.equal((await tokenState()).winDeviceId, token.winDeviceId);

    const second = await post('/EnrollmentServer/Enrollment.svc', requestSecurityTokenBody({ email, code, csr: await makeCsr(), deviceId: 'B5E0F4B0-0000-4000-8000-000000000002', hwDevId: 'A'.repeat(64) }));
    assert.equal(faultSubcode(second.body), 's:Authorization', second.body);
    assert.equal((await call(ctx.app, tenant.adminKey, { method: 'GET', url: `/v1/organizations/${tenant.org.id}/mdm/windows/devices` })).body.data.totalDocs, 1);

    ctx.clock.advance(16 * 60_000);
    const late = await post('/EnrollmentServer/Enrollment.svc', requestSecurityTokenBody({ email, code, csr: await makeCsr() }));
    assert.ok(faultSubcode(late.body), 'past the window the used code enrolls nothing');
    assert.ok(enrollmentResponse);
  });

  test('a revoked token is a fault and stays DELETED', async () => {
    const user = await createMdmUser(ctx, tenant.org);
    const created = await createToken(ctx, tenant.adminKey, tenant.org.id, 'windows', { mdmUserId: user.id, sendEmail: false });
    const revoked = await call(ctx.app, tenant.adminKey, { method: 'DELETE', url: `${tokensPath(tenant.org.id, 'windows')}/${created.body.data.id}` });
    assert.equal(revoked.status, 200);
    const res = await post('/EnrollmentServer/Enrollment.svc', requestSecurityTokenBody({ email: user.email, code: created.body.data.enrollCode, csr: await makeCsr(), deviceId: 'C0FFEE00-0000-4000-8000-000000000003' }));
    assert.ok(faultSubcode(res.body), res.body);
    assert.equal((await tokenState(created.body.data.id)).state, 'DELETED');
  });

  test('Alert 1226 unenrolls the device and revokes its certificate; its next session is refused', async () => {
    const token = await tokenState();
    const res = await post(`/ManagementServer/MDM.svc/${tenant.org.id}`, syncmlBody('syncml-unenroll.xml'), asDevice());
    assert.equal(res.statusCode, 200, res.body);
    const device = await call(ctx.app, tenant.adminKey, { method: 'GET', url: `/v1/organizations/${tenant.org.id}/mdm/windows/devices/${token.winDeviceId}` });
    assert.equal(device.body.data.state, 'unenrolled');
    assert.equal(device.body.data.unenrolledAt, ctx.clock.now().toISOString());
    const issued = await ctx.container.certificateAuthority.findIssuedCertificate(tenant.org.id, { thumbprint: device.body.data.certificate.thumbprint });
    assert.ok(issued?.revokedAt);
    const next = await post(`/ManagementServer/MDM.svc/${tenant.org.id}`, syncmlBody('syncml-first-session.xml'), asDevice());
    assert.equal(next.statusCode, 403);
    assert.equal(faultSubcode(next.body), 's:Authorization');
  });
});

/**
 * A whole Apple enrollment over HTTP, played by a test device (apple-device.ts): the admin
 * uploads a push certificate, the user opens the token's page and downloads the signed profile,
 * the device runs SCEP with the profile's challenge, then signs Authenticate, TokenUpdate and
 * Idle with the identity it got. Then the refusals: a second download, a spent challenge, a
 * signer Openroll never issued.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { parse as parsePlist } from 'plist';
import { thumbprintOf } from '../../../src/pki/certificate-authority.ts';
import { createMdmUser, createOrg, type TestOrg } from '../../helpers/factories.ts';
import { buildTestApp, call, type TestContext } from '../../helpers/test-app.ts';
import { createToken } from '../../helpers/tokens.ts';
import { makePushCertificate, openSignedProfile, TestAppleDevice } from './apple-device.ts';
import { CHECKIN_TYPE, fixture, MDM_TYPE, PKI_TYPE } from './apple-fixtures.ts';

let ctx: TestContext;
let a: TestOrg;
let userId: string;
let topic: string;
before(async () => {
  ctx = await buildTestApp();
  a = await createOrg(ctx);
  userId = (await createMdmUser(ctx, a.org)).id;
});
after(() => ctx.close());

type Dict = Record<string, unknown>;
const pushPath = (org: string) => `/v1/organizations/${org}/mdm/apple/enterprise/push-certificate`;

async function appleToken() {
  const res = await createToken(ctx, a.adminKey, a.org.id, 'apple', { mdmUserId: userId, sendEmail: false, displayName: 'iPhone' });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return { id: res.body.data.id as string, path: new URL(res.body.data.enrollmentLink).pathname };
}

const tokenState = async (id: string) => (await call(ctx.app, a.adminKey, { method: 'GET', url: `/v1/organizations/${a.org.id}/mdm/apple/enterprise/enrollment-tokens/${id}` })).body.data;

function checkIn(url: string, body: Buffer, signature: string | undefined, contentType = CHECKIN_TYPE) {
  return ctx.app.inject({ method: 'PUT', url, payload: body, headers: { 'content-type': contentType, ...(signature ? { 'mdm-signature': signature } : {}) } });
}

/** Downloads and verifies the profile; returns its payloads. */
async function downloadProfile(pagePath: string) {
  const res = await ctx.app.inject({ method: 'GET', url: `${pagePath}/profile.mobileconfig` });
  assert.equal(res.statusCode, 200, res.body);
  assert.equal(res.headers['content-type'], 'application/x-apple-aspen-config');
  assert.equal(res.headers['cache-control'], 'no-store');
  const { signerDer, xml } = await openSignedProfile(res.rawPayload);
  const profile = parsePlist(xml) as Dict;
  const payloads = profile.PayloadContent as Dict[];
  const scep = payloads.find((p) => p.PayloadType === 'com.apple.security.scep')!;
  const mdm = payloads.find((p) => p.PayloadType === 'com.apple.mdm')!;
  return { signerDer, profile, scep, mdm, scepContent: scep.PayloadContent as Dict };
}

/** Runs SCEP as the device does: GetCACaps, GetCACert, then a PKCSReq over POST or GET. */
async function enrollIdentity(device: TestAppleDevice, scepUrl: string, challenge: string, options: { method?: 'GET' | 'POST'; keyTransport?: 'rsa-oaep' | 'rsa-pkcs1'; rawPlus?: boolean } = {}) {
  const path = new URL(scepUrl).pathname;
  const ca = await ctx.app.inject({ method: 'GET', url: `${path}?operation=GetCACert` });
  assert.equal(ca.statusCode, 200);
  assert.equal(ca.headers['content-type'], 'application/x-x509-ca-cert');
  const req = await device.pkcsReq(ca.rawPayload, challenge, { keyTransport: options.keyTransport ?? 'rsa-pkcs1' });
  const res =
    options.method === 'GET'
      ? await ctx.app.inject({ method: 'GET', url: `${path}?operation=PKIOperation&message=${encodeURIComponent(req.message.toString('base64')).replace(/%2B/g, options.rawPlus ? '+' : '%2B')}` })
      : await ctx.app.inject({ method: 'POST', url: `${path}?operation=PKIOperation`, payload: req.message, headers: { 'content-type': PKI_TYPE } });
  assert.equal(res.statusCode, 200, res.body);
  assert.equal(res.headers['content-type'], PKI_TYPE);
  const rep = await device.readCertRep(res.rawPayload);
  assert.deepEqual(rep.signerDer, ca.rawPayload, 'the CertRep is signed by the CA');
  assert.equal(rep.transactionId, req.transactionId);
  assert.deepEqual(rep.recipientNonce, req.senderNonce);
  assert.equal(rep.senderNonce.length, 16);
  return { rep, caDer: ca.rawPayload };
}

describe('Apple enrollment, device by device', () => {
  test('until a push certificate is uploaded, the page says so and there is no profile', async () => {
    const { path } = await appleToken();
    const page = await ctx.app.inject({ method: 'GET', url: path });
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /administrator must first upload the Apple push certificate/);
    assert.doesNotMatch(page.body, /profile\.mobileconfig/);
    const profile = await ctx.app.inject({ method: 'GET', url: `${path}/profile.mobileconfig` });
    assert.equal(profile.statusCode, 409);
    assert.match(profile.body, /push certificate/);
    const none = await call(ctx.app, a.adminKey, { method: 'GET', url: pushPath(a.org.id) });
    assert.deepEqual(none.body.data, { topic: null, expiresAt: null, serialNumber: null, uploadedAt: null });
  });

  test('the admin uploads the push certificate: topic and expiry, never the key', async () => {
    const push = await makePushCertificate();
    const res = await call(ctx.app, a.adminKey, { method: 'PUT', url: pushPath(a.org.id), payload: { certificate: push.certificate, privateKey: push.privateKey } });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.data.topic, push.topic);
    assert.equal(res.body.data.expiresAt, '2027-01-01T00:00:00.000Z');
    const got = await call(ctx.app, a.adminKey, { method: 'GET', url: pushPath(a.org.id) });
    assert.deepEqual(got.body.data, res.body.data);
    assert.doesNotMatch(JSON.stringify(got.body), /PRIVATE KEY|privateKey/);
    topic = push.topic;
  });

  test('page, profile, SCEP, Authenticate, TokenUpdate, Idle: the token is DONE with the device', async () => {
    const token = await appleToken();
    const page = await ctx.app.inject({ method: 'GET', url: token.path });
    assert.equal(page.statusCode, 200);
    assert.ok(page.body.includes(`href="https://mdm.example.test${token.path}/profile.mobileconfig"`), 'the page links to the profile');

    const { signerDer, profile, scepContent, mdm } = await downloadProfile(token.path);
    assert.equal(profile.PayloadType, 'Configuration');
    assert.equal(mdm.Topic, topic);
    assert.equal(mdm.AccessRights, 8191);
    assert.equal(mdm.SignMessage, true);
    assert.equal(mdm.CheckOutWhenRemoved, true);
    assert.equal(mdm.ServerURL, `https://mdm.example.test/mdm/apple/${a.org.id}/server`);
    assert.equal(mdm.CheckInURL, `https://mdm.example.test/mdm/apple/${a.org.id}/checkin`);
    assert.equal(mdm.IdentityCertificateUUID, (profile.PayloadContent as Dict[]).find((p) => p.PayloadType === 'com.apple.security.scep')!.PayloadUUID);
    assert.equal(scepContent.URL, `https://mdm.example.test/mdm/apple/${a.org.id}/scep`);
    assert.equal(scepContent.Keysize, 2048);
    assert.match(String(scepContent.Challenge), /^[0-9a-f]{64}$/);
    assert.equal((await tokenState(token.id)).state, 'PENDING', 'downloading does not consume the token');

    const scepPath = new URL(String(scepContent.URL)).pathname;
    const caps = await ctx.app.inject({ method: 'GET', url: `${scepPath}?operation=GetCACaps` });
    assert.equal(caps.statusCode, 200);
    for (const cap of ['POSTPKIOperation', 'SHA-256', 'AES', 'SCEPStandard']) assert.ok(caps.body.split('\n').includes(cap), cap);

    const device = await TestAppleDevice.create();
    const { rep, caDer } = await enrollIdentity(device, String(scepContent.URL), String(scepContent.Challenge));
    assert.deepEqual(signerDer, caDer, 'the profile is signed by the organization CA');
    assert.equal(rep.pkiStatus, '0');
    assert.ok(rep.issued, 'the CertRep carries the identity');
    const issuedSpki = Buffer.from(rep.issued!.subjectPublicKeyInfo.toSchema().toBER());
    assert.deepEqual(issuedSpki, Buffer.from(device.selfSigned.subjectPublicKeyInfo.toSchema().toBER()), 'the identity certifies the device key');
    assert.equal((await tokenState(token.id)).state, 'PENDING', 'SCEP does not consume the token');

    const values = { topic, udid: device.udid, serial: device.serialNumber };
    const checkInUrl = new URL(String(mdm.CheckInURL)).pathname;
    const authenticate = fixture('authenticate.plist', values);
    const auth = await checkIn(checkInUrl, authenticate, await device.mdmSignature(authenticate));
    assert.equal(auth.statusCode, 200, auth.body);

    const devices = await call(ctx.app, a.adminKey, { method: 'GET', url: `/v1/organizations/${a.org.id}/mdm/apple/devices` });
    const recorded = devices.body.data.items.find((d: Dict) => d.udid === device.udid);
    assert.equal(recorded.state, 'AUTHENTICATED');
    assert.equal(recorded.serialNumber, device.serialNumber);
    assert.equal(recorded.model, 'iPhone14,5');
    assert.equal(recorded.osVersion, '17.5.1');
    assert.equal(recorded.topic, topic);
    assert.equal(recorded.certificateThumbprint, thumbprintOf(device.identityDer));

    const update = fixture('token-update.plist', values);
    const tokenUpdate = await checkIn(checkInUrl, update, await device.mdmSignature(update));
    assert.equal(tokenUpdate.statusCode, 200, tokenUpdate.body);
    const done = await tokenState(token.id);
    assert.equal(done.state, 'DONE');
    assert.equal(done.admDevice, recorded.id);
    const events = await call(ctx.app, a.adminKey, { method: 'GET', url: `/v1/organizations/${a.org.id}/mdm/apple/enterprise/enrollment-tokens/${token.id}/events` });
    assert.ok(events.body.data.items.some((e: Dict) => e.type === 'redeemed'), 'the trail records the redeem');
    const enrolled = await call(ctx.app, a.adminKey, { method: 'GET', url: `/v1/organizations/${a.org.id}/mdm/apple/devices/${recorded.id}` });
    assert.equal(enrolled.body.data.state, 'ENROLLED');
    assert.equal(enrolled.body.data.pushTokenSet, true);
    assert.doesNotMatch(JSON.stringify(enrolled.body), /PushMagic|UnlockToken|pushMagic|unlockToken/);

    // TokenUpdate again (a new push token): 200, still one device, token still DONE.
    const again = await checkIn(checkInUrl, update, await device.mdmSignature(update));
    assert.equal(again.statusCode, 200);

    const idle = fixture('idle.plist', values);
    const serverUrl = new URL(String(mdm.ServerURL)).pathname;
    const idleRes = await checkIn(serverUrl, idle, await device.mdmSignature(idle), MDM_TYPE);
    assert.equal(idleRes.statusCode, 200);
    // The redemption queued DeviceInformation (CONTRACT.md section 6, Apple): the first Idle gets it.
    const first = parsePlist(idleRes.body) as Dict;
    assert.deepEqual((first.Command as Dict).RequestType, 'DeviceInformation');
    assert.deepEqual((first.Command as Dict).Queries, ['DeviceName', 'Model', 'OSVersion', 'SerialNumber']);

    // Refusals: the second download, the spent challenge, an unknown signer.
    const second = await ctx.app.inject({ method: 'GET', url: `${token.path}/profile.mobileconfig` });
    assert.equal(second.statusCode, 410);
    const replay = await TestAppleDevice.create();
    const replayed = await enrollIdentity(replay, String(scepContent.URL), String(scepContent.Challenge));
    assert.equal(replayed.rep.pkiStatus, '2');
    assert.equal(replayed.rep.failInfo, '2');
    assert.equal(replayed.rep.issued, undefined);
    const stranger = await TestAppleDevice.create();
    const strangerSig = await stranger.mdmSignature(idle, { certificate: stranger.selfSigned, key: stranger.keys.privateKey });
    const refused = await checkIn(serverUrl, idle, strangerSig, MDM_TYPE);
    assert.equal(refused.statusCode, 401);
    assert.equal(refused.json().error.code, 4004);
  });

  test('a wrong challenge gets a FAILURE CertRep (badRequest) and the token stays PENDING', async () => {
    const token = await appleToken();
    const { scepContent } = await downloadProfile(token.path);
    const device = await TestAppleDevice.create();
    const { rep } = await enrollIdentity(device, String(scepContent.URL), 'f'.repeat(64), { method: 'GET' });
    assert.equal(rep.pkiStatus, '2');
    assert.equal(rep.failInfo, '2');
    assert.equal((await tokenState(token.id)).state, 'PENDING');
    // The right challenge still works, over GET (from a client that leaves '+' unencoded) and with RSA-OAEP key transport.
    const ok = await enrollIdentity(device, String(scepContent.URL), String(scepContent.Challenge), { method: 'GET', keyTransport: 'rsa-oaep', rawPlus: true });
    assert.equal(ok.rep.pkiStatus, '0');
  });

  test('CheckOut unenrolls the device and revokes its identity', async () => {
    const token = await appleToken();
    const { scepContent, mdm } = await downloadProfile(token.path);
    const device = await TestAppleDevice.create();
    await enrollIdentity(device, String(scepContent.URL), String(scepContent.Challenge));
    const values = { topic, udid: device.udid, serial: device.serialNumber };
    const url = new URL(String(mdm.CheckInURL)).pathname;
    for (const name of ['authenticate.plist', 'token-update.plist', 'checkout.plist']) {
      const body = fixture(name, values);
      assert.equal((await checkIn(url, body, await device.mdmSignature(body))).statusCode, 200, name);
    }
    const list = await call(ctx.app, a.adminKey, { method: 'GET', url: `/v1/organizations/${a.org.id}/mdm/apple/devices?limit=500` });
    const row = list.body.data.items.find((d: Dict) => d.udid === device.udid);
    assert.equal(row.state, 'UNENROLLED');
    assert.equal(typeof row.unenrolledAt, 'string');
    const idle = fixture('idle.plist', values);
    const after = await checkIn(new URL(String(mdm.ServerURL)).pathname, idle, await device.mdmSignature(idle), MDM_TYPE);
    assert.equal(after.statusCode, 401, 'a revoked identity signs nothing');
  });

  test('UserAuthenticate is declined with 410 (no user channel)', async () => {
    const token = await appleToken();
    const { scepContent, mdm } = await downloadProfile(token.path);
    const device = await TestAppleDevice.create();
    await enrollIdentity(device, String(scepContent.URL), String(scepContent.Challenge));
    const body = fixture('user-authenticate.plist', { udid: device.udid });
    const res = await checkIn(new URL(String(mdm.CheckInURL)).pathname, body, await device.mdmSignature(body));
    assert.equal(res.statusCode, 410);
  });
});

/**
 * One identity per Apple token, one enrolled device per UDID, played with real devices'
 * messages: NanoMDM's captured iMac and iPad check-ins and micromdm's MacBook Pro
 * (test/fixtures/apple/README.md), sent byte for byte and signed by the test device's identity.
 * A spare identity (a second profile download) dies when another device redeems the token, and
 * every unredeemed one when the token is revoked or expires; an enrolled UDID is refused to any
 * other identity until its device is retired.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { parse as parsePlist } from 'plist';
import { thumbprintOf } from '../../../src/pki/certificate-authority.ts';
import { changedTables, createDbProbe, type DbProbe } from '../../helpers/db-probe.ts';
import { createMdmUser, createOrg, type TestOrg } from '../../helpers/factories.ts';
import { buildTestApp, call, type TestContext } from '../../helpers/test-app.ts';
import { createToken } from '../../helpers/tokens.ts';
import { makePushCertificate, openSignedProfile, TestAppleDevice } from './apple-device.ts';
import { CHECKIN_TYPE, MDM_TYPE, PKI_TYPE } from './apple-fixtures.ts';

type Dict = Record<string, unknown>;
const FIXTURES = new URL('../../fixtures/apple/', import.meta.url);
/** A captured message, exactly as the device sent it. */
const capture = (name: string) => readFileSync(new URL(name, FIXTURES));
const NANO_TOPIC = 'com.apple.mgmt.External.e0bd1eac-1f17-4c8e-8a63-dd17d3dd35d9';
const MICRO_TOPIC = 'com.apple.mgmt.XServer.8b4034c3-8cd9-4121-9999-cd2ddbf9a5b1';
const IMAC = { udid: '66ADE930-5FDF-5EC4-8429-15640684C489', authenticate: 'nanomdm/Authenticate.2.plist', tokenUpdate: 'nanomdm/TokenUpdate.2.plist', report: 'nanomdm/DeviceInformation.1.plist' };
const IPAD = { udid: '663b07bb783e9ade1dae4fbb92ea12afc0ce5b69', authenticate: 'nanomdm/Authenticate.1.plist', tokenUpdate: 'nanomdm/TokenUpdate.1.plist' };

let ctx: TestContext;
let probe: DbProbe;
let pushes: Record<string, { certificate: string; privateKey: string }>;

before(async () => {
  ctx = await buildTestApp();
  probe = await createDbProbe(ctx.container.database);
  pushes = { [NANO_TOPIC]: await makePushCertificate({ uid: NANO_TOPIC }), [MICRO_TOPIC]: await makePushCertificate({ uid: MICRO_TOPIC }) };
});
after(() => ctx.close());

/** An organization whose push certificate has the captures' topic. */
async function tenant(topic = NANO_TOPIC): Promise<TestOrg> {
  const t = await createOrg(ctx);
  const res = await call(ctx.app, t.adminKey, { method: 'PUT', url: `/v1/organizations/${t.org.id}/mdm/apple/enterprise/push-certificate`, payload: { certificate: pushes[topic]!.certificate, privateKey: pushes[topic]!.privateKey } });
  assert.equal(res.status, 200);
  return t;
}

async function appleToken(t: TestOrg) {
  const user = await createMdmUser(ctx, t.org);
  const res = await createToken(ctx, t.adminKey, t.org.id, 'apple', { mdmUserId: user.id, sendEmail: false });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return { id: res.body.data.id as string, path: new URL(res.body.data.enrollmentLink).pathname };
}

/** Downloads the token's profile (as the user's browser does) and returns its SCEP challenge. */
async function download(path: string): Promise<string> {
  const res = await ctx.app.inject({ method: 'GET', url: `${path}/profile.mobileconfig` });
  assert.equal(res.statusCode, 200, res.body);
  const payloads = (parsePlist((await openSignedProfile(res.rawPayload)).xml) as Dict).PayloadContent as Dict[];
  return String((payloads.find((p) => p.PayloadType === 'com.apple.security.scep')!.PayloadContent as Dict).Challenge);
}

/** SCEP with the challenge; returns the CertRep's pkiStatus ('0' issued, '2' failure). */
async function scep(t: TestOrg, device: TestAppleDevice, challenge: string): Promise<string> {
  const ca = await ctx.app.inject({ method: 'GET', url: `/mdm/apple/${t.org.id}/scep?operation=GetCACert` });
  const req = await device.pkcsReq(ca.rawPayload, challenge);
  const res = await ctx.app.inject({ method: 'POST', url: `/mdm/apple/${t.org.id}/scep?operation=PKIOperation`, payload: req.message, headers: { 'content-type': PKI_TYPE } });
  assert.equal(res.statusCode, 200);
  return (await device.readCertRep(res.rawPayload)).pkiStatus;
}

/** A device holding an identity of the token, from a download of its own. */
async function identityOf(t: TestOrg, token: { path: string }): Promise<TestAppleDevice> {
  const device = await TestAppleDevice.create();
  assert.equal(await scep(t, device, await download(token.path)), '0', 'the identity is issued');
  return device;
}

/** Sends a captured message to the check-in URL (or, `server`, the server URL), signed by `device` unless `unsigned`. */
async function send(t: TestOrg, device: TestAppleDevice | null, name: string, options: { server?: boolean } = {}) {
  const body = capture(name);
  const headers: Record<string, string> = { 'content-type': options.server ? MDM_TYPE : CHECKIN_TYPE };
  if (device) headers['mdm-signature'] = await device.mdmSignature(body);
  return ctx.app.inject({ method: 'PUT', url: `/mdm/apple/${t.org.id}/${options.server ? 'server' : 'checkin'}`, payload: body, headers });
}

/** Refused with `status`/`code`, and not one row of the database changed. */
async function refused(label: string, status: number, code: number, request: () => Promise<{ statusCode: number; json(): { error: { code: number } } }>) {
  const before = await probe.snapshot();
  const res = await request();
  assert.equal(res.statusCode, status, `${label}: ${res.statusCode} ${JSON.stringify(res.json())}`);
  assert.equal(res.json().error.code, code, label);
  assert.deepEqual(changedTables(before, await probe.snapshot()), [], `${label}: the database changed`);
}

/** The device's Idle report at the server URL (Openroll's fixture, with its UDID), signed by it. */
async function sendIdle(t: TestOrg, device: TestAppleDevice, udid: string) {
  const body = Buffer.from(readFileSync(new URL('idle.plist', FIXTURES), 'utf8').replaceAll('{{UDID}}', udid));
  return ctx.app.inject({ method: 'PUT', url: `/mdm/apple/${t.org.id}/server`, payload: body, headers: { 'content-type': MDM_TYPE, 'mdm-signature': await device.mdmSignature(body) } });
}

/** Authenticated, then refused for a CommandUUID that is none of the device's commands: 404 naming it, nothing changed. */
async function unknownCommand(label: string, request: () => Promise<{ statusCode: number; json(): { error: { code: number; data?: { errors: { path: string }[] } } } }>) {
  let body: { error: { code: number; data?: { errors: { path: string }[] } } } | undefined;
  await refused(label, 404, 3001, async () => {
    const res = await request();
    body = res.json();
    return res;
  });
  assert.deepEqual(body!.error.data?.errors.map((e) => e.path), ['body.CommandUUID'], label);
}

async function enroll(t: TestOrg, device: TestAppleDevice, messages: { authenticate: string; tokenUpdate: string }) {
  for (const name of [messages.authenticate, messages.tokenUpdate]) assert.equal((await send(t, device, name)).statusCode, 200, name);
}

const devices = async (t: TestOrg, udid: string) =>
  ((await call(ctx.app, t.adminKey, { method: 'GET', url: `/v1/organizations/${t.org.id}/mdm/apple/devices?limit=500` })).body.data.items as Dict[]).filter((d) => d.udid === udid);
const tokenOf = async (t: TestOrg, id: string) => (await call(ctx.app, t.adminKey, { method: 'GET', url: `/v1/organizations/${t.org.id}/mdm/apple/enterprise/enrollment-tokens/${id}` })).body.data;
const revokedAt = async (t: TestOrg, device: TestAppleDevice) => (await ctx.container.certificateAuthority.findIssuedCertificate(t.org.id, { thumbprint: thumbprintOf(device.identityDer) }))!.revokedAt;
const retire = (t: TestOrg, id: string, key = t.adminKey) => call(ctx.app, key, { method: 'DELETE', url: `/v1/organizations/${t.org.id}/mdm/apple/devices/${id}` });

describe('one identity per token', () => {
  test('a new download replaces the unspent challenge of the previous one', async () => {
    const t = await tenant();
    const token = await appleToken(t);
    const first = await download(token.path);
    const second = await download(token.path);
    assert.notEqual(first, second);
    const device = await TestAppleDevice.create();
    assert.equal(await scep(t, device, first), '2', 'the earlier profile can no longer get an identity');
    assert.equal(await scep(t, device, second), '0', 'the latest one can');
    assert.equal(await scep(t, await TestAppleDevice.create(), second), '2', 'once');
  });

  test("NanoMDM's iMac enrolls; the spare identity of a second download gets 401 once the token is DONE", async () => {
    const t = await tenant();
    const token = await appleToken(t);
    const imac = await identityOf(t, token);
    const spare = await identityOf(t, token);
    await enroll(t, imac, IMAC);
    const [row] = await devices(t, IMAC.udid);
    assert.equal(row!.state, 'ENROLLED');
    assert.deepEqual([row!.serialNumber, row!.model, row!.deviceName, row!.osVersion], ['C02MT66KFLHH', 'iMac14,2', 'Fruit', '10.12.6'], 'the captured facts');
    const done = await tokenOf(t, token.id);
    assert.equal(done.state, 'DONE');
    assert.equal(done.admDevice, row!.id);

    assert.notEqual(await revokedAt(t, spare), null, 'the redeem revoked the spare identity');
    assert.equal(await revokedAt(t, imac), null, 'not the redeeming one');
    await refused('spare Authenticate', 401, 4004, () => send(t, spare, IMAC.authenticate));
    await refused('spare TokenUpdate', 401, 4004, () => send(t, spare, IMAC.tokenUpdate));
    await refused('spare report at the server URL', 401, 4004, () => send(t, spare, IMAC.report, { server: true }));
    // The captured report names a command Openroll never queued (issue 23): the iMac's signature
    // is accepted, the report refused for its CommandUUID; its Idle is answered.
    await unknownCommand('the iMac itself still reports', () => send(t, imac, IMAC.report, { server: true }));
    assert.equal((await sendIdle(t, imac, IMAC.udid)).statusCode, 200, 'the iMac itself still reports Idle');
    assert.equal((await send(t, imac, IMAC.tokenUpdate)).statusCode, 200, 'and updates its push token');
    assert.equal((await ctx.app.inject({ method: 'GET', url: `${token.path}/profile.mobileconfig` })).statusCode, 410, 'no third download');
    assert.equal((await devices(t, IMAC.udid)).length, 1, 'one row for the UDID');
  });

  test("revoking the token revokes its unredeemed identities: NanoMDM's iPad gets 401", async () => {
    const t = await tenant();
    const token = await appleToken(t);
    const ipad = await identityOf(t, token);
    assert.equal((await send(t, ipad, IPAD.authenticate)).statusCode, 200);
    assert.equal((await call(ctx.app, t.adminKey, { method: 'DELETE', url: `/v1/organizations/${t.org.id}/mdm/apple/enterprise/enrollment-tokens/${token.id}` })).status, 200);
    assert.notEqual(await revokedAt(t, ipad), null);
    await refused('TokenUpdate after the revoke', 401, 4004, () => send(t, ipad, IPAD.tokenUpdate));
    assert.equal((await tokenOf(t, token.id)).state, 'DELETED');
  });
});

describe('one enrolled device per UDID', () => {
  test('another identity is refused an enrolled UDID until the device is retired; then it enrolls', async () => {
    const t = await tenant();
    const first = await appleToken(t);
    const imac = await identityOf(t, first);
    await enroll(t, imac, IMAC);
    // The same Mac wiped (its identity is gone) or a stranger claiming its UDID, with another user's token.
    const second = await appleToken(t);
    const newcomer = await identityOf(t, second);
    await refused('Authenticate of an enrolled UDID', 409, 5001, () => send(t, newcomer, IMAC.authenticate));
    assert.equal((await send(t, imac, IMAC.authenticate)).statusCode, 200, 'the enrolled device itself may authenticate again');
    assert.equal((await tokenOf(t, second.id)).state, 'PENDING');

    const [enrolled] = await devices(t, IMAC.udid);
    const retired = await retire(t, enrolled!.id as string);
    assert.equal(retired.status, 200, JSON.stringify(retired.body));
    assert.equal(retired.body.data.state, 'UNENROLLED');
    assert.equal(typeof retired.body.data.unenrolledAt, 'string');
    assert.notEqual(await revokedAt(t, imac), null, 'its identity is revoked');
    await refused('the retired device reports', 401, 4004, () => send(t, imac, IMAC.report, { server: true }));
    await refused('the retired device authenticates', 401, 4004, () => send(t, imac, IMAC.authenticate));
    const again = await retire(t, enrolled!.id as string);
    assert.deepEqual(again.body.data, retired.body.data, 'retiring again answers the same device');

    await enroll(t, newcomer, IMAC);
    assert.equal((await tokenOf(t, second.id)).state, 'DONE');
    assert.deepEqual((await devices(t, IMAC.udid)).map((d) => d.state).sort(), ['ENROLLED', 'UNENROLLED']);
  });

  test('a retried installation: an attempt that authenticated and never enrolled is retired when the retry enrolls', async () => {
    const t = await tenant();
    const token = await appleToken(t);
    const attempt = await identityOf(t, token);
    assert.equal((await send(t, attempt, IPAD.authenticate)).statusCode, 200);
    const retry = await identityOf(t, token);
    assert.equal((await send(t, retry, IPAD.authenticate)).statusCode, 200, 'not enrolled yet: the UDID is not held');
    assert.equal((await send(t, retry, IPAD.tokenUpdate)).statusCode, 200);
    const rows = await devices(t, IPAD.udid);
    assert.deepEqual(rows.map((d) => d.state).sort(), ['ENROLLED', 'UNENROLLED']);
    assert.equal(rows.find((d) => d.state === 'ENROLLED')!.pushTokenSet, true);
    assert.notEqual(await revokedAt(t, attempt), null);
    await refused('the earlier attempt', 401, 4004, () => send(t, attempt, IPAD.tokenUpdate));
  });
});

describe('who may check in', () => {
  test("no certificate, another device's, another organization's, a stranger's: refused, nothing changes", async () => {
    const a = await tenant();
    const b = await tenant();
    const imac = await identityOf(a, await appleToken(a));
    await enroll(a, imac, IMAC);
    const ipad = await identityOf(a, await appleToken(a));
    await enroll(a, ipad, IPAD);
    const stranger = await TestAppleDevice.create();
    const strangerSignature = async (name: string) => stranger.mdmSignature(capture(name), { certificate: stranger.selfSigned, key: stranger.keys.privateKey });

    await refused('no Mdm-Signature', 401, 4004, () => send(a, null, IMAC.tokenUpdate));
    await refused('no Mdm-Signature at the server URL', 401, 4004, () => send(a, null, IMAC.report, { server: true }));
    await refused("the iPad's identity on the iMac's Authenticate", 404, 3001, () => send(a, ipad, IMAC.authenticate));
    await refused("the iPad's identity on the iMac's TokenUpdate", 404, 3001, () => send(a, ipad, IMAC.tokenUpdate));
    await refused("the iPad's identity on the iMac's report", 404, 3001, () => send(a, ipad, IMAC.report, { server: true }));
    await refused("A's iMac at B's check-in URL", 401, 4004, () => send(b, imac, IMAC.authenticate));
    await refused("A's iMac at B's server URL", 401, 4004, () => send(b, imac, IMAC.report, { server: true }));
    await refused('a self-signed stranger', 401, 4004, async () =>
      ctx.app.inject({ method: 'PUT', url: `/mdm/apple/${a.org.id}/checkin`, payload: capture(IMAC.tokenUpdate), headers: { 'content-type': CHECKIN_TYPE, 'mdm-signature': await strangerSignature(IMAC.tokenUpdate) } }),
    );
    await unknownCommand('the control passes authentication', () => send(a, imac, IMAC.report, { server: true }));
    assert.equal((await sendIdle(a, imac, IMAC.udid)).statusCode, 200, 'the control passes');
  });

  test("micromdm's MacBook Pro: Authenticate, TokenUpdate with an empty UnlockToken, CheckOut", async () => {
    const t = await tenant(MICRO_TOPIC);
    const token = await appleToken(t);
    const mac = await identityOf(t, token);
    for (const name of ['micromdm-checkin/Authenticate.plist', 'micromdm-checkin/TokenUpdate.plist']) assert.equal((await send(t, mac, name)).statusCode, 200, name);
    assert.equal((await tokenOf(t, token.id)).state, 'DONE');
    const [row] = await devices(t, 'FA01680E-98CA-5557-8F59-7716ECFEE964');
    assert.deepEqual([row!.state, row!.model, row!.deviceName, row!.pushTokenSet], ['ENROLLED', 'MacBookPro11,5', 'Honest Mistake', true]);
    assert.equal((await send(t, mac, 'micromdm-checkin/CheckOut.plist')).statusCode, 200);
    await refused('after CheckOut', 401, 4004, () => send(t, mac, 'micromdm-checkin/Authenticate.plist'));
  });
});

// Last: it moves the clock past every token's expiry.
describe('expiry', () => {
  test('from expireAt an unredeemed identity gets 401, and the sweep revokes it with the state change', async () => {
    const t = await tenant();
    const token = await appleToken(t);
    const ipad = await identityOf(t, token);
    assert.equal((await send(t, ipad, IPAD.authenticate)).statusCode, 200);
    ctx.clock.advance(86_400_000 + 1);
    await refused('after expireAt, before the sweep', 401, 4004, () => send(t, ipad, IPAD.tokenUpdate));
    assert.equal(await revokedAt(t, ipad), null, 'the sweep has not run');
    assert.ok((await ctx.container.tokenLifecycle.sweepExpired()) >= 1);
    assert.equal((await tokenOf(t, token.id)).state, 'EXPIRED');
    assert.equal((await revokedAt(t, ipad))?.getTime(), new Date((await tokenOf(t, token.id)).expireAt).getTime(), 'revoked as of the expiry');
  });
});

/**
 * An iPhone or Mac gets its token's profiles (issue 25 items 2, 3, 5), played like the
 * conformance run: NanoMDM's captured iMac (test/fixtures/apple/nanomdm, byte for byte, signed
 * by the test device's identity) enrolls with a token that has its own profile and two policies'
 * (one overlapping it); TokenUpdate queues DeviceInformation and one InstallProfile per winning
 * profile, in the trail; the command loop at ServerURL hands them out one by one, the profile
 * signed by the organization (checked by `openssl cms -verify`), the device answers one NotNow
 * first and gets it back later, one with an Error and its ErrorChain; the API shows every
 * command's end, the DeviceInformation answers on the device, and its state per policy.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { build as buildPlist, parse as parsePlist } from 'plist';
import { createMdmUser, createOrg, type TestOrg } from '../helpers/factories.ts';
import { buildTestApp, call, type TestContext } from '../helpers/test-app.ts';
import { createToken } from '../helpers/tokens.ts';
import { makePushCertificate, openSignedProfile, TestAppleDevice } from '../protocols/apple/apple-device.ts';
import { CHECKIN_TYPE, MDM_TYPE, PKI_TYPE } from '../protocols/apple/apple-fixtures.ts';

type Dict = Record<string, unknown>;
const FIXTURES = new URL('../fixtures/apple/', import.meta.url);
const capture = (name: string) => readFileSync(new URL(name, FIXTURES));
const NANO_TOPIC = 'com.apple.mgmt.External.e0bd1eac-1f17-4c8e-8a63-dd17d3dd35d9';
const IMAC = { udid: '66ADE930-5FDF-5EC4-8429-15640684C489', authenticate: 'nanomdm/Authenticate.2.plist', tokenUpdate: 'nanomdm/TokenUpdate.2.plist' };
const IPAD = { udid: '663b07bb783e9ade1dae4fbb92ea12afc0ce5b69', authenticate: 'nanomdm/Authenticate.1.plist', tokenUpdate: 'nanomdm/TokenUpdate.1.plist' };
/** Apple Configurator's layout (test/fixtures/apple/README.md, `profiles/`). */
const WIFI = capture('profiles/wifi.mobileconfig').toString('utf8');
const RESTRICTIONS = capture('profiles/restrictions.mobileconfig').toString('utf8');
const WIFI_ID = 'Admins-MacBook-Pro.E4A3B1C2-6D7E-4F80-9A1B-2C3D4E5F6071';
const RESTRICTIONS_ID = 'Admins-MacBook-Pro.9D8C7B6A-5F4E-4D3C-2B1A-0F9E8D7C6B5A';
/** The same PayloadIdentifier as the token's own Wi-Fi profile, another network: the token's own wins. */
const WIFI_GUEST = WIFI.replace('<string>Openroll Office</string>', '<string>Guests</string>');

const openssl = spawnSync('openssl', ['version'], { encoding: 'utf8' });
const noOpenssl = openssl.error || openssl.status !== 0 ? 'the openssl binary is not installed' : false;

let ctx: TestContext;
let push: { certificate: string; privateKey: string };
before(async () => {
  // Webhook endpoints on loopback's discard port: no sender runs here, the deliveries are read through the API.
  ctx = await buildTestApp({ webhookAllowPrivateNetworks: true });
  push = await makePushCertificate({ uid: NANO_TOPIC });
});
after(() => ctx.close());

interface Enrolled {
  t: TestOrg;
  device: TestAppleDevice;
  id: string;
  udid: string;
  tokenId: string;
}

async function tenant(): Promise<TestOrg> {
  const t = await createOrg(ctx);
  const res = await call(ctx.app, t.adminKey, { method: 'PUT', url: `/v1/organizations/${t.org.id}/mdm/apple/enterprise/push-certificate`, payload: { certificate: push.certificate, privateKey: push.privateKey } });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return t;
}

async function policy(t: TestOrg, profiles: Dict[]): Promise<string> {
  const res = await call(ctx.app, t.adminKey, { method: 'POST', url: `/v1/organizations/${t.org.id}/mdm/apple/enterprise/policies`, payload: { name: 'p', profiles } });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.data.id;
}

/** A token with `body`, its profile downloaded, an identity from SCEP, then the captured Authenticate and TokenUpdate. */
async function enroll(t: TestOrg, messages: typeof IMAC, body: Dict): Promise<Enrolled> {
  const user = await createMdmUser(ctx, t.org);
  const token = await createToken(ctx, t.adminKey, t.org.id, 'apple', { mdmUserId: user.id, sendEmail: false, ...body });
  assert.equal(token.status, 200, JSON.stringify(token.body));
  const profile = await ctx.app.inject({ method: 'GET', url: `${new URL(token.body.data.enrollmentLink).pathname}/profile.mobileconfig` });
  const payloads = (parsePlist((await openSignedProfile(profile.rawPayload)).xml) as Dict).PayloadContent as Dict[];
  const challenge = String((payloads.find((p) => p.PayloadType === 'com.apple.security.scep')!.PayloadContent as Dict).Challenge);
  const device = await TestAppleDevice.create();
  const ca = await ctx.app.inject({ method: 'GET', url: `/mdm/apple/${t.org.id}/scep?operation=GetCACert` });
  const req = await device.pkcsReq(ca.rawPayload, challenge);
  const rep = await ctx.app.inject({ method: 'POST', url: `/mdm/apple/${t.org.id}/scep?operation=PKIOperation`, payload: req.message, headers: { 'content-type': PKI_TYPE } });
  assert.equal((await device.readCertRep(rep.rawPayload)).pkiStatus, '0');
  for (const name of [messages.authenticate, messages.tokenUpdate]) {
    const msg = capture(name);
    const res = await ctx.app.inject({ method: 'PUT', url: `/mdm/apple/${t.org.id}/checkin`, payload: msg, headers: { 'content-type': CHECKIN_TYPE, 'mdm-signature': await device.mdmSignature(msg) } });
    assert.equal(res.statusCode, 200, `${name}: ${res.body}`);
  }
  const list = await call(ctx.app, t.adminKey, { method: 'GET', url: `/v1/organizations/${t.org.id}/mdm/apple/devices?limit=500` });
  const row = list.body.data.items.find((d: Dict) => d.udid === messages.udid && d.state === 'ENROLLED');
  return { t, device, id: row.id, udid: messages.udid, tokenId: token.body.data.id };
}

async function report(e: Enrolled, body: Buffer) {
  const res = await ctx.app.inject({ method: 'PUT', url: `/mdm/apple/${e.t.org.id}/server`, payload: body, headers: { 'content-type': MDM_TYPE, 'mdm-signature': await e.device.mdmSignature(body) } });
  assert.equal(res.statusCode, 200, res.body);
  return res.body === '' ? null : (parsePlist(res.body) as { CommandUUID: string; Command: Dict });
}
const idle = (e: Enrolled) => Buffer.from(readFileSync(new URL('idle.plist', FIXTURES), 'utf8').replaceAll('{{UDID}}', e.udid));
/** A report in the shape Apple documents ("Commands and Queries": CommandUUID, Status, UDID, ErrorChain, QueryResponses). */
const status = (e: Enrolled, uuid: string, value: string, extra: Dict = {}) => Buffer.from(buildPlist({ CommandUUID: uuid, Status: value, UDID: e.udid, ...extra } as never));
const deviceOf = async (e: Enrolled) => (await call(ctx.app, e.t.adminKey, { method: 'GET', url: `/v1/organizations/${e.t.org.id}/mdm/apple/devices/${e.id}` })).body.data;
const queueOf = async (e: Enrolled) => (await call(ctx.app, e.t.adminKey, { method: 'GET', url: `/v1/organizations/${e.t.org.id}/mdm/apple/devices/${e.id}/commands` })).body.data.items as Dict[];

/** What `openssl cms -verify` says of an InstallProfile Payload, trusting the organization's CA: the signed content. */
async function opensslVerified(t: TestOrg, payload: Buffer): Promise<string> {
  const ca = await ctx.app.inject({ method: 'GET', url: `/mdm/apple/${t.org.id}/scep?operation=GetCACert` });
  const dir = mkdtempSync(join(tmpdir(), 'openroll-cms-'));
  try {
    writeFileSync(join(dir, 'ca.der'), ca.rawPayload);
    writeFileSync(join(dir, 'payload.der'), payload);
    const pem = spawnSync('openssl', ['x509', '-inform', 'DER', '-in', join(dir, 'ca.der'), '-out', join(dir, 'ca.pem')], { encoding: 'utf8' });
    assert.equal(pem.status, 0, pem.stderr);
    const run = spawnSync('openssl', ['cms', '-verify', '-inform', 'DER', '-in', join(dir, 'payload.der'), '-CAfile', join(dir, 'ca.pem'), '-purpose', 'any'], { encoding: 'utf8' });
    assert.equal(run.status, 0, `openssl cms -verify: ${run.stderr}`);
    assert.match(run.stderr, /Verification successful/);
    return run.stdout;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('an Apple device gets its token’s profiles', () => {
  test('TokenUpdate queues DeviceInformation then the winning profiles; the loop delivers them signed; NotNow comes back later; the API shows every end', async () => {
    const t = await tenant();
    const first = await policy(t, [{ name: 'restrictions', mobileconfig: RESTRICTIONS }, { name: 'no mobileconfig: kept, not installed' }]);
    const second = await policy(t, [{ name: 'guest Wi-Fi', mobileconfig: WIFI_GUEST }]);
    const imac = await enroll(t, IMAC, {
      profiles: [{ name: 'office Wi-Fi', mobileconfig: WIFI }],
      // The second policy comes first by priority, but its only profile loses to the token's own.
      admPolicyAssignments: [
        { admPolicyId: first, priority: 5 },
        { admPolicyId: second, priority: 1 },
      ],
    });

    const queued = await queueOf(imac);
    assert.deepEqual(
      queued.map((c) => [c.type, c.target, c.source, c.status]),
      [
        ['DeviceInformation', null, { tokenId: imac.tokenId, policyId: null }, 'queued'],
        ['InstallProfile', WIFI_ID, { tokenId: imac.tokenId, policyId: null }, 'queued'],
        ['InstallProfile', RESTRICTIONS_ID, { tokenId: imac.tokenId, policyId: first }, 'queued'],
      ],
    );
    const events = await call(ctx.app, t.adminKey, { method: 'GET', url: `/v1/organizations/${t.org.id}/mdm/apple/enterprise/enrollment-tokens/${imac.tokenId}/events` });
    const trail = events.body.data.items.find((e: Dict) => e.type === 'commands.queued');
    assert.deepEqual(trail.changes, { deviceId: imac.id, commands: queued.map((c) => ({ id: c.id, type: c.type, target: c.target, policyId: (c.source as Dict).policyId })) });
    assert.deepEqual((await deviceOf(imac)).policies, [
      { policyId: null, state: 'pending' },
      { policyId: first, state: 'pending' },
    ]);

    // Idle: DeviceInformation first.
    const info = await report(imac, idle(imac));
    assert.deepEqual(info, { CommandUUID: queued[0]!.id, Command: { RequestType: 'DeviceInformation', Queries: ['DeviceName', 'Model', 'OSVersion', 'SerialNumber'] } });

    // Its answers (DeviceInformationResponse, Apple's documented keys) update the device.
    const answers = { DeviceName: 'Front desk iMac', Model: 'ME086LL', OSVersion: '10.12.6', SerialNumber: 'C02LK0XYF8J2' };
    const wifi = await report(imac, status(imac, info!.CommandUUID, 'Acknowledged', { QueryResponses: answers }));
    const shown = await deviceOf(imac);
    assert.deepEqual([shown.deviceName, shown.model, shown.osVersion, shown.serialNumber], ['Front desk iMac', 'ME086LL', '10.12.6', 'C02LK0XYF8J2']);

    // InstallProfile: Payload is the profile, CMS-signed by the organization.
    assert.equal(wifi?.CommandUUID, queued[1]!.id);
    assert.equal(wifi?.Command.RequestType, 'InstallProfile');
    assert.deepEqual(Object.keys(wifi!.Command).sort(), ['Payload', 'RequestType'], 'the stored text is not sent beside the signed data');
    const payload = Buffer.from(wifi!.Command.Payload as Uint8Array);
    if (!noOpenssl) assert.equal(await opensslVerified(t, payload), WIFI);
    assert.equal((await openSignedProfile(payload)).xml, WIFI);

    // NotNow: not offered right back; the next command is.
    const restrictions = await report(imac, status(imac, wifi!.CommandUUID, 'NotNow'));
    assert.equal(restrictions?.CommandUUID, queued[2]!.id, 'NotNow: the next command, not the same one again');
    assert.equal((await openSignedProfile(Buffer.from(restrictions!.Command.Payload as Uint8Array))).xml, RESTRICTIONS);

    // The device fails the restrictions (Apple's ErrorChain); the Wi-Fi it said NotNow to comes back.
    const chain = [{ ErrorCode: 4001, ErrorDomain: 'MCInstallationErrorDomain', LocalizedDescription: 'The profile could not be installed.', USEnglishDescription: 'The profile could not be installed.' }];
    const again = await report(imac, status(imac, restrictions!.CommandUUID, 'Error', { ErrorChain: chain }));
    assert.equal(again?.CommandUUID, wifi!.CommandUUID, 'the command it said NotNow to, later');
    assert.equal(await report(imac, status(imac, again!.CommandUUID, 'Acknowledged')), null, 'nothing left: an empty 200');

    const ends = await queueOf(imac);
    assert.deepEqual(
      ends.map((c) => [c.type, c.status, c.result]),
      [
        ['DeviceInformation', 'acknowledged', null],
        ['InstallProfile', 'acknowledged', null],
        ['InstallProfile', 'error', { code: 4001, message: 'The profile could not be installed.', errorChain: chain }],
      ],
    );
    for (const c of ends) assert.equal(typeof c.completedAt, 'string');
    const device = await deviceOf(imac);
    assert.deepEqual(device.commands, { queued: 0, sent: 0, acknowledged: 2, error: 1 });
    assert.deepEqual(device.policies, [
      { policyId: null, state: 'applied' },
      { policyId: first, state: 'failed' },
    ]);
  });

  test('a token with no profiles queues only DeviceInformation; the captured answer without the queries changes no field', async () => {
    const t = await tenant();
    const imac = await enroll(t, IMAC, {});
    const [info] = await queueOf(imac);
    assert.equal((await queueOf(imac)).length, 1);
    const before = await deviceOf(imac);
    assert.equal((await report(imac, idle(imac)))?.CommandUUID, info!.id);
    // NanoMDM's captured Acknowledged DeviceInformation (HostName and UDID only), naming our command.
    const captured = Buffer.from(capture('nanomdm/DeviceInformation.1.plist').toString('utf8').replace('76eda240-5488-4989-8339-f2ae160113c4', String(info!.id)));
    assert.equal(await report(imac, captured), null);
    const after = await deviceOf(imac);
    assert.deepEqual([after.deviceName, after.model, after.osVersion, after.serialNumber], [before.deviceName, before.model, before.osVersion, before.serialNumber]);
    assert.deepEqual(after.policies, []);
  });

  test('a report naming another device’s command, or QueryResponses that are not a dictionary, changes nothing', async () => {
    const t = await tenant();
    const imac = await enroll(t, IMAC, {});
    const ipad = await enroll(t, IPAD, {});
    const [theirs] = await queueOf(ipad);
    const res = await ctx.app.inject({
      method: 'PUT',
      url: `/mdm/apple/${t.org.id}/server`,
      payload: status(imac, String(theirs!.id), 'Acknowledged', { QueryResponses: { DeviceName: 'stolen' } }),
      headers: { 'content-type': MDM_TYPE, 'mdm-signature': await imac.device.mdmSignature(status(imac, String(theirs!.id), 'Acknowledged', { QueryResponses: { DeviceName: 'stolen' } })) },
    });
    assert.deepEqual([res.statusCode, res.json().error.code], [404, 3001]);
    assert.equal((await queueOf(ipad))[0]!.status, 'queued');
    assert.notEqual((await deviceOf(imac)).deviceName, 'stolen');

    const bad = status(imac, String((await queueOf(imac))[0]!.id), 'Acknowledged', { QueryResponses: ['x'] });
    const refused = await ctx.app.inject({ method: 'PUT', url: `/mdm/apple/${t.org.id}/server`, payload: bad, headers: { 'content-type': MDM_TYPE, 'mdm-signature': await imac.device.mdmSignature(bad) } });
    assert.deepEqual([refused.statusCode, refused.json().error.code, refused.json().error.data.errors[0].path], [400, 3000, 'body.QueryResponses']);
    assert.equal((await queueOf(imac))[0]!.status, 'queued');
  });
});

/** An endpoint of `t` for `events` (every event when not given), and its deliveries of command events, oldest first. */
async function endpoint(t: TestOrg, events?: string[]): Promise<string> {
  const res = await call(ctx.app, t.adminKey, { method: 'POST', url: `/v1/organizations/${t.org.id}/webhooks`, payload: { url: 'http://127.0.0.1:9/hook', ...(events ? { events } : {}) } });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.data.id;
}
async function commandEvents(t: TestOrg, hookId: string) {
  const res = await call(ctx.app, t.adminKey, { method: 'GET', url: `/v1/organizations/${t.org.id}/webhooks/${hookId}/deliveries?limit=500` });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return [...res.body.data.items].reverse().filter((d: Dict) => String(d.eventType).startsWith('device.')) as Array<{ eventType: string; tokenId: string; payload: { type: string; timestamp: string; data: Dict } }>;
}

describe('an Apple device’s answers are webhook events', () => {
  test('Acknowledged and Error are events with the command; NotNow and a lost answer queued again are none; other endpoints get nothing', async () => {
    const t = await tenant();
    const wanted = await endpoint(t, ['device.command.acknowledged', 'device.command.failed']);
    const unsubscribed = await endpoint(t, ['enrollmentToken.redeemed']);
    const other = await tenant();
    const theirs = await endpoint(other);
    const imac = await enroll(t, IMAC, { profiles: [{ mobileconfig: WIFI }] });

    const info = await report(imac, idle(imac));
    assert.equal(info?.Command.RequestType, 'DeviceInformation');
    // Idle while it is sent: its answer was lost, it is queued again and offered again (no event).
    assert.equal((await report(imac, idle(imac)))?.CommandUUID, info!.CommandUUID);
    const wifi = await report(imac, status(imac, info!.CommandUUID, 'Acknowledged', { QueryResponses: { DeviceName: 'Front desk iMac' } }));
    assert.equal(wifi?.Command.RequestType, 'InstallProfile');
    assert.equal(await report(imac, status(imac, wifi!.CommandUUID, 'NotNow')), null);
    assert.equal((await commandEvents(t, wanted)).length, 1, 'NotNow is not an end');
    assert.equal((await report(imac, idle(imac)))?.CommandUUID, wifi!.CommandUUID);
    const chain = [{ ErrorCode: 4001, ErrorDomain: 'MCInstallationErrorDomain', LocalizedDescription: 'The profile could not be installed.', USEnglishDescription: 'The profile could not be installed.' }];
    assert.equal(await report(imac, status(imac, wifi!.CommandUUID, 'Error', { ErrorChain: chain })), null);
    // The same report again completes nothing more.
    assert.equal(await report(imac, status(imac, wifi!.CommandUUID, 'Error', { ErrorChain: chain })), null);

    const items = await queueOf(imac);
    const events = await commandEvents(t, wanted);
    assert.deepEqual(events.map((e) => [e.eventType, e.payload.type]), [
      ['device.command.acknowledged', 'device.command.acknowledged'],
      ['device.command.failed', 'device.command.failed'],
    ]);
    assert.deepEqual(events.map((e) => e.payload.data), items.map((command) => ({ organizationId: t.org.id, platform: 'apple', deviceId: imac.id, tokenId: imac.tokenId, command })), 'the commands as the API lists them');
    assert.deepEqual((events[1]!.payload.data.command as Dict).result, { code: 4001, message: 'The profile could not be installed.', errorChain: chain });
    assert.deepEqual(events.map((e) => e.payload.timestamp), items.map((c) => c.completedAt));
    assert.deepEqual(await commandEvents(t, unsubscribed), []);
    assert.deepEqual(await commandEvents(other, theirs), [], 'another organization’s endpoint');
  });
});

describe('when an Apple policy’s profiles change', () => {
  /** Every queued command answered Acknowledged, through the loop. */
  async function drain(e: Enrolled): Promise<Dict[]> {
    const got: Dict[] = [];
    let next = await report(e, idle(e));
    while (next) {
      got.push(next.Command);
      next = await report(e, status(e, next.CommandUUID, 'Acknowledged'));
    }
    return got;
  }
  const putPolicy = (t: TestOrg, id: string, payload: Dict) => call(ctx.app, t.adminKey, { method: 'PUT', url: `/v1/organizations/${t.org.id}/mdm/apple/enterprise/policies/${id}`, payload });
  const pending = async (e: Enrolled) => (await queueOf(e)).filter((c) => c.status === 'queued').map((c) => [c.type, c.target, (c.source as Dict).policyId]);

  test('changed and added profiles are installed, removed ones removed, on every enrolled device of the policy, once', async () => {
    const t = await tenant();
    const shared = await policy(t, [{ mobileconfig: RESTRICTIONS }, { mobileconfig: WIFI_GUEST }]);
    const other = await policy(t, [{ mobileconfig: RESTRICTIONS }]);
    const imac = await enroll(t, IMAC, { admPolicyAssignments: [{ admPolicyId: shared, priority: 1 }] });
    // The iPad's token has its own Wi-Fi profile: a change of the policy's one is not its winner.
    const ipad = await enroll(t, IPAD, { profiles: [{ mobileconfig: WIFI }], admPolicyAssignments: [{ admPolicyId: shared, priority: 1 }] });
    assert.equal((await drain(imac)).length, 3);
    assert.equal((await drain(ipad)).length, 3);

    const stricter = RESTRICTIONS.replace('<key>allowCamera</key>\n\t\t\t<true/>', '<key>allowCamera</key>\n\t\t\t<false/>');
    const vpnLike = WIFI.replaceAll('E4A3B1C2-6D7E-4F80-9A1B-2C3D4E5F6071', '11111111-2222-4333-8444-555555555555');
    const res = await putPolicy(t, shared, { profiles: [{ mobileconfig: stricter }, { mobileconfig: vpnLike }] });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const added = 'Admins-MacBook-Pro.11111111-2222-4333-8444-555555555555';
    assert.deepEqual(await pending(imac), [
      ['InstallProfile', added, shared],
      ['InstallProfile', RESTRICTIONS_ID, shared],
      ['RemoveProfile', WIFI_ID, shared],
    ]);
    assert.deepEqual(await pending(ipad), [
      ['InstallProfile', added, shared],
      ['InstallProfile', RESTRICTIONS_ID, shared],
    ], "the iPad keeps its token's own Wi-Fi");

    // Delivered through the loop: the new version signed, RemoveProfile naming the identifier.
    const delivered = await drain(imac);
    assert.deepEqual(delivered.map((c) => c.RequestType), ['InstallProfile', 'InstallProfile', 'RemoveProfile']);
    assert.equal((await openSignedProfile(Buffer.from(delivered[1]!.Payload as Uint8Array))).xml, stricter);
    assert.deepEqual(delivered[2], { RequestType: 'RemoveProfile', Identifier: WIFI_ID });

    // The same profiles again, or a change of the name only: nothing more to send.
    assert.equal((await putPolicy(t, shared, { profiles: [{ mobileconfig: stricter }, { mobileconfig: vpnLike }] })).status, 200);
    assert.equal((await putPolicy(t, shared, { name: 'renamed' })).status, 200);
    assert.deepEqual(await pending(imac), []);
    assert.equal((await putPolicy(t, other, { profiles: [] })).status, 200);
    assert.deepEqual(await pending(imac), [], 'a policy of no token of this device changes nothing here');
    assert.deepEqual((await deviceOf(imac)).policies, [{ policyId: shared, state: 'applied' }]);
  });

  test('a redeemed token’s own profiles and policies changed: its device gets InstallProfile for the added, RemoveProfile for the removed, once', async () => {
    const t = await tenant();
    const restrictions = await policy(t, [{ mobileconfig: RESTRICTIONS }]);
    const imac = await enroll(t, IMAC, { profiles: [{ mobileconfig: WIFI }], admPolicyAssignments: [{ admPolicyId: restrictions, priority: 1 }] });
    assert.equal((await drain(imac)).length, 3);
    const vpnLike = WIFI.replaceAll('E4A3B1C2-6D7E-4F80-9A1B-2C3D4E5F6071', '11111111-2222-4333-8444-555555555555');
    const added = 'Admins-MacBook-Pro.11111111-2222-4333-8444-555555555555';
    const second = await policy(t, [{ mobileconfig: vpnLike }, { mobileconfig: RESTRICTIONS }]);
    const tokenUrl = `/v1/organizations/${t.org.id}/mdm/apple/enterprise/enrollment-tokens/${imac.tokenId}`;
    const put = (payload: Dict) => call(ctx.app, t.adminKey, { method: 'PUT', url: tokenUrl, payload });

    // The token's own Wi-Fi goes; a second policy brings a new profile and the same restrictions.
    const change = { profiles: [], admPolicyAssignments: [{ admPolicyId: restrictions, priority: 1 }, { admPolicyId: second, priority: 0 }] };
    const res = await put(change);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.data.state, 'DONE');
    assert.deepEqual(await pending(imac), [
      ['InstallProfile', added, second],
      ['RemoveProfile', WIFI_ID, null],
    ], 'the restrictions it has, the same profile now from another policy, are not sent again');
    assert.equal((await put(change)).status, 200);
    assert.equal((await put({ displayName: 'renamed' })).status, 200);
    assert.equal((await pending(imac)).length, 2, 'a change that changes nothing queues nothing');

    const delivered = await drain(imac);
    assert.deepEqual(delivered.map((c) => c.RequestType), ['InstallProfile', 'RemoveProfile']);
    assert.equal((await openSignedProfile(Buffer.from(delivered[0]!.Payload as Uint8Array))).xml, vpnLike);
    assert.deepEqual(delivered[1], { RequestType: 'RemoveProfile', Identifier: WIFI_ID });
  });

  test('a refused update queues nothing; another organization’s devices never get the change', async () => {
    const a = await tenant();
    const b = await tenant();
    const mine = await policy(a, [{ mobileconfig: RESTRICTIONS }]);
    const imac = await enroll(a, IMAC, { admPolicyAssignments: [{ admPolicyId: mine, priority: 0 }] });
    const theirs = await enroll(b, IMAC, {});
    await drain(imac);
    await drain(theirs);
    const bad = await putPolicy(a, mine, { profiles: [{ mobileconfig: 'broken' }] });
    assert.deepEqual([bad.status, bad.body.error.code], [400, 3000]);
    const foreign = await putPolicy(b, mine, { profiles: [] });
    assert.deepEqual([foreign.status, foreign.body.error.code], [404, 3001]);
    assert.deepEqual(await pending(imac), []);
    assert.equal((await putPolicy(a, mine, { profiles: [] })).status, 200);
    assert.deepEqual(await pending(imac), [['RemoveProfile', RESTRICTIONS_ID, mine]]);
    assert.deepEqual(await pending(theirs), []);
  });
});

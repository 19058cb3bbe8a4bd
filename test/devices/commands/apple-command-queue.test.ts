/**
 * The command queue through the Apple adapter, end to end in the style of NanoMDM's e2e suite:
 * NanoMDM's captured iMac and iPad enroll (test/fixtures/apple/nanomdm, byte for byte, signed by
 * the test device's identity), two commands are queued through the service, the channel at
 * ServerURL answers them one by one in order, the reports complete them (the iMac's captured
 * Acknowledged DeviceInformation, with our CommandUUID), NotNow offers one again after the next
 * Idle, an unknown or another device's CommandUUID changes nothing, retire and CheckOut clear
 * the queue, and another organization never sees it.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { build as buildPlist, parse as parsePlist } from 'plist';
import type { NewDeviceCommand } from '../../../src/devices/commands/device-command.ts';
import { changedTables, createDbProbe, type DbProbe } from '../../helpers/db-probe.ts';
import { createMdmUser, createOrg, type TestOrg } from '../../helpers/factories.ts';
import { buildTestApp, call, type TestContext } from '../../helpers/test-app.ts';
import { createToken } from '../../helpers/tokens.ts';
import { makePushCertificate, openSignedProfile, TestAppleDevice } from '../../protocols/apple/apple-device.ts';
import { CHECKIN_TYPE, MDM_TYPE, PKI_TYPE } from '../../protocols/apple/apple-fixtures.ts';

type Dict = Record<string, unknown>;
const FIXTURES = new URL('../../fixtures/apple/', import.meta.url);
const capture = (name: string) => readFileSync(new URL(name, FIXTURES));
const NANO_TOPIC = 'com.apple.mgmt.External.e0bd1eac-1f17-4c8e-8a63-dd17d3dd35d9';
const IMAC = { udid: '66ADE930-5FDF-5EC4-8429-15640684C489', authenticate: 'nanomdm/Authenticate.2.plist', tokenUpdate: 'nanomdm/TokenUpdate.2.plist' };
const IPAD = { udid: '663b07bb783e9ade1dae4fbb92ea12afc0ce5b69', authenticate: 'nanomdm/Authenticate.1.plist', tokenUpdate: 'nanomdm/TokenUpdate.1.plist' };
/** The CommandUUID of the captured report, which the suite replaces with the command's own. */
const CAPTURED_UUID = '76eda240-5488-4989-8339-f2ae160113c4';

const INFO: NewDeviceCommand = { type: 'DeviceInformation', target: null, payload: { Queries: ['DeviceName', 'Model', 'OSVersion', 'SerialNumber'] } };
const PROFILES: NewDeviceCommand = { type: 'ProfileList', target: null };

let ctx: TestContext;
let probe: DbProbe;
let push: { certificate: string; privateKey: string };

before(async () => {
  ctx = await buildTestApp();
  probe = await createDbProbe(ctx.container.database);
  push = await makePushCertificate({ uid: NANO_TOPIC });
});
after(() => ctx.close());

interface Enrolled {
  t: TestOrg;
  device: TestAppleDevice;
  id: string;
  udid: string;
}

async function tenant(): Promise<TestOrg> {
  const t = await createOrg(ctx);
  const res = await call(ctx.app, t.adminKey, { method: 'PUT', url: `/v1/organizations/${t.org.id}/mdm/apple/enterprise/push-certificate`, payload: { certificate: push.certificate, privateKey: push.privateKey } });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return t;
}

/** A token, its profile downloaded, an identity from SCEP, then the captured Authenticate and TokenUpdate. */
async function enroll(t: TestOrg, messages: { udid: string; authenticate: string; tokenUpdate: string }): Promise<Enrolled> {
  const user = await createMdmUser(ctx, t.org);
  const token = await createToken(ctx, t.adminKey, t.org.id, 'apple', { mdmUserId: user.id, sendEmail: false });
  const profile = await ctx.app.inject({ method: 'GET', url: `${new URL(token.body.data.enrollmentLink).pathname}/profile.mobileconfig` });
  const payloads = (parsePlist((await openSignedProfile(profile.rawPayload)).xml) as Dict).PayloadContent as Dict[];
  const challenge = String((payloads.find((p) => p.PayloadType === 'com.apple.security.scep')!.PayloadContent as Dict).Challenge);
  const device = await TestAppleDevice.create();
  const ca = await ctx.app.inject({ method: 'GET', url: `/mdm/apple/${t.org.id}/scep?operation=GetCACert` });
  const req = await device.pkcsReq(ca.rawPayload, challenge);
  const rep = await ctx.app.inject({ method: 'POST', url: `/mdm/apple/${t.org.id}/scep?operation=PKIOperation`, payload: req.message, headers: { 'content-type': PKI_TYPE } });
  assert.equal((await device.readCertRep(rep.rawPayload)).pkiStatus, '0');
  for (const name of [messages.authenticate, messages.tokenUpdate]) {
    const body = capture(name);
    const res = await ctx.app.inject({ method: 'PUT', url: `/mdm/apple/${t.org.id}/checkin`, payload: body, headers: { 'content-type': CHECKIN_TYPE, 'mdm-signature': await device.mdmSignature(body) } });
    assert.equal(res.statusCode, 200, `${name}: ${res.body}`);
  }
  const list = await call(ctx.app, t.adminKey, { method: 'GET', url: `/v1/organizations/${t.org.id}/mdm/apple/devices?limit=500` });
  const row = list.body.data.items.find((d: Dict) => d.udid === messages.udid && d.state === 'ENROLLED');
  // The redemption queued its DeviceInformation (test/devices/apple-profiles-delivery.test.ts
  // follows it); this suite drops it and queues its own commands.
  assert.equal(await ctx.container.deviceCommands.clear(ctx.container.database.db, t.org.id, row.id), 1);
  return { t, device, id: row.id, udid: messages.udid };
}

const enqueue = (e: Enrolled, commands: NewDeviceCommand[]) => ctx.container.deviceCommands.enqueue(ctx.container.database.db, e.t.org.id, { id: e.id, platform: 'apple' }, commands);

/** A report at ServerURL, signed by the device; `answer` is the command it got back (null: an empty 200). */
async function report(e: Enrolled, body: Buffer, signer: Enrolled = e) {
  const res = await ctx.app.inject({ method: 'PUT', url: `/mdm/apple/${e.t.org.id}/server`, payload: body, headers: { 'content-type': MDM_TYPE, 'mdm-signature': await signer.device.mdmSignature(body) } });
  return { res, answer: res.statusCode === 200 && res.body !== '' ? (parsePlist(res.body) as Dict) : null };
}

const idle = (e: Enrolled) => Buffer.from(readFileSync(new URL('idle.plist', FIXTURES), 'utf8').replaceAll('{{UDID}}', e.udid));
/** The iMac's captured Acknowledged DeviceInformation, naming `uuid` instead of the capture's command. */
const acknowledged = (uuid: string) => Buffer.from(capture('nanomdm/DeviceInformation.1.plist').toString('utf8').replace(CAPTURED_UUID, uuid));
/** A status report in the shape Apple documents ("Commands and Queries": CommandUUID, Status, UDID, ErrorChain). */
const status = (e: Enrolled, uuid: string, value: string, extra: Dict = {}) => Buffer.from(buildPlist({ CommandUUID: uuid, Status: value, UDID: e.udid, ...extra } as never));

const queueOf = async (e: Enrolled) => (await call(ctx.app, e.t.adminKey, { method: 'GET', url: `/v1/organizations/${e.t.org.id}/mdm/apple/devices/${e.id}/commands` })).body.data.items as Dict[];
const countsOf = async (e: Enrolled) => (await call(ctx.app, e.t.adminKey, { method: 'GET', url: `/v1/organizations/${e.t.org.id}/mdm/apple/devices/${e.id}` })).body.data.commands;

describe('the Apple channel delivers the queue', () => {
  test('one command per answer, in order; Acknowledged and Error complete; NotNow offers it again after Idle', async () => {
    const imac = await enroll(await tenant(), IMAC);
    const [info, profiles] = await enqueue(imac, [INFO, PROFILES]);

    const first = await report(imac, idle(imac));
    assert.equal(first.res.headers['content-type'], 'application/xml; charset=utf-8');
    assert.deepEqual(first.answer, { CommandUUID: info!.id, Command: { RequestType: 'DeviceInformation', Queries: ['DeviceName', 'Model', 'OSVersion', 'SerialNumber'] } });
    assert.deepEqual(await countsOf(imac), { queued: 1, sent: 1, acknowledged: 0, error: 0 });

    const second = await report(imac, acknowledged(info!.id));
    assert.deepEqual(second.answer, { CommandUUID: profiles!.id, Command: { RequestType: 'ProfileList' } });

    const notNow = await report(imac, status(imac, profiles!.id, 'NotNow'));
    assert.equal(notNow.res.statusCode, 200);
    assert.equal(notNow.answer, null, 'the command it said NotNow to is not offered right back');
    assert.deepEqual(await countsOf(imac), { queued: 1, sent: 0, acknowledged: 1, error: 0 });

    const again = await report(imac, idle(imac));
    assert.equal(again.answer?.CommandUUID, profiles!.id, 'NotNow: offered again at the next Idle');

    const chain = [{ ErrorCode: 12021, ErrorDomain: 'MCMDMErrorDomain', LocalizedDescription: 'The device is locked', USEnglishDescription: 'The device is locked' }];
    const failed = await report(imac, status(imac, profiles!.id, 'Error', { ErrorChain: chain }));
    assert.equal(failed.answer, null);
    assert.equal(failed.res.body, '', 'nothing left: an empty 200');

    const [a, b] = await queueOf(imac);
    assert.deepEqual([a!.id, a!.type, a!.status, a!.result], [info!.id, 'DeviceInformation', 'acknowledged', null]);
    assert.deepEqual([b!.status, b!.result], ['error', { code: 12021, message: 'The device is locked', errorChain: chain }]);
    assert.equal(typeof b!.completedAt, 'string');
  });

  test('a command sent and never answered is offered again at the next Idle', async () => {
    const imac = await enroll(await tenant(), IMAC);
    const [info] = await enqueue(imac, [INFO]);
    assert.equal((await report(imac, idle(imac))).answer?.CommandUUID, info!.id);
    assert.equal((await report(imac, idle(imac))).answer?.CommandUUID, info!.id, 'the answer was lost: the device is Idle');
    assert.equal((await report(imac, acknowledged(info!.id))).answer, null);
    assert.deepEqual(await countsOf(imac), { queued: 0, sent: 0, acknowledged: 1, error: 0 });
  });

  test("an unknown CommandUUID, or another device's, is refused and changes nothing", async () => {
    const t = await tenant();
    const imac = await enroll(t, IMAC);
    const ipad = await enroll(t, IPAD);
    const [theirs] = await enqueue(ipad, [INFO]);
    await enqueue(imac, [PROFILES]);
    for (const [label, body] of [
      ['unknown', acknowledged('0123456789abcdef01234567')],
      ["the iPad's command", acknowledged(theirs!.id)],
      ['not an id', acknowledged('not-a-command')],
    ] as const) {
      const before = await probe.snapshot();
      const { res } = await report(imac, body);
      assert.equal(res.statusCode, 404, label);
      assert.equal(res.json().error.code, 3001, label);
      assert.deepEqual(res.json().error.data.errors.map((e: Dict) => e.path), ['body.CommandUUID'], label);
      assert.deepEqual(changedTables(before, await probe.snapshot()), [], `${label}: nothing changed`);
    }
    assert.equal((await queueOf(ipad))[0]!.status, 'queued');
  });
});

describe('clearing and isolation', () => {
  test('retire clears what is pending; CheckOut too', async () => {
    const t = await tenant();
    const imac = await enroll(t, IMAC);
    const [info] = await enqueue(imac, [INFO, PROFILES]);
    await report(imac, idle(imac));
    await report(imac, acknowledged(info!.id));
    await enqueue(imac, [INFO]);
    assert.deepEqual(await countsOf(imac), { queued: 1, sent: 1, acknowledged: 1, error: 0 });
    const retired = await call(ctx.app, t.adminKey, { method: 'DELETE', url: `/v1/organizations/${t.org.id}/mdm/apple/devices/${imac.id}` });
    assert.equal(retired.status, 200);
    assert.deepEqual(retired.body.data.commands, { queued: 0, sent: 0, acknowledged: 1, error: 0 });

    const ipad = await enroll(t, IPAD);
    await enqueue(ipad, [INFO, PROFILES]);
    const checkout = Buffer.from(readFileSync(new URL('checkout.plist', FIXTURES), 'utf8').replaceAll('{{TOPIC}}', NANO_TOPIC).replaceAll('{{UDID}}', IPAD.udid));
    const res = await ctx.app.inject({ method: 'PUT', url: `/mdm/apple/${t.org.id}/checkin`, payload: checkout, headers: { 'content-type': CHECKIN_TYPE, 'mdm-signature': await ipad.device.mdmSignature(checkout) } });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(await countsOf(ipad), { queued: 0, sent: 0, acknowledged: 0, error: 0 });
  });

  test('another organization never sees the queue; the same UDID there has its own', async () => {
    const a = await enroll(await tenant(), IMAC);
    const b = await enroll(await tenant(), IMAC);
    const [mine] = await enqueue(a, [INFO]);
    for (const url of [`/v1/organizations/${a.t.org.id}/mdm/apple/devices/${a.id}/commands`, `/v1/organizations/${b.t.org.id}/mdm/apple/devices/${a.id}/commands`]) {
      const res = await call(ctx.app, b.t.adminKey, { method: 'GET', url });
      assert.deepEqual([res.status, res.body.error.code], [404, 3001], url);
    }
    assert.equal((await report(b, idle(b))).answer, null, "B's iMac gets none of A's commands");
    const { res } = await report(b, acknowledged(mine!.id));
    assert.equal(res.statusCode, 404, "B's iMac cannot answer A's command");
    assert.equal((await queueOf(a))[0]!.status, 'queued');
  });
});

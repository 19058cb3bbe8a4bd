/**
 * Push through APNs (issue 25 item 4, CONTRACT.md section 6 "Push (APNs)") against an HTTP/2 TLS
 * server on loopback that requires a client certificate (test/helpers/apns-server.ts): the
 * end-to-end request from an enqueued command, one pooled session per certificate, retries with
 * backoff by the manual clock, 410 and BadDeviceToken marking the token dead, the dedupe, and two
 * senders on one database sending each push once.
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { and, eq } from 'drizzle-orm';
import { parse as parsePlist } from 'plist';
import { appleDevices, applePushOutbox } from '../../src/db/schema.ts';
import { createPushTargetsRepo } from '../../src/devices/commands/push-targets.repo.ts';
import { createApnsClient } from '../../src/push/apns-client.ts';
import { createPushSender } from '../../src/push/push-sender.ts';
import { startLoopbackApns, type LoopbackApns } from '../helpers/apns-server.ts';
import { createAppleDevice } from '../helpers/apple-factories.ts';
import { createMdmUser, createOrg, type TestOrg } from '../helpers/factories.ts';
import { buildTestApp, call, type TestContext } from '../helpers/test-app.ts';
import { createToken } from '../helpers/tokens.ts';
import { makePushCertificate, openSignedProfile, TestAppleDevice } from '../protocols/apple/apple-device.ts';
import { CHECKIN_TYPE, PKI_TYPE } from '../protocols/apple/apple-fixtures.ts';

type Dict = Record<string, unknown>;
const FIXTURES = new URL('../fixtures/apple/', import.meta.url);
const capture = (name: string) => readFileSync(new URL(name, FIXTURES));
const RETRY_BASE_MS = 1_000;

let ctx: TestContext;
let apns: LoopbackApns;
let cert: { certificate: string; privateKey: string; topic: string };

before(async () => {
  apns = await startLoopbackApns();
  ctx = await buildTestApp({ apnsUrl: apns.url, apnsRetryBaseMs: RETRY_BASE_MS, apnsMaxAttempts: 5 }, { apnsCa: apns.ca });
  cert = await makePushCertificate();
});
after(async () => {
  ctx.container.apns.close();
  await apns.close();
  await ctx.close();
});

async function tenant(push = cert): Promise<TestOrg> {
  const t = await createOrg(ctx);
  const res = await call(ctx.app, t.adminKey, { method: 'PUT', url: `/v1/organizations/${t.org.id}/mdm/apple/enterprise/push-certificate`, payload: { certificate: push.certificate, privateKey: push.privateKey } });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return t;
}

/** Queues one Apple command for the device the way every caller does: in a transaction, through the queue. */
async function enqueue(t: TestOrg, deviceId: string, type = 'DeviceInformation'): Promise<void> {
  await ctx.container.database.db.transaction((tx) => ctx.container.deviceCommands.enqueue(tx, t.org.id, { id: deviceId, platform: 'apple' }, [{ type, target: null, payload: {} }]));
}

async function pushesOf(t: TestOrg, deviceId: string) {
  return ctx.container.database.db
    .select()
    .from(applePushOutbox)
    .where(and(eq(applePushOutbox.organizationId, t.org.id), eq(applePushOutbox.deviceId, deviceId)));
}

const deviceView = async (t: TestOrg, id: string): Promise<Dict> => (await call(ctx.app, t.adminKey, { method: 'GET', url: `/v1/organizations/${t.org.id}/mdm/apple/devices/${id}` })).body.data;

/** Runs the sender until nothing is due now. */
async function drain() {
  for (let i = 0; i < 20; i++) if ((await ctx.container.pushSender.runOnce()).claimed === 0) return;
}

describe('the end to end: a command for an enrolled device sends exactly the documented push', () => {
  test('NanoMDM captured iMac enrolls; a queued command reaches the loopback APNs as the contract says', async () => {
    // The topic NanoMDM's captured check-ins name: the certificate must be theirs.
    const nano = await makePushCertificate({ uid: 'com.apple.mgmt.External.e0bd1eac-1f17-4c8e-8a63-dd17d3dd35d9' });
    const t = await tenant(nano);
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
    // NanoMDM's captured check-ins (test/fixtures/apple/nanomdm), byte for byte.
    for (const name of ['nanomdm/Authenticate.2.plist', 'nanomdm/TokenUpdate.2.plist']) {
      const body = capture(name);
      const res = await ctx.app.inject({ method: 'PUT', url: `/mdm/apple/${t.org.id}/checkin`, payload: body, headers: { 'content-type': CHECKIN_TYPE, 'mdm-signature': await device.mdmSignature(body) } });
      assert.equal(res.statusCode, 200, `${name}: ${res.body}`);
    }
    const list = await call(ctx.app, t.adminKey, { method: 'GET', url: `/v1/organizations/${t.org.id}/mdm/apple/devices` });
    const id = list.body.data.items[0].id as string;
    // Whatever the enrollment itself pushed is out of the way first.
    await drain();
    const before = apns.requests.length;

    await enqueue(t, id);
    const report = await ctx.container.pushSender.runOnce();
    assert.equal(report.sent, 1);

    const update = parsePlist(capture('nanomdm/TokenUpdate.2.plist').toString('utf8')) as Dict;
    const sent = apns.requests.slice(before);
    assert.equal(sent.length, 1);
    const [push] = sent;
    assert.equal(push!.path, `/3/device/${Buffer.from(update.Token as Uint8Array).toString('hex')}`);
    assert.equal(push!.headers[':method'], 'POST');
    assert.equal(push!.headers['apns-topic'], nano.topic);
    assert.equal(push!.headers['apns-push-type'], 'mdm');
    assert.equal(push!.headers['apns-priority'], '10');
    assert.equal(push!.body, JSON.stringify({ mdm: update.PushMagic }));
    assert.equal(push!.clientCertificate, new X509Certificate(nano.certificate).fingerprint256);
    const [row] = await pushesOf(t, id);
    assert.equal(row!.status, 'sent');
    assert.equal(row!.responseStatus, 200);
    assert.match(row!.apnsId ?? '', /^[0-9a-f-]{36}$/);
  });
});

describe('the pool', () => {
  test('many pushes of one organization travel over one HTTP/2 session; a dropped one is opened again', async () => {
    const t = await tenant();
    const client = createApnsClient({ url: apns.url, ca: apns.ca });
    const sender = createPushSender({ database: ctx.container.database, clock: ctx.clock, log: { warn() {}, error() {} }, apns: client, maxAttempts: 3, retryBaseMs: 1000, concurrency: 10, credentials: ctx.container.pushCertificates.clientCredentials, targets: { find: (o, d) => createPushTargetsRepo(ctx.container.database.db).find(o, d) } });
    const sessionsBefore = apns.sessions();
    const devices = await Promise.all(Array.from({ length: 8 }, () => createAppleDevice(ctx, t.org)));
    for (const d of devices) await enqueue(t, d.id);
    assert.equal((await sender.runOnce()).sent, 8);
    for (const d of devices.slice(0, 2)) await enqueue(t, d.id, 'ProfileList');
    assert.equal((await sender.runOnce()).sent, 2);
    assert.equal(client.sessionsOpened(), 1);
    assert.equal(apns.sessions() - sessionsBefore, 1);

    apns.dropSessions();
    await new Promise((r) => setTimeout(r, 50));
    await enqueue(t, devices[0]!.id, 'SecurityInfo');
    assert.equal((await sender.runOnce()).sent, 1);
    assert.equal(client.sessionsOpened(), 2);
    client.close();
  });
});

describe('retries and refusals', () => {
  test('429 and 503 are retried with exponential backoff by the clock, then sent', async () => {
    const t = await tenant();
    const d = await createAppleDevice(ctx, t.org);
    await enqueue(t, d.id);
    apns.answers.push({ status: 503, reason: 'ServiceUnavailable' }, { status: 429, reason: 'TooManyRequests' });
    const start = ctx.clock.now().getTime();

    assert.equal((await ctx.container.pushSender.runOnce()).retried, 1);
    let [row] = await pushesOf(t, d.id);
    assert.equal(row!.status, 'pending');
    assert.equal(row!.responseStatus, 503);
    assert.equal(row!.lastError, 'ServiceUnavailable');
    assert.equal(row!.nextAttemptAt.getTime(), start + RETRY_BASE_MS);
    // Not due yet: nothing is sent.
    assert.equal((await ctx.container.pushSender.runOnce()).claimed, 0);

    ctx.clock.advance(RETRY_BASE_MS);
    assert.equal((await ctx.container.pushSender.runOnce()).retried, 1);
    [row] = await pushesOf(t, d.id);
    assert.equal(row!.lastError, 'TooManyRequests');
    assert.equal(row!.nextAttemptAt.getTime(), ctx.clock.now().getTime() + 2 * RETRY_BASE_MS);

    ctx.clock.advance(2 * RETRY_BASE_MS);
    assert.equal((await ctx.container.pushSender.runOnce()).sent, 1);
    [row] = await pushesOf(t, d.id);
    assert.equal(row!.status, 'sent');
    assert.equal(row!.attempts, 3);
  });

  test('a network error (nothing listening) is retried too', async () => {
    const t = await tenant();
    const d = await createAppleDevice(ctx, t.org);
    await enqueue(t, d.id);
    const closed = createApnsClient({ url: 'https://127.0.0.1:1', ca: apns.ca });
    const sender = createPushSender({ database: ctx.container.database, clock: ctx.clock, log: { warn() {}, error() {} }, apns: closed, maxAttempts: 3, retryBaseMs: 1000, credentials: ctx.container.pushCertificates.clientCredentials, targets: { find: (o, id) => createPushTargetsRepo(ctx.container.database.db).find(o, id) } });
    assert.equal((await sender.runOnce()).retried, 1);
    const [row] = await pushesOf(t, d.id);
    assert.equal(row!.status, 'pending');
    assert.equal(row!.responseStatus, null);
    assert.ok(row!.lastError);
    ctx.clock.advance(RETRY_BASE_MS);
    await drain();
  });

  for (const answer of [{ status: 410, reason: 'Unregistered' }, { status: 400, reason: 'BadDeviceToken' }]) {
    test(`${answer.status} ${answer.reason} fails the push for good and marks the token: no further push until a new token`, async () => {
      const t = await tenant();
      const d = await createAppleDevice(ctx, t.org);
      assert.equal((await deviceView(t, d.id)).pushTokenInvalid, false);
      await enqueue(t, d.id);
      apns.answers.push(answer);
      assert.equal((await ctx.container.pushSender.runOnce()).cancelled, 1);
      assert.equal((await deviceView(t, d.id)).pushTokenInvalid, true, 'the device object shows it');
      const listed = await call(ctx.app, t.adminKey, { method: 'GET', url: `/v1/organizations/${t.org.id}/mdm/apple/devices` });
      assert.equal(listed.body.data.items.find((x: Dict) => x.id === d.id).pushTokenInvalid, true);
      const [row] = await pushesOf(t, d.id);
      assert.equal(row!.status, 'failed');
      assert.equal(row!.responseStatus, answer.status);
      assert.equal(row!.lastError, answer.reason);
      assert.deepEqual(row!.refusedToken, d.pushToken);
      assert.equal(await createPushTargetsRepo(ctx.container.database.db).find(t.org.id, d.id), undefined);

      const sent = apns.requests.length;
      await enqueue(t, d.id, 'ProfileList');
      assert.equal((await pushesOf(t, d.id)).length, 1, 'no push for a refused token');
      await drain();
      assert.equal(apns.requests.length, sent);
      // A TokenUpdate's new token (written as the check-in writes it): valid again.
      await ctx.container.database.db.update(appleDevices).set({ pushToken: Buffer.alloc(32, 7) }).where(and(eq(appleDevices.organizationId, t.org.id), eq(appleDevices.id, d.id)));
      assert.equal((await deviceView(t, d.id)).pushTokenInvalid, false);
    });
  }

  test('logs and metrics of a refused push never carry the full push token nor PushMagic', async () => {
    const t = await tenant();
    const d = await createAppleDevice(ctx, t.org);
    await enqueue(t, d.id);
    apns.answers.push({ status: 410, reason: 'Unregistered' });
    const lines: string[] = [];
    const log = { warn: (obj: object, msg: string) => lines.push(JSON.stringify({ ...obj, msg })), error: (obj: object, msg: string) => lines.push(JSON.stringify({ ...obj, msg })) };
    const sender = createPushSender({ database: ctx.container.database, clock: ctx.clock, log, apns: ctx.container.apns, maxAttempts: 3, retryBaseMs: 1000, credentials: ctx.container.pushCertificates.clientCredentials, targets: { find: (o, id) => createPushTargetsRepo(ctx.container.database.db).find(o, id) } });
    await sender.runOnce();
    assert.equal(lines.length, 1);
    const text = lines.join('\n');
    assert.match(text, /Unregistered/);
    assert.ok(!text.includes(d.pushToken!.toString('hex')), text);
    assert.ok(!text.includes(d.pushToken!.toString('base64')), text);
    assert.ok(!text.includes(d.pushMagic!), text);
    const metrics = await ctx.container.metrics.registry.metrics();
    assert.ok(!metrics.includes(d.pushToken!.toString('hex')) && !metrics.includes(d.pushMagic!));
  });

  test('another 4xx (403 BadCertificate) fails the push without marking the token', async () => {
    const t = await tenant();
    const d = await createAppleDevice(ctx, t.org);
    await enqueue(t, d.id);
    apns.answers.push({ status: 403, reason: 'BadCertificate' });
    await ctx.container.pushSender.runOnce();
    const [row] = await pushesOf(t, d.id);
    assert.equal(row!.status, 'failed');
    assert.equal(row!.refusedToken, null);
    assert.ok(await createPushTargetsRepo(ctx.container.database.db).find(t.org.id, d.id));
    assert.equal((await deviceView(t, d.id)).pushTokenInvalid, false);
  });
});

describe('dedupe and queueing', () => {
  test('a device with a pending push gets no second one; once sent, the next command pushes again', async () => {
    const t = await tenant();
    const d = await createAppleDevice(ctx, t.org);
    await enqueue(t, d.id);
    await enqueue(t, d.id, 'ProfileList');
    await Promise.all([enqueue(t, d.id, 'SecurityInfo'), enqueue(t, d.id, 'CertificateList')]);
    assert.equal((await pushesOf(t, d.id)).filter((p) => p.status === 'pending').length, 1);
    const sent = apns.requests.length;
    await drain();
    assert.equal(apns.requests.length, sent + 1);
    await enqueue(t, d.id, 'InstalledApplicationList');
    assert.equal((await pushesOf(t, d.id)).length, 2);
  });

  test('no push without a push token, or without a push certificate', async () => {
    await drain();
    const t = await tenant();
    const d = await createAppleDevice(ctx, t.org);
    await ctx.container.database.db.execute(`update apple_devices set push_token = null where id = '${d.id}'`);
    await enqueue(t, d.id);
    assert.equal((await pushesOf(t, d.id)).length, 0);

    const noCert = await createOrg(ctx);
    const other = await createAppleDevice(ctx, noCert.org);
    await enqueue(noCert, other.id);
    const sent = apns.requests.length;
    await drain();
    const [row] = await pushesOf(noCert, other.id);
    assert.equal(row!.status, 'cancelled');
    assert.equal(apns.requests.length, sent);
  });

  test('two senders on one database send each push once', async () => {
    const t = await tenant();
    const devices = await Promise.all(Array.from({ length: 12 }, () => createAppleDevice(ctx, t.org)));
    for (const d of devices) await enqueue(t, d.id);
    const sent = apns.requests.length;
    const senders = [0, 1].map(() =>
      createPushSender({ database: ctx.container.database, clock: ctx.clock, log: { warn() {}, error() {} }, apns: createApnsClient({ url: apns.url, ca: apns.ca }), maxAttempts: 3, retryBaseMs: 1000, concurrency: 4, credentials: ctx.container.pushCertificates.clientCredentials, targets: { find: (o, id) => createPushTargetsRepo(ctx.container.database.db).find(o, id) } }),
    );
    let total = 0;
    for (let round = 0; round < 5; round++) {
      const reports = await Promise.all(senders.map((s) => s.runOnce()));
      total += reports.reduce((n, r) => n + r.sent, 0);
    }
    assert.equal(total, 12);
    const paths = apns.requests.slice(sent).map((r) => r.path);
    assert.equal(paths.length, 12);
    assert.equal(new Set(paths).size, 12);
  });
});

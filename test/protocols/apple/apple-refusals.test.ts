/**
 * What a device (or anyone) can send that Openroll must refuse, each with a clear 4xx and not
 * one row of the database changed: unsigned and mis-signed messages, strangers' identities,
 * another organization's URL, bad plists, unknown devices, spent and foreign challenges, and a
 * property-based run of mutated messages.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { parse as parsePlist } from 'plist';
import { changedTables, createDbProbe, type DbProbe } from '../../helpers/db-probe.ts';
import { createMdmUser, createOrg, type TestOrg } from '../../helpers/factories.ts';
import { buildTestApp, call, type TestContext } from '../../helpers/test-app.ts';
import { createToken } from '../../helpers/tokens.ts';
import { makePushCertificate, openSignedProfile, TestAppleDevice } from './apple-device.ts';
import { CHECKIN_TYPE, fixture, MDM_TYPE, PKI_TYPE } from './apple-fixtures.ts';

type Dict = Record<string, unknown>;
let ctx: TestContext;
let probe: DbProbe;
interface Tenant extends TestOrg {
  topic: string;
}
let a: Tenant;
let b: Tenant;

async function tenant(): Promise<Tenant> {
  const t = await createOrg(ctx);
  const push = await makePushCertificate();
  const res = await call(ctx.app, t.adminKey, { method: 'PUT', url: `/v1/organizations/${t.org.id}/mdm/apple/enterprise/push-certificate`, payload: { certificate: push.certificate, privateKey: push.privateKey } });
  assert.equal(res.status, 200);
  return { ...t, topic: push.topic };
}

async function token(t: Tenant) {
  const user = await createMdmUser(ctx, t.org);
  const res = await createToken(ctx, t.adminKey, t.org.id, 'apple', { mdmUserId: user.id, sendEmail: false });
  return { id: res.body.data.id as string, path: new URL(res.body.data.enrollmentLink).pathname };
}

async function profile(path: string): Promise<{ challenge: string }> {
  const res = await ctx.app.inject({ method: 'GET', url: `${path}/profile.mobileconfig` });
  assert.equal(res.statusCode, 200, res.body);
  const payloads = (parsePlist((await openSignedProfile(res.rawPayload)).xml) as Dict).PayloadContent as Dict[];
  return { challenge: String((payloads.find((p) => p.PayloadType === 'com.apple.security.scep')!.PayloadContent as Dict).Challenge) };
}

const scepPath = (t: Tenant) => `/mdm/apple/${t.org.id}/scep`;
const checkInPath = (t: Tenant) => `/mdm/apple/${t.org.id}/checkin`;
const serverPath = (t: Tenant) => `/mdm/apple/${t.org.id}/server`;

async function scep(device: TestAppleDevice, t: Tenant, challenge: string, caOf: Tenant = t) {
  const ca = await ctx.app.inject({ method: 'GET', url: `${scepPath(caOf)}?operation=GetCACert` });
  const req = await device.pkcsReq(ca.rawPayload, challenge);
  const res = await ctx.app.inject({ method: 'POST', url: `${scepPath(t)}?operation=PKIOperation`, payload: req.message, headers: { 'content-type': PKI_TYPE } });
  return { res, rep: res.statusCode === 200 ? await device.readCertRep(res.rawPayload) : undefined, req };
}

/** A device of `t` that has its identity (SCEP done) but has not checked in yet. */
async function deviceWithIdentity(t: Tenant) {
  const tok = await token(t);
  const { challenge } = await profile(tok.path);
  const device = await TestAppleDevice.create();
  const { rep } = await scep(device, t, challenge);
  assert.equal(rep?.pkiStatus, '0');
  return { device, token: tok, values: { topic: t.topic, udid: device.udid, serial: device.serialNumber } };
}

/**
 * Each message from an address of its own (198.18.0.0/15, for tests): this suite sends more
 * refused messages than the per-address limit of failed device authentications allows, which
 * test/limits/device-auth-limit.test.ts tests on its own.
 */
let sent = 0;
function put(url: string, body: Buffer | string, signature: string | undefined, contentType = CHECKIN_TYPE) {
  const n = ++sent;
  const remoteAddress = `198.18.${(n >> 8) & 255}.${n & 255}`;
  return ctx.app.inject({ method: 'PUT', url, payload: body, remoteAddress, headers: { 'content-type': contentType, ...(signature !== undefined ? { 'mdm-signature': signature } : {}) } });
}

/** The request is refused with `status`/`code` and the database is exactly as it was. */
async function refused(send: () => Promise<{ statusCode: number; json(): { error: { code: number } } }>, status: number, code: number, label: string) {
  const before = await probe.snapshot();
  const res = await send();
  assert.equal(res.statusCode, status, label);
  assert.equal(res.json().error.code, code, label);
  assert.deepEqual(changedTables(before, await probe.snapshot()), [], `${label}: the database changed`);
}

before(async () => {
  ctx = await buildTestApp();
  probe = await createDbProbe(ctx.container.database);
  a = await tenant();
  b = await tenant();
});
after(() => ctx.close());

describe('signed messages: who may speak', () => {
  test('no signature, a signature of other bytes, garbage, a stranger, a foreign organization: 401 4004', async () => {
    const { device, values } = await deviceWithIdentity(a);
    const body = fixture('authenticate.plist', values);
    const other = fixture('authenticate.plist', { ...values, serial: 'TAMPERED' });
    const stranger = await TestAppleDevice.create();
    await refused(() => put(checkInPath(a), body, undefined), 401, 4004, 'no Mdm-Signature');
    await refused(() => put(checkInPath(a), body, ''), 401, 4004, 'empty Mdm-Signature');
    await refused(() => put(checkInPath(a), body, '%%%not base64%%%'), 401, 4004, 'not base64');
    await refused(() => put(checkInPath(a), body, Buffer.from('garbage').toString('base64')), 401, 4004, 'not CMS');
    await refused(async () => put(checkInPath(a), other, await device.mdmSignature(body)), 401, 4004, 'signature of other bytes');
    await refused(async () => put(checkInPath(a), body, await stranger.mdmSignature(body, { certificate: stranger.selfSigned, key: stranger.keys.privateKey })), 401, 4004, 'a self-signed stranger');
    await refused(async () => put(checkInPath(b), body, await device.mdmSignature(body)), 401, 4004, "A's device at B's URL");
    await refused(async () => put(serverPath(b), fixture('idle.plist', values), await device.mdmSignature(fixture('idle.plist', values)), MDM_TYPE), 401, 4004, "A's device at B's server URL");
    assert.equal((await put(checkInPath(a), body, await device.mdmSignature(body))).statusCode, 200, 'the control passes');
  });

  test('bad plists, missing or unknown fields, a wrong topic: 400 3000 naming the problem', async () => {
    const { device, values } = await deviceWithIdentity(a);
    const signed = async (text: string) => {
      const body = Buffer.from(text);
      return put(checkInPath(a), body, await device.mdmSignature(body));
    };
    const plist = (inner: string) => `<?xml version="1.0" encoding="UTF-8"?><plist version="1.0"><dict>${inner}</dict></plist>`;
    for (const [label, text] of [
      ['not XML', 'hello'],
      ['JSON', '{"MessageType":"Authenticate"}'],
      ['broken XML', '<plist><dict><key>MessageType</key></plist>'],
      ['an entity', '<?xml version="1.0"?><!DOCTYPE plist [<!ENTITY x "Authenticate">]><plist><dict><key>MessageType</key><string>&x;</string></dict></plist>'],
      ['__proto__', plist('<key>__proto__</key><dict><key>MessageType</key><string>Authenticate</string></dict>')],
      ['an array', '<plist><array/></plist>'],
      ['no MessageType', plist(`<key>UDID</key><string>${values.udid}</string>`)],
      ['an unknown MessageType', plist('<key>MessageType</key><string>Reboot</string>')],
      ['a wrong Topic', plist(`<key>MessageType</key><string>Authenticate</string><key>Topic</key><string>${b.topic}</string><key>UDID</key><string>${values.udid}</string>`)],
      ['no UDID', plist(`<key>MessageType</key><string>Authenticate</string><key>Topic</key><string>${a.topic}</string>`)],
      ['a UDID that is a number', plist(`<key>MessageType</key><string>Authenticate</string><key>Topic</key><string>${a.topic}</string><key>UDID</key><integer>7</integer>`)],
    ] as const) {
      await refused(() => signed(text), 400, 3000, label);
    }
    await refused(() => put(checkInPath(a), '{}', 'x', 'application/json'), 400, 3000, 'JSON content type');
  });

  test('unknown devices: TokenUpdate before Authenticate, Idle before TokenUpdate, another UDID: 404 3001', async () => {
    const { device, values, token: tok } = await deviceWithIdentity(a);
    const update = fixture('token-update.plist', values);
    await refused(async () => put(checkInPath(a), update, await device.mdmSignature(update)), 404, 3001, 'TokenUpdate first');
    const auth = fixture('authenticate.plist', values);
    assert.equal((await put(checkInPath(a), auth, await device.mdmSignature(auth))).statusCode, 200);
    const idle = fixture('idle.plist', values);
    await refused(async () => put(serverPath(a), idle, await device.mdmSignature(idle), MDM_TYPE), 404, 3001, 'Idle before TokenUpdate');
    const otherUdid = fixture('token-update.plist', { ...values, udid: 'OTHER-UDID' });
    await refused(async () => put(checkInPath(a), otherUdid, await device.mdmSignature(otherUdid)), 404, 3001, 'another UDID');
    const reAuth = fixture('authenticate.plist', { ...values, udid: 'OTHER-UDID' });
    await refused(async () => put(checkInPath(a), reAuth, await device.mdmSignature(reAuth)), 404, 3001, 'the identity authenticating another UDID');
    // The token was revoked meanwhile: its unredeemed identities went with it, so TokenUpdate
    // cannot redeem it and nothing this identity signs is heard (issue 20: 401, not 400 5146).
    await call(ctx.app, a.adminKey, { method: 'DELETE', url: `/v1/organizations/${a.org.id}/mdm/apple/enterprise/enrollment-tokens/${tok.id}` });
    await refused(async () => put(checkInPath(a), update, await device.mdmSignature(update)), 401, 4004, 'a revoked token');
  });
});

describe('SCEP refusals', () => {
  test('spent, foreign and revoked challenges get FAILURE CertReps; nothing is issued', async () => {
    const tok = await token(a);
    const { challenge } = await profile(tok.path);
    // B's CA is made on its first use; that is not what this test watches.
    await ctx.app.inject({ method: 'GET', url: `${scepPath(b)}?operation=GetCACert` });
    const before = await probe.snapshot();
    const foreign = await scep(await TestAppleDevice.create(), b, challenge, b);
    assert.equal(foreign.rep?.pkiStatus, '2', "A's challenge at B");
    assert.equal(foreign.rep?.failInfo, '2');
    const wrongCa = await scep(await TestAppleDevice.create(), a, challenge, b);
    assert.equal(wrongCa.rep?.pkiStatus, '2', 'enveloped to the wrong CA');
    assert.equal(wrongCa.rep?.failInfo, '1');
    const noChallenge = await ctx.app.inject({ method: 'GET', url: `${scepPath(a)}?operation=GetCACert` }).then(async (ca) => {
      const device = await TestAppleDevice.create();
      const req = await device.pkcsReq(ca.rawPayload, null);
      const res = await ctx.app.inject({ method: 'POST', url: `${scepPath(a)}?operation=PKIOperation`, payload: req.message, headers: { 'content-type': PKI_TYPE } });
      return device.readCertRep(res.rawPayload);
    });
    assert.equal(noChallenge.pkiStatus, '2', 'no challengePassword');
    assert.deepEqual(changedTables(before, await probe.snapshot()), [], 'refusals change nothing');
    await call(ctx.app, a.adminKey, { method: 'DELETE', url: `/v1/organizations/${a.org.id}/mdm/apple/enterprise/enrollment-tokens/${tok.id}` });
    const revoked = await scep(await TestAppleDevice.create(), a, challenge);
    assert.equal(revoked.rep?.pkiStatus, '2', 'the token was revoked after the download');
    const gone = await ctx.app.inject({ method: 'GET', url: `${tok.path}/profile.mobileconfig` });
    assert.equal(gone.statusCode, 410);
  });

  test('messages that cannot be answered: 400; unknown organization: 404', async () => {
    await refused(() => ctx.app.inject({ method: 'POST', url: `${scepPath(a)}?operation=PKIOperation`, payload: Buffer.from('garbage'), headers: { 'content-type': PKI_TYPE } }), 400, 3000, 'garbage');
    await refused(() => ctx.app.inject({ method: 'GET', url: `${scepPath(a)}?operation=PKIOperation&message=%%%` }), 400, 3000, 'message not base64');
    await refused(() => ctx.app.inject({ method: 'GET', url: `${scepPath(a)}?operation=PKIOperation` }), 400, 3000, 'no message');
    await refused(() => ctx.app.inject({ method: 'GET', url: `${scepPath(a)}?operation=GetNextCACert` }), 400, 3000, 'unknown operation');
    await refused(() => ctx.app.inject({ method: 'GET', url: `/mdm/apple/${'0'.repeat(24)}/scep?operation=GetCACert` }), 404, 3001, 'unknown organization');
    await refused(() => ctx.app.inject({ method: 'GET', url: `/mdm/apple/${a.org.slug}/scep?operation=GetCACert` }), 400, 3000, 'a slug is not an organization id here');
    const unknownLink = await ctx.app.inject({ method: 'GET', url: `/enroll/${'A'.repeat(43)}/profile.mobileconfig` });
    assert.equal(unknownLink.statusCode, 404, 'unknown link: the not-found page');
    assert.match(unknownLink.body, /This enrollment link is not valid/);
  });
});

describe('fuzzing the signed channel', () => {
  test('mutated bodies under a valid signature, and valid signatures over mutated plists: always 4xx, nothing stored', async () => {
    const { device, values } = await deviceWithIdentity(a);
    const auth = fixture('authenticate.plist', values);
    const signature = await device.mdmSignature(auth);
    const before = await probe.snapshot();
    await fc.assert(
      fc.asyncProperty(fc.nat(auth.length - 1), fc.integer({ min: 1, max: 255 }), async (at, xor) => {
        const body = Buffer.from(auth);
        body[at] = body[at]! ^ xor;
        const res = await put(checkInPath(a), body, signature);
        assert.equal(res.statusCode, 401);
      }),
      { seed: 13, numRuns: 60 },
    );
    const text = auth.toString('utf8');
    await fc.assert(
      fc.asyncProperty(fc.nat(text.length - 1), fc.nat(text.length), fc.string({ maxLength: 12 }), async (from, length, insert) => {
        const mutated = Buffer.from(text.slice(0, from) + insert + text.slice(from + (length % 40)));
        if (mutated.equals(auth)) return;
        const res = await put(checkInPath(a), mutated, await device.mdmSignature(mutated));
        assert.ok(res.statusCode < 500, `${res.statusCode} ${res.body}`);
        if (res.statusCode !== 200) assert.ok([400, 404].includes(res.statusCode), `${res.statusCode} ${res.body}`);
      }),
      { seed: 13, numRuns: 60 },
    );
    // Mutations that still parse may authenticate this device (200, its own row); nothing else moves.
    const changed = changedTables(before, await probe.snapshot());
    assert.ok(changed.every((t) => t === 'apple_devices'), `changed: ${changed}`);
  });
});

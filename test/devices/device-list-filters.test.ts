/**
 * The device lists' filters (state, MDM user, last seen) on both platforms, through HTTP on a
 * real database: Windows PCs enrolled through the real enrollment endpoint and seen in a real
 * management session, Apple rows behind real tokens of real users. Each filter narrows the
 * list and its total; a user of another organization finds nothing; bad values are 400 3000.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createAppleDevice } from '../helpers/apple-factories.ts';
import { createMdmUser, createOrg, type TestOrg } from '../helpers/factories.ts';
import { buildTestApp, call, type TestContext } from '../helpers/test-app.ts';
import { createToken, tokensPath } from '../helpers/tokens.ts';
import { BEHIND_PROXY, enrollWindowsDevice, managementSession } from '../helpers/windows-device.ts';

let ctx: TestContext;
let a: TestOrg;
let b: TestOrg;
const devicesPath = (org: string, platform: 'windows' | 'apple') => `/v1/organizations/${org}/mdm/${platform}/devices`;

before(async () => {
  ctx = await buildTestApp(BEHIND_PROXY);
  a = await createOrg(ctx);
  b = await createOrg(ctx);
});
after(() => ctx.close());

async function ids(org: TestOrg, platform: 'windows' | 'apple', query: string): Promise<{ ids: string[]; total: number }> {
  const res = await call(ctx.app, org.adminKey, { method: 'GET', url: `${devicesPath(org.org.id, platform)}?sort=createdAt:asc&${query}` });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return { ids: res.body.data.items.map((d: { id: string }) => d.id).sort(), total: res.body.data.totalDocs };
}

const sorted = (...values: string[]) => ({ ids: [...values].sort(), total: values.length });

describe('device list filters', () => {
  test('Windows: state, the user of the token, last seen (never seen counts as before)', async () => {
    const seen = await enrollWindowsDevice(ctx, a, 'A1A1A1A1-0000-4000-8000-000000000001');
    const quiet = await enrollWindowsDevice(ctx, a, 'A1A1A1A1-0000-4000-8000-000000000002');
    const all = (await ids(a, 'windows', '')).ids;
    assert.equal(all.length, 2);
    const idOf = async (tokenId: string) => {
      const token = await call(ctx.app, a.adminKey, { method: 'GET', url: `${tokensPath(a.org.id, 'windows')}/${tokenId}` });
      const device = token.body.data.winDeviceId as string;
      return { device, user: token.body.data.mdmUser.id as string };
    };
    const s = await idOf(seen.tokenId);
    const q = await idOf(quiet.tokenId);

    const boundary = new Date(ctx.clock.now().getTime() + 60_000).toISOString();
    ctx.clock.advance(120_000);
    const session = await managementSession(ctx, a.org.id, { deviceId: seen.deviceId, pem: seen.pem });
    assert.equal(session.statusCode, 200, session.body);
    assert.equal((await call(ctx.app, a.adminKey, { method: 'DELETE', url: `${devicesPath(a.org.id, 'windows')}/${q.device}` })).status, 200);

    assert.deepEqual(await ids(a, 'windows', 'state=enrolled'), sorted(s.device));
    assert.deepEqual(await ids(a, 'windows', 'state=unenrolled'), sorted(q.device));
    assert.deepEqual(await ids(a, 'windows', `mdm-user=${s.user}`), sorted(s.device));
    assert.deepEqual(await ids(a, 'windows', `mdm-user=${q.user.toUpperCase()}`), sorted(q.device));
    assert.deepEqual(await ids(a, 'windows', `last-seen-after=${encodeURIComponent(boundary)}`), sorted(s.device));
    assert.deepEqual(await ids(a, 'windows', `last-seen-before=${encodeURIComponent(boundary)}`), sorted(q.device));
    assert.deepEqual(await ids(a, 'windows', `state=enrolled&last-seen-before=${encodeURIComponent(boundary)}`), sorted());
    // The filters of another organization's key see only its own devices.
    assert.deepEqual(await ids(b, 'windows', `mdm-user=${s.user}`), sorted());
  });

  test('Apple: state and the user of the token', async () => {
    const jane = await createMdmUser(ctx, a.org);
    const john = await createMdmUser(ctx, a.org);
    const token = async (userId: string) => {
      const res = await createToken(ctx, a.adminKey, a.org.id, 'apple', { mdmUserId: userId, sendEmail: false });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return res.body.data.id as string;
    };
    const janes = await createAppleDevice(ctx, a.org, await token(jane.id));
    const johns = await createAppleDevice(ctx, a.org, await token(john.id));
    // A Windows token of Jane's does not make an Apple device hers.
    await createToken(ctx, a.adminKey, a.org.id, 'windows', { mdmUserId: jane.id, sendEmail: false });
    assert.equal((await call(ctx.app, a.adminKey, { method: 'DELETE', url: `${devicesPath(a.org.id, 'apple')}/${johns.id}` })).status, 200);

    assert.deepEqual(await ids(a, 'apple', `mdm-user=${jane.id}`), sorted(janes.id));
    assert.deepEqual(await ids(a, 'apple', 'state=ENROLLED'), sorted(janes.id));
    assert.deepEqual(await ids(a, 'apple', 'state=UNENROLLED'), sorted(johns.id));
    assert.deepEqual(await ids(a, 'apple', `state=ENROLLED&mdm-user=${john.id}`), sorted());
    const later = new Date(ctx.clock.now().getTime() + 1).toISOString();
    assert.deepEqual(await ids(a, 'apple', `last-seen-before=${encodeURIComponent(later)}`), sorted(janes.id, johns.id));
    assert.deepEqual(await ids(a, 'apple', `last-seen-after=${encodeURIComponent(later)}`), sorted());
    assert.deepEqual(await ids(b, 'apple', `mdm-user=${jane.id}`), sorted());
  });

  test('a value outside the schema is 400 3000 naming the filter', async () => {
    for (const [platform, query] of [
      ['windows', 'state=ENROLLED'],
      ['windows', 'state=authenticated'],
      ['apple', 'state=enrolled'],
      ['apple', 'mdm-user=not-an-id'],
      ['windows', 'last-seen-after=yesterday'],
      ['apple', 'last-seen-before=2026-13-01'],
      ['windows', 'colour=blue'],
    ] as const) {
      const res = await call(ctx.app, a.adminKey, { method: 'GET', url: `${devicesPath(a.org.id, platform)}?${query}` });
      assert.equal(res.status, 400, `${platform} ${query}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.error.code, 3000, query);
    }
  });
});

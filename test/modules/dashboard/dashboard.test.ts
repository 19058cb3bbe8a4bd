/**
 * GET /v1/organizations/:org/dashboard through HTTP on a real database: every figure is read
 * against the API's own lists (tokens with revoked ones, devices, commands), another
 * organization's rows never count, viewers may read it, and the security cases of every route.
 * Tokens and the Windows enrollment go through the API and the real enrollment endpoint; the
 * failed email and the failed commands are written as the outbox sender and the session would
 * leave them (their own suites drive those paths), so this suite stands on its own.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { and, eq } from 'drizzle-orm';
import { deviceCommands, emailOutbox } from '../../../src/db/schema.ts';
import { newId } from '../../../src/lib/ids.ts';
import { createAppleDevice } from '../../helpers/apple-factories.ts';
import { createKey, createMdmUser, createOrg, type TestOrg } from '../../helpers/factories.ts';
import { assertRouteSecurity } from '../../helpers/security.ts';
import { buildTestApp, call, type TestContext } from '../../helpers/test-app.ts';
import { createToken, tokensPath } from '../../helpers/tokens.ts';
import { enrollWindowsDevice } from '../../helpers/windows-device.ts';

let ctx: TestContext;
let a: TestOrg;
let b: TestOrg;
const dashboardPath = (org: string) => `/v1/organizations/${org}/dashboard`;
const WEEK = 7 * 86_400;
type Platform = 'windows' | 'apple';

before(async () => {
  ctx = await buildTestApp();
  a = await createOrg(ctx);
  b = await createOrg(ctx);
});
after(() => ctx.close());

async function token(org: TestOrg, platform: Platform, body: Record<string, unknown> = {}): Promise<string> {
  const user = await createMdmUser(ctx, org.org);
  const res = await createToken(ctx, org.adminKey, org.org.id, platform, { mdmUserId: user.id, sendEmail: false, duration: WEEK, ...body });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.data.id;
}

async function failedCommand(org: TestOrg, deviceId: string, status: 'error' | 'acknowledged') {
  const now = ctx.clock.now();
  await ctx.container.database.db.insert(deviceCommands).values({ organizationId: org.org.id, id: newId(), deviceId, platform: 'windows', type: 'Replace', target: './Device/Vendor/MSFT/Test', status, result: { code: status === 'error' ? 405 : 200, message: null }, createdAt: now, updatedAt: now, completedAt: now });
}

async function list(org: TestOrg, url: string): Promise<Array<Record<string, unknown>>> {
  const res = await call(ctx.app, org.adminKey, { method: 'GET', url });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.ok(res.body.data.totalDocs <= 500);
  return res.body.data.items;
}

describe('the dashboard', () => {
  test('every figure equals what the lists show, and nothing of another organization counts', async () => {
    // Windows: one expiring today (one hour), one open for a week, one expired, one revoked, one enrolled.
    await token(a, 'windows', { duration: 3600 });
    const emailed = await token(a, 'windows', { sendEmail: true });
    await token(a, 'windows', { duration: 60 });
    const revoked = await token(a, 'windows');
    assert.equal((await call(ctx.app, a.adminKey, { method: 'DELETE', url: `${tokensPath(a.org.id, 'windows')}/${revoked}` })).status, 200);
    const pc = await enrollWindowsDevice(ctx, a, 'D0D0D0D0-0000-4000-8000-000000000001');
    // Apple: one open token; an enrolled device row behind another.
    await token(a, 'apple');
    await createAppleDevice(ctx, a.org, await token(a, 'apple'));
    // The other organization's rows, which must not count.
    await token(b, 'windows', { duration: 3600 });
    const other = await enrollWindowsDevice(ctx, b, 'D0D0D0D0-0000-4000-8000-000000000002');

    ctx.clock.advance(120_000);
    // The emailed token's delivery failed for good; the PC answered two commands with an error.
    const marked = await ctx.container.database.db
      .update(emailOutbox)
      .set({ status: 'failed', lastError: 'mailbox unavailable', updatedAt: ctx.clock.now() })
      .where(and(eq(emailOutbox.organizationId, a.org.id), eq(emailOutbox.tokenId, emailed)))
      .returning();
    assert.equal(marked.length, 1);
    const devices = await list(a, `/v1/organizations/${a.org.id}/mdm/windows/devices?limit=500`);
    const pcId = devices.find((d) => d.deviceId === pc.deviceId)!.id as string;
    await failedCommand(a, pcId, 'error');
    await failedCommand(a, pcId, 'error');
    await failedCommand(a, pcId, 'acknowledged');
    const otherId = (await list(b, `/v1/organizations/${b.org.id}/mdm/windows/devices?limit=500`)).find((d) => d.deviceId === other.deviceId)!.id as string;
    await failedCommand(b, otherId, 'error');

    const res = await call(ctx.app, a.adminKey, { method: 'GET', url: dashboardPath(a.org.id) });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const d = res.body.data;
    assert.equal(d.at, ctx.clock.now().toISOString());

    const now = ctx.clock.now().getTime();
    for (const platform of ['windows', 'apple'] as const) {
      const tokens = await list(a, `${tokensPath(a.org.id, platform)}?limit=500&show-deleted=true`);
      const byState = Object.fromEntries(['PENDING', 'DONE', 'DELETED', 'EXPIRED'].map((s) => [s, tokens.filter((t) => t.state === s).length]));
      assert.deepEqual(d.tokens[platform], byState, `${platform} tokens by state`);
      const soon = tokens.filter((t) => t.state === 'PENDING' && Date.parse(String(t.expireAt)) <= now + 86_400_000).length;
      assert.equal(d.expiringSoon[platform], soon, `${platform} expiring within 24 hours`);
      const failedEmails = tokens.filter((t) => (t.summary as { email?: { status: string } | null }).email?.status === 'failed').length;
      assert.equal(d.emailsFailed[platform], failedEmails, `${platform} failed emails`);
      const platformDevices = await list(a, `/v1/organizations/${a.org.id}/mdm/${platform}/devices?limit=500`);
      assert.equal(d.commandsFailed[platform], platformDevices.reduce((n, dev) => n + (dev.commands as { error: number }).error, 0), `${platform} failed commands`);
      const today = new Date(now).toISOString().slice(0, 10);
      const enrolledToday = platformDevices.filter((dev) => String(dev.enrolledAt).slice(0, 10) === today).length;
      assert.equal(d.enrollmentsPerDay.at(-1)[platform], enrolledToday, `${platform} enrollments today`);
      assert.equal(d.enrollmentsPerDay.reduce((n: number, day: Record<Platform, number>) => n + day[platform], 0), enrolledToday);
    }
    // The figures as written above, so a list and the dashboard wrong the same way cannot agree.
    assert.deepEqual(d.tokens.windows, { PENDING: 2, DONE: 1, DELETED: 1, EXPIRED: 1 });
    assert.deepEqual(d.tokens.apple, { PENDING: 2, DONE: 0, DELETED: 0, EXPIRED: 0 });
    assert.deepEqual(d.expiringSoon, { windows: 1, apple: 0 });
    assert.deepEqual(d.emailsFailed, { windows: 1, apple: 0 });
    assert.deepEqual(d.commandsFailed, { windows: 2, apple: 0 });
    assert.equal(d.enrollmentsPerDay.length, 30);
    assert.deepEqual(d.enrollmentsPerDay.at(-1), { day: new Date(now).toISOString().slice(0, 10), windows: 1, apple: 1 });
    assert.ok(d.enrollmentsPerDay.slice(0, -1).every((day: Record<Platform, number>) => day.windows === 0 && day.apple === 0));
    assert.equal(d.enrollmentsPerDay[0].day, new Date(now - 29 * 86_400_000).toISOString().slice(0, 10));

    // The other organization sees only its own.
    const theirs = (await call(ctx.app, b.adminKey, { method: 'GET', url: dashboardPath(b.org.id) })).body.data;
    assert.deepEqual(theirs.tokens.windows, { PENDING: 1, DONE: 1, DELETED: 0, EXPIRED: 0 });
    assert.deepEqual(theirs.commandsFailed, { windows: 1, apple: 0 });
    assert.deepEqual(theirs.emailsFailed, { windows: 0, apple: 0 });
  });

  test('a new organization has zeros and 30 empty days', async () => {
    const fresh = await createOrg(ctx);
    const d = (await call(ctx.app, fresh.adminKey, { method: 'GET', url: dashboardPath(fresh.org.id) })).body.data;
    assert.deepEqual(d.tokens.apple, { PENDING: 0, DONE: 0, DELETED: 0, EXPIRED: 0 });
    assert.deepEqual(d.expiringSoon, { windows: 0, apple: 0 });
    assert.equal(d.enrollmentsPerDay.length, 30);
  });

  test('viewers and developers may read it', async () => {
    for (const role of ['viewer', 'developer'] as const) {
      const key = await createKey(ctx, a.org, { role });
      assert.equal((await call(ctx.app, key, { method: 'GET', url: dashboardPath(a.org.id) })).status, 200, role);
    }
  });

  test('security', () => assertRouteSecurity(ctx, { method: 'GET', path: dashboardPath, permission: 'base.organization.dashboard.get' }));
});

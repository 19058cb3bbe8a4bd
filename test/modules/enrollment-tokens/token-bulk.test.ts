import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { seedSampleBody } from '../../helpers/fixtures.ts';
import { createMdmUser, createOrg, createPolicy, type TestOrg } from '../../helpers/factories.ts';
import { buildTestApp, call, type TestContext } from '../../helpers/test-app.ts';
import { errorPaths, tokensPath } from '../../helpers/tokens.ts';

let ctx: TestContext;
let a: TestOrg;
before(async () => {
  ctx = await buildTestApp({ bodyLimit: 2_000_000 });
  a = await createOrg(ctx);
});
after(() => ctx.close());

const bulk = (key: string, org: string, body: Record<string, unknown>, platform: 'windows' | 'apple' = 'windows', headers: Record<string, string> = {}) =>
  call(ctx.app, key, { method: 'POST', url: `${tokensPath(org, platform)}/bulk`, payload: body, headers });

describe('bulk create', () => {
  test('entries are trimmed and lower-cased; invalid and repeated entries fail alone; unknown emails become users', async () => {
    const existing = await createMdmUser(ctx, a.org, { email: 'known@example.com', language: 'es' });
    const policy = await createPolicy(ctx, a.org, 'windows');
    const res = await bulk(a.adminKey, a.org.id, {
      sendEmail: 'false',
      userEmails: ['  Known@Example.com ', 'new.person@example.com', 'not-an-email', 'NEW.person@example.com', ''],
      winPolicyId: policy.id,
      tags: ['bulk'],
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const { total, success, fail, results } = res.body.data;
    assert.deepEqual({ total, success, fail }, { total: 5, success: 2, fail: 3 });
    assert.deepEqual(results.map((r: { email: string }) => r.email), ['known@example.com', 'new.person@example.com', 'not-an-email', 'new.person@example.com', '']);
    assert.match(results[0].tokenId, /^[0-9a-f]{24}$/);
    assert.match(results[1].tokenId, /^[0-9a-f]{24}$/);
    for (const i of [2, 3, 4]) assert.equal(results[i].error.code, 3000);

    const first = await call(ctx.app, a.adminKey, { method: 'GET', url: `${tokensPath(a.org.id, 'windows')}/${results[0].tokenId}` });
    assert.deepEqual(first.body.data.mdmUser, { id: existing.id, email: 'known@example.com' });
    assert.equal(first.body.data.winPolicyId, policy.id);
    assert.deepEqual(first.body.data.tags, ['bulk']);
    const second = await call(ctx.app, a.adminKey, { method: 'GET', url: `${tokensPath(a.org.id, 'windows')}/${results[1].tokenId}` });
    assert.equal(second.body.data.mdmUser.email, 'new.person@example.com');
    assert.notEqual(second.body.data.mdmUser.id, existing.id);
  });

  test('the seed page literal sample gets a 400 naming sendEmail and the unknown keys', async () => {
    const res = await bulk(a.adminKey, a.org.id, seedSampleBody('004-bulk-create-windows-tokens'));
    assert.equal(res.status, 400);
    assert.equal(res.body.error.code, 3000);
    assert.deepEqual(errorPaths(res), ['body.children', 'body.sendEmail', 'body.type']);
  });

  test('1 to 10,000 emails per request', async () => {
    assert.deepEqual(errorPaths(await bulk(a.adminKey, a.org.id, { sendEmail: false, userEmails: [] })), ['body.userEmails']);
    const tooMany = Array.from({ length: 10_001 }, (_, i) => `u${i}@example.com`);
    assert.deepEqual(errorPaths(await bulk(a.adminKey, a.org.id, { sendEmail: false, userEmails: tooMany })), ['body.userEmails']);
  });

  test('10,000 emails: every user, token and email commits together', async () => {
    const org = await createOrg(ctx);
    const emails = Array.from({ length: 10_000 }, (_, i) => `person${i}@big.example.com`);
    const res = await bulk(org.adminKey, org.org.id, { sendEmail: true, userEmails: emails }, 'apple');
    assert.equal(res.status, 200);
    assert.deepEqual({ ...res.body.data, results: res.body.data.results.length }, { total: 10_000, success: 10_000, fail: 0, results: 10_000 });
    const list = await call(ctx.app, org.adminKey, { method: 'GET', url: `${tokensPath(org.org.id, 'apple')}?limit=1` });
    assert.equal(list.body.data.totalDocs, 10_000);
    const codes = new Set((await ctx.container.database.db.query.enrollmentTokens.findMany({ columns: { enrollCode: true }, where: (t, { eq }) => eq(t.organizationId, org.org.id) })).map((t) => t.enrollCode));
    assert.equal(codes.size, 10_000, 'enroll codes are unique');
    const outbox = await ctx.container.database.db.query.emailOutbox.findMany({ where: (t, { eq }) => eq(t.organizationId, org.org.id) });
    assert.equal(outbox.length, 10_000);
  });

  test('the plan cap: entries past it fail with 5017; a plan without the platform: 5050', async () => {
    const free = await createOrg(ctx, { plan: 'free' });
    const cap = free.org.planMaxOpenTokens!;
    const emails = Array.from({ length: cap + 3 }, (_, i) => `f${i}@example.com`);
    const res = await bulk(free.adminKey, free.org.id, { sendEmail: false, userEmails: emails });
    assert.equal(res.body.data.success, cap);
    assert.equal(res.body.data.fail, 3);
    assert.deepEqual(res.body.data.results.slice(cap).map((r: { error: { code: number } }) => r.error.code), [5017, 5017, 5017]);
    const apple = await bulk(free.adminKey, free.org.id, { sendEmail: false, userEmails: ['x@example.com'] }, 'apple');
    assert.equal(apple.status, 400);
    assert.equal(apple.body.error.code, 5050);
  });

  test('a referenced policy that does not exist fails the whole request and creates nothing', async () => {
    const org = await createOrg(ctx);
    const res = await bulk(org.adminKey, org.org.id, { sendEmail: false, userEmails: ['one@example.com'], winPolicyId: '0123456789abcdef01234567' });
    assert.equal(res.status, 404);
    assert.equal(res.body.error.code, 3001);
    const users = await ctx.container.database.db.query.mdmUsers.findMany({ where: (t, { eq }) => eq(t.organizationId, org.org.id) });
    assert.equal(users.length, 0);
  });

  test('Idempotency-Key: a retried bulk creates exactly one set', async () => {
    const org = await createOrg(ctx);
    const body = { sendEmail: true, userEmails: ['r1@example.com', 'r2@example.com'] };
    const headers = { 'idempotency-key': 'bulk-retry-1' };
    const first = await bulk(org.adminKey, org.org.id, body, 'windows', headers);
    const again = await bulk(org.adminKey, org.org.id, body, 'windows', headers);
    assert.deepEqual(again.body, first.body);
    const list = await call(ctx.app, org.adminKey, { method: 'GET', url: tokensPath(org.org.id, 'windows') });
    assert.equal(list.body.data.totalDocs, 2);
    const conflict = await bulk(org.adminKey, org.org.id, { ...body, userEmails: ['r3@example.com'] }, 'windows', headers);
    assert.equal(conflict.status, 409);
    assert.equal(conflict.body.error.code, 5001);
  });
});

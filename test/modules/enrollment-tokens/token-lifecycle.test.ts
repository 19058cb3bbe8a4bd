import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createMdmUser, createOrg, createPolicy, type TestOrg } from '../../helpers/factories.ts';
import { buildTestApp, call, type TestContext } from '../../helpers/test-app.ts';
import { createToken, errorPaths, tokensPath } from '../../helpers/tokens.ts';

let ctx: TestContext;
let a: TestOrg;
before(async () => {
  ctx = await buildTestApp();
  a = await createOrg(ctx);
});
after(() => ctx.close());

const get = (key: string, url: string) => call(ctx.app, key, { method: 'GET', url });
const ids = (res: { body: { data: { items: Array<{ id: string }> } } }) => res.body.data.items.map((t) => t.id);

describe('listing', () => {
  // Pagination, every sort field and show-deleted: the list suite (test/lib/listing.test.ts).
  let org: TestOrg;
  let users: Array<{ id: string; email: string }>;
  let created: string[];
  let policy: { id: string };
  const list = (query = '') => get(org.adminKey, `${tokensPath(org.org.id, 'windows')}${query}`);

  before(async () => {
    org = await createOrg(ctx);
    users = [await createMdmUser(ctx, org.org, { email: 'b@example.com' }), await createMdmUser(ctx, org.org, { email: 'a@example.com' })];
    policy = await createPolicy(ctx, org.org, 'windows');
    created = [];
    // Two tokens per second of the clock, so createdAt ties are broken by id.
    for (let i = 0; i < 6; i++) {
      if (i % 2 === 0) ctx.clock.advance(1000);
      const res = await createToken(ctx, org.adminKey, org.org.id, 'windows', {
        mdmUserId: users[i % 2]!.id,
        sendEmail: false,
        displayName: `token ${String.fromCharCode(102 - i)}`,
        duration: 3600 * (i + 1),
        ...(i === 4 ? { winPolicyAssignments: [{ winPolicyId: policy.id, priority: 5 }] } : {}),
        ...(i === 5 ? { winPolicyId: policy.id } : {}),
      });
      created.push(res.body.data.id);
    }
  });

  test('filters: mdm-user and win-policy (legacy or any assignment)', async () => {
    assert.deepEqual(ids(await list(`?mdm-user=${users[1]!.id.toUpperCase()}`)), [created[5], created[3], created[1]]);
    assert.deepEqual(ids(await list(`?win-policy=${policy.id}`)), [created[5], created[4]]);
    assert.equal((await list(`?win-policy=0123456789abcdef01234567`)).body.data.totalDocs, 0);
    const apple = await get(org.adminKey, `${tokensPath(org.org.id, 'apple')}?win-policy=${policy.id}`);
    assert.equal(apple.status, 400, 'the Apple list filters by adm-policy');
    const bad = await list('?mdm-user=zz');
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.code, 3000);
  });
});

describe('lifecycle', () => {
  let user: { id: string };
  before(async () => {
    user = await createMdmUser(ctx, a.org);
  });

  test('EXPIRED from the instant expireAt passes, in get, list, sort and filter; the sweep stores it', async () => {
    const res = await createToken(ctx, a.adminKey, a.org.id, 'windows', { mdmUserId: user.id, sendEmail: false, duration: 60 });
    const id = res.body.data.id;
    const url = `${tokensPath(a.org.id, 'windows')}/${id}`;
    ctx.clock.advance(59_999);
    assert.equal((await get(a.adminKey, url)).body.data.state, 'PENDING');
    assert.equal(await ctx.container.tokenLifecycle.sweepExpired(), 0);
    ctx.clock.advance(1);
    const expired = await get(a.adminKey, url);
    assert.equal(expired.body.data.state, 'EXPIRED');
    assert.equal(expired.body.data.updatedAt, expired.body.data.expireAt);
    const listed = (await get(a.adminKey, `${tokensPath(a.org.id, 'windows')}?mdm-user=${user.id}`)).body.data.items[0];
    assert.equal(listed.state, 'EXPIRED');
    const swept = await ctx.container.tokenLifecycle.sweepExpired();
    assert.ok(swept >= 1);
    assert.deepEqual((await get(a.adminKey, url)).body.data, expired.body.data, 'the sweep changes nothing a reader sees');
    const events = (await get(a.adminKey, `${url}/events`)).body.data.items.map((e: { type: string }) => e.type);
    assert.deepEqual(events, ['created', 'expired']);
    const put = await call(ctx.app, a.adminKey, { method: 'PUT', url, payload: { displayName: 'late' } });
    assert.equal(put.status, 400);
    assert.equal(put.body.error.code, 5146);
  });

  test('revoke: DELETED, kept, hidden by default, repeating answers the same token', async () => {
    const res = await createToken(ctx, a.adminKey, a.org.id, 'apple', { mdmUserId: user.id, sendEmail: false });
    const url = `${tokensPath(a.org.id, 'apple')}/${res.body.data.id}`;
    ctx.clock.advance(1000);
    const first = await call(ctx.app, a.adminKey, { method: 'DELETE', url });
    assert.equal(first.status, 200);
    assert.equal(first.body.data.state, 'DELETED');
    ctx.clock.advance(1000);
    const again = await call(ctx.app, a.adminKey, { method: 'DELETE', url });
    assert.deepEqual(again.body, first.body);
    const visible = await get(a.adminKey, `${tokensPath(a.org.id, 'apple')}?mdm-user=${user.id}`);
    assert.equal(ids(visible).includes(res.body.data.id), false);
    const all = await get(a.adminKey, `${tokensPath(a.org.id, 'apple')}?mdm-user=${user.id}&show-deleted=true`);
    assert.ok(ids(all).includes(res.body.data.id));
    const events = (await get(a.adminKey, `${url}/events`)).body.data.items;
    assert.deepEqual(events.map((e: { type: string }) => e.type), ['created', 'revoked']);
    assert.deepEqual(events[1].changes, { state: { from: 'PENDING', to: 'DELETED' } });
    assert.match(events[1].actorKeyId, /^[0-9a-f]{24}$/);
    const resend = await call(ctx.app, a.adminKey, { method: 'POST', url: `${url}/send-email` });
    assert.equal(resend.status, 400);
    assert.equal(resend.body.error.code, 5146);
  });

  test('update: display name, tags, policies; audited with what changed', async () => {
    const p = await createPolicy(ctx, a.org, 'windows');
    const res = await createToken(ctx, a.adminKey, a.org.id, 'windows', { mdmUserId: user.id, sendEmail: false, displayName: 'old' });
    const url = `${tokensPath(a.org.id, 'windows')}/${res.body.data.id}`;
    ctx.clock.advance(1000);
    const put = await call(ctx.app, a.adminKey, { method: 'PUT', url, payload: { displayName: 'new', tags: ['x'], winPolicyAssignments: [{ winPolicyId: p.id, priority: 7 }] } });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    assert.equal(put.body.data.displayName, 'new');
    assert.equal(put.body.data.winPolicyId, p.id);
    assert.notEqual(put.body.data.updatedAt, res.body.data.updatedAt);
    const cleared = await call(ctx.app, a.adminKey, { method: 'PUT', url, payload: { winPolicyId: null } });
    assert.deepEqual(cleared.body.data.winPolicyAssignments, []);
    const events = (await get(a.adminKey, `${url}/events`)).body.data.items;
    assert.deepEqual(events[1].changes.displayName, { from: 'old', to: 'new' });
    for (const [payload, path] of [
      [{}, 'body'],
      [{ displayName: 'x'.repeat(129) }, 'body.displayName'],
      [{ sendEmail: true }, 'body.sendEmail'],
      [{ winPolicyAssignments: [{ winPolicyId: p.id, priority: 10_001 }] }, 'body.winPolicyAssignments.0.priority'],
    ] as const) {
      const bad = await call(ctx.app, a.adminKey, { method: 'PUT', url, payload });
      assert.equal(bad.status, 400, JSON.stringify(payload));
      assert.ok(errorPaths(bad).includes(path), `${path} in ${errorPaths(bad)}`);
    }
    const missing = await call(ctx.app, a.adminKey, { method: 'PUT', url, payload: { winPolicyId: '0123456789abcdef01234567' } });
    assert.equal(missing.body.error.code, 3001);
  });

  test('resend email: a PENDING token queues a new message', async () => {
    const res = await createToken(ctx, a.adminKey, a.org.id, 'windows', { mdmUserId: user.id, sendEmail: false });
    assert.equal(res.body.data.summary.email, null);
    const url = `${tokensPath(a.org.id, 'windows')}/${res.body.data.id}`;
    const sent = await call(ctx.app, a.adminKey, { method: 'POST', url: `${url}/send-email` });
    assert.equal(sent.status, 200);
    assert.equal(sent.body.data.summary.email.status, 'pending');
    const events = (await get(a.adminKey, `${url}/events`)).body.data.items.map((e: { type: string }) => e.type);
    assert.deepEqual(events, ['created', 'email.queued']);
  });

  test('redeem: binds a device once; concurrent redeems of one token: exactly one wins', async () => {
    const res = await createToken(ctx, a.adminKey, a.org.id, 'windows', { mdmUserId: user.id, sendEmail: false });
    const id = res.body.data.id;
    const devices = Array.from({ length: 20 }, (_, i) => `${'d'.repeat(20)}${String(i).padStart(4, '0')}`);
    const outcomes = await Promise.allSettled(devices.map((d) => ctx.container.tokenLifecycle.redeem(a.org.id, 'windows', id, d)));
    const winners = outcomes.filter((o) => o.status === 'fulfilled');
    assert.equal(winners.length, 1);
    for (const o of outcomes) if (o.status === 'rejected') assert.equal((o.reason as { code: number }).code, 5146);
    const token = (await get(a.adminKey, `${tokensPath(a.org.id, 'windows')}/${id}`)).body.data;
    assert.equal(token.state, 'DONE');
    assert.equal(token.winDeviceId, (winners[0] as PromiseFulfilledResult<{ winDeviceId: string }>).value.winDeviceId);
    const events = (await get(a.adminKey, `${tokensPath(a.org.id, 'windows')}/${id}/events`)).body.data.items.map((e: { type: string }) => e.type);
    assert.deepEqual(events, ['created', 'redeemed']);

    await assert.rejects(ctx.container.tokenLifecycle.redeem(a.org.id, 'apple', id, devices[0]!), { code: 3001 }, 'a token of the other platform');
    const b = await createOrg(ctx);
    await assert.rejects(ctx.container.tokenLifecycle.redeem(b.org.id, 'windows', id, devices[0]!), { code: 3001 }, 'a token of another organization');
    const short = await createToken(ctx, a.adminKey, a.org.id, 'windows', { mdmUserId: user.id, sendEmail: false, duration: 60 });
    ctx.clock.advance(60_000);
    await assert.rejects(ctx.container.tokenLifecycle.redeem(a.org.id, 'windows', short.body.data.id, devices[0]!), { code: 5146 }, 'expired');
  });
});

describe('isolation', () => {
  test("a token of organization A is not found through B's paths, and nothing changes", async () => {
    const user = await createMdmUser(ctx, a.org);
    const b = await createOrg(ctx);
    const res = await createToken(ctx, a.adminKey, a.org.id, 'windows', { mdmUserId: user.id, sendEmail: false, displayName: 'mine' });
    const id = res.body.data.id;
    const inB = `${tokensPath(b.org.id, 'windows')}/${id}`;
    for (const [method, url, payload] of [
      ['GET', inB, undefined],
      ['PUT', inB, { displayName: 'stolen' }],
      ['DELETE', inB, undefined],
      ['POST', `${inB}/send-email`, undefined],
      ['GET', `${inB}/events`, undefined],
      ['GET', `${tokensPath(a.org.id, 'apple')}/${id}`, undefined],
    ] as const) {
      const r = await call(ctx.app, method === 'GET' && url.includes('/apple/') ? a.adminKey : b.adminKey, { method, url, ...(payload ? { payload } : {}) });
      assert.equal(r.status, 404, `${method} ${url}`);
      assert.equal(r.body.error.code, 3001);
    }
    const after = await get(a.adminKey, `${tokensPath(a.org.id, 'windows')}/${id}`);
    assert.deepEqual(after.body.data, res.body.data);
    const bList = await get(b.adminKey, `${tokensPath(b.org.id, 'windows')}?mdm-user=${user.id}`);
    assert.equal(bList.body.data.totalDocs, 0);
  });
});

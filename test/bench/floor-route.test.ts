import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { floorRoutes } from '../../bench/floor.routes.ts';
import { createMdmUser, createOrg, type TestOrg } from '../helpers/factories.ts';
import { buildTestApp, call, type TestContext } from '../helpers/test-app.ts';
import { createToken, tokensPath } from '../helpers/tokens.ts';

/**
 * The benchmark's floor is only a floor if it answers the very page the list route does: same
 * fields in the same order, same items, page and totalDocs. bench/run.ts checks it on its
 * dataset before measuring; this holds it to that on every state and embedded part a page shows.
 */
let ctx: TestContext;
let a: TestOrg;
before(async () => {
  ctx = await buildTestApp({}, { routes: [floorRoutes] });
  a = await createOrg(ctx);
  const users = [await createMdmUser(ctx, a.org), await createMdmUser(ctx, a.org)];
  // Policy parts with one key each: inside stored JSON the floor keeps the database's key order.
  const policy = await call(ctx.app, a.adminKey, {
    method: 'POST',
    url: `/v1/organizations/${a.org.id}/mdm/windows/enterprise/policies`,
    payload: {
      name: 'Floor policy',
      applications: [{ winApplicationId: 'aaaaaaaaaaaaaaaaaaaaaaaa' }],
      admxConfigs: [{ winAdmxConfigId: 'bbbbbbbbbbbbbbbbbbbbbbbb' }],
      agentConfiguration: { enabled: true },
    },
  });
  assert.equal(policy.status, 200, JSON.stringify(policy.body));
  const second = await call(ctx.app, a.adminKey, { method: 'POST', url: `/v1/organizations/${a.org.id}/mdm/windows/enterprise/policies`, payload: { name: 'Second' } });
  for (let i = 0; i < 7; i++) {
    const body = {
      mdmUserId: users[i % 2]!.id,
      sendEmail: i % 3 === 0,
      displayName: `Device ${i}`,
      tags: i % 2 ? ['a', 'b'] : [],
      duration: i === 1 ? 60 : 86_400,
      ...(i % 2 ? { winPolicyAssignments: [{ winPolicyId: second.body.data.id, priority: 5 }, { winPolicyId: policy.body.data.id, priority: 1 }] } : {}),
      ...(i === 4 ? { winPolicyId: policy.body.data.id } : {}),
    };
    const res = await createToken(ctx, a.adminKey, a.org.id, 'windows', body);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    if (i === 2) await call(ctx.app, a.adminKey, { method: 'DELETE', url: `${tokensPath(a.org.id, 'windows')}/${res.body.data.id}` });
    ctx.clock.advance(1_000);
  }
  // Token 1 is now past its expiry, unswept: it reads as EXPIRED, with updatedAt at expireAt.
  ctx.clock.advance(120_000);
});
after(() => ctx.close());

for (const { page, limit } of [{ page: 1, limit: 25 }, { page: 2, limit: 2 }, { page: 9, limit: 2 }]) {
  test(`the floor answers the list's page ${page} at limit ${limit}, byte for byte once re-serialized`, async () => {
    const list = await ctx.app.inject({ url: `${tokensPath(a.org.id, 'windows')}?page=${page}&limit=${limit}`, headers: { authorization: `Bearer ${a.adminKey}` } });
    const floor = await ctx.app.inject({ url: `/bench/floor/${a.org.id}?page=${page}&limit=${limit}` });
    assert.equal(list.statusCode, 200, list.body);
    assert.equal(floor.statusCode, 200, floor.body);
    assert.match(String(floor.headers['content-type']), /^application\/json/);
    assert.equal(JSON.stringify(JSON.parse(floor.body)), JSON.stringify(JSON.parse(list.body)));
  });
}

test('the page exercises what the floor must render', async () => {
  const { data } = JSON.parse((await ctx.app.inject({ url: `/bench/floor/${a.org.id}` })).body);
  assert.equal(data.totalDocs, 6, 'the deleted token is not counted');
  const states = new Set(data.items.map((t: { state: string }) => t.state));
  assert.ok(states.has('EXPIRED') && states.has('PENDING'), [...states].join());
  assert.ok(data.items.some((t: { summary: { email: unknown } }) => t.summary.email !== null), 'an email summary');
  assert.ok(data.items.some((t: { winPolicyAssignments: unknown[] }) => t.winPolicyAssignments.length === 2), 'two assignments');
});

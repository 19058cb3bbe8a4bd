import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { and, count, eq, sql } from 'drizzle-orm';
import { webhookDeliveries, webhookEndpoints } from '../../src/db/schema.ts';
import { newId } from '../../src/lib/ids.ts';
import { createMdmUser, createOrg, type TestOrg } from '../helpers/factories.ts';
import { buildTestApp, type TestContext } from '../helpers/test-app.ts';
import { createToken } from '../helpers/tokens.ts';

/**
 * Token transitions find the webhook endpoints that want them from a per-process cache, used
 * only while the process hears the NOTIFY that migrations/0016 sends on every change to
 * endpoints, their creation included (an organization's "none" is kept too). Here: an endpoint
 * added behind the trigger's back stays unseen (so the cache is really used), and one added or
 * disabled as another process would, in plain SQL with the trigger, is seen by the next create.
 */
let ctx: TestContext;
let a: TestOrg;
let userId: string;
let stopWatching: () => Promise<void>;

before(async () => {
  ctx = await buildTestApp();
  stopWatching = await ctx.container.webhookEndpoints.watchChanges();
  a = await createOrg(ctx);
  userId = (await createMdmUser(ctx, a.org)).id;
});
after(async () => {
  await stopWatching();
  await ctx.close();
});

const db = () => ctx.container.database.db;
const deliveriesOf = async (tokenId: string) =>
  (await db().select({ n: count() }).from(webhookDeliveries).where(and(eq(webhookDeliveries.organizationId, a.org.id), eq(webhookDeliveries.tokenId, tokenId))))[0]!.n;
const create = async () => {
  const res = await createToken(ctx, a.adminKey, a.org.id, 'windows', { mdmUserId: userId, sendEmail: false });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.data.id as string;
};
const endpoint = () => ({
  organizationId: a.org.id,
  id: newId(),
  url: 'https://hooks.example.test/openroll',
  events: ['enrollmentToken.created'],
  secret: 'whsec_test',
  createdAt: new Date(),
  updatedAt: new Date(),
});

/** Notifications arrive after the commit, on their own connection: create until one is delivered. */
async function eventuallyDeliveries(expected: number): Promise<void> {
  const until = Date.now() + 10_000;
  let n = await deliveriesOf(await create());
  while (n !== expected && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 50));
    n = await deliveriesOf(await create());
  }
  assert.equal(n, expected);
}

test('an organization with no endpoints is remembered: an endpoint nobody announces is not read', async () => {
  assert.equal(await deliveriesOf(await create()), 0);
  await db().execute(sql`alter table webhook_endpoints disable trigger webhook_endpoints_notify_change`);
  const hidden = endpoint();
  try {
    await db().insert(webhookEndpoints).values(hidden);
  } finally {
    await db().execute(sql`alter table webhook_endpoints enable trigger webhook_endpoints_notify_change`);
  }
  assert.equal(await deliveriesOf(await create()), 0, 'the cached "no endpoints" answered, not the table');
  await db().delete(webhookEndpoints).where(and(eq(webhookEndpoints.organizationId, a.org.id), eq(webhookEndpoints.id, hidden.id)));
});

test('an endpoint created as another process would (the trigger announces it) gets the next creates; disabled, it gets none', async () => {
  const announced = endpoint();
  await db().insert(webhookEndpoints).values(announced);
  await eventuallyDeliveries(1);
  await db().update(webhookEndpoints).set({ enabled: false }).where(and(eq(webhookEndpoints.organizationId, a.org.id), eq(webhookEndpoints.id, announced.id)));
  await eventuallyDeliveries(0);
});

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { createMdmUser, createOrg, type TestOrg } from '../../helpers/factories.ts';
import { buildTestApp, call, type TestContext } from '../../helpers/test-app.ts';
import { createToken, tokensPath } from '../../helpers/tokens.ts';

/**
 * Token views embed policies from a per-process cache, used only while the process hears the
 * NOTIFY that migrations/0012 sends on every policy change, whoever makes it. Here: a change
 * made behind the trigger's back stays unseen (so the cache is really used), and every change
 * the trigger announces, through the API or in plain SQL as another process would, shows in
 * the next list.
 */
let ctx: TestContext;
let a: TestOrg;
let policyId: string;
let stopWatching: () => Promise<void>;
const policiesUrl = () => `/v1/organizations/${a.org.id}/mdm/windows/enterprise/policies`;

before(async () => {
  ctx = await buildTestApp();
  stopWatching = await ctx.container.policyCache.watchChanges();
  a = await createOrg(ctx);
  const user = await createMdmUser(ctx, a.org);
  const policy = await call(ctx.app, a.adminKey, { method: 'POST', url: policiesUrl(), payload: { name: 'First name' } });
  assert.equal(policy.status, 200, JSON.stringify(policy.body));
  policyId = policy.body.data.id;
  const token = await createToken(ctx, a.adminKey, a.org.id, 'windows', { mdmUserId: user.id, sendEmail: false, winPolicyId: policyId });
  assert.equal(token.status, 200, JSON.stringify(token.body));
});
after(async () => {
  await stopWatching();
  await ctx.close();
});

const embeddedName = async () => {
  const list = await call(ctx.app, a.adminKey, { method: 'GET', url: tokensPath(a.org.id, 'windows') });
  assert.equal(list.status, 200, JSON.stringify(list.body));
  return list.body.data.items[0].winPolicyAssignments[0].winPolicy.name as string;
};

/** Notifications arrive after the commit, on their own connection: wait for the list to show it. */
async function eventually(expected: string): Promise<void> {
  const until = Date.now() + 10_000;
  let name = await embeddedName();
  while (name !== expected && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 50));
    name = await embeddedName();
  }
  assert.equal(name, expected);
}

test('a list embeds the policy from the cache: a change nobody announces is not read', async () => {
  assert.equal(await embeddedName(), 'First name');
  const db = ctx.container.database.db;
  await db.execute(sql`alter table policies disable trigger policies_notify_change`);
  try {
    await db.execute(sql`update policies set name = 'Unannounced' where organization_id = ${a.org.id} and id = ${policyId}`);
  } finally {
    await db.execute(sql`alter table policies enable trigger policies_notify_change`);
  }
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(await embeddedName(), 'First name');
});

test('an edit through the API shows in the next list', async () => {
  const edit = await call(ctx.app, a.adminKey, { method: 'PUT', url: `${policiesUrl()}/${policyId}`, payload: { name: 'Edited' } });
  assert.equal(edit.status, 200, JSON.stringify(edit.body));
  await eventually('Edited');
});

test('a change in plain SQL, as another process would make it, shows too; so does a deletion', async () => {
  await ctx.container.database.db.execute(sql`update policies set name = 'From elsewhere' where organization_id = ${a.org.id} and id = ${policyId}`);
  await eventually('From elsewhere');
  const removed = await call(ctx.app, a.adminKey, { method: 'DELETE', url: `${policiesUrl()}/${policyId}` });
  assert.equal(removed.status, 200, JSON.stringify(removed.body));
  await ctx.container.database.db.execute(sql`update policies set name = 'Deleted, renamed' where organization_id = ${a.org.id} and id = ${policyId}`);
  await eventually('Deleted, renamed');
});

test('without the channel the cache is not used: every list reads the policy', async () => {
  await stopWatching();
  const db = ctx.container.database.db;
  await db.execute(sql`alter table policies disable trigger policies_notify_change`);
  try {
    await db.execute(sql`update policies set name = 'Read without a channel' where organization_id = ${a.org.id} and id = ${policyId}`);
  } finally {
    await db.execute(sql`alter table policies enable trigger policies_notify_change`);
  }
  assert.equal(await embeddedName(), 'Read without a channel');
  stopWatching = async () => {};
});

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { createOrg, type TestOrg } from '../helpers/factories.ts';
import { buildTestApp, call, type TestContext } from '../helpers/test-app.ts';
import { tokensPath } from '../helpers/tokens.ts';

let ctx: TestContext;
let a: TestOrg;
before(async () => {
  ctx = await buildTestApp();
  a = await createOrg(ctx);
});
after(() => ctx.close());

/** What the planner believes mdm_users holds: ANALYZE writes it; -1 or 0 until then. */
async function plannedUsers(): Promise<number> {
  const result = (await ctx.container.database.db.execute(sql`select reltuples::float8 as n from pg_class where relname = 'mdm_users'`)) as unknown as { rows: Array<{ n: number | string }> };
  return Number(result.rows[0]!.n);
}

const bulk = (emails: string[]) =>
  call(ctx.app, a.adminKey, { method: 'POST', url: `${tokensPath(a.org.id, 'windows')}/bulk`, payload: { sendEmail: false, userEmails: emails } });

describe('planner statistics after a bulk load', () => {
  test('a bulk that creates 1,000 users refreshes them (ANALYZE), so the user search is planned on its index; 999 do not', async () => {
    assert.equal((await bulk(Array.from({ length: 999 }, (_, i) => `small.${i}@example.com`))).status, 200);
    await ctx.container.statistics.settled();
    assert.ok((await plannedUsers()) < 999, 'below the threshold, left to autovacuum');

    const res = await bulk(Array.from({ length: 1_000 }, (_, i) => `large.${i}@example.com`));
    assert.equal(res.status, 200);
    assert.equal(res.body.data.success, 1_000);
    await ctx.container.statistics.settled();
    assert.ok((await plannedUsers()) >= 1_999, `the planner counts the users just written (${await plannedUsers()})`);
  });
});

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { sql, type SQL } from 'drizzle-orm';
import type { Platform } from '../../../src/platforms/platforms.ts';
import { createMdmUser, createOrg, createPolicy, type TestOrg } from '../../helpers/factories.ts';
import { buildTestApp, call, type TestContext } from '../../helpers/test-app.ts';
import { createToken, tokensPath } from '../../helpers/tokens.ts';

/**
 * The policy filter reads its pages from token_policies and its totals from per-policy
 * counters (migrations/0014), both kept by triggers. Every check compares the API's pages and
 * totalDocs with a brute-force query over enrollment_tokens itself, and the index table and
 * counters with what the tokens hold, after each kind of write.
 */

let ctx: TestContext;
let org: TestOrg;
let user: { id: string };
const win: string[] = [];
const adm: string[] = [];
before(async () => {
  // Hundreds of list reads with one key: the rate limit is not what this file is about.
  ctx = await buildTestApp({ rateLimitPerMinute: 0 });
  org = await createOrg(ctx);
  user = await createMdmUser(ctx, org.org);
  for (let i = 0; i < 3; i++) win.push((await createPolicy(ctx, org.org, 'windows')).id);
  for (let i = 0; i < 2; i++) adm.push((await createPolicy(ctx, org.org, 'apple')).id);
});
after(() => ctx.close());

async function rows<T>(query: SQL): Promise<T[]> {
  const result = (await ctx.container.database.db.execute(query)) as unknown as { rows: T[] };
  return result.rows;
}

const filterName: Record<Platform, string> = { windows: 'win-policy', apple: 'adm-policy' };
const ORDERS = { 'createdAt:desc': sql`created_at desc, id desc`, 'createdAt:asc': sql`created_at asc, id asc`, 'displayName:asc': sql`display_name asc, id asc` } as const;

/** What the list must show, counted the slow way over the tokens themselves. */
async function bruteForce(platform: Platform, policyId: string, showDeleted: boolean, sort: keyof typeof ORDERS): Promise<string[]> {
  const live = showDeleted ? sql`` : sql` and state <> 'DELETED'`;
  const found = await rows<{ id: string }>(
    sql`select id from enrollment_tokens where organization_id = ${org.org.id} and platform = ${platform}
        and policy_ids @> array[${policyId}]::text[]${live} order by ${ORDERS[sort]}`,
  );
  return found.map((r) => r.id);
}

/** Every page of the filtered list, pages 1..n and one past the end, at two page sizes. */
async function assertPolicyLists(platform: Platform, policies: string[]): Promise<void> {
  for (const policyId of policies) {
    for (const showDeleted of [false, true]) {
      for (const sort of Object.keys(ORDERS) as Array<keyof typeof ORDERS>) {
        const expected = await bruteForce(platform, policyId, showDeleted, sort);
        // 3 goes in as a parameter, 25 as a literal (LITERAL_LIMITS): both statement shapes.
        for (const limit of [3, 25]) {
          const seen: string[] = [];
          const pages = Math.ceil(expected.length / limit) + 1;
          for (let page = 1; page <= pages; page++) {
            const url = `${tokensPath(org.org.id, platform)}?${filterName[platform]}=${policyId}&show-deleted=${showDeleted}&sort=${sort}&limit=${limit}&page=${page}`;
            const res = await call(ctx.app, org.adminKey, { method: 'GET', url });
            assert.equal(res.status, 200, JSON.stringify(res.body));
            const what = `${platform} ${policyId} show-deleted=${showDeleted} ${sort} limit ${limit} page ${page}`;
            assert.equal(res.body.data.totalDocs, expected.length, `totalDocs: ${what}`);
            seen.push(...res.body.data.items.map((t: { id: string }) => t.id));
          }
          assert.deepEqual(seen, expected, `${platform} ${policyId} show-deleted=${showDeleted} ${sort} limit ${limit}`);
        }
      }
    }
  }
  await assertIndexMatchesTokens();
}

/** token_policies holds exactly one row per (token, policy), and the counters sum to the truth. */
async function assertIndexMatchesTokens(): Promise<void> {
  const derived = sql`select distinct organization_id, platform, unnest(policy_ids) as policy_id, created_at, id as token_id, state = 'DELETED' as deleted from enrollment_tokens`;
  const stored = sql`select organization_id, platform, policy_id, created_at, token_id, deleted from token_policies`;
  assert.deepEqual(await rows(sql`${derived} except all ${stored}`), [], 'every token policy is indexed');
  assert.deepEqual(await rows(sql`${stored} except all ${derived}`), [], 'nothing else is indexed');
  const counted = sql`select organization_id, platform, policy_id, count(*)::bigint as total, (count(*) filter (where deleted))::bigint as deleted from (${derived}) d group by 1, 2, 3`;
  const kept = sql`select organization_id, platform, policy_id, sum(total)::bigint as total, sum(deleted)::bigint as deleted from token_policy_counts group by 1, 2, 3 having sum(total) <> 0 or sum(deleted) <> 0`;
  assert.deepEqual(await rows(sql`${counted} except all ${kept}`), [], 'counters cover every policy');
  assert.deepEqual(await rows(sql`${kept} except all ${counted}`), [], 'counters hold nothing else');
}

const create = async (platform: Platform, body: Record<string, unknown>): Promise<string> => {
  const res = await createToken(ctx, org.adminKey, org.org.id, platform, { mdmUserId: user.id, sendEmail: false, ...body });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return String(res.body.data.id);
};
const change = async (platform: Platform, method: 'PUT' | 'DELETE', id: string, payload?: object) => {
  const res = await call(ctx.app, org.adminKey, { method, url: `${tokensPath(org.org.id, platform)}/${id}`, ...(payload ? { payload } : {}) });
  assert.equal(res.status, 200, JSON.stringify(res.body));
};

describe('policy-filtered token lists (token_policies and its counters)', () => {
  const made: string[] = [];

  test('creates, one by one and in bulk, with createdAt ties', async () => {
    const shapes: Array<Record<string, unknown>> = [
      { winPolicyId: win[0] },
      { winPolicyAssignments: [{ winPolicyId: win[0], priority: 3 }, { winPolicyId: win[1], priority: 1 }] },
      { winPolicyId: win[1], winPolicyAssignments: [{ winPolicyId: win[0], priority: 9 }] },
      {},
      { winPolicyAssignments: [{ winPolicyId: win[1], priority: 2 }] },
      { winPolicyId: win[0], duration: 900 },
    ];
    // Two tokens per tick of the clock: ties on createdAt, broken by id.
    for (const [i, shape] of shapes.entries()) {
      if (i % 2 === 0) ctx.clock.advance(1000);
      made.push(await create('windows', { displayName: `token ${i % 3}`, ...shape }));
    }
    ctx.clock.advance(1000);
    const bulk = await call(ctx.app, org.adminKey, {
      method: 'POST',
      url: `${tokensPath(org.org.id, 'windows')}/bulk`,
      payload: { sendEmail: false, userEmails: ['b1@example.com', 'b2@example.com', 'b3@example.com', 'b4@example.com', 'b5@example.com'], winPolicyAssignments: [{ winPolicyId: win[0], priority: 1 }, { winPolicyId: win[2], priority: 2 }] },
    });
    assert.equal(bulk.status, 200, JSON.stringify(bulk.body));
    assert.equal(bulk.body.data.success, 5);
    // Concurrent creates land on the counters' shards without losing one.
    ctx.clock.advance(1000);
    made.push(...(await Promise.all(Array.from({ length: 6 }, (_, i) => create('windows', { displayName: `same ${i}`, winPolicyId: win[2] })))));
    await assertPolicyLists('windows', win);
  });

  test('revokes hide tokens unless show-deleted; a second revoke changes nothing', async () => {
    await change('windows', 'DELETE', made[0]!);
    await change('windows', 'DELETE', made[1]!);
    const again = await call(ctx.app, org.adminKey, { method: 'DELETE', url: `${tokensPath(org.org.id, 'windows')}/${made[0]}` });
    assert.notEqual(again.status, 500);
    await assertPolicyLists('windows', win);
  });

  test('updates that change policies move the token between lists; other updates do not', async () => {
    await change('windows', 'PUT', made[2]!, { winPolicyAssignments: [{ winPolicyId: win[2], priority: 4 }] });
    await change('windows', 'PUT', made[3]!, { winPolicyId: win[1] });
    await change('windows', 'PUT', made[4]!, { winPolicyId: null });
    await change('windows', 'PUT', made[6]!, { tags: ['moved'], displayName: 'renamed' });
    await assertPolicyLists('windows', win);
  });

  test('the sweep stores EXPIRED, which the policy list still shows (only DELETED hides)', async () => {
    ctx.clock.advance(3_600_000);
    assert.ok((await ctx.container.tokenLifecycle.sweepExpired()) >= 1);
    await assertPolicyLists('windows', win);
  });

  test('deleted rows leave the index and the counters', async () => {
    await ctx.container.database.db.execute(sql`delete from token_events where token_id in (${made[5]!}, ${made[7]!})`);
    await ctx.container.database.db.execute(sql`delete from enrollment_tokens where id in (${made[5]!}, ${made[7]!})`);
    await assertPolicyLists('windows', win);
  });

  test('Apple: the legacy admPolicy and assignments, filtered by adm-policy', async () => {
    ctx.clock.advance(1000);
    const apple = [
      await create('apple', { policyId: adm[0] }),
      await create('apple', { policyId: adm[1], admPolicyAssignments: [{ admPolicyId: adm[0], priority: 5 }] }),
      await create('apple', { admPolicyAssignments: [{ admPolicyId: adm[1], priority: 5 }] }),
    ];
    await change('apple', 'DELETE', apple[1]!);
    await change('apple', 'PUT', apple[2]!, { policyId: adm[0] });
    await assertPolicyLists('apple', adm);
    // A Windows policy id finds nothing on the Apple list, and the other way round.
    const cross = await call(ctx.app, org.adminKey, { method: 'GET', url: `${tokensPath(org.org.id, 'apple')}?adm-policy=${win[0]}` });
    assert.equal(cross.body.data.totalDocs, 0);
  });

  test('the backfill of migration 0014 indexes and counts tokens written before its triggers', async () => {
    const migration = readFileSync(new URL('../../../migrations/0014_token_policies.sql', import.meta.url), 'utf8');
    const backfill = migration
      .split('--> statement-breakpoint')
      .map((s) => s.replace(/^--.*$/gm, '').trim())
      .filter((s) => s.startsWith('INSERT INTO'));
    assert.equal(backfill.length, 2, 'the index rows, then the counters');
    const db = ctx.container.database.db;
    // Copies of the organization's tokens (same createdAt: more ties), written with the trigger
    // off, as tokens were before the migration.
    await db.execute(sql`alter table enrollment_tokens disable trigger enrollment_tokens_policies_insert`);
    try {
      await db.execute(sql`
        insert into enrollment_tokens (id, organization_id, platform, enterprise_id, mdm_user_id, display_name, state, type, sub_type, language,
          send_email, link_secret, enroll_code, policy_assignments, policy_ids, expire_at, created_at, updated_at)
        select substr(md5(id || 'copy'), 1, 24), organization_id, platform, enterprise_id, mdm_user_id, display_name, state, type, sub_type, language,
          send_email, md5(link_secret || 'copy'), md5(enroll_code || 'copy'), policy_assignments, policy_ids, expire_at, created_at, updated_at
        from enrollment_tokens where organization_id = ${org.org.id}`);
    } finally {
      await db.execute(sql`alter table enrollment_tokens enable trigger enrollment_tokens_policies_insert`);
    }
    await assert.rejects(assertIndexMatchesTokens(), 'the copies are not indexed yet');
    await db.execute(sql`truncate token_policies, token_policy_counts`);
    for (const statement of backfill) await db.execute(sql.raw(statement));
    await assertPolicyLists('windows', win);
    await assertPolicyLists('apple', adm);
  });
});

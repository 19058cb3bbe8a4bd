import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { inArray, sql } from 'drizzle-orm';
import { enrollmentTokens } from '../../../src/db/schema.ts';
import { tokenStateCounts } from '../../../src/metrics/metrics.repo.ts';
import { effectiveState, shownUpdatedAt, stateSql } from '../../../src/modules/enrollment-tokens/token-state.ts';
import { createScepChallengesRepo } from '../../../src/devices/scep-challenges.repo.ts';
import { createMdmUser, createOrg, type TestOrg } from '../../helpers/factories.ts';
import { buildTestApp, call, type TestContext } from '../../helpers/test-app.ts';
import { createToken, tokensPath } from '../../helpers/tokens.ts';

/**
 * The state rule is written twice (token-state.ts): effectiveState() for code, stateSql() for
 * queries. Here the two answer for tokens of every stored state at the instants around
 * expireAt, and must agree; so must what the API shows and how the list sorts.
 */

let ctx: TestContext;
let org: TestOrg;
const ids: Record<'swept' | 'pending' | 'revoked' | 'redeemed', string> = { swept: '', pending: '', revoked: '', redeemed: '' };
let expireAt: Date;

before(async () => {
  ctx = await buildTestApp();
  org = await createOrg(ctx);
  const user = await createMdmUser(ctx, org.org);
  const make = async () => (await createToken(ctx, org.adminKey, org.org.id, 'windows', { mdmUserId: user.id, sendEmail: false, duration: 60 })).body.data;
  ids.swept = (await make()).id;
  ctx.clock.advance(60_000);
  assert.equal(await ctx.container.tokenLifecycle.sweepExpired(), 1, 'one token stored as EXPIRED');
  const pending = await make();
  ids.pending = pending.id;
  expireAt = new Date(pending.expireAt);
  ids.revoked = (await make()).id;
  await call(ctx.app, org.adminKey, { method: 'DELETE', url: `${tokensPath(org.org.id, 'windows')}/${ids.revoked}` });
  ids.redeemed = (await make()).id;
  await ctx.container.tokenLifecycle.redeem(org.org.id, 'windows', ids.redeemed, 'abcdefabcdefabcdefabcdef');
});
after(() => ctx.close());

/** What the SQL helper says of each token at `now`, beside the stored row. */
async function inSql(now: Date) {
  const s = stateSql(now);
  return ctx.container.database.db
    .select({
      id: enrollmentTokens.id,
      stored: enrollmentTokens.state,
      expireAt: enrollmentTokens.expireAt,
      effective: s.effective,
      open: sql<boolean>`${s.open}`,
      expiredUnswept: sql<boolean>`${s.expiredUnswept}`,
    })
    .from(enrollmentTokens)
    .where(inArray(enrollmentTokens.id, Object.values(ids)));
}

const around = () => [-1, 0, 1].map((ms) => ({ ms, now: new Date(expireAt.getTime() + ms) }));

test('effectiveState() and stateSql() agree for every stored state, a millisecond either side of expireAt and at it', async () => {
  const stored = new Set<string>();
  for (const { ms, now } of around()) {
    const rows = await inSql(now);
    assert.equal(rows.length, 4);
    for (const row of rows) {
      stored.add(row.stored);
      const inCode = effectiveState(row.stored, row.expireAt, now);
      assert.equal(row.effective, inCode, `${row.stored} at expireAt${ms >= 0 ? '+' : ''}${ms} ms`);
      assert.equal(row.open, inCode === 'PENDING', `open: ${row.stored} at ${ms} ms`);
      assert.equal(row.expiredUnswept, row.stored === 'PENDING' && inCode === 'EXPIRED', `expiredUnswept: ${row.stored} at ${ms} ms`);
    }
  }
  assert.deepEqual([...stored].sort(), ['DELETED', 'DONE', 'EXPIRED', 'PENDING'], 'every stored state was tried');
});

test('the boundary itself: PENDING until the millisecond before expireAt, EXPIRED from it', async () => {
  const states = await Promise.all(around().map(async ({ now }) => (await inSql(now)).find((r) => r.id === ids.pending)!.effective));
  assert.deepEqual(states, ['PENDING', 'EXPIRED', 'EXPIRED']);
  assert.equal(effectiveState('PENDING', expireAt, new Date(expireAt.getTime() - 1)), 'PENDING');
  assert.equal(effectiveState('PENDING', expireAt, expireAt), 'EXPIRED');
});

test('through the API at the same instants: get, and the list sorted by state (a prepared statement)', async () => {
  const base = tokensPath(org.org.id, 'windows');
  for (const { ms, now } of around()) {
    ctx.clock.set(now);
    const expected = ms < 0 ? 'PENDING' : 'EXPIRED';
    assert.equal((await call(ctx.app, org.adminKey, { method: 'GET', url: `${base}/${ids.pending}` })).body.data.state, expected, `get at ${ms} ms`);
    for (const dir of ['asc', 'desc'] as const) {
      const items: Array<{ id: string; state: string }> = (await call(ctx.app, org.adminKey, { method: 'GET', url: `${base}?show-deleted=true&sort=state:${dir}` })).body.data.items;
      const states = items.map((t) => t.state);
      const sorted = [...states].sort();
      assert.deepEqual(states, dir === 'asc' ? sorted : sorted.reverse(), `sorted by the state it shows, ${dir}, at ${ms} ms`);
      assert.equal(items.find((t) => t.id === ids.pending)!.state, expected);
    }
  }
});

test('shownUpdatedAt() and stateSql().updatedAt agree: expireAt for a token that expired unswept, the stored updatedAt otherwise', async () => {
  for (const { ms, now } of around()) {
    const rows = await ctx.container.database.db
      .select({ stored: enrollmentTokens.state, updatedAt: enrollmentTokens.updatedAt, expireAt: enrollmentTokens.expireAt, shown: sql<string>`${stateSql(now).updatedAt}::text` })
      .from(enrollmentTokens)
      .where(inArray(enrollmentTokens.id, Object.values(ids)));
    for (const row of rows) {
      const inCode = shownUpdatedAt(row.stored, row.updatedAt, row.expireAt, now);
      assert.equal(new Date(row.shown).getTime(), inCode.getTime(), `${row.stored} at expireAt${ms >= 0 ? '+' : ''}${ms} ms`);
      const unswept = row.stored === 'PENDING' && ms >= 0;
      assert.equal(inCode.getTime(), (unswept ? row.expireAt : row.updatedAt).getTime());
    }
  }
});

describe('what a token shows is the same before and after the sweep', () => {
  let other: TestOrg;
  let list: (query: string) => Promise<Array<{ id: string; updatedAt: string; state: string }>>;
  const made: Record<'expired' | 'later' | 'updated', string> = { expired: '', later: '', updated: '' };

  before(async () => {
    other = await createOrg(ctx);
    const user = await createMdmUser(ctx, other.org);
    const base = tokensPath(other.org.id, 'windows');
    list = async (query) => {
      const res = await call(ctx.app, other.adminKey, { method: 'GET', url: `${base}?${query}` });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return res.body.data.items;
    };
    const make = async (duration: number) => (await createToken(ctx, other.adminKey, other.org.id, 'windows', { mdmUserId: user.id, sendEmail: false, duration })).body.data.id as string;
    // Stored updatedAt: expired t, updated t+10 s then changed at t+45 s, later t+30 s. Once the
    // first one expires (t+60 s) it shows t+60 s: last by what is shown, first by what is stored.
    ctx.clock.set(new Date('2026-06-01T08:00:00.000Z'));
    made.expired = await make(60);
    ctx.clock.advance(10_000);
    made.updated = await make(86_400);
    ctx.clock.advance(20_000);
    made.later = await make(86_400);
    ctx.clock.advance(15_000);
    const put = await call(ctx.app, other.adminKey, { method: 'PUT', url: `${base}/${made.updated}`, payload: { tags: ['changed'] } });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    ctx.clock.advance(75_000);
  });

  test('sort=updatedAt orders an expired, unswept token by the expireAt it shows as its updatedAt; the sweep changes no order and no field', async () => {
    const queries = ['sort=updatedAt:asc', 'sort=updatedAt:desc', 'sort=updatedAt:asc&limit=1&page=3', 'sort=state:asc'];
    const before = await Promise.all(queries.map(list));
    assert.deepEqual(before[0]!.map((t) => t.id), [made.later, made.updated, made.expired]);
    assert.deepEqual(before[1]!.map((t) => t.id), [made.expired, made.updated, made.later]);
    assert.deepEqual(before[2]!.map((t) => t.id), [made.expired]);
    const expired = before[0]!.find((t) => t.id === made.expired)!;
    assert.equal(expired.state, 'EXPIRED');
    assert.equal(expired.updatedAt, '2026-06-01T08:01:00.000Z');
    const shown = before[0]!.map((t) => t.updatedAt);
    assert.deepEqual(shown, [...shown].sort(), 'ascending by the updatedAt each token shows');

    assert.ok((await ctx.container.tokenLifecycle.sweepExpired()) >= 1);
    assert.deepEqual(await Promise.all(queries.map(list)), before, 'the same pages, field for field, after the sweep stored EXPIRED');
  });

  test('the other readers of the rule: /metrics counts and the SCEP check of a token, before and after the sweep', async () => {
    const [expiring, open] = [made.later, made.updated];
    ctx.clock.advance(86_400_000);
    // Both expired a day after they were made (t+10 s, t+30 s), before now (t+120 s + 1 day), unswept.
    const now = ctx.clock.now();
    const scep = createScepChallengesRepo(ctx.container.database.db);
    const counts = async () => (await tokenStateCounts(ctx.container.database.db, now)).filter((c) => c.count !== 0).sort((a, b) => `${a.platform}${a.state}`.localeCompare(`${b.platform}${b.state}`));
    const beforeSweep = await counts();
    assert.equal(await scep.tokenIsOpen(other.org.id, expiring, now), false);
    assert.equal(await scep.tokenIsOpen(other.org.id, open, new Date(now.getTime() - 86_400_000)), true, 'open before its expireAt');
    assert.ok((await ctx.container.tokenLifecycle.sweepExpired()) >= 2);
    assert.deepEqual(await counts(), beforeSweep, 'the same counts by effective state');
    assert.equal(await scep.tokenIsOpen(other.org.id, expiring, now), false);
  });
});

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { inArray, sql } from 'drizzle-orm';
import { enrollmentTokens } from '../../../src/db/schema.ts';
import { effectiveState, stateSql } from '../../../src/modules/enrollment-tokens/token-state.ts';
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

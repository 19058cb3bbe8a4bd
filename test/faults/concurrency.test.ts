import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { AppError } from '../../src/errors.ts';
import { newId } from '../../src/lib/ids.ts';
import { PLANS } from '../../src/modules/organizations/plans.ts';
import { createMdmUser, createOrg, unique } from '../helpers/factories.ts';
import { buildTestApp, call, type Json, type TestContext } from '../helpers/test-app.ts';
import { tokensPath } from '../helpers/tokens.ts';
import { count, report, requirePostgres, rows, seconds, sleep } from './fault-helpers.ts';

/**
 * Issue "Trustworthy under attack", part 5: races through HTTP on a real PostgreSQL, with the
 * pool's connections running requests really at once. Each race starts 50 requests together.
 */
requirePostgres();

const PARALLEL = 50;
let ctx: TestContext;
const facts: Record<string, string | number> = {};
const began = Date.now();

before(async () => {
  ctx = await buildTestApp();
});
after(async () => {
  report('concurrency', { ...facts, duration: seconds(Date.now() - began) });
  await ctx.close();
});

const send = (key: string, method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: object, headers: Record<string, string> = {}) =>
  call(ctx.app, key, { method, url, headers, ...(payload ? { payload } : {}) });

const codeOf = (res: Json) => (res.status === 200 ? 200 : `${res.status}/${res.body?.error?.code}`);

function tally(results: Json[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of results) out[codeOf(r)] = (out[codeOf(r)] ?? 0) + 1;
  return out;
}

const openTokens = (orgId: string) =>
  count(ctx.container.database, sql`select count(*) as n from enrollment_tokens where organization_id = ${orgId} and state = 'PENDING'`);

test('creates racing for the free plan’s cap never pass it; the losers get 5017', async () => {
  const cap = PLANS.free!.maxOpenTokens!;
  const { org, adminKey } = await createOrg(ctx, { plan: 'free' });
  const users = await Promise.all(Array.from({ length: PARALLEL }, () => createMdmUser(ctx, org)));
  const path = tokensPath(org.id, 'windows');
  let created = 0;
  let refused = 0;
  for (let round = 0; round < 3; round++) {
    const before = await openTokens(org.id);
    // 40 single creates and 10 bulks of 3 new emails each, interleaved: 70 tokens asked for.
    const results = await Promise.all(
      users.map((user, i) =>
        i % 5 === 0
          ? send(adminKey, 'POST', `${path}/bulk`, { sendEmail: false, userEmails: [0, 1, 2].map((k) => `r${round}-b${i}-${k}@example.com`) })
          : send(adminKey, 'POST', path, { mdmUserId: user.id, sendEmail: false }),
      ),
    );
    let granted = 0;
    results.forEach((res, i) => {
      if (i % 5 === 0) {
        assert.equal(res.status, 200, JSON.stringify(res.body));
        for (const entry of res.body.data.results as Array<{ tokenId?: string; error?: { code: number } }>) {
          if (entry.tokenId) granted++;
          else {
            assert.equal(entry.error?.code, 5017, JSON.stringify(entry));
            refused++;
          }
        }
      } else if (res.status === 200) granted++;
      else {
        assert.deepEqual([res.status, res.body.error.code], [400, 5017], JSON.stringify(res.body));
        refused++;
      }
    });
    const open = await openTokens(org.id);
    assert.equal(open, cap, `round ${round}: the cap is reached, never passed (${JSON.stringify(tally(results))})`);
    assert.equal(granted, open - before, `round ${round}: every token answered is stored, and only those`);
    created += granted;
    // Free ten places for the next round.
    const list = await send(adminKey, 'GET', `${path}?limit=10`);
    const revoked = await Promise.all(list.body.data.items.map((t: { id: string }) => send(adminKey, 'DELETE', `${path}/${t.id}`)));
    assert.deepEqual(tally(revoked), { 200: 10 });
  }
  facts['cap-races'] = 3;
  facts['cap-created'] = created;
  facts['cap-refused-5017'] = refused;
});

test('50 concurrent redeems of one token: exactly one wins', async () => {
  const { org, adminKey } = await createOrg(ctx);
  const user = await createMdmUser(ctx, org);
  const token = (await send(adminKey, 'POST', tokensPath(org.id, 'windows'), { mdmUserId: user.id, sendEmail: false })).body.data;
  const devices = Array.from({ length: PARALLEL }, () => newId());
  const outcomes = await Promise.allSettled(devices.map((device) => ctx.container.tokenLifecycle.redeem(org.id, 'windows', token.id, device)));
  const winners = outcomes.filter((o) => o.status === 'fulfilled');
  assert.equal(winners.length, 1, 'one winner');
  for (const o of outcomes) {
    if (o.status === 'rejected') {
      assert.ok(o.reason instanceof AppError, String(o.reason));
      assert.equal(o.reason.code, 5146);
    }
  }
  const winner = winners[0]!.value;
  const stored = (await send(adminKey, 'GET', `${tokensPath(org.id, 'windows')}/${token.id}`)).body.data;
  assert.equal(stored.state, 'DONE');
  assert.equal(stored.winDeviceId, (winner as { winDeviceId?: string }).winDeviceId);
  assert.ok(devices.includes(stored.winDeviceId));
  const events = (await send(adminKey, 'GET', `${tokensPath(org.id, 'windows')}/${token.id}/events?limit=100`)).body.data.items;
  assert.deepEqual(
    events.filter((e: { type: string }) => e.type === 'redeemed').map((e: { changes: { deviceId: string } }) => e.changes.deviceId),
    [stored.winDeviceId],
    'one redeem in the trail, for the winning device',
  );
  facts['redeem-winners'] = `${winners.length}/${PARALLEL}`;
});

test('concurrent updates and revokes of one token: a consistent final state and an audit trail that tells it', async () => {
  const { org, adminKey } = await createOrg(ctx);
  const user = await createMdmUser(ctx, org);
  const url = tokensPath(org.id, 'windows');
  let appliedTotal = 0;
  for (let round = 0; round < 3; round++) {
    const token = (await send(adminKey, 'POST', url, { mdmUserId: user.id, sendEmail: false, displayName: 'original' })).body.data;
    // 40 PUTs and 10 DELETEs, jittered so that updates race each other and the revokes land among them.
    const results = await Promise.all(
      Array.from({ length: PARALLEL }, async (_, i) => {
        const revoke = i % 5 === 4;
        await sleep(revoke ? 10 + Math.random() * 30 : Math.random() * 30);
        return revoke ? send(adminKey, 'DELETE', `${url}/${token.id}`) : send(adminKey, 'PUT', `${url}/${token.id}`, { displayName: `name-${i}`, tags: [`t${i}`] });
      }),
    );
    const deletes = results.filter((_, i) => i % 5 === 4);
    const puts = results.filter((_, i) => i % 5 !== 4);
    assert.deepEqual(tally(deletes), { 200: deletes.length }, 'a revoke, repeated, answers the token');
    for (const d of deletes) assert.equal(d.body.data.state, 'DELETED');
    for (const p of puts) assert.ok(p.status === 200 || codeOf(p) === '400/5146', JSON.stringify(p.body));
    const applied = puts.filter((p) => p.status === 200).map((p) => p.body.data.displayName as string);
    appliedTotal += applied.length;

    const final = (await send(adminKey, 'GET', `${url}/${token.id}`)).body.data;
    assert.equal(final.state, 'DELETED');
    const events: Array<{ type: string; changes: Record<string, { from: unknown; to: unknown }> }> = (
      await send(adminKey, 'GET', `${url}/${token.id}/events?limit=500`)
    ).body.data.items;
    const types = events.map((e) => e.type);
    assert.equal(types[0], 'created');
    assert.equal(types.filter((t) => t === 'revoked').length, 1, 'revoked once');
    assert.equal(types.at(-1), 'revoked', 'nothing changes a revoked token');
    const updates = events.filter((e) => e.type === 'updated');
    assert.deepEqual(new Set(updates.map((e) => e.changes.displayName!.to)), new Set(applied), 'one updated event per applied PUT');
    // Each change starts where the one before ended: the trail replays to the final token.
    let name: unknown = 'original';
    for (const e of updates) {
      assert.equal(e.changes.displayName!.from, name, `the trail's "from" is the value just before: ${JSON.stringify(updates.map((u) => u.changes.displayName))}`);
      name = e.changes.displayName!.to;
    }
    assert.equal(final.displayName, name, 'the last update in the trail is the token’s name');
    const lastStateChange = [...events].reverse().find((e) => e.changes.state);
    assert.equal(lastStateChange?.changes.state!.to, final.state, 'the last state change in the trail is the token’s state');
  }
  assert.ok(appliedTotal > 0, 'some updates won the race against the revoke (else nothing raced)');
  facts['update-revoke'] = `3x(${appliedTotal}-updates+1-revoke)`;
});

test('redeems, revokes and updates racing on one token: the trail\'s state changes chain to the final state', async () => {
  const { org, adminKey } = await createOrg(ctx);
  const user = await createMdmUser(ctx, org);
  const url = tokensPath(org.id, 'windows');
  const finals: Record<string, number> = {};
  for (let round = 0; round < 5; round++) {
    const token = (await send(adminKey, 'POST', url, { mdmUserId: user.id, sendEmail: false })).body.data;
    const outcomes = await Promise.allSettled(
      Array.from({ length: PARALLEL }, async (_, i) => {
        await sleep(Math.random() * 20);
        if (i % 3 === 0) return ctx.container.tokenLifecycle.redeem(org.id, 'windows', token.id, newId());
        if (i % 3 === 1) return send(adminKey, 'DELETE', `${url}/${token.id}`);
        return send(adminKey, 'PUT', `${url}/${token.id}`, { displayName: `n${i}` });
      }),
    );
    for (const o of outcomes) {
      if (o.status === 'rejected') assert.equal((o.reason as AppError).code, 5146, String(o.reason));
      else if ('status' in o.value && typeof o.value.status === 'number') {
        assert.ok(o.value.status === 200 || codeOf(o.value) === '400/5146', JSON.stringify(o.value.body));
      }
    }
    const final = (await send(adminKey, 'GET', `${url}/${token.id}`)).body.data;
    const events: Array<{ type: string; changes: { state?: { from: string; to: string } } }> = (
      await send(adminKey, 'GET', `${url}/${token.id}/events?limit=500`)
    ).body.data.items;
    // `created` records the initial state as a value; later changes as {from, to}.
    const changes = events.filter((e) => typeof e.changes.state === 'object');
    let state = 'PENDING';
    for (const e of changes) {
      assert.equal(e.changes.state!.from, state, `${e.type} starts from the state before it: ${JSON.stringify(events.map((x) => [x.type, x.changes.state]))}`);
      state = e.changes.state!.to;
    }
    assert.equal(state, final.state, 'the last state change is the token’s state');
    assert.ok(events.filter((e) => e.type === 'redeemed').length <= 1, 'redeemed at most once');
    const redeemed = events.some((e) => e.type === 'redeemed');
    assert.equal(final.winDeviceId !== null, redeemed, 'a device is bound exactly when the trail says redeemed');
    const path = changes.map((e) => e.changes.state!.to).join('>');
    finals[path] = (finals[path] ?? 0) + 1;
  }
  facts['state-races'] = Object.entries(finals).map(([path, n]) => `${n}x${path}`).join(',');
});

test('concurrent creates of one MDM user email: one 200, the others 409 5048', async () => {
  const { org, adminKey } = await createOrg(ctx);
  const email = `${unique('same')}@example.com`;
  const results = await Promise.all(
    Array.from({ length: PARALLEL }, (_, i) => send(adminKey, 'POST', `/v1/organizations/${org.id}/mdm/users`, { email: i % 2 ? email.toUpperCase() : email, name: `n${i}` })),
  );
  assert.deepEqual(tally(results), { 200: 1, '409/5048': PARALLEL - 1 });
  assert.equal(await count(ctx.container.database, sql`select count(*) as n from mdm_users where organization_id = ${org.id}`), 1);
  facts['user-races'] = `1-created+${PARALLEL - 1}-5048`;
});

test('concurrent bulks with one Idempotency-Key: exactly one set, and every answer is the first', async () => {
  const { org, adminKey } = await createOrg(ctx);
  const path = `${tokensPath(org.id, 'windows')}/bulk`;
  const body = { sendEmail: true, userEmails: Array.from({ length: 200 }, (_, i) => `idem${i}@example.com`) };
  const results = await Promise.all(Array.from({ length: PARALLEL }, () => send(adminKey, 'POST', path, body, { 'idempotency-key': 'same-bulk' })));
  assert.deepEqual(tally(results), { 200: PARALLEL });
  for (const r of results) assert.deepEqual(r.body.data, results[0]!.body.data);
  assert.equal(results[0]!.body.data.success, 200);
  const orgCount = (table: string) => count(ctx.container.database, sql`select count(*) as n from ${sql.identifier(table)} where organization_id = ${org.id}`);
  assert.equal(await orgCount('enrollment_tokens'), 200, 'one set of tokens');
  assert.equal(await orgCount('mdm_users'), 200);
  assert.equal(await orgCount('email_outbox'), 200, 'one email each');

  // The same key with another body, racing the original again: never a second set.
  const other = { ...body, userEmails: ['someone-else@example.com'] };
  const mixed = await Promise.all(
    Array.from({ length: PARALLEL }, (_, i) => send(adminKey, 'POST', path, i % 2 ? other : body, { 'idempotency-key': 'same-bulk' })),
  );
  mixed.forEach((r, i) => (i % 2 ? assert.equal(codeOf(r), '409/5001') : assert.deepEqual(r.body.data, results[0]!.body.data)));
  assert.equal(await orgCount('enrollment_tokens'), 200);
  const [key] = await rows<{ n: number }>(ctx.container.database, sql`select count(*)::int as n from idempotency_keys where organization_id = ${org.id}`);
  assert.equal(key!.n, 1);
  facts['idempotent-bulks'] = `${PARALLEL}x200->200-tokens`;
});

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.ts';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { createContainer } from '../../src/container.ts';
import { assertError } from '../helpers/assertions.ts';
import { createDbProbe, type DbProbe } from '../helpers/db-probe.ts';
import { createMdmUser, createOrg, type TestOrg } from '../helpers/factories.ts';
import { buildTestApp, call, type TestContext } from '../helpers/test-app.ts';
import { createToken, tokensPath } from '../helpers/tokens.ts';

const COOLDOWN_S = 120;
const CAP = 6;
let ctx: TestContext;
let probe: DbProbe;
let second: FastifyInstance;

before(async () => {
  ctx = await buildTestApp({ emailResendCooldownSeconds: COOLDOWN_S, emailDailyCapPerOrganization: CAP });
  probe = await createDbProbe(ctx.container.database);
  // A second app with its own container over the same database: what a second process is.
  second = await buildApp({ container: createContainer({ config: ctx.config, database: ctx.db.database, clock: ctx.clock }) });
});
after(async () => {
  await second.close();
  await ctx.close();
});

const sendEmail = (app: FastifyInstance, t: TestOrg, id: string, platform: 'windows' | 'apple' = 'windows') =>
  call(app, t.adminKey, { method: 'POST', url: `${tokensPath(t.org.id, platform)}/${id}/send-email` });
const outboxRows = async () => (await probe.counts()).email_outbox!;

async function pendingToken(t: TestOrg, sendEmailOnCreate = false): Promise<string> {
  const user = await createMdmUser(ctx, t.org);
  const res = await createToken(ctx, t.adminKey, t.org.id, 'windows', { mdmUserId: user.id, sendEmail: sendEmailOnCreate });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.data.id;
}

describe('per-token cooldown of send-email', () => {
  test('100 × send-email on one token: one email, then 429 4029 with Retry-After (was 100 emails)', async () => {
    const t = await createOrg(ctx);
    const id = await pendingToken(t);
    const before = await outboxRows();
    const statuses: number[] = [];
    for (let i = 0; i < 100; i++) {
      const res = await sendEmail(ctx.app, t, id);
      statuses.push(res.status);
      if (i > 0) {
        assertError(res, 429, 4029);
        assert.equal(res.body.error.data.reason, 'email-cooldown');
        assert.equal(res.headers['retry-after'], String(COOLDOWN_S));
      }
    }
    assert.equal(statuses[0], 200);
    assert.equal((await outboxRows()) - before, 1, 'one email queued');

    ctx.clock.advance(30_000);
    assert.equal((await sendEmail(ctx.app, t, id)).headers['retry-after'], String(COOLDOWN_S - 30), 'Retry-After counts down');
    ctx.clock.advance((COOLDOWN_S - 30) * 1000);
    assert.equal((await sendEmail(ctx.app, t, id)).status, 200, 'after the cooldown another email may go');
    assert.equal((await outboxRows()) - before, 2);
  });

  test('the email sent at creation starts the cooldown too; other tokens are not held back', async () => {
    const t = await createOrg(ctx);
    const id = await pendingToken(t, true);
    assertError(await sendEmail(ctx.app, t, id), 429, 4029);
    assert.equal((await sendEmail(ctx.app, t, await pendingToken(t))).status, 200);
  });

  test('two apps on one database, 20 concurrent send-emails of one token: exactly one email', async () => {
    const t = await createOrg(ctx);
    const id = await pendingToken(t);
    const before = await outboxRows();
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => sendEmail(i % 2 ? second : ctx.app, t, id)));
    assert.deepEqual(results.map((r) => r.status).sort(), [200, ...Array(19).fill(429)]);
    assert.equal((await outboxRows()) - before, 1);
  });
});

describe('per-organization daily email cap', () => {
  test(`creates and resends together stop at ${CAP} emails a UTC day: 429 4029 until midnight; refused requests create nothing`, async () => {
    ctx.clock.set(new Date('2026-03-02T22:00:00.000Z'));
    const t = await createOrg(ctx);
    const other = await createOrg(ctx);
    const tokens = [await pendingToken(t, true), await pendingToken(t, true)]; // 2 emails
    const bulk = (emails: string[]) =>
      call(ctx.app, t.adminKey, { method: 'POST', url: `${tokensPath(t.org.id, 'windows')}/bulk`, payload: { userEmails: emails, sendEmail: true } });

    let before = await probe.counts();
    const tooBig = await bulk(['c1@example.com', 'c2@example.com', 'c3@example.com', 'c4@example.com', 'c5@example.com']); // 2 + 5 > 6
    assertError(tooBig, 429, 4029);
    assert.deepEqual(tooBig.body.error.data, { reason: 'daily-email-cap', limit: CAP, used: 2, requested: 5 });
    assert.equal(tooBig.headers['retry-after'], String(2 * 3600), 'until the next UTC midnight');
    assert.deepEqual(await probe.counts(), before, 'the whole bulk was refused: no users, tokens or emails');

    assert.equal((await bulk(['c1@example.com', 'c2@example.com', 'c3@example.com'])).status, 200); // 5
    assert.equal((await sendEmail(ctx.app, t, tokens[0]!)).status, 429, 'cooldown first');
    ctx.clock.advance(COOLDOWN_S * 1000);
    assert.equal((await sendEmail(ctx.app, t, tokens[0]!)).status, 200); // 6
    const user = await createMdmUser(ctx, t.org);
    before = await probe.counts();
    const capped = await sendEmail(ctx.app, t, tokens[1]!);
    assertError(capped, 429, 4029);
    assert.equal(capped.body.error.data.reason, 'daily-email-cap');
    assertError(await createToken(ctx, t.adminKey, t.org.id, 'apple', { mdmUserId: user.id, sendEmail: true }), 429, 4029);
    assert.deepEqual(await probe.counts(), before);
    assert.equal((await createToken(ctx, t.adminKey, t.org.id, 'apple', { mdmUserId: user.id, sendEmail: false })).status, 200, 'tokens without email still');
    assert.equal((await sendEmail(ctx.app, other, await pendingToken(other))).status, 200, 'another organization has its own cap');

    ctx.clock.set(new Date('2026-03-03T00:00:01.000Z'));
    assert.equal((await sendEmail(ctx.app, t, tokens[1]!)).status, 200, 'a new day');
  });
});

test('EMAIL_RESEND_COOLDOWN_SECONDS and EMAIL_DAILY_CAP_PER_ORGANIZATION: defaults, 0 turns each off, bad values name the variable', async () => {
  const config = loadConfig({});
  assert.equal(config.emailResendCooldownSeconds, 300);
  assert.equal(config.emailDailyCapPerOrganization, 20_000);
  for (const name of ['EMAIL_RESEND_COOLDOWN_SECONDS', 'EMAIL_DAILY_CAP_PER_ORGANIZATION']) {
    assert.throws(() => loadConfig({ [name]: '-1' }), (e: unknown) => e instanceof ConfigError && e.message.includes(name));
  }
  const off = await buildApp({ container: createContainer({ config: { ...ctx.config, emailResendCooldownSeconds: 0, emailDailyCapPerOrganization: 0 }, database: ctx.db.database, clock: ctx.clock }) });
  try {
    const t = await createOrg(ctx);
    const id = await pendingToken(t);
    for (let i = 0; i < CAP + 2; i++) assert.equal((await sendEmail(off, t, id)).status, 200);
  } finally {
    await off.close();
  }
});

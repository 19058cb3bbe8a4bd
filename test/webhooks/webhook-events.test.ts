/**
 * Which token changes become which webhook events, what their payload says, and the outbox
 * write itself: in the change's transaction, nothing without endpoints, set-based for a bulk.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { count, eq } from 'drizzle-orm';
import { webhookDeliveries } from '../../src/db/schema.ts';
import { createSmtpMailer } from '../../src/mail/mailer.ts';
import { redeemInTransaction } from '../../src/modules/enrollment-tokens/token-lifecycle.service.ts';
import { createMdmUser, createOrg, type TestOrg } from '../helpers/factories.ts';
import { createTestSmtpServer, type TestSmtpServer } from '../helpers/smtp.ts';
import { buildTestApp, call, type TestContext } from '../helpers/test-app.ts';
import { createToken, tokensPath } from '../helpers/tokens.ts';

let ctx: TestContext;
let smtp: TestSmtpServer;

before(async () => {
  smtp = await createTestSmtpServer();
  await smtp.start();
  ctx = await buildTestApp({ webhookAllowPrivateNetworks: true, mailMaxAttempts: 1 }, { mailer: createSmtpMailer(smtp.url, 'Openroll <no-reply@example.test>') });
});
after(async () => {
  await smtp.stop();
  await ctx.close();
});

/** A tenant with one endpoint (never sent to: no sender runs here) on loopback's discard port. */
async function tenant(events?: string[]): Promise<TestOrg & { hookId: string }> {
  const t = await createOrg(ctx);
  const res = await call(ctx.app, t.adminKey, { method: 'POST', url: `/v1/organizations/${t.org.id}/webhooks`, payload: { url: 'http://127.0.0.1:9/hook', ...(events ? { events } : {}) } });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return { ...t, hookId: res.body.data.id };
}

async function queued(t: TestOrg & { hookId: string }) {
  const res = await call(ctx.app, t.adminKey, { method: 'GET', url: `/v1/organizations/${t.org.id}/webhooks/${t.hookId}/deliveries?limit=500` });
  return [...res.body.data.items].reverse() as Array<{ eventType: string; tokenId: string; payload: { type: string; timestamp: string; data: Record<string, unknown> } }>;
}

async function drainMail(): Promise<void> {
  for (let i = 0; i < 100; i++) if ((await ctx.container.outbox.runOnce()).claimed === 0) return;
}

describe('token changes become webhook events', () => {
  test('created, emailSent, revoked; an update and a queued email are not events', async () => {
    const t = await tenant();
    const user = await createMdmUser(ctx, t.org, { email: 'eve@example.com' });
    const created = await createToken(ctx, t.adminKey, t.org.id, 'apple', { mdmUserId: user.id, sendEmail: true });
    const url = `${tokensPath(t.org.id, 'apple')}/${created.body.data.id}`;
    await call(ctx.app, t.adminKey, { method: 'PUT', url, payload: { displayName: 'Renamed' } });
    await drainMail();
    await call(ctx.app, t.adminKey, { method: 'DELETE', url });
    const events = await queued(t);
    assert.deepEqual(events.map((e) => e.eventType), ['enrollmentToken.created', 'enrollmentToken.emailSent', 'enrollmentToken.revoked']);
    for (const e of events) assert.equal(e.payload.type, e.eventType);
    assert.deepEqual(events.map((e) => e.payload.data.state), ['PENDING', 'PENDING', 'DELETED']);
    assert.deepEqual(events.map((e) => e.payload.data.platform), ['apple', 'apple', 'apple']);
    const email = events[1]!.payload.data.email as { id: string; attempts: number };
    assert.match(email.id, /^[0-9a-f]{24}$/);
    assert.equal(email.attempts, 1);
    assert.equal(events[1]!.payload.data.actorKeyId, null, 'the mail sender is the system');
    assert.equal(events[2]!.payload.data.displayName, 'Renamed', 'the token as it is when the event is queued');
  });

  test('emailFailed carries the error; expired and redeemed carry their states', async () => {
    const t = await tenant();
    const user = await createMdmUser(ctx, t.org);
    await smtp.stop();
    const failing = await createToken(ctx, t.adminKey, t.org.id, 'windows', { mdmUserId: user.id, sendEmail: true });
    await drainMail();
    await smtp.start();
    const expiring = await createToken(ctx, t.adminKey, t.org.id, 'windows', { mdmUserId: user.id, sendEmail: false, duration: 60 });
    const redeemed = await createToken(ctx, t.adminKey, t.org.id, 'windows', { mdmUserId: user.id, sendEmail: false, duration: 3600 });
    await ctx.container.tokenLifecycle.redeem(t.org.id, 'windows', redeemed.body.data.id, 'abcdefabcdefabcdefabcdef');
    ctx.clock.advance(61_000);
    await ctx.container.tokenLifecycle.sweepExpired();

    const byToken = (id: string) => queued(t).then((all) => all.filter((e) => e.tokenId === id));
    const failed = await byToken(failing.body.data.id);
    assert.deepEqual(failed.map((e) => e.eventType), ['enrollmentToken.created', 'enrollmentToken.emailFailed']);
    const email = failed[1]!.payload.data.email as { attempts: number; error: string };
    assert.equal(email.attempts, 1);
    assert.ok(email.error.length > 0);

    const expired = await byToken(expiring.body.data.id);
    assert.deepEqual(expired.map((e) => [e.eventType, e.payload.data.state]), [['enrollmentToken.created', 'PENDING'], ['enrollmentToken.expired', 'EXPIRED']]);
    assert.equal(expired[1]!.payload.timestamp, expiring.body.data.expireAt, 'the instant it expired');

    const done = await byToken(redeemed.body.data.id);
    assert.deepEqual(done.map((e) => [e.eventType, e.payload.data.state]), [['enrollmentToken.created', 'PENDING'], ['enrollmentToken.redeemed', 'DONE']]);
    assert.equal(done[1]!.payload.data.deviceId, 'abcdefabcdefabcdefabcdef');
  });

  test('only subscribed events are queued, and none for a disabled endpoint', async () => {
    const t = await tenant(['enrollmentToken.revoked']);
    const user = await createMdmUser(ctx, t.org);
    const created = await createToken(ctx, t.adminKey, t.org.id, 'windows', { mdmUserId: user.id, sendEmail: false });
    await call(ctx.app, t.adminKey, { method: 'DELETE', url: `${tokensPath(t.org.id, 'windows')}/${created.body.data.id}` });
    assert.deepEqual((await queued(t)).map((e) => e.eventType), ['enrollmentToken.revoked']);
    await call(ctx.app, t.adminKey, { method: 'PUT', url: `/v1/organizations/${t.org.id}/webhooks/${t.hookId}`, payload: { enabled: false } });
    const again = await createToken(ctx, t.adminKey, t.org.id, 'windows', { mdmUserId: user.id, sendEmail: false });
    await call(ctx.app, t.adminKey, { method: 'DELETE', url: `${tokensPath(t.org.id, 'windows')}/${again.body.data.id}` });
    assert.equal((await queued(t)).length, 1);
  });

  test('the deliveries are written in the transaction of the change: a rollback takes them back', async () => {
    const t = await tenant();
    const user = await createMdmUser(ctx, t.org);
    const created = await createToken(ctx, t.adminKey, t.org.id, 'windows', { mdmUserId: user.id, sendEmail: false });
    const before = await queued(t);
    await assert.rejects(
      ctx.db.database.db.transaction(async (tx) => {
        // A device protocol's path: the redemption, its trail and its deliveries in the caller's transaction.
        const redeemed = await redeemInTransaction(tx, { organizationId: t.org.id, platform: 'windows', tokenId: created.body.data.id, deviceId: 'abcdefabcdefabcdefabcdef', now: ctx.clock.now() });
        assert.equal(redeemed.ok, true);
        assert.equal((await tx.select({ n: count() }).from(webhookDeliveries).where(eq(webhookDeliveries.organizationId, t.org.id)))[0]!.n, before.length + 1);
        throw new Error('the change fails after its events were written');
      }),
      /the change fails/,
    );
    assert.deepEqual(await queued(t), before);
  });

  test('no deliveries for an organization without endpoints; a bulk of 10,000 queues one per token', async () => {
    const db = ctx.db.database.db;
    const rows = async (org: string) => (await db.select({ n: count() }).from(webhookDeliveries).where(eq(webhookDeliveries.organizationId, org)))[0]!.n;
    const bare = await createOrg(ctx);
    const few = Array.from({ length: 100 }, (_, i) => `few${i}@example.com`);
    assert.equal((await call(ctx.app, bare.adminKey, { method: 'POST', url: `${tokensPath(bare.org.id, 'windows')}/bulk`, payload: { userEmails: few, sendEmail: false } })).body.data.success, 100);
    assert.equal(await rows(bare.org.id), 0);

    const t = await tenant();
    const emails = Array.from({ length: 10_000 }, (_, i) => `bulk${i}@example.com`);
    const started = Date.now();
    const res = await call(ctx.app, t.adminKey, { method: 'POST', url: `${tokensPath(t.org.id, 'windows')}/bulk`, payload: { userEmails: emails, sendEmail: false } });
    assert.equal(res.body.data.success, 10_000);
    assert.equal(await rows(t.org.id), 10_000);
    const tokenIds = new Set(res.body.data.results.map((r: { tokenId: string }) => r.tokenId));
    assert.ok((await queued(t)).every((e) => e.eventType === 'enrollmentToken.created' && tokenIds.has(e.tokenId)));
    console.log(`bulk of 10,000 with one webhook endpoint: ${Date.now() - started} ms`);
  });
});

/**
 * Delivery to real HTTP receivers this test starts on 127.0.0.1 (WEBHOOK_ALLOW_PRIVATE_NETWORKS
 * is on for that): signatures verified with the Standard Webhooks library and the secret the
 * API returned, retries with backoff and the delivery log, order per token, restarts, timeouts.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { createContainer } from '../../src/container.ts';
import { claimDue, newLeaseToken } from '../../src/outbox/outbox-queue.ts';
import { webhookQueue } from '../../src/webhooks/webhooks.repo.ts';
import { createMdmUser, createOrg, type TestOrg } from '../helpers/factories.ts';
import { createTableResolver } from '../helpers/resolver.ts';
import { buildTestApp, call, type TestContext } from '../helpers/test-app.ts';
import { createToken, tokensPath } from '../helpers/tokens.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.ts';

let ctx: TestContext;
let receiver: WebhookReceiver;

before(async () => {
  receiver = await startWebhookReceiver();
  ctx = await buildTestApp({ webhookAllowPrivateNetworks: true, webhookMaxAttempts: 3, webhookRetryBaseMs: 1000, webhookTimeoutMs: 1500, webhookMaxResponseBytes: 4096 });
});
after(async () => {
  await ctx.container.webhookSender.stop();
  await receiver.stop();
  await ctx.close();
});
beforeEach(() => {
  // Receivers verify the timestamp against their own clock: the manual clock starts at now.
  ctx.clock.set(new Date());
  receiver.received.length = 0;
  receiver.behave(() => ({ status: 204 }));
});

const sender = () => ctx.container.webhookSender;
/** Runs the sender until nothing is due at the current (manual) time. */
async function drain(s = sender()): Promise<void> {
  for (let i = 0; i < 1000; i++) if ((await s.runOnce()).claimed === 0) return;
}

async function tenantWithHook(path: string, extra: Record<string, unknown> = {}): Promise<TestOrg & { hookId: string; secret: string }> {
  const t = await createOrg(ctx);
  const res = await call(ctx.app, t.adminKey, { method: 'POST', url: `/v1/organizations/${t.org.id}/webhooks`, payload: { url: `${receiver.url}${path}`, ...extra } });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return { ...t, hookId: res.body.data.id, secret: res.body.data.secret };
}

const deliveries = async (t: TestOrg & { hookId: string }, query = '') =>
  (await call(ctx.app, t.adminKey, { method: 'GET', url: `/v1/organizations/${t.org.id}/webhooks/${t.hookId}/deliveries${query}` })).body.data;

const parsed = (n: number) => JSON.parse(receiver.received[n]!.body);

describe('webhook delivery', () => {
  test('a create reaches the receiver within seconds, signed so the returned secret verifies it', async () => {
    const t = await tenantWithHook('/created');
    const user = await createMdmUser(ctx, t.org, { email: 'ana@example.com' });
    sender().start(100);
    try {
      const res = await createToken(ctx, t.adminKey, t.org.id, 'windows', { mdmUserId: user.id, sendEmail: false, displayName: 'Ana laptop', tags: ['it'] });
      assert.equal(res.status, 200);
      const started = Date.now();
      const [got] = await receiver.waitFor(1, 5_000);
      assert.ok(Date.now() - started < 5_000);
      const verified = new Webhook(t.secret).verify(got!.body, got!.headers as Record<string, string>) as Record<string, unknown>;
      assert.equal(verified.type, 'enrollmentToken.created');
      assert.match(String(got!.headers['webhook-id']), /^msg_[0-9a-f]{24}$/);
      assert.match(String(got!.headers['webhook-timestamp']), /^\d{10}$/);
      assert.match(String(got!.headers['webhook-signature']), /^v1,[A-Za-z0-9+/]+={0,2}$/);
      assert.equal(got!.headers['content-type'], 'application/json');
      assert.equal(got!.path, '/created');
      const { actorKeyId, ...data } = verified.data as Record<string, unknown>;
      assert.match(String(actorKeyId), /^[0-9a-f]{24}$/, 'the key that created it');
      assert.deepEqual({ ...verified, data }, {
        type: 'enrollmentToken.created',
        timestamp: res.body.data.createdAt,
        data: {
          organizationId: t.org.id,
          platform: 'windows',
          tokenId: res.body.data.id,
          state: 'PENDING',
          mdmUser: { id: user.id, email: 'ana@example.com' },
          displayName: 'Ana laptop',
          tags: ['it'],
          expireAt: res.body.data.expireAt,
          deviceId: null,
        },
      });
      // A wrong secret or a changed body does not verify.
      assert.throws(() => new Webhook(`whsec_${Buffer.alloc(32, 1).toString('base64')}`).verify(got!.body, got!.headers as Record<string, string>));
      assert.throws(() => new Webhook(t.secret).verify(got!.body.replace('PENDING', 'DONE'), got!.headers as Record<string, string>));
      // The receiver answered; the sender records that right after.
      let logged = (await deliveries(t)).items[0];
      for (let i = 0; i < 100 && logged.status !== 'delivered'; i++) {
        await new Promise((r) => setTimeout(r, 20));
        logged = (await deliveries(t)).items[0];
      }
      assert.equal(logged.status, 'delivered');
      assert.equal(logged.attempts, 1);
      assert.equal(logged.responseStatus, 204);
      assert.equal(logged.lastError, null);
      assert.equal(logged.payload.data.tokenId, res.body.data.id);
    } finally {
      await sender().stop();
    }
  });

  test('a receiver answering 500 gets retries with backoff; the log shows them; then it gives up; redeliver tries again', async () => {
    const t = await tenantWithHook('/flaky');
    const user = await createMdmUser(ctx, t.org);
    receiver.behave(() => ({ status: 500, body: 'boom' }));
    await createToken(ctx, t.adminKey, t.org.id, 'apple', { mdmUserId: user.id, sendEmail: false });
    await drain();
    let [d] = (await deliveries(t)).items;
    assert.deepEqual([d.status, d.attempts, d.responseStatus, d.lastError], ['pending', 1, 500, 'the endpoint answered HTTP 500']);
    assert.equal(d.nextAttemptAt, new Date(ctx.clock.now().getTime() + 1000).toISOString(), 'first retry after the base delay');
    await drain();
    assert.equal(receiver.received.length, 1, 'not retried before its backoff');
    ctx.clock.advance(1000);
    await drain();
    [d] = (await deliveries(t)).items;
    assert.deepEqual([d.status, d.attempts], ['pending', 2]);
    assert.equal(d.nextAttemptAt, new Date(ctx.clock.now().getTime() + 2000).toISOString(), 'the delay doubles');
    ctx.clock.advance(2000);
    await drain();
    [d] = (await deliveries(t)).items;
    assert.deepEqual([d.status, d.attempts, d.responseStatus, d.nextAttemptAt], ['failed', 3, 500, null]);
    assert.equal(receiver.received.length, 3);
    assert.equal(new Set(receiver.received.map((r) => r.headers['webhook-id'])).size, 1, 'every attempt carries the same message id');
    assert.equal((await deliveries(t, '?status=failed')).totalDocs, 1);

    receiver.behave(() => ({ status: 200 }));
    const redone = await call(ctx.app, t.adminKey, { method: 'POST', url: `/v1/organizations/${t.org.id}/webhooks/${t.hookId}/deliveries/${d.id}/redeliver` });
    assert.equal(redone.status, 200);
    assert.deepEqual([redone.body.data.status, redone.body.data.attempts], ['pending', 0]);
    await drain();
    [d] = (await deliveries(t)).items;
    assert.deepEqual([d.status, d.attempts, d.responseStatus, d.lastError], ['delivered', 1, 200, null]);
    assert.equal(receiver.received[3]!.headers['webhook-id'], receiver.received[0]!.headers['webhook-id'], 'a redelivery is the same message');
  });

  test("a token's events arrive in order: a later one waits while an earlier one is retried", async () => {
    const t = await tenantWithHook('/ordered');
    const user = await createMdmUser(ctx, t.org);
    const created = await createToken(ctx, t.adminKey, t.org.id, 'windows', { mdmUserId: user.id, sendEmail: false });
    const tokenUrl = `${tokensPath(t.org.id, 'windows')}/${created.body.data.id}`;
    await call(ctx.app, t.adminKey, { method: 'DELETE', url: tokenUrl });
    receiver.behave((n) => (n === 0 ? { status: 503 } : { status: 200 }));
    await drain();
    assert.deepEqual(receiver.received.map((_, i) => parsed(i).type), ['enrollmentToken.created'], 'revoked is held back');
    ctx.clock.advance(1000);
    await drain();
    assert.deepEqual(receiver.received.map((_, i) => parsed(i).type), ['enrollmentToken.created', 'enrollmentToken.created', 'enrollmentToken.revoked']);
    assert.equal(parsed(2).data.state, 'DELETED');
  });

  test('subscriptions and enable/disable decide what is queued and sent', async () => {
    const t = await tenantWithHook('/revoked-only', { events: ['enrollmentToken.revoked'] });
    const user = await createMdmUser(ctx, t.org);
    const created = await createToken(ctx, t.adminKey, t.org.id, 'windows', { mdmUserId: user.id, sendEmail: false });
    await call(ctx.app, t.adminKey, { method: 'DELETE', url: `${tokensPath(t.org.id, 'windows')}/${created.body.data.id}` });
    await drain();
    assert.deepEqual(receiver.received.map((_, i) => parsed(i).type), ['enrollmentToken.revoked']);

    const hookUrl = `/v1/organizations/${t.org.id}/webhooks/${t.hookId}`;
    await call(ctx.app, t.adminKey, { method: 'PUT', url: hookUrl, payload: { events: ['enrollmentToken.created'] } });
    await createToken(ctx, t.adminKey, t.org.id, 'windows', { mdmUserId: user.id, sendEmail: false });
    await call(ctx.app, t.adminKey, { method: 'PUT', url: hookUrl, payload: { enabled: false } });
    await drain();
    assert.equal(receiver.received.length, 1, 'a disabled endpoint gets nothing, not even what was queued before');
    await createToken(ctx, t.adminKey, t.org.id, 'windows', { mdmUserId: user.id, sendEmail: false });
    assert.equal((await deliveries(t)).totalDocs, 2, 'nothing is queued while disabled');
    await call(ctx.app, t.adminKey, { method: 'PUT', url: hookUrl, payload: { enabled: true } });
    await drain();
    assert.equal(receiver.received.length, 2, 'enabled again, the held delivery goes out');
  });

  test('a sender that dies mid-delivery: another process delivers after the lease; restarts keep retries', async () => {
    const t = await tenantWithHook('/restart');
    const user = await createMdmUser(ctx, t.org);
    await createToken(ctx, t.adminKey, t.org.id, 'windows', { mdmUserId: user.id, sendEmail: false });
    // A process that claims and then dies before answering: only its lease is left.
    const claimed = await claimDue(ctx.db.database.db, webhookQueue, ctx.clock.now(), 50, newLeaseToken(), ctx.config.outboxLeaseMs);
    assert.equal(claimed.length, 1);
    const other = createContainer({ config: ctx.config, database: ctx.db.database, clock: ctx.clock, resolveHost: createTableResolver() });
    await drain(other.webhookSender);
    assert.equal(receiver.received.length, 0, 'leased: nobody else takes it');
    ctx.clock.advance(ctx.config.outboxLeaseMs - 1);
    await drain(other.webhookSender);
    assert.equal(receiver.received.length, 0, 'still leased a moment before the lease ends');
    ctx.clock.advance(1);
    await drain(other.webhookSender);
    assert.equal(receiver.received.length, 1, 'within seconds (the lease) another process delivers it');
    const [d] = (await deliveries(t)).items;
    assert.deepEqual([d.status, d.attempts], ['delivered', 2]);
  });

  test('two senders share a backlog: every delivery once', async () => {
    const t = await tenantWithHook('/shared');
    const emails = Array.from({ length: 60 }, (_, i) => `shared${i}@example.com`);
    await call(ctx.app, t.adminKey, { method: 'POST', url: `${tokensPath(t.org.id, 'windows')}/bulk`, payload: { userEmails: emails, sendEmail: false } });
    const other = createContainer({ config: ctx.config, database: ctx.db.database, clock: ctx.clock, resolveHost: createTableResolver() });
    await Promise.all([drain(), drain(other.webhookSender)]);
    assert.equal(receiver.received.length, 60);
    assert.equal(new Set(receiver.received.map((r) => r.headers['webhook-id'])).size, 60);
  });

  test('an endpoint that never answers times out; an endless answer is cut at the size cap', async () => {
    const t = await tenantWithHook('/slow');
    const user = await createMdmUser(ctx, t.org);
    receiver.behave(() => 'hang');
    await createToken(ctx, t.adminKey, t.org.id, 'windows', { mdmUserId: user.id, sendEmail: false });
    const started = Date.now();
    await drain();
    assert.ok(Date.now() - started < 5_000, 'bounded by WEBHOOK_TIMEOUT_MS');
    let [d] = (await deliveries(t)).items;
    assert.deepEqual([d.status, d.responseStatus, d.lastError], ['pending', null, 'no answer within 1500 ms']);

    receiver.behave(() => 'stream');
    ctx.clock.advance(1000);
    await drain();
    [d] = (await deliveries(t)).items;
    assert.deepEqual([d.status, d.responseStatus], ['delivered', 200]);
  });
});

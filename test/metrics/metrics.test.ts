import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.ts';
import { assertError } from '../helpers/assertions.ts';
import { createMdmUser, createOrg, type TestOrg } from '../helpers/factories.ts';
import { parsePrometheusText, type Exposition } from '../helpers/prometheus-text.ts';
import { buildTestApp, call, type TestContext } from '../helpers/test-app.ts';
import { TEST_DB_KIND } from '../helpers/test-db.ts';
import { createToken, tokensPath } from '../helpers/tokens.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.ts';

const METRICS_TOKEN = 'metrics-token-0123456789abcdef';
let ctx: TestContext;
let guarded: FastifyInstance;
let receiver: WebhookReceiver;
let a: TestOrg;

before(async () => {
  receiver = await startWebhookReceiver();
  ctx = await buildTestApp({ webhookAllowPrivateNetworks: true });
  // The same services behind an app whose /metrics wants METRICS_TOKEN.
  guarded = await buildApp({ container: { ...ctx.container, config: { ...ctx.config, metricsToken: METRICS_TOKEN } } });
  a = await createOrg(ctx);
});
after(async () => {
  await guarded.close();
  await receiver.stop();
  await ctx.close();
});

async function scrape(app = ctx.app, headers: Record<string, string> = {}): Promise<Exposition> {
  const res = await app.inject({ method: 'GET', url: '/metrics', headers });
  assert.equal(res.statusCode, 200, res.body);
  assert.match(String(res.headers['content-type']), /^text\/plain; version=0\.0\.4/);
  return parsePrometheusText(res.body);
}

const USERS_ROUTE = '/v1/organizations/:organizationId/mdm/users';

describe('/metrics', () => {
  test('parses as Prometheus text, with process, event-loop, HTTP, token and outbox figures', async () => {
    await call(ctx.app, a.adminKey, { method: 'GET', url: `/v1/organizations/${a.org.id}/mdm/users` });
    const m = await scrape();
    for (const name of ['process_cpu_user_seconds_total', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_seconds', 'nodejs_eventloop_lag_p99_seconds', 'nodejs_heap_size_used_bytes']) {
      assert.ok(m.samples.some((s) => s.name === name), name);
    }
    assert.equal(m.types.get('http_request_duration_seconds'), 'histogram');
    assert.equal(m.types.get('openroll_enrollment_tokens'), 'gauge');
    for (const platform of ['windows', 'apple']) for (const state of ['PENDING', 'DONE', 'DELETED', 'EXPIRED']) assert.notEqual(m.value('openroll_enrollment_tokens', { platform, state }), undefined);
    for (const outbox of ['email', 'webhook']) {
      for (const name of ['openroll_outbox_pending', 'openroll_outbox_failed', 'openroll_outbox_oldest_pending_age_seconds']) assert.notEqual(m.value(name, { outbox }), undefined, `${name} ${outbox}`);
    }
    if (TEST_DB_KIND === 'postgres') {
      assert.ok((m.value('openroll_db_pool_connections', { state: 'total' }) ?? 0) >= 1);
      assert.equal(m.value('openroll_db_pool_max'), ctx.config.databasePoolSize);
    }
    assert.equal(m.value('openroll_metrics_scrape_errors_total', { figure: 'tokens' }), undefined, 'no figure failed');
  });

  test('request durations move with requests, by route pattern and status; raw URLs never become labels', async () => {
    const key = { method: 'GET', route: USERS_ROUTE, status_code: '200' };
    const before = (await scrape()).value('http_request_duration_seconds_count', key) ?? 0;
    for (let i = 0; i < 3; i++) await call(ctx.app, a.adminKey, { method: 'GET', url: `/v1/organizations/${a.org.slug}/mdm/users?page=${i + 1}` });
    await call(ctx.app, undefined, { method: 'GET', url: `/v1/organizations/${a.org.id}/mdm/users` });
    const secret = 'abcdefghijklmnopqrstuvwxyz0123456789-secret';
    await ctx.app.inject({ method: 'GET', url: `/enroll-nope/${secret}` });
    const res = await ctx.app.inject({ method: 'GET', url: '/metrics' });
    const m = parsePrometheusText(res.body);
    assert.equal(m.value('http_request_duration_seconds_count', key), before + 3);
    assert.ok((m.value('http_request_duration_seconds_count', { ...key, status_code: '401' }) ?? 0) >= 1);
    assert.ok((m.value('http_request_duration_seconds_count', { method: 'GET', route: '(unmatched)', status_code: '404' }) ?? 0) >= 1);
    assert.equal(res.body.includes(secret), false);
    assert.equal(res.body.includes(a.org.id), false, 'no organization in any label');
  });

  test('token totals by state move with creates, revokes, redeems and expiry (before any sweep)', async () => {
    const tokens = async () => {
      const m = await scrape();
      return Object.fromEntries(['PENDING', 'DONE', 'DELETED', 'EXPIRED'].map((s) => [s, m.value('openroll_enrollment_tokens', { platform: 'windows', state: s })]));
    };
    const before = (await tokens()) as Record<string, number>;
    const t = await createOrg(ctx);
    const user = await createMdmUser(ctx, t.org);
    const ids: string[] = [];
    for (const duration of [60, 3600, 3600, 3600]) ids.push((await createToken(ctx, t.adminKey, t.org.id, 'windows', { mdmUserId: user.id, sendEmail: false, duration })).body.data.id);
    await call(ctx.app, t.adminKey, { method: 'DELETE', url: `${tokensPath(t.org.id, 'windows')}/${ids[1]}` });
    await ctx.container.tokenLifecycle.redeem(t.org.id, 'windows', ids[2]!, 'abcdefabcdefabcdefabcdef');
    ctx.clock.advance(61_000);
    assert.deepEqual(await tokens(), { PENDING: before.PENDING! + 1, DONE: before.DONE! + 1, DELETED: before.DELETED! + 1, EXPIRED: before.EXPIRED! + 1 });
  });

  test('outbox depth for email and webhooks, and webhook attempts by outcome', async () => {
    const t = await createOrg(ctx);
    await call(ctx.app, t.adminKey, { method: 'POST', url: `/v1/organizations/${t.org.id}/webhooks`, payload: { url: `${receiver.url}/metrics` } });
    const before = await scrape();
    const user = await createMdmUser(ctx, t.org);
    await createToken(ctx, t.adminKey, t.org.id, 'apple', { mdmUserId: user.id, sendEmail: true });
    let m = await scrape();
    assert.equal(m.value('openroll_outbox_pending', { outbox: 'email' }), (before.value('openroll_outbox_pending', { outbox: 'email' }) ?? 0) + 1);
    assert.equal(m.value('openroll_outbox_pending', { outbox: 'webhook' }), (before.value('openroll_outbox_pending', { outbox: 'webhook' }) ?? 0) + 1);
    ctx.clock.advance(5_000);
    assert.ok((await scrape()).value('openroll_outbox_oldest_pending_age_seconds', { outbox: 'webhook' })! >= 5);

    const delivered = before.value('openroll_webhook_delivery_attempts_total', { outcome: 'delivered' }) ?? 0;
    for (let i = 0; i < 10 && (await ctx.container.webhookSender.runOnce()).claimed > 0; i++);
    m = await scrape();
    assert.equal(m.value('openroll_webhook_delivery_attempts_total', { outcome: 'delivered' }), delivered + 1);
    assert.equal(m.value('openroll_outbox_pending', { outbox: 'webhook' }), before.value('openroll_outbox_pending', { outbox: 'webhook' }) ?? 0);
  });

  test('with METRICS_TOKEN set, /metrics wants it as a bearer', async () => {
    const get = (authorization?: string) => guarded.inject({ method: 'GET', url: '/metrics', headers: authorization ? { authorization } : {} });
    const none = await get();
    assertError({ status: none.statusCode, body: none.json(), headers: none.headers }, 401, 4002);
    const wrong = await get('Bearer metrics-token-0123456789abcdeX');
    assertError({ status: wrong.statusCode, body: wrong.json(), headers: wrong.headers }, 401, 4004);
    const right = await get(`Bearer ${METRICS_TOKEN}`);
    assert.equal(right.statusCode, 200);
    parsePrometheusText(right.body);
  });
});

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { assertError, errorPaths } from '../helpers/assertions.ts';
import { createKey, createOrg, type TestOrg } from '../helpers/factories.ts';
import { createTableResolver } from '../helpers/resolver.ts';
import { assertRouteSecurity } from '../helpers/security.ts';
import { buildTestApp, call, type TestContext } from '../helpers/test-app.ts';
import { WEBHOOK_EVENT_TYPES } from '../../src/webhooks/webhook-events.ts';
import { MAX_WEBHOOKS_PER_ORGANIZATION } from '../../src/webhooks/webhooks.service.ts';

// Names the tests resolve: one global address (nothing is ever sent to it: no sender runs in
// this file), and names that point inside.
const resolver = createTableResolver({
  'hooks.example.com': ['93.184.215.14'],
  'internal.example.com': ['10.0.0.1'],
  'mixed.example.com': ['93.184.215.14', '10.0.0.2'],
  'metadata.example.com': ['169.254.169.254'],
  'v6-internal.example.com': ['fd00::1'],
});

let ctx: TestContext;
let a: TestOrg;
before(async () => {
  ctx = await buildTestApp({ webhookAllowPrivateNetworks: false }, { resolveHost: resolver });
  a = await createOrg(ctx);
});
after(() => ctx.close());

const base = (org: string) => `/v1/organizations/${org}/webhooks`;
const post = (body: unknown, key = a.adminKey) => call(ctx.app, key, { method: 'POST', url: base(a.org.id), payload: body as object });

describe('webhook endpoints', () => {
  test('create returns the secret once; get and list never show it', async () => {
    const res = await post({ url: 'https://hooks.example.com/openroll?team=it#ignored', description: 'IT automation' });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const created = res.body.data;
    assert.match(created.secret, /^whsec_[A-Za-z0-9+/]+={0,2}$/);
    assert.equal(Buffer.from(created.secret.slice(6), 'base64').length, 32);
    assert.equal(created.url, 'https://hooks.example.com/openroll?team=it', 'the fragment is dropped');
    assert.deepEqual(created.events, [...WEBHOOK_EVENT_TYPES], 'every event by default');
    assert.equal(created.enabled, true);
    const got = await call(ctx.app, a.adminKey, { method: 'GET', url: `${base(a.org.id)}/${created.id}` });
    assert.equal(got.status, 200);
    assert.equal('secret' in got.body.data, false);
    const { secret: _secret, ...shown } = created;
    assert.deepEqual(got.body.data, shown);
    const list = await call(ctx.app, a.adminKey, { method: 'GET', url: base(a.org.slug) });
    assert.equal(list.body.data.totalDocs, 1);
    assert.equal(JSON.stringify(list.body).includes(created.secret), false);
  });

  test('update: events, enabled, description, URL (checked again); delete removes it', async () => {
    const { id } = (await post({ url: 'https://hooks.example.com/a', events: ['enrollmentToken.created'] })).body.data;
    const url = `${base(a.org.id)}/${id}`;
    const put = (payload: object) => call(ctx.app, a.adminKey, { method: 'PUT', url, payload });
    const disabled = await put({ enabled: false, events: ['enrollmentToken.revoked', 'enrollmentToken.redeemed'], description: 'off' });
    assert.equal(disabled.status, 200);
    assert.equal(disabled.body.data.enabled, false);
    assert.deepEqual(disabled.body.data.events, ['enrollmentToken.revoked', 'enrollmentToken.redeemed']);
    assertError(await put({ url: 'http://internal.example.com/x' }), 400, 3000);
    assert.equal((await put({ url: 'https://hooks.example.com/b' })).body.data.url, 'https://hooks.example.com/b');
    assert.deepEqual(errorPaths(await put({})), ['body']);
    assert.deepEqual(errorPaths(await put({ secret: 'whsec_x' })), ['body.secret']);
    assert.deepEqual(errorPaths(await put({ events: [] })), ['body.events']);
    assert.deepEqual(errorPaths(await put({ events: ['enrollmentToken.created', 'enrollmentToken.created'] })), ['body.events']);
    const removed = await call(ctx.app, a.adminKey, { method: 'DELETE', url });
    assert.equal(removed.status, 200);
    assertError(await call(ctx.app, a.adminKey, { method: 'GET', url }), 404, 3001);
    assertError(await call(ctx.app, a.adminKey, { method: 'DELETE', url }), 404, 3001);
  });

  test('bad bodies: clear 400s naming the field', async () => {
    assert.deepEqual(errorPaths(await post({})), ['body.url']);
    assert.deepEqual(errorPaths(await post({ url: 'ftp://hooks.example.com/x' })), ['body.url']);
    assert.deepEqual(errorPaths(await post({ url: 'not a url' })), ['body.url']);
    assert.deepEqual(errorPaths(await post({ url: 'https://user:pass@hooks.example.com/' })), ['body.url']);
    assert.deepEqual(errorPaths(await post({ url: 'https://no-such-host.example.com/' })), ['body.url']);
    assert.deepEqual(errorPaths(await post({ url: 'https://hooks.example.com/', events: ['token.created'] })), ['body.events.0']);
    assert.deepEqual(errorPaths(await post({ url: 'https://hooks.example.com/', secret: 'whsec_mine' })), ['body.secret']);
    assert.deepEqual(errorPaths(await post({ url: `https://hooks.example.com/${'x'.repeat(2048)}` })), ['body.url']);
  });

  test('private, loopback, link-local and other special-use addresses are refused: literal addresses', async () => {
    const literals = [
      'http://127.0.0.1/hook', 'http://127.1.2.3:8080/', 'http://0x7f000001/', 'http://2130706433/', 'http://0.0.0.0/', 'http://10.0.0.1/',
      'http://172.16.5.4/', 'http://192.168.1.1/', 'http://169.254.169.254/latest/meta-data', 'http://100.64.0.1/', 'http://224.0.0.1/',
      'http://255.255.255.255/', 'http://192.0.2.1/', 'http://198.18.0.1/', 'http://[::1]/', 'http://[::]/', 'http://[fe80::1]/',
      'http://[fd12:3456::1]/', 'http://[::ffff:10.0.0.1]/', 'http://[::ffff:127.0.0.1]/', 'http://[64:ff9b::a00:1]/', 'http://[2002:a00:1::]/',
    ];
    for (const url of literals) {
      const res = await post({ url });
      assert.deepEqual(errorPaths(res), ['body.url'], url);
      assert.match(res.body.error.data.errors[0].message, /is refused: .* address/, url);
    }
  });

  test('names are refused when any address they resolve to is special-use (resolved through the test resolver)', async () => {
    for (const host of ['localhost', 'internal.example.com', 'mixed.example.com', 'metadata.example.com', 'v6-internal.example.com']) {
      const before = resolver.lookups.length;
      const res = await post({ url: `https://${host}/hook` });
      assert.deepEqual(errorPaths(res), ['body.url'], host);
      assert.match(res.body.error.data.errors[0].message, new RegExp(`${host} resolves to`), host);
      assert.ok(resolver.lookups.slice(before).includes(host), 'the name went through the injected resolver');
    }
    const list = await call(ctx.app, a.adminKey, { method: 'GET', url: base(a.org.id) });
    assert.equal(list.body.data.items.some((w: { url: string }) => !w.url.startsWith('https://hooks.example.com')), false, 'none was stored');
  });

  test('viewers read webhooks but cannot create them; at most 20 per organization', async () => {
    const viewer = await createKey(ctx, a.org, { role: 'viewer' });
    assert.equal((await call(ctx.app, viewer, { method: 'GET', url: base(a.org.id) })).status, 200);
    assertError(await post({ url: 'https://hooks.example.com/' }, viewer), 403, 4003);
    const org = await createOrg(ctx);
    for (let i = 0; i < MAX_WEBHOOKS_PER_ORGANIZATION; i++) {
      const res = await call(ctx.app, org.adminKey, { method: 'POST', url: base(org.org.id), payload: { url: `https://hooks.example.com/${i}` } });
      assert.equal(res.status, 200);
    }
    assertError(await call(ctx.app, org.adminKey, { method: 'POST', url: base(org.org.id), payload: { url: 'https://hooks.example.com/one-more' } }), 400, 3000);
  });

  test('the delivery log and redeliver of an unknown delivery answer 404', async () => {
    const { id } = (await post({ url: 'https://hooks.example.com/log' })).body.data;
    const log = await call(ctx.app, a.adminKey, { method: 'GET', url: `${base(a.org.id)}/${id}/deliveries?status=failed` });
    assert.equal(log.status, 200);
    assert.equal(log.body.data.totalDocs, 0);
    assert.deepEqual(errorPaths(await call(ctx.app, a.adminKey, { method: 'GET', url: `${base(a.org.id)}/${id}/deliveries?status=lost` })), ['query.status']);
    assertError(await call(ctx.app, a.adminKey, { method: 'POST', url: `${base(a.org.id)}/${id}/deliveries/${'a'.repeat(24)}/redeliver` }), 404, 3001);
  });
});

describe('webhook routes: security', () => {
  const id = 'b'.repeat(24);
  const routes = [
    { method: 'GET' as const, path: (org: string) => base(org), permission: 'base.organization.webhook.list' },
    { method: 'POST' as const, path: (org: string) => base(org), body: { url: 'https://hooks.example.com/sec' }, permission: 'base.organization.webhook.create' },
    { method: 'GET' as const, path: (org: string) => `${base(org)}/${id}`, permission: 'base.organization.webhook.get' },
    { method: 'PUT' as const, path: (org: string) => `${base(org)}/${id}`, body: { enabled: false }, permission: 'base.organization.webhook.update' },
    { method: 'DELETE' as const, path: (org: string) => `${base(org)}/${id}`, permission: 'base.organization.webhook.remove' },
    { method: 'GET' as const, path: (org: string) => `${base(org)}/${id}/deliveries`, permission: 'base.organization.webhook.get' },
    { method: 'POST' as const, path: (org: string) => `${base(org)}/${id}/deliveries/${id}/redeliver`, permission: 'base.organization.webhook.update' },
  ];
  for (const route of routes) {
    test(`${route.method} ${route.path(':org')}`, () => assertRouteSecurity(ctx, route));
  }
});

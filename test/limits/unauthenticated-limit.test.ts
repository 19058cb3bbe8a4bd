/**
 * The per-address limit that runs before authentication, and the client address it counts
 * (TRUST_PROXY). Traffic goes through inject and 127.0.0.1 only; other addresses are the
 * `remoteAddress` inject claims, and X-Forwarded-For headers.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.ts';
import { ConfigError, loadConfig, type Config } from '../../src/config.ts';
import { createContainer, type Container } from '../../src/container.ts';
import { assertError } from '../helpers/assertions.ts';
import { createKey, createLegacyKey, createOrg, type TestOrg } from '../helpers/factories.ts';
import { buildTestApp, call, type TestContext } from '../helpers/test-app.ts';

const MAX = 5;
let ctx: TestContext;
let a: TestOrg;
const apps: FastifyInstance[] = [];

before(async () => {
  ctx = await buildTestApp();
  a = await createOrg(ctx);
});
after(async () => {
  for (const app of apps) await app.close();
  await ctx.close();
});

/**
 * An app of its own (own counters on PGlite; on PostgreSQL, counters in this file's database).
 * `watchKeys` turns on the key cache as the server does (it listens for key changes).
 */
async function appWith(overrides: Partial<Config>, options: { watchKeys?: boolean; beforeBuild?: (container: Container) => void } = {}): Promise<{ app: FastifyInstance; container: Container }> {
  const config = { ...ctx.config, rateLimitUnauthenticatedPerMinute: MAX, rateLimitWindowMs: 60_000, ...overrides };
  const container = createContainer({ config, database: ctx.db.database, clock: ctx.clock });
  options.beforeBuild?.(container);
  const app = await buildApp({ container });
  if (options.watchKeys) {
    const stop = await container.auth.watchChanges();
    app.addHook('onClose', async () => stop());
  }
  apps.push(app);
  return { app, container };
}

let addresses = 0;
/** A fresh address each time, so tests never share a bucket (on PostgreSQL every app shares the table). */
const address = (net = '198.51.100') => `${net}.${++addresses}`;
const keysUrl = () => `/v1/organizations/${a.org.id}/api-keys`;
const randomKey = () => `ork_${randomBytes(32).toString('base64url')}`;

describe('requests without a valid key are limited per client address, before authentication', () => {
  test('800 requests with random well-formed keys: 401 up to the limit, then 429 4029 with Retry-After and no more key lookups (was 800 × 401)', async (t) => {
    let lookups: ReturnType<typeof t.mock.method> | undefined;
    // The auth hook holds the authenticator's function from the moment the app is built.
    const { app } = await appWith({}, { beforeBuild: (container) => (lookups = t.mock.method(container.auth, 'authenticate')) });
    const remoteAddress = address();
    const statuses: number[] = [];
    for (let i = 0; i < 800; i++) {
      const res = await call(app, randomKey(), { method: 'GET', url: keysUrl(), remoteAddress });
      statuses.push(res.status);
      if (res.status === 429) {
        assertError(res, 429, 4029);
        assert.equal(res.body.error.requestId, res.headers['x-request-id']);
        const retryAfter = Number(res.headers['retry-after']);
        assert.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After ${res.headers['retry-after']}`);
      } else {
        assertError(res, 401, 4004);
      }
    }
    assert.deepEqual(statuses.slice(0, MAX), Array(MAX).fill(401));
    assert.deepEqual(statuses.slice(MAX), Array(800 - MAX).fill(429));
    assert.equal(lookups!.mock.callCount(), MAX, 'a key lookup only for the requests under the limit');
  });

  test('every kind of request without a valid key counts: none, empty, malformed, unknown, expired, revoked, an unknown /v1 path', async () => {
    const { app } = await appWith({ rateLimitUnauthenticatedPerMinute: 7 });
    const remoteAddress = address();
    const expired = await createKey(ctx, a.org, { role: 'admin', expiresAt: new Date(ctx.clock.now().getTime() + 1000) });
    const revoked = await createKey(ctx, a.org, { role: 'admin' });
    const list = await call(ctx.app, a.adminKey, { method: 'GET', url: `${keysUrl()}?limit=500` });
    await call(ctx.app, a.adminKey, { method: 'DELETE', url: `${keysUrl()}/${list.body.data.items.find((k: { prefix: string }) => revoked.startsWith(k.prefix)).id}` });
    ctx.clock.advance(2000);
    const send = (headers: Record<string, string>, url = keysUrl()) => call(app, undefined, { method: 'GET', url, headers, remoteAddress });
    assertError(await send({}), 401, 4002);
    assertError(await send({ authorization: 'Bearer ' }), 401, 4002);
    assertError(await send({ authorization: 'Bearer garbage' }), 401, 4004);
    assertError(await send({ authorization: `Bearer ${randomKey()}` }), 401, 4004);
    assertError(await send({ authorization: `Bearer ${expired}` }), 401, 4005);
    assertError(await send({ authorization: `Bearer ${revoked}` }), 401, 4004);
    assertError(await send({}, '/v1/no/such/route'), 404, 1002);
    for (const headers of [{}, { authorization: `Bearer ${randomKey()}` }, { authorization: `Bearer ${expired}` }] as Array<Record<string, string>>) {
      assertError(await send(headers), 429, 4029);
    }
    assertError(await send({}, '/v1/no/such/route'), 429, 4029);
  });

  test('valid keys do not spend the address budget; another address has its own', async () => {
    const { app } = await appWith({});
    const remoteAddress = address();
    // Fresh keys, each looked up in the database: valid ones are never counted.
    for (let i = 0; i < MAX * 2; i++) {
      const key = await createKey(ctx, a.org, { role: 'viewer' });
      assert.equal((await call(app, key, { method: 'GET', url: `/v1/organizations/${a.org.id}/segments`, remoteAddress })).status, 200);
    }
    for (let i = 0; i < MAX; i++) assertError(await call(app, undefined, { method: 'GET', url: keysUrl(), remoteAddress }), 401, 4002);
    assertError(await call(app, undefined, { method: 'GET', url: keysUrl(), remoteAddress }), 429, 4029);
    assertError(await call(app, undefined, { method: 'GET', url: keysUrl(), remoteAddress: address() }), 401, 4002);
  });

  test('from an address over the limit, a key this server just verified still works, keys without a check wait; IPv6 addresses share their /64', async () => {
    const { app } = await appWith({}, { watchKeys: true });
    const remoteAddress = address();
    assert.equal((await call(app, a.adminKey, { method: 'GET', url: keysUrl(), remoteAddress })).status, 200);
    for (let i = 0; i <= MAX; i++) await call(app, undefined, { method: 'GET', url: keysUrl(), remoteAddress });
    assertError(await call(app, undefined, { method: 'GET', url: keysUrl(), remoteAddress }), 429, 4029);
    assert.equal((await call(app, a.adminKey, { method: 'GET', url: keysUrl(), remoteAddress })).status, 200);
    // A key made before keys carried a check, not seen from there: it needs a lookup, refused like the bad ones.
    const legacy = await createLegacyKey(ctx, a.org, { role: 'viewer' });
    assertError(await call(app, legacy, { method: 'GET', url: `/v1/organizations/${a.org.id}/segments`, remoteAddress }), 429, 4029);
    // A key minted now carries the server's check: never refused for what its address sent (api-key-lockout.test.ts).
    const unseen = await createKey(ctx, a.org, { role: 'viewer' });
    assert.equal((await call(app, unseen, { method: 'GET', url: `/v1/organizations/${a.org.id}/segments`, remoteAddress })).status, 200);

    const block = `2001:db8:${randomBytes(2).toString('hex')}:1`;
    for (let i = 0; i < MAX; i++) assertError(await call(app, undefined, { method: 'GET', url: keysUrl(), remoteAddress: `${block}::${i + 1}` }), 401, 4002);
    assertError(await call(app, undefined, { method: 'GET', url: keysUrl(), remoteAddress: `${block}::ffff` }), 429, 4029);
  });

  test('RATE_LIMIT_UNAUTHENTICATED_PER_MINUTE: default 60, 0 turns it off, a bad value names the variable', async () => {
    assert.equal(loadConfig({}).rateLimitUnauthenticatedPerMinute, 60);
    assert.equal(loadConfig({ RATE_LIMIT_UNAUTHENTICATED_PER_MINUTE: '10' }).rateLimitUnauthenticatedPerMinute, 10);
    assert.throws(() => loadConfig({ RATE_LIMIT_UNAUTHENTICATED_PER_MINUTE: 'x' }), (e: unknown) => e instanceof ConfigError && e.message.includes('RATE_LIMIT_UNAUTHENTICATED_PER_MINUTE'));
    const { app } = await appWith({ rateLimitUnauthenticatedPerMinute: 0 });
    const remoteAddress = address();
    for (let i = 0; i < MAX * 3; i++) assertError(await call(app, undefined, { method: 'GET', url: keysUrl(), remoteAddress }), 401, 4002);
  });
});

describe('TRUST_PROXY: the client address behind a reverse proxy', () => {
  test('off (the default): X-Forwarded-For is ignored, so a client cannot dodge the limit by writing one', async () => {
    assert.deepEqual(loadConfig({}).trustProxy, []);
    const { app } = await appWith({});
    const remoteAddress = address();
    for (let i = 0; i < MAX; i++) {
      assertError(await call(app, undefined, { method: 'GET', url: keysUrl(), remoteAddress, headers: { 'x-forwarded-for': `203.0.113.${i + 1}` } }), 401, 4002);
    }
    assertError(await call(app, undefined, { method: 'GET', url: keysUrl(), remoteAddress, headers: { 'x-forwarded-for': '203.0.113.99' } }), 429, 4029);
  });

  test('set to the proxy: each forwarded client has its own budget; a client not behind the proxy cannot claim one', async () => {
    const proxy = address();
    const { app } = await appWith({ trustProxy: [`${proxy}/32`] });
    const client = address('203.0.113');
    const other = address('192.0.2');
    const via = (forwarded: string, remoteAddress = proxy) => call(app, undefined, { method: 'GET', url: keysUrl(), remoteAddress, headers: { 'x-forwarded-for': forwarded } });
    for (let i = 0; i < MAX; i++) assertError(await via(client), 401, 4002);
    assertError(await via(client), 429, 4029);
    assertError(await via(`${client}, ${proxy}`), 429, 4029);
    assertError(await via(other), 401, 4002);
    // Straight from another address (no trusted proxy in between), X-Forwarded-For means nothing.
    const direct = address();
    for (let i = 0; i < MAX; i++) assertError(await via(`${other}`, direct), 401, 4002);
    assertError(await via(`${other}`, direct), 429, 4029);
    assertError(await via(other), 401, 4002);
  });

  test("the enrollment page's wrong-link limit counts the forwarded client too", async () => {
    const proxy = address();
    const { app } = await appWith({ trustProxy: [proxy] });
    const wrong = (client: string) => app.inject({ method: 'GET', url: `/enroll/${randomBytes(32).toString('base64url')}`, remoteAddress: proxy, headers: { 'x-forwarded-for': client } });
    const client = address('203.0.113');
    for (let i = 0; i < 20; i++) assert.equal((await wrong(client)).statusCode, 404);
    const limited = await wrong(client);
    assert.equal(limited.statusCode, 429);
    assert.ok(Number(limited.headers['retry-after']) >= 1);
    assert.equal((await wrong(address('192.0.2'))).statusCode, 404, 'another client behind the same proxy');
  });

  test('over a real loopback socket, with the proxy being 127.0.0.1', async () => {
    const { app } = await appWith({ trustProxy: ['loopback'] });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}${keysUrl()}`;
    const client = address('203.0.113');
    const get = (forwarded: string) => fetch(url, { headers: { 'x-forwarded-for': forwarded } });
    for (let i = 0; i < MAX; i++) assert.equal((await get(client)).status, 401);
    const limited = await get(client);
    assert.equal(limited.status, 429);
    assert.equal(((await limited.json()) as { error: { code: number } }).error.code, 4029);
    assert.equal((await get(address('192.0.2'))).status, 401);
  });

  test('TRUST_PROXY takes addresses and CIDR ranges; anything else names the variable', () => {
    assert.deepEqual(loadConfig({ TRUST_PROXY: '10.0.0.1, 10.1.0.0/16,::1,fd00::/8,loopback' }).trustProxy, ['10.0.0.1', '10.1.0.0/16', '::1', 'fd00::/8', 'loopback']);
    for (const value of ['true', '1', '*', '10.0.0.0/33', 'proxy.example.com', '10.0.0.1/8/8', '::1/129']) {
      assert.throws(() => loadConfig({ TRUST_PROXY: value }), (e: unknown) => e instanceof ConfigError && e.message.includes('TRUST_PROXY'), value);
    }
  });
});


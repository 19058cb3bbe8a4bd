/**
 * Bad keys from one address must not lock out the valid keys of that address (issue 21, item
 * 1): a key this server minted carries a check verified without the database
 * (src/auth/credential-check.ts), so it is never refused for what its address sent, while bad
 * keys still cost at most the address's budget of lookups and then get 429. The same holds for
 * console session cookies and console sign-ins. Traffic goes through inject only; addresses are
 * the `remoteAddress` inject claims.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.ts';
import { createCredentialCheck } from '../../src/auth/credential-check.ts';
import type { Config } from '../../src/config.ts';
import { createContainer } from '../../src/container.ts';
import type { Database } from '../../src/db/client.ts';
import { assertError } from '../helpers/assertions.ts';
import { createKey, createLegacyKey, createOrg, type TestOrg } from '../helpers/factories.ts';
import { buildTestApp, call, type TestContext } from '../helpers/test-app.ts';

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
 * An app of its own over this file's database whose SELECTs are counted: every key lookup and
 * session lookup is one (rate-limit counters are upserts, not counted). Same server key: it is
 * another process of the same server.
 */
async function countingApp(overrides: Partial<Config> = {}): Promise<{ app: FastifyInstance; selects: () => number }> {
  let selects = 0;
  const db = new Proxy(ctx.db.database.db, {
    get(target, property, receiver) {
      if (property === 'select') selects++;
      return Reflect.get(target, property, receiver) as unknown;
    },
  });
  const database: Database = { ...ctx.db.database, db };
  const container = createContainer({ config: { ...ctx.config, ...overrides }, database, clock: ctx.clock });
  const app = await buildApp({ container });
  apps.push(app);
  return { app, selects: () => selects };
}

let addresses = 0;
const address = () => `198.18.${Math.floor(++addresses / 250)}.${(addresses % 250) + 1}`;
const segments = () => `/v1/organizations/${a.org.id}/segments`;
/** A guess as scripts send them: the old shape (47 characters) or the new one with a made-up check (69). */
const badKey = (i: number) => (i % 2 === 0 ? `ork_${randomBytes(32).toString('base64url')}` : `ork_${randomBytes(49).toString('base64url').slice(0, 65)}`);
const get = (app: FastifyInstance, key: string | undefined, remoteAddress: string, headers: Record<string, string> = {}) => call(app, key, { method: 'GET', url: segments(), remoteAddress, headers });
const BUDGET = 60; // RATE_LIMIT_UNAUTHENTICATED_PER_MINUTE's default

async function revokedKey(): Promise<string> {
  const key = await createKey(ctx, a.org, { role: 'viewer' });
  const list = await call(ctx.app, a.adminKey, { method: 'GET', url: `/v1/organizations/${a.org.id}/api-keys?limit=500` });
  const id = list.body.data.items.find((k: { prefix: string }) => key.startsWith(k.prefix)).id;
  assert.equal((await call(ctx.app, a.adminKey, { method: 'DELETE', url: `/v1/organizations/${a.org.id}/api-keys/${id}` })).status, 200);
  return key;
}

describe('a valid key is never refused because its address sent bad ones', () => {
  test('a key never used before, after 80 bad keys from its address, answers 200; the next bad key 429 (was 429 for every key)', async () => {
    assert.equal(ctx.config.rateLimitUnauthenticatedPerMinute, BUDGET);
    const remoteAddress = address();
    const statuses: number[] = [];
    for (let i = 0; i < 80; i++) statuses.push((await get(ctx.app, badKey(i), remoteAddress)).status);
    assert.deepEqual(statuses, [...Array(BUDGET).fill(401), ...Array(80 - BUDGET).fill(429)]);
    const fresh = await createKey(ctx, a.org, { role: 'viewer' });
    const res = await get(ctx.app, fresh, remoteAddress);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal((await get(ctx.app, a.adminKey, remoteAddress)).status, 200, 'the organization’s first admin key too');
    const next = await get(ctx.app, badKey(0), remoteAddress);
    assertError(next, 429, 4029);
    assert.ok(Number(next.headers['retry-after']) >= 1);
    assertError(await get(ctx.app, undefined, remoteAddress), 429, 4029);
  });

  test('the valid key keeps its own per-key limit there, and another fresh key its own', async () => {
    const { app } = await countingApp({ rateLimitPerMinute: 3, rateLimitUnauthenticatedPerMinute: 5 });
    const remoteAddress = address();
    for (let i = 0; i < 10; i++) await get(app, badKey(i), remoteAddress);
    const first = await createKey(ctx, a.org, { role: 'viewer' });
    for (let i = 0; i < 3; i++) assert.equal((await get(app, first, remoteAddress)).status, 200);
    assertError(await get(app, first, remoteAddress), 429, 4029);
    const second = await createKey(ctx, a.org, { role: 'viewer' });
    assert.equal((await get(app, second, remoteAddress)).status, 200);
  });

  test('a key made before keys carried a check still works; past the budget it waits like a guess (it cannot be told from one)', async () => {
    const { app } = await countingApp({ rateLimitUnauthenticatedPerMinute: 5 });
    const remoteAddress = address();
    const legacy = await createLegacyKey(ctx, a.org, { role: 'viewer' });
    assert.equal((await get(app, legacy, remoteAddress)).status, 200);
    for (let i = 0; i < 5; i++) assertError(await get(app, badKey(i), remoteAddress), 401, 4004);
    assertError(await get(app, await createLegacyKey(ctx, a.org, { role: 'viewer' }), remoteAddress), 429, 4029);
    assert.equal((await get(app, legacy, address())).status, 200, 'from another address');
  });
});

describe('bad keys cost no unbounded database reads', () => {
  test('a check is its exact text: every other character in any place fails, the low bits of the last one too', () => {
    const check = createCredentialCheck(() => randomBytes(32));
    const body = randomBytes(32).toString('base64url');
    const sealed = check.seal('api-key', body);
    assert.ok(check.verify('api-key', body, sealed));
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    for (let at = 0; at < sealed.length; at++) {
      for (const c of alphabet) {
        if (c === sealed[at]) continue;
        const altered = sealed.slice(0, at) + c + sealed.slice(at + 1);
        assert.equal(check.verify('api-key', body, altered), false, `${altered} (place ${at})`);
      }
    }
    assert.equal(check.verify('console-session', body, sealed), false, 'another purpose');
  });

  test('a key with a made-up or altered check is refused without a lookup; guesses of the old shape are looked up only within the budget', async () => {
    const { app, selects } = await countingApp({ rateLimitUnauthenticatedPerMinute: 10 });
    const remoteAddress = address();
    const valid = await createKey(ctx, a.org, { role: 'viewer' });
    const altered = valid.slice(0, -1) + (valid.endsWith('A') ? 'B' : 'A');
    const before = selects();
    assertError(await get(app, altered, remoteAddress), 401, 4004);
    for (let i = 0; i < 9; i++) assertError(await get(app, `ork_${randomBytes(49).toString('base64url').slice(0, 65)}`, remoteAddress), 401, 4004);
    assert.equal(selects() - before, 0, 'no lookup for a wrong check');
    for (let i = 0; i < 300; i++) assertError(await get(app, badKey(i), remoteAddress), 429, 4029);
    assert.equal(selects() - before, 0, 'none past the budget either');

    const other = address();
    for (let i = 0; i < 300; i++) await get(app, `ork_${randomBytes(32).toString('base64url')}`, other);
    assert.equal(selects() - before, 10, 'old-shape guesses: one lookup each within the budget of 10, none after');
  });

  test('a revoked or expired key with a valid check: looked up once, then answered from memory, and 429 past the budget', async () => {
    const { app, selects } = await countingApp({ rateLimitUnauthenticatedPerMinute: 5 });
    const revoked = await revokedKey();
    const expired = await createKey(ctx, a.org, { role: 'viewer', expiresAt: new Date(ctx.clock.now().getTime() + 1000) });
    ctx.clock.advance(2000);
    const remoteAddress = address();
    const before = selects();
    assertError(await get(app, revoked, remoteAddress), 401, 4004);
    assertError(await get(app, expired, remoteAddress), 401, 4005);
    assert.equal(selects() - before, 2);
    assertError(await get(app, revoked, remoteAddress), 401, 4004);
    assertError(await get(app, expired, remoteAddress), 401, 4005);
    assertError(await get(app, revoked, remoteAddress), 401, 4004);
    assert.equal(selects() - before, 2, 'the failures are final: remembered, not looked up again');
    for (let i = 0; i < 50; i++) assertError(await get(app, i % 2 ? revoked : expired, remoteAddress), 429, 4029);
    assert.equal(selects() - before, 2);
    assert.equal((await get(app, await createKey(ctx, a.org, { role: 'viewer' }), remoteAddress)).status, 200, 'a live key still passes');
  });
});

describe('the admin console', () => {
  const SESSION = '/console/api/session';
  const signIn = (app: FastifyInstance, key: string, remoteAddress: string) => app.inject({ method: 'POST', url: SESSION, payload: { key }, remoteAddress });
  const cookieOf = (res: Awaited<ReturnType<typeof signIn>>) => String(res.headers['set-cookie']).split(';')[0]!;

  test('a session cookie from an address that sent 80 bad keys answers 200; a forged cookie is refused without a lookup', async () => {
    const { app, selects } = await countingApp();
    const remoteAddress = address();
    const signedIn = await signIn(app, a.adminKey, remoteAddress);
    assert.equal(signedIn.statusCode, 200, signedIn.body);
    const cookie = cookieOf(signedIn);
    for (let i = 0; i < 80; i++) await get(app, badKey(i), remoteAddress);
    assertError(await get(app, badKey(1), remoteAddress), 429, 4029);
    assert.equal((await get(app, undefined, remoteAddress, { cookie })).status, 200);

    const [name, value] = cookie.split('=') as [string, string];
    const [org, secret, check] = value.split('.') as [string, string, string];
    const before = selects();
    const forged = `${name}=${org}.${randomBytes(32).toString('base64url')}.${check}`;
    assertError(await get(app, undefined, address(), { cookie: forged }), 401, 4004);
    assertError(await get(app, undefined, address(), { cookie: `${name}=${org}.${secret}.${'A'.repeat(22)}` }), 401, 4004);
    assert.equal(selects() - before, 0, 'a wrong check is refused before any lookup');
    assertError(await get(app, undefined, remoteAddress, { cookie: forged }), 429, 4029); // past the budget it is a bad credential like the others
  });

  test('sign-ins with bad keys from an address do not keep a valid key from signing in there', async () => {
    const { app } = await countingApp({ rateLimitPerMinute: 100 }); // 5 sign-ins a minute per address
    const remoteAddress = address();
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) statuses.push((await signIn(app, badKey(i), remoteAddress)).statusCode);
    assert.deepEqual(statuses, [401, 401, 401, 401, 401, 429, 429]);
    assert.equal((await signIn(app, await createKey(ctx, a.org, { role: 'viewer' }), remoteAddress)).statusCode, 200);
    assert.equal((await signIn(app, await createLegacyKey(ctx, a.org, { role: 'viewer' }), remoteAddress)).statusCode, 429, 'a key without a check cannot be told from a guess');
    assert.equal((await signIn(app, await revokedKey(), remoteAddress)).statusCode, 401, 'a revoked key is looked up once');
    assert.equal((await signIn(app, badKey(0), remoteAddress)).statusCode, 429);
  });
});

/**
 * The admin console's sessions over HTTP: an API key exchanged for a cookie, the cookie's flags,
 * the /v1 API accepting it with the key's permissions, CSRF and cross-site refusals, sign-out,
 * idle and absolute expiry, and the security cases of a credential.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { consoleSessions } from '../../src/db/schema.ts';
import { SESSION_IDLE_MS, SESSION_MAX_MS } from '../../src/console/console-sessions.service.ts';
import { createKey, createMdmUser, createOrg, type TestOrg } from '../helpers/factories.ts';
import { buildTestApp, call, type Json, type TestContext } from '../helpers/test-app.ts';
import { tokensPath } from '../helpers/tokens.ts';

const SESSION = '/console/api/session';
const COOKIE = '__Host-openroll_session'; // the test app's PUBLIC_URL is https
const ORIGIN = 'https://mdm.example.test';

interface Session {
  cookie: string;
  csrf: string;
  res: Json;
}

let ctx: TestContext;
let a: TestOrg;
let b: TestOrg;

before(async () => {
  ctx = await buildTestApp();
  a = await createOrg(ctx);
  b = await createOrg(ctx);
});
after(() => ctx.close());

function setCookieOf(res: Json): string {
  const header = res.headers['set-cookie'];
  assert.ok(typeof header === 'string', `one Set-Cookie header, got ${JSON.stringify(header)}`);
  return header;
}

async function signIn(key: string, headers: Record<string, string> = { origin: ORIGIN }): Promise<Session> {
  const res = await call(ctx.app, undefined, { method: 'POST', url: SESSION, payload: { key }, headers });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  const cookie = setCookieOf(res).split(';')[0]!;
  return { cookie, csrf: res.body.data.csrfToken, res };
}

function withSession(s: Session, options: { method?: 'GET' | 'POST' | 'PUT' | 'DELETE'; url: string; payload?: object; csrf?: boolean; headers?: Record<string, string> }) {
  const headers: Record<string, string> = { cookie: s.cookie, ...(options.csrf === false ? {} : { 'x-csrf-token': s.csrf, origin: ORIGIN }), ...options.headers };
  return call(ctx.app, undefined, { method: options.method ?? 'GET', url: options.url, headers, ...(options.payload ? { payload: options.payload } : {}) });
}

function assertError(res: Json, status: number, code: number, label: string) {
  assert.equal(res.status, status, `${label}: ${JSON.stringify(res.body)}`);
  assert.equal(res.body.status, false, label);
  assert.equal(res.body.error.code, code, label);
}

describe('sign-in', () => {
  test('sets an HttpOnly, SameSite=Strict, Secure, host-only cookie of bounded life, and answers the organization and permissions', async () => {
    const s = await signIn(a.adminKey);
    const flags = setCookieOf(s.res).split(';').map((f) => f.trim());
    // The organization, the secret, and the server's check of both (src/auth/credential-check.ts).
    assert.match(flags[0]!, new RegExp(`^${COOKIE}=[0-9a-f]{24}\\.[A-Za-z0-9_-]{43}\\.[A-Za-z0-9_-]{22}$`));
    assert.ok(flags.includes('HttpOnly'));
    assert.ok(flags.includes('Secure'));
    assert.ok(flags.includes('SameSite=Strict'));
    assert.ok(flags.includes('Path=/'));
    assert.ok(flags.includes(`Max-Age=${SESSION_MAX_MS / 1000}`));
    assert.ok(!flags.some((f) => f.startsWith('Domain')));
    assert.equal(s.res.headers['cache-control'], 'no-store');
    const data = s.res.body.data;
    assert.deepEqual(data.organization, { id: a.org.id, slug: a.org.slug, name: a.org.name });
    assert.ok(data.permissions.includes('mdm.windows.enrollmentToken.create'));
    assert.ok(data.permissions.includes('base.organization.apiKey.create'));
    assert.equal(data.idleTimeoutSeconds, SESSION_IDLE_MS / 1000);
    assert.ok(!JSON.stringify(s.res.body).includes(a.adminKey), 'the key is never echoed');
  });

  test('stores only a hash of the cookie secret', async () => {
    const s = await signIn(a.adminKey);
    const secret = s.cookie.split('.')[1]!;
    const rows = await ctx.container.database.db.select().from(consoleSessions);
    assert.ok(rows.length > 0);
    for (const row of rows) {
      assert.equal(row.secretHash.length, 32);
      assert.ok(!row.secretHash.toString('latin1').includes(secret));
    }
  });

  test('without https the cookie is not Secure and has no __Host- prefix', async () => {
    const plain = await buildTestApp({ publicUrl: 'http://localhost:3000', secretKey: ctx.config.secretKey }, { db: ctx.db }); // another process of the same server
    const res = await call(plain.app, undefined, { method: 'POST', url: SESSION, payload: { key: a.adminKey } });
    assert.equal(res.status, 200);
    const flags = setCookieOf(res).split(';').map((f) => f.trim());
    assert.match(flags[0]!, /^openroll_session=/);
    assert.ok(!flags.includes('Secure'));
    assert.ok(flags.includes('HttpOnly') && flags.includes('SameSite=Strict'));
    await plain.app.close();
  });

  test('refuses unknown, revoked and expired keys, bad bodies, and other sites', async () => {
    const bad = (payload: object, headers: Record<string, string> = {}) => call(ctx.app, undefined, { method: 'POST', url: SESSION, payload, headers });
    assertError(await bad({ key: 'ork_not-a-real-key-at-all-000000000000000000' }), 401, 4004, 'unknown key');
    const expiring = await createKey(ctx, a.org, { role: 'admin', expiresAt: new Date(ctx.clock.now().getTime() + 1000) });
    ctx.clock.advance(2000);
    assertError(await bad({ key: expiring }), 401, 4005, 'expired key');
    const revoked = await createKey(ctx, a.org, { role: 'admin', name: 'to-revoke' });
    const keys = await call(ctx.app, a.adminKey, { method: 'GET', url: `/v1/organizations/${a.org.id}/api-keys?limit=500` });
    const id = keys.body.data.items.find((k: { prefix: string }) => revoked.startsWith(k.prefix)).id;
    await call(ctx.app, a.adminKey, { method: 'DELETE', url: `/v1/organizations/${a.org.id}/api-keys/${id}` });
    assertError(await bad({ key: revoked }), 401, 4004, 'revoked key');
    assertError(await bad({}), 400, 3000, 'no key');
    assertError(await bad({ key: a.adminKey, organization: 'x' }), 400, 3000, 'unknown field');
    assertError(await bad({ key: 'x'.repeat(300) }), 400, 3000, 'oversized key');
    assertError(await bad({ key: a.adminKey }, { origin: 'https://evil.example' }), 403, 4003, 'another origin');
    assertError(await bad({ key: a.adminKey }, { 'sec-fetch-site': 'cross-site' }), 403, 4003, 'cross-site fetch');
  });
});

describe('the session', () => {
  test('GET answers its view without a CSRF token; no cookie or a forged one is a 401', async () => {
    const s = await signIn(a.adminKey);
    const res = await withSession(s, { url: SESSION, csrf: false });
    assert.equal(res.status, 200);
    assert.equal(res.body.data.csrfToken, s.csrf);
    assertError(await call(ctx.app, undefined, { method: 'GET', url: SESSION }), 401, 4002, 'no cookie');
    for (const forged of [`${COOKIE}=garbage`, `${COOKIE}=${a.org.id}.${'A'.repeat(43)}`, `${COOKIE}=${b.org.id}.${s.cookie.split('.')[1]}`]) {
      assertError(await call(ctx.app, undefined, { method: 'GET', url: SESSION, headers: { cookie: forged } }), 401, 4004, forged);
    }
    // The plain-http name is not read on an https deployment.
    const renamed = s.cookie.replace(COOKIE, 'openroll_session');
    assertError(await call(ctx.app, undefined, { method: 'GET', url: SESSION, headers: { cookie: renamed } }), 401, 4002, 'cookie of another name');
  });

  test('/v1 accepts the cookie in place of the bearer, with the key’s organization', async () => {
    const s = await signIn(a.adminKey);
    const list = await withSession(s, { url: tokensPath(a.org.id, 'windows'), csrf: false });
    assert.equal(list.status, 200);
    assertError(await withSession(s, { url: tokensPath(b.org.id, 'windows'), csrf: false }), 404, 3001, 'another organization');
    const user = await createMdmUser(ctx, a.org);
    const created = await withSession(s, { method: 'POST', url: tokensPath(a.org.slug, 'apple'), payload: { mdmUserId: user.id, sendEmail: false } });
    assert.equal(created.status, 200, JSON.stringify(created.body));
  });

  test('state-changing requests need the CSRF token and this origin', async () => {
    const s = await signIn(a.adminKey);
    const user = await createMdmUser(ctx, a.org);
    const url = tokensPath(a.org.id, 'windows');
    const payload = { mdmUserId: user.id, sendEmail: false, displayName: 'csrf probe' };
    const cases: Array<[string, Record<string, string>]> = [
      ['no token', { 'x-csrf-token': '', origin: ORIGIN }],
      ['wrong token', { 'x-csrf-token': 'A'.repeat(43), origin: ORIGIN }],
      ['another session’s token', { 'x-csrf-token': (await signIn(a.adminKey)).csrf, origin: ORIGIN }],
      ['another origin', { 'x-csrf-token': s.csrf, origin: 'https://evil.example' }],
      ['null origin', { 'x-csrf-token': s.csrf, origin: 'null' }],
      ['cross-site fetch', { 'x-csrf-token': s.csrf, 'sec-fetch-site': 'cross-site' }],
      ['same-site fetch', { 'x-csrf-token': s.csrf, 'sec-fetch-site': 'same-site' }],
    ];
    for (const [label, headers] of cases) {
      const res = await call(ctx.app, undefined, { method: 'POST', url, payload, headers: { cookie: s.cookie, ...headers } });
      assertError(res, 403, 4003, label);
      assert.equal(typeof res.body.error.data.reason, 'string', label);
    }
    const listed = await call(ctx.app, a.adminKey, { method: 'GET', url: `${url}?limit=500` });
    assert.ok(!listed.body.data.items.some((t: { displayName: string }) => t.displayName === 'csrf probe'), 'nothing was created');

    // The origin the Host header names is this server too (a laptop on 127.0.0.1).
    const local = await call(ctx.app, undefined, {
      method: 'POST',
      url,
      payload,
      headers: { cookie: s.cookie, 'x-csrf-token': s.csrf, origin: 'http://127.0.0.1:3000', host: '127.0.0.1:3000', 'sec-fetch-site': 'same-origin' },
    });
    assert.equal(local.status, 200, JSON.stringify(local.body));
  });

  test('a bearer key wins over a cookie', async () => {
    const s = await signIn(b.adminKey);
    const res = await call(ctx.app, a.adminKey, { method: 'GET', url: tokensPath(a.org.id, 'windows'), headers: { cookie: s.cookie } });
    assert.equal(res.status, 200);
  });

  test('a viewer’s session lists and reads, and is refused every write', async () => {
    const viewer = await createKey(ctx, a.org, { role: 'viewer' });
    const s = await signIn(viewer);
    const perms: string[] = s.res.body.data.permissions;
    assert.ok(perms.length > 0);
    assert.ok(perms.every((p) => p.endsWith('.list') || p.endsWith('.get')), perms.join(','));
    assert.ok(!perms.some((p) => p.startsWith('base.organization.apiKey.')));
    assert.equal((await withSession(s, { url: tokensPath(a.org.id, 'windows'), csrf: false })).status, 200);
    const user = await createMdmUser(ctx, a.org);
    assertError(await withSession(s, { method: 'POST', url: tokensPath(a.org.id, 'windows'), payload: { mdmUserId: user.id, sendEmail: false } }), 403, 4003, 'create');
    assertError(await withSession(s, { method: 'POST', url: `/v1/organizations/${a.org.id}/api-keys`, payload: { name: 'x', role: 'viewer' } }), 403, 4003, 'key');
    assertError(await withSession(s, { url: `/v1/organizations/${a.org.id}/api-keys`, csrf: false }), 403, 4003, 'list keys');
  });

  test('revoking the key ends its sessions', async () => {
    const key = await createKey(ctx, a.org, { role: 'developer', name: 'short-lived' });
    const s = await signIn(key);
    const keys = await call(ctx.app, a.adminKey, { method: 'GET', url: `/v1/organizations/${a.org.id}/api-keys?limit=500` });
    const id = keys.body.data.items.find((k: { prefix: string }) => key.startsWith(k.prefix)).id;
    await call(ctx.app, a.adminKey, { method: 'DELETE', url: `/v1/organizations/${a.org.id}/api-keys/${id}` });
    assertError(await withSession(s, { url: SESSION, csrf: false }), 401, 4004, 'session');
    assertError(await withSession(s, { url: tokensPath(a.org.id, 'windows'), csrf: false }), 401, 4004, '/v1');
  });
});

describe('sign-out and expiry', () => {
  test('sign-out needs the CSRF token, deletes the session on the server and clears the cookie', async () => {
    const s = await signIn(a.adminKey);
    assertError(await withSession(s, { method: 'DELETE', url: SESSION, csrf: false }), 403, 4003, 'no CSRF token');
    const out = await withSession(s, { method: 'DELETE', url: SESSION });
    assert.equal(out.status, 200);
    assert.deepEqual(out.body.data, { signedOut: true });
    assert.match(setCookieOf(out), new RegExp(`^${COOKIE}=; Max-Age=0; Path=/; HttpOnly; Secure; SameSite=Strict$`));
    assertError(await withSession(s, { url: SESSION, csrf: false }), 401, 4004, 'session after sign-out');
    assertError(await withSession(s, { url: tokensPath(a.org.id, 'windows'), csrf: false }), 401, 4004, '/v1 after sign-out');
  });

  test('a session idle too long, or past its absolute end, answers 4005 once and is gone', async () => {
    const idle = await signIn(a.adminKey);
    ctx.clock.advance(SESSION_IDLE_MS + 1000);
    assertError(await withSession(idle, { url: SESSION, csrf: false }), 401, 4005, 'idle');
    assertError(await withSession(idle, { url: SESSION, csrf: false }), 401, 4004, 'idle, again');

    const busy = await signIn(a.adminKey);
    let elapsed = 0;
    while (elapsed + SESSION_IDLE_MS / 2 < SESSION_MAX_MS) {
      ctx.clock.advance(SESSION_IDLE_MS / 2);
      elapsed += SESSION_IDLE_MS / 2;
      assert.equal((await withSession(busy, { url: tokensPath(a.org.id, 'windows'), csrf: false })).status, 200, `used after ${elapsed} ms`);
    }
    ctx.clock.advance(SESSION_MAX_MS - elapsed);
    assertError(await withSession(busy, { url: tokensPath(a.org.id, 'windows'), csrf: false }), 401, 4005, 'absolute end');
  });
});

test('sign-ins are rate-limited per client address', async () => {
  const limited = await buildTestApp({ rateLimitPerMinute: 100, secretKey: ctx.config.secretKey }, { db: ctx.db }); // 5 sign-ins a minute
  const statuses: number[] = [];
  for (let i = 0; i < 6; i++) {
    statuses.push((await limited.app.inject({ method: 'POST', url: SESSION, payload: { key: 'ork_wrong-key-000000000000000000000' }, remoteAddress: '203.0.113.9' })).statusCode);
  }
  assert.deepEqual(statuses, [401, 401, 401, 401, 401, 429]);
  await limited.app.close();
});

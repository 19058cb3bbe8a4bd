import assert from 'node:assert/strict';
import crypto, { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import net from 'node:net';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, mock, test } from 'node:test';
import type { FastifyBaseLogger, FastifyInstance, LightMyRequestResponse } from 'fastify';
import { pino } from 'pino';
import { buildApp } from '../src/app.ts';
import { ConfigError, loadConfig, type Config } from '../src/config.ts';
import { createContainer } from '../src/container.ts';
import { digestsEqual, sha256 } from '../src/lib/secrets.ts';
import { loggerOptions } from '../src/logger.ts';
import { findKeysByPrefix } from '../src/auth/api-key-lookup.repo.ts';
import { inlineStyleSources } from '../src/plugins/security-headers.ts';
import { assertError } from './helpers/assertions.ts';
import { createKey, createMdmUser, createOrg, type TestOrg } from './helpers/factories.ts';
import { buildTestApp, call, type TestContext } from './helpers/test-app.ts';
import { createToken } from './helpers/tokens.ts';

let ctx: TestContext;
let a: TestOrg;
const extraApps: FastifyInstance[] = [];

before(async () => {
  ctx = await buildTestApp();
  a = await createOrg(ctx);
});
after(async () => {
  for (const app of extraApps) await app.close();
  await ctx.close();
});

/**
 * Another app over the same database, with its own configuration (and optionally a logger);
 * `watchKeys` turns on the key cache as the server does (it listens for key changes).
 */
async function appWith(overrides: Partial<Config>, log?: FastifyBaseLogger, options: { watchKeys?: boolean } = {}): Promise<FastifyInstance> {
  const config = { ...ctx.config, ...overrides };
  const container = createContainer({ config, database: ctx.db.database, clock: ctx.clock, ...(log ? { log } : {}) });
  const app = await buildApp({ container, ...(log ? { logger: log } : {}) });
  if (options.watchKeys) {
    const stop = await container.auth.watchChanges();
    app.addHook('onClose', async () => stop());
  }
  extraApps.push(app);
  return app;
}

const keysPath = (org: string) => `/v1/organizations/${org}/api-keys`;

describe('rate limit of the /v1 API, per API key', () => {
  // Long enough that MAX + 1 requests fit in one window even on a loaded machine.
  const WINDOW_MS = 3000;
  const MAX = 3;
  let app: FastifyInstance;
  before(async () => {
    app = await appWith({ rateLimitPerMinute: MAX, rateLimitUnauthenticatedPerMinute: MAX, rateLimitWindowMs: WINDOW_MS }, undefined, { watchKeys: true });
  });
  const list = (key: string | undefined, org = a.org.id, extra: { remoteAddress?: string } = {}) =>
    call(app, key, { method: 'GET', url: keysPath(org), ...extra });

  test('a key over the limit gets 429 4029 with Retry-After, in the envelope; another key of the organization does not; the window resets it', async () => {
    const limited = await createKey(ctx, a.org, { role: 'admin' });
    const other = await createKey(ctx, a.org, { role: 'admin' });
    for (let i = 1; i <= MAX; i++) {
      const res = await list(limited);
      assert.equal(res.status, 200, `request ${i} of ${MAX}`);
      assert.equal(res.headers['x-ratelimit-limit'], String(MAX));
      assert.equal(res.headers['x-ratelimit-remaining'], String(MAX - i));
    }
    const over = await list(limited);
    assertError(over, 429, 4029);
    assert.equal(over.body.error.message, 'Too Many Requests');
    assert.equal(over.body.error.requestId, over.headers['x-request-id']);
    assert.deepEqual(Object.keys(over.body.error).sort(), ['code', 'message', 'requestId']);
    const retryAfter = Number(over.headers['retry-after']);
    assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= Math.ceil(WINDOW_MS / 1000), `Retry-After: ${over.headers['retry-after']}`);
    assert.equal(over.headers['x-content-type-options'], 'nosniff', 'the 429 carries the security headers too');

    const otherKey = await list(other);
    assert.equal(otherKey.status, 200, 'another key of the same organization has its own budget');

    await sleep(WINDOW_MS + 100);
    assert.equal((await list(limited)).status, 200, 'the window passed: the key is let in again');
  });

  test('the limit runs after authentication (a bad key still gets 401) and before the body is read', async () => {
    const limited = await createKey(ctx, a.org, { role: 'admin' });
    for (let i = 0; i < MAX; i++) assert.equal((await list(limited)).status, 200);
    assertError(await list(limited), 429, 4029);
    // A key of this organization that does not exist, or no key at all: 401, not 429.
    assertError(await list('ork_not-a-real-key-at-all-000000000000000000'), 401, 4004);
    assertError(await list(undefined), 401, 4002);
    // Over the limit, a malformed body is never parsed: 429, not 400.
    const bad = await call(app, limited, { method: 'POST', url: keysPath(a.org.id), headers: { 'content-type': 'application/json' }, payload: '{"name": ' });
    assertError(bad, 429, 4029);
    // Another organization's key is not touched by this one's limit.
    const b = await createOrg(ctx);
    assert.equal((await list(b.adminKey, b.org.id)).status, 200);
  });

  test('unauthenticated /v1 requests are counted by client address; keys from that address are not', async () => {
    const remoteAddress = '203.0.113.7';
    const key = await createKey(ctx, a.org, { role: 'admin' });
    // A valid key is never counted; once verified, it passes even when its address is over.
    assert.equal((await list(key, a.org.id, { remoteAddress })).status, 200);
    for (let i = 0; i < MAX; i++) {
      assertError(await call(app, undefined, { method: 'GET', url: '/v1/no/such/route', remoteAddress }), 404, 1002);
    }
    const over = await call(app, undefined, { method: 'GET', url: '/v1/no/such/route', remoteAddress });
    assertError(over, 429, 4029);
    assert.ok(Number(over.headers['retry-after']) >= 1);
    assertError(await call(app, undefined, { method: 'GET', url: '/v1/no/such/route', remoteAddress: '203.0.113.8' }), 404, 1002);
    assert.equal((await list(key, a.org.id, { remoteAddress })).status, 200);
  });

  test('outside /v1 (health, docs, enrollment page) there is no API limit', async () => {
    for (let i = 0; i < MAX * 3; i++) {
      const res = await app.inject({ method: 'GET', url: '/healthz', remoteAddress: '203.0.113.9' });
      assert.equal(res.statusCode, 200);
      assert.equal(res.headers['x-ratelimit-limit'], undefined);
    }
  });

  test('RATE_LIMIT_PER_MINUTE=0 turns the limit off', async () => {
    const unlimited = await appWith({ rateLimitPerMinute: 0, rateLimitWindowMs: WINDOW_MS });
    for (let i = 0; i < MAX * 3; i++) {
      const res = await call(unlimited, a.adminKey, { method: 'GET', url: keysPath(a.org.id) });
      assert.equal(res.status, 200);
      assert.equal(res.headers['x-ratelimit-limit'], undefined);
    }
  });

  test('RATE_LIMIT_PER_MINUTE: default 600 a minute; a bad value names the variable', () => {
    const config = loadConfig({});
    assert.equal(config.rateLimitPerMinute, 600);
    assert.equal(config.rateLimitWindowMs, 60_000);
    assert.equal(loadConfig({ RATE_LIMIT_PER_MINUTE: '0' }).rateLimitPerMinute, 0);
    assert.equal(loadConfig({ RATE_LIMIT_PER_MINUTE: '120' }).rateLimitPerMinute, 120);
    for (const value of ['-1', 'many', '1.5']) {
      assert.throws(() => loadConfig({ RATE_LIMIT_PER_MINUTE: value }), (e: unknown) => e instanceof ConfigError && e.message.includes('RATE_LIMIT_PER_MINUTE'));
    }
  });
});

describe('body size limit', () => {
  const LIMIT = 4096;
  let app: FastifyInstance;
  before(async () => {
    app = await appWith({ bodyLimit: LIMIT });
  });
  // Trailing whitespace keeps the JSON valid, so the size is exact.
  const bodyOf = (size: number) => {
    const json = JSON.stringify({ name: 'padded', role: 'viewer' });
    return json + ' '.repeat(size - Buffer.byteLength(json));
  };
  const post = (payload: string) => call(app, a.adminKey, { method: 'POST', url: keysPath(a.org.id), headers: { 'content-type': 'application/json' }, payload });

  test('exactly BODY_LIMIT bytes is accepted; one byte more is 413 3003 in the envelope', async () => {
    const atLimit = await post(bodyOf(LIMIT));
    assert.equal(atLimit.status, 200, JSON.stringify(atLimit.body));
    const over = await post(bodyOf(LIMIT + 1));
    assertError(over, 413, 3003);
    assert.equal(over.body.error.message, 'Payload Too Large');
    assert.equal(over.body.error.requestId, over.headers['x-request-id']);
  });

  test('BODY_LIMIT: default 1 MiB, and bounds that name the variable', () => {
    assert.equal(loadConfig({}).bodyLimit, 1_048_576);
    assert.equal(loadConfig({ BODY_LIMIT: '4096' }).bodyLimit, 4096);
    assert.throws(() => loadConfig({ BODY_LIMIT: '10' }), (e: unknown) => e instanceof ConfigError && e.message.includes('BODY_LIMIT'));
  });
});

interface SocketOutcome {
  /** Milliseconds from connecting until the server closed the connection. */
  closedAfterMs: number;
  received: string;
}

/** A raw TCP client: `drive` writes what it wants; resolves when the server closes the socket. */
function rawClient(port: number, drive: (socket: net.Socket) => void, giveUpMs = 10_000): Promise<SocketOutcome> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let received = '';
    let start = 0;
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the server kept the connection open for ${giveUpMs} ms`));
    }, giveUpMs);
    socket.on('data', (chunk) => (received += chunk.toString()));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ closedAfterMs: Date.now() - start, received });
    });
    socket.on('connect', () => {
      start = Date.now();
      drive(socket);
    });
  });
}

/** Writes `text` one byte every `everyMs` until the socket closes. */
function trickle(socket: net.Socket, text: string, everyMs = 50): void {
  let i = 0;
  const timer = setInterval(() => {
    if (socket.destroyed || !socket.writable) return clearInterval(timer);
    socket.write(text[i++ % text.length]!);
  }, everyMs);
  socket.on('close', () => clearInterval(timer));
}

describe('slow clients are disconnected (real sockets)', () => {
  const timeouts = { headersTimeoutMs: 400, requestTimeoutMs: 1000, connectionTimeoutMs: 600, keepAliveTimeoutMs: 500 };
  let port: number;
  before(async () => {
    const app = await appWith(timeouts);
    await app.listen({ port: 0, host: '127.0.0.1' });
    port = (app.server.address() as net.AddressInfo).port;
  });
  const postHead = () =>
    `POST ${keysPath(a.org.id)} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${a.adminKey}\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"name":`;

  test('headers sent byte by byte: closed once the headers timeout passes', async () => {
    const out = await rawClient(port, (s) => trickle(s, `GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Slow: ${'a'.repeat(500)}`));
    assert.ok(out.closedAfterMs >= timeouts.headersTimeoutMs - 50, `closed after ${out.closedAfterMs} ms`);
    assert.ok(out.closedAfterMs < timeouts.headersTimeoutMs + 1000, `closed after ${out.closedAfterMs} ms`);
    assert.match(out.received, /^HTTP\/1\.1 408 /);
  });

  test('a body trickled byte by byte and never finished: closed once the request timeout passes', async () => {
    const out = await rawClient(port, (s) => {
      s.write(postHead());
      trickle(s, ' ');
    });
    assert.ok(out.closedAfterMs >= timeouts.requestTimeoutMs - 50, `closed after ${out.closedAfterMs} ms`);
    assert.ok(out.closedAfterMs < timeouts.requestTimeoutMs + 1000, `closed after ${out.closedAfterMs} ms`);
    assert.doesNotMatch(out.received, /HTTP\/1\.1 200/);
  });

  test('a body that stops arriving: closed once the connection is idle for the connection timeout', async () => {
    const out = await rawClient(port, (s) => s.write(postHead()));
    assert.ok(out.closedAfterMs >= timeouts.connectionTimeoutMs - 50, `closed after ${out.closedAfterMs} ms`);
    assert.ok(out.closedAfterMs < timeouts.requestTimeoutMs + 1000, `closed after ${out.closedAfterMs} ms`);
  });

  test('a kept-alive connection left idle after its answer is closed (keep-alive timeout, plus the 1 s Node adds)', async () => {
    let answeredAt = 0;
    const out = await rawClient(port, (s) => {
      s.once('data', () => (answeredAt = Date.now()));
      s.write('GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n');
    });
    assert.match(out.received, /^HTTP\/1\.1 200 /, 'a normal request is answered with these timeouts');
    const idle = Date.now() - answeredAt;
    assert.ok(idle >= timeouts.keepAliveTimeoutMs - 50 && idle < timeouts.keepAliveTimeoutMs + 2000, `idle ${idle} ms`);
  });

  test('a chunked body (no Content-Length) over the limit is cut off with 413 3003', async () => {
    const out = await rawClient(port, (s) => {
      s.write(`POST ${keysPath(a.org.id)} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${a.adminKey}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n`);
      const body = JSON.stringify({ name: 'big', role: 'viewer' }) + ' '.repeat(ctx.config.bodyLimit + 1);
      s.write(`${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`);
    });
    assert.match(out.received, /^HTTP\/1\.1 413 /);
    assert.match(out.received, /"code":3003/);
  });

  test('timeouts: defaults, and a headers timeout longer than the request timeout is refused', () => {
    const config = loadConfig({});
    assert.deepEqual(
      { h: config.headersTimeoutMs, r: config.requestTimeoutMs, c: config.connectionTimeoutMs, k: config.keepAliveTimeoutMs },
      { h: 10_000, r: 30_000, c: 120_000, k: 72_000 },
    );
    const set = loadConfig({ HEADERS_TIMEOUT_MS: '5000', REQUEST_TIMEOUT_MS: '20000', CONNECTION_TIMEOUT_MS: '60000', KEEP_ALIVE_TIMEOUT_MS: '5000' });
    assert.deepEqual([set.headersTimeoutMs, set.requestTimeoutMs, set.connectionTimeoutMs, set.keepAliveTimeoutMs], [5000, 20_000, 60_000, 5000]);
    const refused: Array<[Record<string, string>, string]> = [
      [{ HEADERS_TIMEOUT_MS: '40000' }, 'HEADERS_TIMEOUT_MS'],
      [{ REQUEST_TIMEOUT_MS: 'soon' }, 'REQUEST_TIMEOUT_MS'],
      [{ CONNECTION_TIMEOUT_MS: '0' }, 'CONNECTION_TIMEOUT_MS'],
      [{ KEEP_ALIVE_TIMEOUT_MS: '10' }, 'KEEP_ALIVE_TIMEOUT_MS'],
    ];
    for (const [env, variable] of refused) {
      assert.throws(() => loadConfig(env), (e: unknown) => e instanceof ConfigError && e.message.includes(variable), variable);
    }
  });
});

/** The directives of a Content-Security-Policy header, by name. */
function csp(res: LightMyRequestResponse | { headers: LightMyRequestResponse['headers'] }): Map<string, string[]> {
  const header = String(res.headers['content-security-policy'] ?? '');
  assert.ok(header, 'a Content-Security-Policy header');
  const out = new Map<string, string[]>();
  for (const part of header.split(';')) {
    const [name, ...values] = part.trim().split(/\s+/);
    if (name) out.set(name, values);
  }
  return out;
}

function assertBaseHeaders(headers: LightMyRequestResponse['headers'], label: string): void {
  assert.equal(headers['x-content-type-options'], 'nosniff', `${label}: nosniff`);
  assert.equal(headers['x-frame-options'], 'DENY', `${label}: x-frame-options`);
  assert.equal(headers['referrer-policy'], 'no-referrer', `${label}: referrer-policy`);
  assert.equal(headers['cross-origin-opener-policy'], 'same-origin', `${label}: COOP`);
  assert.equal(headers['strict-transport-security'], 'max-age=31536000', `${label}: HSTS (PUBLIC_URL is https)`);
  assert.equal(headers['x-powered-by'], undefined, `${label}: no x-powered-by`);
}

describe('security headers', () => {
  test('JSON routes, errors included: a CSP that allows nothing, and the usual headers', async () => {
    const responses = {
      'an API route': await call(ctx.app, a.adminKey, { method: 'GET', url: keysPath(a.org.id) }),
      'a 401': await call(ctx.app, undefined, { method: 'GET', url: keysPath(a.org.id) }),
      'a 404': await call(ctx.app, undefined, { method: 'GET', url: '/v1/nothing' }),
      'the health check': await call(ctx.app, undefined, { method: 'GET', url: '/healthz' }),
    };
    for (const [label, res] of Object.entries(responses)) {
      assertBaseHeaders(res.headers, label);
      const policy = csp(res);
      assert.deepEqual(policy.get('default-src'), ["'none'"], label);
      assert.deepEqual(policy.get('frame-ancestors'), ["'none'"], label);
      assert.equal(policy.has('script-src'), false, `${label}: no script source`);
    }
  });

  test('the enrollment page: its inline style is allowed by hash, scripts are not', async () => {
    const user = await createMdmUser(ctx, a.org);
    const token = await createToken(ctx, a.adminKey, a.org.id, 'windows', { mdmUserId: user.id, sendEmail: false });
    const pages = {
      pending: await ctx.app.inject({ method: 'GET', url: new URL(token.body.data.enrollmentLink).pathname }),
      'not found': await ctx.app.inject({ method: 'GET', url: '/enroll/not-a-real-link' }),
    };
    assert.equal(pages.pending.statusCode, 200);
    assert.equal(pages['not found'].statusCode, 404);
    for (const [label, res] of Object.entries(pages)) {
      assertBaseHeaders(res.headers, label);
      const policy = csp(res);
      assert.deepEqual(policy.get('default-src'), ["'none'"], label);
      const styles = [...res.body.matchAll(/<style>([\s\S]*?)<\/style>/g)].map((m) => m[1]!);
      assert.ok(styles.length > 0, `${label}: the page has its inline style`);
      for (const css of styles) {
        const source = `'sha256-${createHash('sha256').update(css).digest('base64')}'`;
        assert.ok(policy.get('style-src')?.includes(source), `${label}: style-src allows the page's style (${source})`);
      }
      assert.equal(policy.get('style-src')?.includes("'unsafe-inline'"), false, label);
      assert.doesNotMatch(res.body, /<script/i, `${label}: the page has no scripts`);
    }
  });

  test('inlineStyleSources hashes each <style> block', () => {
    const sources = inlineStyleSources('<style>a{}</style><p>x</p><style>\nb{}\n</style>');
    assert.deepEqual(sources, [
      `'sha256-${createHash('sha256').update('a{}').digest('base64')}'`,
      `'sha256-${createHash('sha256').update('\nb{}\n').digest('base64')}'`,
    ]);
  });

  test('/docs still works: 200 with swagger-ui own CSP, which allows the scripts it loads', async () => {
    const page = await ctx.app.inject({ method: 'GET', url: '/docs/' });
    assert.equal(page.statusCode, 200);
    assert.match(String(page.headers['content-type']), /text\/html/);
    assert.equal(page.headers['x-content-type-options'], 'nosniff');
    const policy = csp(page);
    assert.ok(policy.get('script-src')?.includes("'self'"));
    assert.ok(policy.get('style-src')?.includes("'self'"));
    for (const src of page.body.matchAll(/<(?:script src|link rel="stylesheet" type="text\/css" href)="\.\/([^"]+)"/g)) {
      const asset = await ctx.app.inject({ method: 'GET', url: `/docs/${src[1]}` });
      assert.equal(asset.statusCode, 200, `/docs/${src[1]}`);
    }
    assert.doesNotMatch(page.body, /<script>(?!\s*<\/script>)/, 'no inline script the policy would block');
    const json = await ctx.app.inject({ method: 'GET', url: '/docs/json' });
    assert.equal(json.statusCode, 200);
  });

  test('over plain http: no HSTS, and /docs does not ask browsers to upgrade to https', async () => {
    const app = await appWith({ publicUrl: 'http://localhost:3000' });
    for (const url of ['/healthz', '/docs/', '/enroll/not-a-real-link', keysPath(a.org.id)]) {
      const res = await app.inject({ method: 'GET', url });
      assert.equal(res.headers['strict-transport-security'], undefined, url);
      assert.equal(res.headers['x-content-type-options'], 'nosniff', url);
    }
    const docs = await app.inject({ method: 'GET', url: '/docs/' });
    assert.equal(docs.statusCode, 200);
    assert.equal(csp(docs).has('upgrade-insecure-requests'), false);
    assert.equal(csp(await ctx.app.inject({ method: 'GET', url: '/docs/' })).has('upgrade-insecure-requests'), true, 'kept over https');
  });
});

describe('CORS', () => {
  const foreign = 'https://evil.example';
  const preflight = (app: FastifyInstance, origin: string) =>
    app.inject({
      method: 'OPTIONS',
      url: keysPath(a.org.id),
      headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
    });

  test('off by default: no grant on responses, and a preflight gets none', async () => {
    const res = await call(ctx.app, a.adminKey, { method: 'GET', url: keysPath(a.org.id), headers: { origin: foreign } });
    assert.equal(res.status, 200);
    assert.equal(res.headers['access-control-allow-origin'], undefined);
    const pre = await preflight(ctx.app, foreign);
    assert.equal(pre.headers['access-control-allow-origin'], undefined);
    assert.equal(pre.headers['access-control-allow-methods'], undefined);
    assert.equal(pre.headers['access-control-allow-headers'], undefined);
    // OPTIONS is not a method of the path: 405 with Allow, in the envelope, and no CORS grant.
    assert.equal(pre.statusCode, 405);
    assert.equal(pre.json().error.code, 1003);
    assert.equal(pre.headers.allow, 'GET, HEAD, POST');
  });

  test('CORS_ORIGINS grants the listed origins only', async () => {
    const allowed = 'https://admin.example.com';
    const app = await appWith({ corsOrigins: [allowed] });
    const pre = await preflight(app, allowed);
    assert.equal(pre.statusCode, 204);
    assert.equal(pre.headers['access-control-allow-origin'], allowed);
    assert.match(String(pre.headers['access-control-allow-headers']), /authorization/);
    assert.match(String(pre.headers['access-control-allow-methods']), /POST/);
    assert.equal(pre.headers['access-control-allow-credentials'], undefined, 'no credentialed requests');
    const res = await call(app, a.adminKey, { method: 'GET', url: keysPath(a.org.id), headers: { origin: allowed } });
    assert.equal(res.status, 200);
    assert.equal(res.headers['access-control-allow-origin'], allowed);
    assert.match(String(res.headers['access-control-expose-headers']), /retry-after/);
    assert.match(String(res.headers.vary), /origin/i);

    const foreignPre = await preflight(app, foreign);
    assert.equal(foreignPre.statusCode, 405);
    assert.equal(foreignPre.headers['access-control-allow-origin'], undefined);
    assert.equal(foreignPre.headers['access-control-allow-methods'], undefined);
    const foreignGet = await call(app, a.adminKey, { method: 'GET', url: keysPath(a.org.id), headers: { origin: foreign } });
    assert.equal(foreignGet.headers['access-control-allow-origin'], undefined);
  });

  test('CORS_ORIGINS: origins only, no wildcard', () => {
    assert.deepEqual(loadConfig({}).corsOrigins, []);
    assert.deepEqual(loadConfig({ CORS_ORIGINS: 'https://a.example.com, http://localhost:5173/' }).corsOrigins, ['https://a.example.com', 'http://localhost:5173']);
    for (const value of ['*', 'https://a.example.com/admin', 'a.example.com', 'ftp://a.example.com']) {
      assert.throws(() => loadConfig({ CORS_ORIGINS: value }), (e: unknown) => e instanceof ConfigError && e.message.includes('CORS_ORIGINS'), value);
    }
  });
});

describe('API keys are compared in constant time', () => {
  test('digestsEqual: equal, different, and different lengths (no throw)', () => {
    const d = sha256('ork_example');
    assert.equal(digestsEqual(d, Buffer.from(d)), true);
    const flipped = Buffer.from(d);
    flipped[31] = flipped[31]! ^ 1;
    assert.equal(digestsEqual(d, flipped), false);
    assert.equal(digestsEqual(d, d.subarray(0, 16)), false);
    assert.equal(digestsEqual(d, Buffer.alloc(0)), false);
  });

  test('authenticate hashes the presented key and compares SHA-256 digests with crypto.timingSafeEqual', async (t) => {
    const org = await createOrg(ctx);
    const key = await createKey(ctx, org.org, { role: 'viewer' });
    // Same display prefix (so the stored row is a candidate), different secret, with a valid
    // server check (src/auth/credential-check.ts) so that it reaches the lookup.
    const body = key.slice(0, 12) + (key[12] === 'A' ? 'B' : 'A') + key.slice(13, 47);
    const wrong = body + ctx.container.credentialCheck.seal('api-key', body);
    const spy = mock.method(crypto, 'timingSafeEqual');
    syncBuiltinESMExports(); // the named import in src/lib/secrets.ts now sees the spy
    t.after(() => {
      spy.mock.restore();
      syncBuiltinESMExports();
    });

    await assert.rejects(ctx.container.auth.authenticate(wrong), (e: { code?: number }) => e.code === 4004);
    const auth = await ctx.container.auth.authenticate(key);
    assert.equal(auth.organization.id, org.org.id);

    const calls = spy.mock.calls.map((c) => c.arguments as unknown as [Buffer, Buffer]);
    assert.ok(calls.length >= 2, `timingSafeEqual called ${calls.length} times`);
    const stored = sha256(key);
    // 32 bytes: the key's SHA-256 against the stored one; 22: the key's check against its HMAC's
    // text (compared as text: decoded, 16 spellings of each check would pass).
    assert.ok(calls.some(([x, y]) => x.length === 22 && y.length === 22), 'the check is compared in constant time too');
    for (const [x, y] of calls) {
      assert.ok(x.length === 32 || x.length === 22, `compared ${x.length} bytes`);
      assert.equal(y.length, x.length);
      for (const side of [x, y]) {
        assert.equal(side.includes(Buffer.from(key)), false, 'never the raw key');
        assert.equal(side.includes(Buffer.from(key.slice(4))), false, 'never the raw key');
      }
    }
    assert.ok(calls.some(([x, y]) => x.equals(stored) && y.equals(sha256(wrong))), 'the wrong key was compared by digest');
    assert.ok(calls.some(([x, y]) => x.equals(stored) && y.equals(stored)), 'the right key was compared by digest');
  });

  test('the raw key is stored nowhere: only its SHA-256 and a display prefix', async () => {
    const org = await createOrg(ctx);
    const key = await createKey(ctx, org.org, { role: 'viewer', name: 'stored-check' });
    const rows = await findKeysByPrefix(ctx.container.database.db, key.slice(0, 12));
    const row = rows.find((r) => r.key.name === 'stored-check')!.key;
    assert.ok(row.keyHash.equals(sha256(key)));
    assert.equal(row.prefix, key.slice(0, 12));
    const text = JSON.stringify(row, (_k, v: unknown) => (Buffer.isBuffer(v) ? v.toString('hex') : v));
    assert.equal(text.includes(key.slice(12)), false, 'no column holds the secret part of the key');
  });

  test('in the source, authenticate compares no raw strings', () => {
    const source = readFileSync(new URL('../src/auth/authenticator.ts', import.meta.url), 'utf8');
    const start = source.indexOf('async authenticate(');
    assert.ok(start >= 0, 'authenticate is found');
    const body = source.slice(start, source.indexOf('\n    },', start));
    assert.match(body, /sha256\(secret\)/, 'the presented key is hashed');
    assert.match(body, /digestsEqual\(/, 'digests are compared with digestsEqual');
    assert.doesNotMatch(body, /[!=]==?\s*secret\b|\bsecret\s*[!=]==?/, 'the key is never compared as a string');
    assert.doesNotMatch(body, /keyHash\s*[!=]==?|[!=]==?\s*[\w.]*keyHash|keyHash\.equals\(|\.compare\(/, 'digests are never compared with === or Buffer.equals');
  });
});

describe('nothing secret in the logs under attack', () => {
  test('rate-limited requests and malformed raw requests do not log the key', async () => {
    let output = '';
    const sink = new Writable({
      write(chunk, _enc, done) {
        output += chunk.toString();
        done();
      },
    });
    const log = pino(loggerOptions({ logLevel: 'trace' }), sink) as FastifyBaseLogger;
    const app = await appWith({ rateLimitPerMinute: 1, rateLimitWindowMs: 60_000 }, log);
    const org = await createOrg(ctx);
    await call(app, org.adminKey, { method: 'GET', url: keysPath(org.org.id) });
    assertError(await call(app, org.adminKey, { method: 'GET', url: keysPath(org.org.id) }), 429, 4029);

    await app.listen({ port: 0, host: '127.0.0.1' });
    const port = (app.server.address() as net.AddressInfo).port;
    // Node hands the raw bytes of a request it cannot parse to the client-error handler.
    const out = await rawClient(port, (s) => s.write(`GET /healthz HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${org.adminKey}\r\nBad Header\r\n\r\n`));
    assert.match(out.received, /^HTTP\/1\.1 400 /);
    await sleep(50);

    assert.ok(output.includes('client error'), 'the client error is logged');
    const keyBytes = Buffer.from(org.adminKey).toJSON().data.join(',');
    for (const leak of [org.adminKey, org.adminKey.slice(4), keyBytes, 'rawPacket']) {
      assert.equal(output.includes(leak), false, `log contains ${leak.slice(0, 12)}…`);
    }
  });
});

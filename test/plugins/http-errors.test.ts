/**
 * Answers that no route makes: paths the static file server refuses, wrong methods on known
 * paths, and requests Node itself cannot parse. Each is the contract's envelope with a request
 * id, and none is logged as an error.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { buildApp } from '../../src/app.ts';
import { createContainer } from '../../src/container.ts';
import { loggerOptions } from '../../src/logger.ts';
import { createOrg, type TestOrg } from '../helpers/factories.ts';
import { buildTestApp, type TestContext } from '../helpers/test-app.ts';
import { tokensPath } from '../helpers/tokens.ts';

let ctx: TestContext;
let app: FastifyInstance;
let port: number;
let a: TestOrg;
let logged = '';

before(async () => {
  ctx = await buildTestApp();
  const sink = new Writable({
    write(chunk, _enc, done) {
      logged += chunk.toString();
      done();
    },
  });
  const log = pino(loggerOptions({ logLevel: 'trace' }), sink) as FastifyBaseLogger;
  const config = { ...ctx.config, headersTimeoutMs: 1000, requestTimeoutMs: 2000 };
  app = await buildApp({ container: createContainer({ config, database: ctx.db.database, clock: ctx.clock, log }), logger: log });
  await app.listen({ port: 0, host: '127.0.0.1' });
  port = (app.server.address() as net.AddressInfo).port;
  a = await createOrg(ctx);
});
after(async () => {
  await app.close();
  await ctx.close();
});

interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Sends bytes exactly as given (no client normalises the path) and reads the answer. */
function raw(request: string): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let out = '';
    const timer = setTimeout(() => socket.destroy(new Error('no answer')), 10_000);
    socket.on('data', (d) => (out += d.toString()));
    socket.on('error', reject);
    socket.on('close', () => {
      clearTimeout(timer);
      const [head = '', body = ''] = out.split('\r\n\r\n', 2);
      const [statusLine = '', ...lines] = head.split('\r\n');
      const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
      resolve({ status: Number(statusLine.split(' ')[1]), headers, body });
    });
    socket.write(request);
  });
}

const get = (path: string, method = 'GET', extra = '') => raw(`${method} ${path} HTTP/1.1\r\nHost: localhost\r\n${extra}Connection: close\r\n\r\n`);

function assertEnvelope(res: RawAnswer, status: number, code: number, label: string): void {
  assert.equal(res.status, status, `${label}: ${res.body}`);
  const body = JSON.parse(res.body);
  assert.equal(body.status, false, label);
  assert.equal(body.error.code, code, label);
  assert.ok(res.headers['x-request-id'], `${label}: x-request-id`);
  assert.equal(body.error.requestId, res.headers['x-request-id'], `${label}: requestId is the header's`);
}

const errorLines = () => logged.split('\n').filter((l) => l.includes('"level":50') || l.includes('"level":60'));

describe('paths the docs file server refuses', () => {
  const TRAVERSALS = [
    '/docs/static/../../package.json',
    '/docs/static/%2e%2e/%2e%2e/package.json',
    '/docs/static/%2E%2E/%2E%2E/package.json',
    '/docs/static/..%2f..%2fpackage.json',
    '/docs/static/%2e%2e%2f%2e%2e%2fpackage.json',
    '/docs/static/..%5c..%5cpackage.json',
    '/docs/static/..\\..\\package.json',
    '/docs/static/%252e%252e/%252e%252epackage.json',
    '/docs/static/....//....//package.json',
    '/docs/static/..',
    '/docs/static/./index.css',
    '/docs/static/%00',
    '/docs/static/index.css%00.js',
    '/docs/../package.json',
    '/docs//static/../../package.json',
    '/docs/static/../../../../../../etc/passwd',
    `/docs/static/${'a'.repeat(300)}`,
  ];

  test('traversal in any spelling: 404 1002 in the envelope (was 500 1000), and no error in the log', async () => {
    const before = errorLines().length;
    for (const path of TRAVERSALS) {
      const res = await get(path);
      assertEnvelope(res, 404, 1002, path);
      assert.doesNotMatch(res.body, /"name"\s*:\s*"openroll"|root:/, `${path}: no file content`);
      const head = await get(path, 'HEAD');
      assert.equal(head.status, 404, `HEAD ${path}`);
    }
    assert.deepEqual(errorLines().slice(before), [], 'nothing logged at error level');
  });

  test('the real files are still served', async () => {
    const res = await get('/docs/static/index.css');
    assert.equal(res.status, 200);
  });
});

describe('a known path with a method it has no route for', () => {
  const org = () => `/v1/organizations/${a.org.id}`;
  test('405 1003 with Allow, in the envelope; an unknown path stays 404 1002', async () => {
    const cases: Array<[string, string, string]> = [
      ['PATCH', `${org()}/api-keys`, 'GET, HEAD, POST'],
      ['DELETE', `${org()}/api-keys`, 'GET, HEAD, POST'],
      ['PUT', `${org()}/api-keys/${a.org.id}`, 'DELETE'],
      ['GET', `${tokensPath(a.org.id, 'windows')}/${a.org.id}/send-email`, 'POST'],
      ['DELETE', tokensPath(a.org.id, 'windows'), 'GET, HEAD, POST'],
      ['DELETE', `${tokensPath(a.org.id, 'apple')}/${a.org.id}/send-email`, 'POST'],
      ['POST', '/healthz', 'GET, HEAD'],
      ['PUT', '/docs/static/index.css', 'GET, HEAD'],
      ['OPTIONS', `${org()}/segments`, 'GET, HEAD, POST'],
      ['TRACE', `${org()}/segments/`, 'GET, HEAD, POST'],
    ];
    for (const [method, path, allow] of cases) {
      const res = await get(path, method, `Authorization: Bearer ${a.adminKey}\r\n`);
      assertEnvelope(res, 405, 1003, `${method} ${path}`);
      assert.equal(res.headers.allow, allow, `${method} ${path}: Allow`);
      assert.equal(res.headers['x-content-type-options'], 'nosniff', 'security headers too');
    }
    const head = await get(`${tokensPath(a.org.id, 'windows')}/${a.org.id}/send-email`, 'HEAD');
    assert.equal(head.status, 405, 'HEAD on a POST-only path');
    assert.equal(head.headers.allow, 'POST');
    assertEnvelope(await get('/v1/nothing/here', 'PATCH'), 404, 1002, 'unknown path');
    assertEnvelope(await get(`${org()}/api-keys/x/y/z`, 'GET'), 404, 1002, 'unknown path under a known one');
  });
});

describe('requests Node cannot parse (real sockets)', () => {
  test('a malformed request: 400 3000 in the envelope with x-request-id (was a bare body)', async () => {
    for (const request of ['GET /healthz HTTP/1.1\r\nHost: localhost\r\nBad Header\r\n\r\n', 'NOT HTTP AT ALL\r\n\r\n', 'GET / HTTP/9.9\r\n\r\n']) {
      const res = await raw(request);
      assertEnvelope(res, 400, 3000, JSON.stringify(request));
      assert.deepEqual(JSON.parse(res.body).error.data.errors, [{ path: 'request', message: 'is not valid HTTP/1.1' }]);
      assert.equal(res.headers['cache-control'], 'no-store');
    }
  });

  test('headers over the size limit: 431 1005 in the envelope', async () => {
    const res = await raw(`GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    assertEnvelope(res, 431, 1005, 'header overflow');
  });

  test('headers never finished: 408 1004 in the envelope', async () => {
    const res = await raw('GET /healthz HTTP/1.1\r\nHost: localhost\r\n');
    assertEnvelope(res, 408, 1004, 'timeout');
  });

  test('none of them is logged as an error', () => {
    assert.deepEqual(errorLines(), []);
  });
});

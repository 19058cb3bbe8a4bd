import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createOrg, type TestOrg } from './helpers/factories.ts';
import { buildTestApp, call, type TestContext } from './helpers/test-app.ts';

let ctx: TestContext;
let a: TestOrg;
before(async () => {
  ctx = await buildTestApp({ bodyLimit: 4096 });
  // A route that fails the way a bug would, to see what leaves the server.
  ctx.app.get('/v1/test-only/boom', async () => {
    const error = new Error('relation "secret_table" does not exist at /srv/openroll/src/x.ts:1');
    throw Object.assign(error, { code: '42P01' });
  });
  a = await createOrg(ctx);
});
after(() => ctx.close());

describe('one error envelope', () => {
  test('unknown route: 404 1002 with a request id header and field', async () => {
    const res = await call(ctx.app, undefined, { method: 'GET', url: '/v1/nothing/here' });
    assert.equal(res.status, 404);
    assert.deepEqual(Object.keys(res.body).sort(), ['error', 'status']);
    assert.equal(res.body.error.code, 1002);
    assert.equal(res.body.error.message, 'Route not found');
    assert.equal(res.body.error.requestId, res.headers['x-request-id']);
  });

  test('a caller-given x-request-id is echoed; an unsafe one is replaced', async () => {
    const kept = await call(ctx.app, undefined, { method: 'GET', url: '/healthz', headers: { 'x-request-id': 'abc-123' } });
    assert.equal(kept.headers['x-request-id'], 'abc-123');
    const replaced = await call(ctx.app, undefined, { method: 'GET', url: '/healthz', headers: { 'x-request-id': 'bad id\u0007' } });
    assert.notEqual(replaced.headers['x-request-id'], 'bad id\u0007');
    assert.match(String(replaced.headers['x-request-id']), /^[0-9a-f-]{36}$/);
  });

  test('malformed JSON: 400 3000', async () => {
    const res = await call(ctx.app, a.adminKey, {
      method: 'POST',
      url: `/v1/organizations/${a.org.id}/api-keys`,
      headers: { 'content-type': 'application/json' },
      payload: '{"name": ',
    });
    assert.equal(res.status, 400);
    assert.equal(res.body.error.code, 3000);
    assert.equal(res.body.error.data.errors[0].path, 'body');
  });

  test('a body over the limit: 413 3003', async () => {
    const res = await call(ctx.app, a.adminKey, {
      method: 'POST',
      url: `/v1/organizations/${a.org.id}/api-keys`,
      payload: { name: 'x'.repeat(10_000), role: 'viewer' },
    });
    assert.equal(res.status, 413);
    assert.equal(res.body.error.code, 3003);
  });

  test('a wrong content type: 400 3000', async () => {
    const res = await call(ctx.app, a.adminKey, {
      method: 'POST',
      url: `/v1/organizations/${a.org.id}/api-keys`,
      headers: { 'content-type': 'text/plain' },
      payload: 'name=x',
    });
    assert.equal(res.status, 400);
    assert.equal(res.body.error.code, 3000);
  });

  test('query validation: unknown parameters and bad values, each listed', async () => {
    const res = await call(ctx.app, a.adminKey, { method: 'GET', url: `/v1/organizations/${a.org.id}/api-keys?limit=501&page=0&color=red` });
    assert.equal(res.status, 400);
    assert.equal(res.body.error.code, 3000);
    const paths = res.body.error.data.errors.map((e: { path: string }) => e.path).sort();
    assert.deepEqual(paths, ['query.color', 'query.limit', 'query.page']);
  });

  test('a bad organization parameter is validated after authentication', async () => {
    const noKey = await call(ctx.app, undefined, { method: 'GET', url: '/v1/organizations/a!/api-keys' });
    assert.equal(noKey.body.error.code, 4002);
    const other = await call(ctx.app, a.adminKey, { method: 'GET', url: '/v1/organizations/a!/api-keys' });
    assert.equal(other.body.error.code, 3001, 'not the key organization: 404 before validation');
  });

  test('trailing slash is accepted', async () => {
    const res = await call(ctx.app, a.adminKey, { method: 'GET', url: `/v1/organizations/${a.org.id}/api-keys/` });
    assert.equal(res.status, 200);
  });

  test('an unexpected failure: 500 1000 with no stack, SQL or path', async () => {
    const res = await call(ctx.app, undefined, { method: 'GET', url: '/v1/test-only/boom' });
    assert.equal(res.status, 500);
    assert.equal(res.body.error.code, 1000);
    assert.equal(res.body.error.message, 'Internal error');
    const text = JSON.stringify(res.body);
    for (const leak of ['secret_table', '/srv', 'stack', '42P01']) assert.equal(text.includes(leak), false, leak);
  });
});

describe('operations', () => {
  test('/healthz and /readyz answer 200 while the database is up', async () => {
    for (const url of ['/healthz', '/readyz']) {
      const res = await call(ctx.app, undefined, { method: 'GET', url });
      assert.equal(res.status, 200);
      assert.deepEqual(res.body, { status: true, data: { ok: true } });
    }
  });
});

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { ERRORS } from '../src/errors.ts';
import { serverWideResponses } from '../src/lib/schemas.ts';
import { createOrg } from './helpers/factories.ts';
import { buildTestApp, type TestContext } from './helpers/test-app.ts';

let ctx: TestContext;
before(async () => {
  ctx = await buildTestApp({ publicUrl: 'http://localhost:3000' });
  await ctx.app.ready();
});
after(() => ctx.close());

test('the committed openapi.json matches the routes (run `npm run openapi` after changing a route)', () => {
  const committed = JSON.parse(readFileSync(new URL('../openapi.json', import.meta.url), 'utf8'));
  assert.deepEqual(ctx.app.swagger(), committed);
});

test('every /v1 route is in the document, and /openapi.json and /docs are served', async () => {
  const doc = ctx.app.swagger() as { openapi: string; paths: Record<string, Record<string, unknown>> };
  assert.equal(doc.openapi, '3.1.0');
  const routes = ctx.app.printRoutes({ commonPrefix: false });
  assert.ok(routes.length > 0);
  assert.ok(doc.paths['/v1/organizations/{organizationId}/api-keys']?.post);
  const served = await ctx.app.inject({ method: 'GET', url: '/openapi.json' });
  assert.equal(served.statusCode, 200);
  assert.deepEqual(served.json(), doc);
  const page = await ctx.app.inject({ method: 'GET', url: '/docs/' });
  assert.equal(page.statusCode, 200);
  assert.match(page.body, /<html/i);
});

// Real answers against the document: each status the server sends whatever the route (a method
// the path lacks, a body over the limit, a URL the router cannot decode) is sent to every
// documented operation it applies to, and must be documented there.
type Operation = { responses: Record<string, { headers?: Record<string, unknown> }> };
type Doc = { paths: Record<string, Record<string, Operation>> };
const ID = 'abcdefabcdefabcdefabcdef';
const filled = (path: string, org: string) => path.replace('{organizationId}', org).replace(/\{[^}]+\}/g, ID);

test('every documented path answers 405 1003 to a method it has no operation for, with Allow naming the documented ones, and documents it', async () => {
  const { org, adminKey } = await createOrg(ctx);
  const doc = ctx.app.swagger() as unknown as Doc;
  const paths = Object.entries(doc.paths);
  assert.ok(paths.length > 30);
  for (const [path, operations] of paths) {
    const documented = Object.keys(operations).map((m) => m.toUpperCase());
    const allow = [...documented, ...(documented.includes('GET') ? ['HEAD'] : [])].sort();
    const method = (['PATCH', 'PUT', 'POST', 'DELETE', 'GET'] as const).find((m) => !documented.includes(m))!;
    const res = await ctx.app.inject({ method, url: filled(path, org.id), headers: { authorization: `Bearer ${adminKey}` } });
    assert.equal(res.statusCode, 405, `${method} ${path}`);
    assert.equal(res.json().error.code, 1003);
    // A literal segment can also match another path's parameter (`.../bulk` is an `{id}` too):
    // Allow names at least the documented methods, never the one refused.
    const allowed = String(res.headers.allow).split(', ');
    assert.deepEqual(allow.filter((a) => !allowed.includes(a)), [], `Allow of ${path}: ${allowed.join(', ')}`);
    assert.ok(!allowed.includes(method));
    for (const [m, operation] of Object.entries(operations)) {
      assert.ok(operation.responses['405']?.headers?.allow, `${m.toUpperCase()} ${path} documents 405 and its Allow header`);
    }
  }
});

test('a body over the limit (413 3003) and a URL that is not valid percent-encoding (400 3000), on every documented operation they apply to', async () => {
  const { org, adminKey } = await createOrg(ctx);
  const doc = ctx.app.swagger() as unknown as Doc;
  const big = JSON.stringify({ name: 'x'.repeat(ctx.config.bodyLimit) });
  let bodies = 0;
  for (const [path, operations] of Object.entries(doc.paths)) {
    for (const [m, operation] of Object.entries(operations)) {
      const method = m.toUpperCase() as 'GET' | 'POST' | 'PUT' | 'DELETE';
      const headers = { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' };
      if (method !== 'GET') {
        const res = await ctx.app.inject({ method, url: filled(path, org.id), headers, payload: big });
        assert.equal(res.statusCode, 413, `${method} ${path}: ${res.body.slice(0, 200)}`);
        assert.equal(res.json().error.code, 3003);
        assert.ok(operation.responses['413'], `${method} ${path} documents 413`);
        bodies += 1;
      }
      const bad = await ctx.app.inject({ method, url: `${filled(path, org.id)}%E0%A4%A`, headers });
      assert.equal(bad.statusCode, 400, `${method} ${path} with a bad escape`);
      assert.equal(bad.json().error.code, 3000);
      assert.ok(operation.responses['400'], `${method} ${path} documents 400`);
    }
  }
  assert.ok(bodies > 20);
});

test('every status of the error table is documented on every /v1 operation; the server-wide ones on every operation', () => {
  const doc = ctx.app.swagger() as unknown as Doc;
  const table = [...new Set(Object.values(ERRORS).map((e) => String(e.status)))].sort();
  for (const [path, operations] of Object.entries(doc.paths)) {
    for (const [m, operation] of Object.entries(operations)) {
      const expected = path.startsWith('/v1/') ? table : Object.keys(serverWideResponses(m.toUpperCase()));
      const missing = expected.filter((s) => !operation.responses[s]);
      assert.deepEqual(missing, [], `${m.toUpperCase()} ${path}`);
      for (const [status, response] of Object.entries(operation.responses)) {
        if (status !== '200') assert.notEqual((response as { description?: string }).description, 'Default Response', `${m.toUpperCase()} ${path} ${status} is described`);
      }
    }
  }
});

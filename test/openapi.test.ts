import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
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

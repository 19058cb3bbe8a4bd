import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FastifyPluginAsync } from 'fastify';
import Fastify from 'fastify';
import type { AuthContext } from '../../src/auth/auth-context.ts';
import { registerKeyConcurrency } from '../../src/plugins/key-concurrency.ts';
import { createKey, createOrg, type TestOrg } from '../helpers/factories.ts';
import { buildTestApp, call, type TestContext } from '../helpers/test-app.ts';

/**
 * A route that holds its request until the test lets it go: what a slow search is to the
 * server. Registered only in this file's app, behind a real permission.
 */
const released: Array<() => void> = [];
let entered = 0;
const holdRoute: FastifyPluginAsync = async (app) => {
  app.get('/v1/organizations/:organizationId/test-hold', { config: { permission: 'base.organization.segment.list' } }, async () => {
    entered++;
    await new Promise<void>((resolve) => released.push(resolve));
    return { status: true, data: {} };
  });
};

let ctx: TestContext;
let a: TestOrg;
before(async () => {
  // The per-minute limit off: a thousand requests of one key are the point here.
  ctx = await buildTestApp({ maxConcurrentRequestsPerKey: 2, rateLimitPerMinute: 0 }, { routes: [holdRoute] });
  a = await createOrg(ctx);
});
after(() => ctx.close());

const until = async (condition: () => boolean) => {
  for (let i = 0; i < 500 && !condition(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(condition(), 'waited 5 s');
};

describe('requests of one API key served at once (MAX_CONCURRENT_REQUESTS_PER_KEY)', () => {
  test('two of a key run, the third waits its turn and then runs; another key of the same organization is not held', async () => {
    const key = await createKey(ctx, a.org, { role: 'viewer' });
    const hold = () => call(ctx.app, key, { method: 'GET', url: `/v1/organizations/${a.org.id}/test-hold` });
    entered = 0;
    const first = [hold(), hold(), hold()];
    await until(() => entered === 2);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(entered, 2, 'the third request waits for a slot');

    const other = await createKey(ctx, a.org, { role: 'viewer' });
    const otherList = await call(ctx.app, other, { method: 'GET', url: `/v1/organizations/${a.org.id}/segments` });
    assert.equal(otherList.status, 200, 'another key is served meanwhile');

    released.shift()!();
    await until(() => entered === 3);
    while (released.length > 0) released.shift()!();
    for (const res of await Promise.all(first)) assert.equal(res.status, 200);
  });

  test('past its queue, a key gets 429 4029 at once; slots are given back, also by a refused request', async () => {
    // The plugin alone on a bare Fastify, with a small queue and a known key: through the whole
    // app, a thousand waiting requests first pass key lookups (slow on a busy database), and
    // whether the queue is full yet would be a race.
    const bare = Fastify();
    bare.decorateRequest('auth', null);
    bare.addHook('onRequest', async (request) => {
      request.auth = { keyId: 'k1' } as AuthContext;
    });
    registerKeyConcurrency(bare, { perKey: 2, queue: 3 });
    const gates: Array<() => void> = [];
    let inside = 0;
    bare.get('/hold', async () => {
      inside++;
      await new Promise<void>((resolve) => gates.push(resolve));
      return { ok: true };
    });
    await bare.ready();
    try {
      const hold = () => bare.inject({ method: 'GET', url: '/hold' });
      const waiting = Array.from({ length: 5 }, hold);
      await until(() => inside === 2);
      await new Promise((r) => setTimeout(r, 50));
      const refused = await hold();
      assert.equal(refused.statusCode, 429);
      assert.equal(String(refused.json().code), '4029');
      assert.equal(refused.headers['retry-after'], '1');
      for (let spins = 0; inside < 5 || gates.length > 0; spins++) {
        assert.ok(spins < 10_000, `every waiting request ran (${inside} did)`);
        while (gates.length > 0) gates.shift()!();
        await new Promise((r) => setImmediate(r));
      }
      for (const res of await Promise.all(waiting)) assert.equal(res.statusCode, 200);
      // Nothing is left held: two more run at once.
      const again = [hold(), hold()];
      await until(() => inside === 7);
      while (gates.length > 0) gates.shift()!();
      for (const res of await Promise.all(again)) assert.equal(res.statusCode, 200);
    } finally {
      while (gates.length > 0) gates.shift()!();
      await bare.close();
    }
  });
});

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FastifyPluginAsync } from 'fastify';
import { KEY_QUEUE_LENGTH } from '../../src/plugins/key-concurrency.ts';
import { assertError } from '../helpers/assertions.ts';
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

  test(`past ${KEY_QUEUE_LENGTH} waiting requests, the next gets 429 4029 at once; slots are given back, also by a refused request`, async () => {
    const key = await createKey(ctx, a.org, { role: 'viewer' });
    const hold = () => call(ctx.app, key, { method: 'GET', url: `/v1/organizations/${a.org.id}/test-hold` });
    entered = 0;
    const waiting = Array.from({ length: 2 + KEY_QUEUE_LENGTH }, hold);
    await until(() => entered === 2);
    const refused = await hold();
    assertError(refused, 429, 4029);
    assert.ok(Number(refused.headers['retry-after']) >= 1);
    // Let everything through: each ending request hands its slot to the next in line.
    for (let spins = 0; entered < 2 + KEY_QUEUE_LENGTH || released.length > 0; spins++) {
      assert.ok(spins < 100_000, `every waiting request ran (${entered} did)`);
      while (released.length > 0) released.shift()!();
      await new Promise((r) => setImmediate(r));
    }
    for (const res of await Promise.all(waiting)) assert.equal(res.status, 200);
    // Nothing is left held: two more requests of the key run at once.
    entered = 0;
    const again = [hold(), hold()];
    await until(() => entered === 2);
    while (released.length > 0) released.shift()!();
    for (const res of await Promise.all(again)) assert.equal(res.status, 200);
  });
});

import assert from 'node:assert/strict';
import type { InjectOptions } from 'fastify';
import { PERMISSIONS } from '../../src/permissions.ts';
import { createOrg, createKey } from './factories.ts';
import { call, type TestContext } from './test-app.ts';

export interface RouteUnderTest {
  method: InjectOptions['method'];
  /** The path for an organization reference (id or slug). */
  path: (org: string) => string;
  body?: unknown;
  permission: string;
}

function assertError(res: { status: number; body: { status: boolean; error: { code: number; requestId: string } } }, status: number, code: number, label: string) {
  assert.equal(res.status, status, `${label}: HTTP status`);
  assert.equal(res.body.status, false, `${label}: envelope status`);
  assert.equal(res.body.error.code, code, `${label}: error code`);
  assert.equal(typeof res.body.error.requestId, 'string', `${label}: requestId`);
}

/**
 * The security cases every authenticated route must pass: no key, a bad key, an expired key,
 * a revoked key, a key of another organization (by id and by slug), a key without the permission.
 */
let routesChecked = 0;

export async function assertRouteSecurity(ctx: TestContext, route: RouteUnderTest): Promise<void> {
  const a = await createOrg(ctx);
  const b = await createOrg(ctx);
  // Each route's bad keys come from an address of their own (198.18.0.0/15, for tests): a suite
  // of routes would otherwise spend the per-address limit on requests without a valid key,
  // which test/limits/ tests on its own.
  const n = ++routesChecked;
  const remoteAddress = `198.18.${(n >> 8) & 255}.${n & 255}`;
  const send = (key: string | undefined, org = a.org.id, headers: Record<string, string> = {}) =>
    call(ctx.app, key, {
      method: route.method,
      url: route.path(org),
      headers,
      remoteAddress,
      ...(route.body !== undefined ? { payload: route.body as object } : {}),
    });

  assertError(await send(undefined), 401, 4002, 'no key');
  assertError(await send(undefined, a.org.id, { authorization: 'Bearer ' }), 401, 4002, 'empty bearer');
  assertError(await send('ork_not-a-real-key-at-all-000000000000000000'), 401, 4004, 'unknown key');
  assertError(await send('garbage'), 401, 4004, 'malformed key');

  const expired = await createKey(ctx, a.org, { role: 'admin', expiresAt: new Date(ctx.clock.now().getTime() + 1000) });
  ctx.clock.advance(2000);
  assertError(await send(expired), 401, 4005, 'expired key');

  const revoked = await createKey(ctx, a.org, { role: 'admin' });
  const keys = await call(ctx.app, a.adminKey, { method: 'GET', url: `/v1/organizations/${a.org.id}/api-keys?limit=500` });
  const revokedId = keys.body.data.items.find((k: { prefix: string }) => revoked.startsWith(k.prefix)).id;
  await call(ctx.app, a.adminKey, { method: 'DELETE', url: `/v1/organizations/${a.org.id}/api-keys/${revokedId}` });
  assertError(await send(revoked), 401, 4004, 'revoked key');

  assertError(await send(b.adminKey, a.org.id), 404, 3001, 'key of another organization, by id');
  assertError(await send(b.adminKey, a.org.slug), 404, 3001, 'key of another organization, by slug');
  assertError(await send(b.adminKey, 'no-such-org'), 404, 3001, 'unknown organization');

  const other = PERMISSIONS.find((p) => p !== route.permission)!;
  const lacking = await createKey(ctx, a.org, { permissions: [other] });
  assertError(await send(lacking), 403, 4003, 'key without the permission');

  const exact = await createKey(ctx, a.org, { permissions: [route.permission] });
  const allowed = await send(exact);
  assert.ok(![401, 403].includes(allowed.status), `key with exactly ${route.permission} is let in (got ${allowed.status})`);
}

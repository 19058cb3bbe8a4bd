import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createKey, createOrg, unique, type TestOrg } from '../../helpers/factories.ts';
import { assertRouteSecurity } from '../../helpers/security.ts';
import { buildTestApp, call, type TestContext } from '../../helpers/test-app.ts';

let ctx: TestContext;
let a: TestOrg;
before(async () => {
  ctx = await buildTestApp();
  a = await createOrg(ctx);
});
after(() => ctx.close());

const base = (org: string) => `/v1/organizations/${org}/api-keys`;

describe('api keys: happy paths', () => {
  test('create returns the secret once, list shows only the prefix', async () => {
    const created = await call(ctx.app, a.adminKey, { method: 'POST', url: base(a.org.id), payload: { name: 'ci', role: 'viewer' } });
    assert.equal(created.status, 200);
    assert.equal(created.body.status, true);
    const key: string = created.body.data.key;
    assert.match(key, /^ork_[A-Za-z0-9_-]{43}$/);
    assert.equal(created.body.data.role, 'viewer');
    assert.ok(key.startsWith(created.body.data.prefix));

    const list = await call(ctx.app, a.adminKey, { method: 'GET', url: base(a.org.slug) });
    assert.equal(list.status, 200);
    const listed = list.body.data.items.find((k: { id: string }) => k.id === created.body.data.id);
    assert.ok(listed);
    assert.equal(listed.key, undefined);
    assert.equal(JSON.stringify(list.body).includes(key), false, 'the secret never appears in a listing');
    assert.equal(list.body.data.totalDocs, list.body.data.items.length);

    const usable = await call(ctx.app, key, { method: 'GET', url: base(a.org.id) });
    assert.equal(usable.status, 403, 'a viewer key authenticates but may not list keys');
    assert.equal(usable.body.error.code, 4003);
  });

  test('explicit permissions with wildcards', async () => {
    const created = await call(ctx.app, a.adminKey, {
      method: 'POST',
      url: base(a.org.id),
      payload: { name: 'keys-only', permissions: ['base.organization.apiKey.*'] },
    });
    assert.equal(created.status, 200);
    const list = await call(ctx.app, created.body.data.key, { method: 'GET', url: base(a.org.id) });
    assert.equal(list.status, 200);
  });

  test('revoke: the key stops working, repeating it answers the same key', async () => {
    const key = await createKey(ctx, a.org, { role: 'admin' });
    const list = await call(ctx.app, a.adminKey, { method: 'GET', url: `${base(a.org.id)}?limit=500` });
    const id = list.body.data.items.find((k: { prefix: string }) => key.startsWith(k.prefix)).id;
    const first = await call(ctx.app, a.adminKey, { method: 'DELETE', url: `${base(a.org.id)}/${id}` });
    assert.equal(first.status, 200);
    assert.ok(first.body.data.revokedAt);
    const second = await call(ctx.app, a.adminKey, { method: 'DELETE', url: `${base(a.org.id)}/${id.toUpperCase()}` });
    assert.equal(second.body.data.revokedAt, first.body.data.revokedAt);
    const denied = await call(ctx.app, key, { method: 'GET', url: base(a.org.id) });
    assert.equal(denied.status, 401);
    assert.equal(denied.body.error.code, 4004);
  });

  test('pagination of keys', async () => {
    const org = await createOrg(ctx);
    for (let i = 0; i < 4; i++) await createKey(ctx, org.org, { role: 'viewer' });
    const page = await call(ctx.app, org.adminKey, { method: 'GET', url: `${base(org.org.id)}?page=2&limit=2` });
    assert.equal(page.status, 200);
    assert.deepEqual(
      { ...page.body.data, items: page.body.data.items.length },
      { items: 2, totalDocs: 5, limit: 2, page: 2, totalPages: 3, hasPrevPage: true, hasNextPage: true, prevPage: 1, nextPage: 3 },
    );
  });
});

describe('api keys: errors', () => {
  test('validation lists every failing field', async () => {
    const res = await call(ctx.app, a.adminKey, {
      method: 'POST',
      url: base(a.org.id),
      payload: { role: 'root', extra: 1, expiresAt: 'tomorrow' },
    });
    assert.equal(res.status, 400);
    assert.equal(res.body.error.code, 3000);
    const paths = res.body.error.data.errors.map((e: { path: string }) => e.path).sort();
    assert.deepEqual(paths, ['body.expiresAt', 'body.extra', 'body.name', 'body.role']);
  });

  test('role and permissions rules', async () => {
    const none = await call(ctx.app, a.adminKey, { method: 'POST', url: base(a.org.id), payload: { name: 'x' } });
    assert.equal(none.body.error.code, 3000);
    const unknown = await call(ctx.app, a.adminKey, { method: 'POST', url: base(a.org.id), payload: { name: 'x', permissions: ['mdm.nothing.here'] } });
    assert.equal(unknown.body.error.code, 3000);
    assert.equal(unknown.body.error.data.errors[0].path, 'body.permissions.0');
    const past = await call(ctx.app, a.adminKey, {
      method: 'POST',
      url: base(a.org.id),
      payload: { name: 'x', role: 'viewer', expiresAt: '2020-01-01T00:00:00.000Z' },
    });
    assert.equal(past.body.error.code, 3000);
  });

  test('a key cannot create a key with more rights than its own', async () => {
    const manager = await createKey(ctx, a.org, { permissions: ['base.organization.apiKey.*'] });
    const res = await call(ctx.app, manager, { method: 'POST', url: base(a.org.id), payload: { name: 'escalate', role: 'admin' } });
    assert.equal(res.status, 403);
    assert.equal(res.body.error.code, 4003);
  });

  test('revoking an unknown key, or a key of another organization, is 404 3001', async () => {
    const b = await createOrg(ctx);
    const bKey = await call(ctx.app, b.adminKey, { method: 'GET', url: base(b.org.id) });
    const bKeyId = bKey.body.data.items[0].id;
    const res = await call(ctx.app, a.adminKey, { method: 'DELETE', url: `${base(a.org.id)}/${bKeyId}` });
    assert.equal(res.status, 404);
    assert.equal(res.body.error.code, 3001);
    const still = await call(ctx.app, b.adminKey, { method: 'GET', url: base(b.org.id) });
    assert.equal(still.status, 200, "the other organization's key still works");
  });
});

describe('api keys: security', () => {
  test('list', () => assertRouteSecurity(ctx, { method: 'GET', path: base, permission: 'base.organization.apiKey.list' }));
  test('create', () =>
    assertRouteSecurity(ctx, { method: 'POST', path: base, body: { name: unique('k'), permissions: ['base.organization.apiKey.create'] }, permission: 'base.organization.apiKey.create' }));
  test('revoke', () =>
    assertRouteSecurity(ctx, { method: 'DELETE', path: (org) => `${base(org)}/0123456789abcdef01234567`, permission: 'base.organization.apiKey.remove' }));
});

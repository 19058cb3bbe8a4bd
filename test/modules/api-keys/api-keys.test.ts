import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { assertError } from '../../helpers/assertions.ts';
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
    // 32 random bytes, then the server's 16-byte check of them (src/auth/credential-check.ts).
    assert.match(key, /^ork_[A-Za-z0-9_-]{43}[A-Za-z0-9_-]{22}$/);
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

describe('api keys: revoking is as strong as creating', () => {
  /** The id of a key, found by its display prefix. */
  async function idOf(org: TestOrg, key: string): Promise<string> {
    const list = await call(ctx.app, org.adminKey, { method: 'GET', url: `${base(org.org.id)}?limit=500` });
    return list.body.data.items.find((k: { prefix: string }) => key.startsWith(k.prefix)).id;
  }
  const revoke = (org: TestOrg, by: string, id: string) => call(ctx.app, by, { method: 'DELETE', url: `${base(org.org.id)}/${id}` });
  const works = async (org: TestOrg, key: string) => (await call(ctx.app, key, { method: 'GET', url: `/v1/organizations/${org.org.id}/segments` })).status !== 401;

  test('a key holding only apiKey.remove cannot revoke an admin key (it could): 403 4003 naming what it lacks', async () => {
    const org = await createOrg(ctx);
    const remover = await createKey(ctx, org.org, { permissions: ['base.organization.apiKey.remove'] });
    const adminId = await idOf(org, org.adminKey);
    const res = await revoke(org, remover, adminId);
    assertError(res, 403, 4003);
    assert.ok(res.body.error.data.permissions.includes('base.organization.apiKey.create'), JSON.stringify(res.body.error.data));
    assert.ok(await works(org, org.adminKey), 'the admin key still works');

    const viewer = await createKey(ctx, org.org, { role: 'viewer' });
    assertError(await revoke(org, remover, await idOf(org, viewer)), 403, 4003);
    const peer = await createKey(ctx, org.org, { permissions: ['base.organization.apiKey.remove'] });
    assert.equal((await revoke(org, remover, await idOf(org, peer))).status, 200, 'a key with no more than its own permissions');
    const manager = await createKey(ctx, org.org, { permissions: ['base.organization.apiKey.*', 'mdm.*', 'base.organization.segment.*', 'base.organization.webhook.*', 'base.organization.dashboard.*'] });
    assert.equal((await revoke(org, manager, await idOf(org, viewer))).status, 200, 'a key that covers all of the target');
  });

  test("the organization's last admin key cannot be revoked through the API: 409 5001 with a clear message", async () => {
    const org = await createOrg(ctx);
    const adminId = await idOf(org, org.adminKey);
    const self = await revoke(org, org.adminKey, adminId);
    assertError(self, 409, 5001);
    assert.match(self.body.error.message, /last admin key/);
    assert.equal(self.body.error.data.reason, 'last-admin-key');
    assert.ok(await works(org, org.adminKey));

    // An expired admin key does not count as another admin; a `*` key does.
    await createKey(ctx, org.org, { role: 'admin', expiresAt: new Date(ctx.clock.now().getTime() + 1000) });
    ctx.clock.advance(2000);
    assertError(await revoke(org, org.adminKey, adminId), 409, 5001);
    const star = await createKey(ctx, org.org, { permissions: ['*'] });
    assert.equal((await revoke(org, star, adminId)).status, 200, 'another admin key is left');
    assertError(await revoke(org, star, await idOf({ ...org, adminKey: star }, star)), 409, 5001);
    assert.ok(await works(org, star));
  });

  test('two admin keys revoking each other at once: one wins, the other gets 409', async () => {
    const org = await createOrg(ctx);
    const second = await createKey(ctx, org.org, { role: 'admin' });
    const [firstId, secondId] = [await idOf(org, org.adminKey), await idOf(org, second)];
    const results = await Promise.all([revoke(org, org.adminKey, secondId), revoke(org, second, firstId)]);
    assert.deepEqual(results.map((r) => r.status).sort(), [200, 409]);
    assert.equal((await works(org, org.adminKey)) !== (await works(org, second)), true, 'exactly one admin key is left');
  });
});

describe('api keys: a created key never outlives its creator', () => {
  const HOUR = 3_600_000;
  const at = (ms: number) => new Date(ctx.clock.now().getTime() + ms).toISOString();

  test('a key that expires in an hour cannot create one that never expires, or expires later (it could): 400 3000 on expiresAt', async () => {
    const org = await createOrg(ctx);
    const shortLived = await createKey(ctx, org.org, { role: 'admin', expiresAt: new Date(ctx.clock.now().getTime() + HOUR) });
    const create = (body: Record<string, unknown>) => call(ctx.app, shortLived, { method: 'POST', url: base(org.org.id), payload: { name: unique('child'), role: 'admin', ...body } });

    const forever = await create({});
    assertError(forever, 400, 3000);
    assert.equal(forever.body.error.data.errors[0].path, 'body.expiresAt');
    assert.match(forever.body.error.data.errors[0].message, /cannot outlive its creator/);
    const later = await create({ expiresAt: at(2 * HOUR) });
    assertError(later, 400, 3000);
    assert.equal(later.body.error.data.errors[0].path, 'body.expiresAt');

    const same = await create({ expiresAt: at(HOUR) });
    assert.equal(same.status, 200, JSON.stringify(same.body));
    assert.equal(same.body.data.expiresAt, at(HOUR));
    const sooner = await create({ expiresAt: at(HOUR / 2), role: 'viewer' });
    assert.equal(sooner.status, 200);
    assert.equal(sooner.body.data.expiresAt, at(HOUR / 2));

    // A key that never expires may create either kind.
    const free = await call(ctx.app, org.adminKey, { method: 'POST', url: base(org.org.id), payload: { name: unique('child'), role: 'viewer' } });
    assert.equal(free.status, 200);
    assert.equal(free.body.data.expiresAt, null);
  });
});

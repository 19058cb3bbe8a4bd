import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { newId } from '../../../src/lib/ids.ts';
import { createMdmUsersRepo } from '../../../src/modules/mdm-users/mdm-users.repo.ts';
import { isEmailConflict } from '../../../src/modules/mdm-users/mdm-users.service.ts';
import { createOrg, unique, type TestOrg } from '../../helpers/factories.ts';
import { assertError, errorPaths, ISO_MS } from '../../helpers/assertions.ts';
import { assertRouteSecurity } from '../../helpers/security.ts';
import { buildTestApp, call, type Json, type TestContext } from '../../helpers/test-app.ts';

let ctx: TestContext;
let a: TestOrg;
before(async () => {
  ctx = await buildTestApp();
  a = await createOrg(ctx);
});
after(() => ctx.close());

const base = (org: string) => `/v1/organizations/${org}/mdm/users`;
const USER_KEYS = ['createdAt', 'email', 'id', 'language', 'name', 'organizationId', 'tags', 'updatedAt'];
const MISSING_ID = '0123456789abcdef01234567';

const create = (org: TestOrg, payload: object) => call(ctx.app, org.adminKey, { method: 'POST', url: base(org.org.id), payload });
const list = (org: TestOrg, query = '') => call(ctx.app, org.adminKey, { method: 'GET', url: `${base(org.org.id)}${query}` });
const email = () => `${unique('user')}@example.com`;

describe('mdm users: happy paths', () => {
  test('create normalizes the email and answers the exact shape', async () => {
    const res = await create(a, { email: 'Ada.Lovelace@Example.COM', name: 'Ada', language: 'es', tags: ['math', 'eng'] });
    assert.equal(res.status, 200);
    assert.equal(res.body.status, true);
    const user = res.body.data;
    assert.deepEqual(Object.keys(user).sort(), USER_KEYS);
    assert.match(user.id, /^[a-f0-9]{24}$/);
    assert.equal(user.organizationId, a.org.id);
    assert.equal(user.email, 'ada.lovelace@example.com');
    assert.equal(user.name, 'Ada');
    assert.equal(user.language, 'es');
    assert.deepEqual(user.tags, ['math', 'eng']);
    assert.match(user.createdAt, ISO_MS);
    assert.equal(user.updatedAt, user.createdAt);
  });

  test('unset fields: name empty, language null, tags empty', async () => {
    const res = await create(a, { email: email() });
    assert.equal(res.status, 200);
    assert.equal(res.body.data.name, '');
    assert.equal(res.body.data.language, null);
    assert.deepEqual(res.body.data.tags, []);
  });

  test('get by id, in either case, with a trailing slash', async () => {
    const created = (await create(a, { email: email(), name: 'Getme' })).body.data;
    const got = await call(ctx.app, a.adminKey, { method: 'GET', url: `${base(a.org.slug)}/${created.id.toUpperCase()}/` });
    assert.equal(got.status, 200);
    assert.deepEqual(got.body.data, created);
  });

  test('update changes only the fields given and moves updatedAt', async () => {
    const created = (await create(a, { email: email(), name: 'Before', language: 'fr', tags: ['x'] })).body.data;
    ctx.clock.advance(5_000);
    const res = await call(ctx.app, a.adminKey, {
      method: 'PUT',
      url: `${base(a.org.id)}/${created.id}`,
      payload: { name: 'After', email: ' NEW.' + created.email.toUpperCase().trim() },
    });
    assert.equal(res.status, 400, 'surrounding spaces are not an email');
    const ok = await call(ctx.app, a.adminKey, {
      method: 'PUT',
      url: `${base(a.org.id)}/${created.id}`,
      payload: { name: 'After', email: 'NEW.' + created.email.toUpperCase() },
    });
    assert.equal(ok.status, 200);
    const updated = ok.body.data;
    assert.deepEqual(Object.keys(updated).sort(), USER_KEYS);
    assert.equal(updated.name, 'After');
    assert.equal(updated.email, `new.${created.email}`);
    assert.equal(updated.language, 'fr');
    assert.deepEqual(updated.tags, ['x']);
    assert.equal(updated.createdAt, created.createdAt);
    assert.equal(new Date(updated.updatedAt).getTime() - new Date(created.updatedAt).getTime(), 5_000);
    const same = await call(ctx.app, a.adminKey, { method: 'PUT', url: `${base(a.org.id)}/${created.id}`, payload: { email: updated.email } });
    assert.equal(same.status, 200, 'keeping its own email is no conflict');
  });

  test('delete is soft: answers the user, then 404; the email is free again', async () => {
    const address = email();
    const created = (await create(a, { email: address })).body.data;
    const del = await call(ctx.app, a.adminKey, { method: 'DELETE', url: `${base(a.org.id)}/${created.id}` });
    assert.equal(del.status, 200);
    assert.deepEqual(Object.keys(del.body.data).sort(), USER_KEYS);
    assert.equal(del.body.data.id, created.id);
    assertError(await call(ctx.app, a.adminKey, { method: 'GET', url: `${base(a.org.id)}/${created.id}` }), 404, 3001);
    assertError(await call(ctx.app, a.adminKey, { method: 'DELETE', url: `${base(a.org.id)}/${created.id}` }), 404, 3001);
    assertError(await call(ctx.app, a.adminKey, { method: 'PUT', url: `${base(a.org.id)}/${created.id}`, payload: { name: 'x' } }), 404, 3001);
    const listed = await list(a, `?email=${encodeURIComponent(address)}`);
    assert.equal(listed.body.data.totalDocs, 0);
    const again = await create(a, { email: address });
    assert.equal(again.status, 200);
    assert.notEqual(again.body.data.id, created.id);
  });
});

describe('mdm users: validation', () => {
  test('create lists every failing field', async () => {
    const res = await create(a, { name: 'n'.repeat(257), language: 'xx', tags: ['t'.repeat(129)], extra: true });
    assert.deepEqual(errorPaths(res), ['body.email', 'body.extra', 'body.language', 'body.name', 'body.tags.0']);
    const bad = await create(a, { email: 'not-an-email', tags: 'x' });
    assert.deepEqual(errorPaths(bad), ['body.email', 'body.tags']);
  });

  test('length boundaries: name 256, tag 128, email 320 pass; one more fails', async () => {
    const domain = '@example.com';
    const longEmail = (n: number) => `${'e'.repeat(n - domain.length - 8)}${unique('')}`.slice(0, n - domain.length) + domain;
    assert.equal(longEmail(320).length, 320);
    const okRes = await create(a, { email: longEmail(320), name: 'n'.repeat(256), tags: ['t'.repeat(128)] });
    assert.equal(okRes.status, 200);
    assert.equal(okRes.body.data.name.length, 256);
    assert.deepEqual(errorPaths(await create(a, { email: longEmail(321) })), ['body.email']);
    assert.deepEqual(errorPaths(await create(a, { email: email(), name: 'n'.repeat(257) })), ['body.name']);
    assert.deepEqual(errorPaths(await create(a, { email: email(), tags: ['ok', 't'.repeat(129)] })), ['body.tags.1']);
  });

  test('every language of the contract is accepted', async () => {
    for (const language of ['en', 'es', 'fr', 'de', 'it', 'pt']) {
      const res = await create(a, { email: email(), language });
      assert.equal(res.status, 200, language);
      assert.equal(res.body.data.language, language);
    }
  });

  test('update needs at least one known field; ids must be 24 hex', async () => {
    const created = (await create(a, { email: email() })).body.data;
    assert.deepEqual(errorPaths(await call(ctx.app, a.adminKey, { method: 'PUT', url: `${base(a.org.id)}/${created.id}`, payload: {} })), ['body']);
    assert.deepEqual(
      errorPaths(await call(ctx.app, a.adminKey, { method: 'PUT', url: `${base(a.org.id)}/${created.id}`, payload: { nickname: 'x', language: 'zz' } })),
      ['body.language', 'body.nickname'],
    );
    assert.deepEqual(errorPaths(await call(ctx.app, a.adminKey, { method: 'GET', url: `${base(a.org.id)}/not-an-id` })), ['params.id']);
    assert.deepEqual(errorPaths(await call(ctx.app, a.adminKey, { method: 'GET', url: `${base(a.org.id)}/${created.id}0` })), ['params.id']);
  });

  test('an unknown id is 404 3001', async () => {
    assertError(await call(ctx.app, a.adminKey, { method: 'GET', url: `${base(a.org.id)}/${MISSING_ID}` }), 404, 3001);
    assertError(await call(ctx.app, a.adminKey, { method: 'PUT', url: `${base(a.org.id)}/${MISSING_ID}`, payload: { name: 'x' } }), 404, 3001);
    assertError(await call(ctx.app, a.adminKey, { method: 'DELETE', url: `${base(a.org.id)}/${MISSING_ID}` }), 404, 3001);
  });
});

describe('mdm users: duplicate emails', () => {
  test('create with an email the organization has (any case) is 409 5048', async () => {
    const address = email();
    assert.equal((await create(a, { email: address })).status, 200);
    assertError(await create(a, { email: address.toUpperCase() }), 409, 5048);
  });

  test("update to another live user's email is 409 5048 and changes nothing", async () => {
    const first = (await create(a, { email: email() })).body.data;
    const second = (await create(a, { email: email(), name: 'Second' })).body.data;
    assertError(
      await call(ctx.app, a.adminKey, { method: 'PUT', url: `${base(a.org.id)}/${second.id}`, payload: { email: first.email, name: 'Changed' } }),
      409,
      5048,
    );
    const still = await call(ctx.app, a.adminKey, { method: 'GET', url: `${base(a.org.id)}/${second.id}` });
    assert.deepEqual(still.body.data, second);
  });

  test('concurrent creates of one email: exactly one wins, the others are 409 5048', async () => {
    const address = email();
    const results = await Promise.all(Array.from({ length: 6 }, () => create(a, { email: address })));
    const statuses = results.map((r) => r.status).sort();
    assert.deepEqual(statuses, [200, 409, 409, 409, 409, 409]);
    for (const r of results.filter((x) => x.status === 409)) assert.equal(r.body.error.code, 5048);
    assert.equal((await list(a, `?email=${encodeURIComponent(address)}`)).body.data.totalDocs, 1);
  });

  test('the unique index violation a lost race raises is recognized as the email conflict', async () => {
    const address = email();
    await create(a, { email: address });
    const now = ctx.clock.now();
    const row = { id: newId(), email: address, name: '', language: null, tags: [], createdAt: now, updatedAt: now };
    const error = await createMdmUsersRepo(ctx.container.database.db).insert(a.org.id, row).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(error, 'the database refuses a second live user with the email');
    assert.equal(isEmailConflict(error), true);
    assert.equal(isEmailConflict(new Error('other')), false);
  });

  test('the same email in two organizations is fine', async () => {
    const b = await createOrg(ctx);
    const address = email();
    assert.equal((await create(a, { email: address })).status, 200);
    assert.equal((await create(b, { email: address })).status, 200);
  });
});

describe('mdm users: listing', () => {
  // Pagination, sort and removal: the list suite (test/lib/listing.test.ts); here what only this list has.
  let org: TestOrg;
  const users: Record<string, { id: string; email: string }> = {};
  before(async () => {
    org = await createOrg(ctx);
    // Creation order differs from name and email order; alpha is updated last.
    for (const [name, local] of [
      ['charlie', 'delta'],
      ['alpha', 'echo'],
      ['bravo', 'bird'],
    ] as const) {
      ctx.clock.advance(1_000);
      users[name] = (await create(org, { email: `${local}@example.com`, name })).body.data;
    }
    ctx.clock.advance(1_000);
    await call(ctx.app, org.adminKey, { method: 'PUT', url: `${base(org.org.id)}/${users.alpha!.id}`, payload: { tags: ['late'] } });
  });
  const names = (res: Json) => res.body.data.items.map((u: { name: string }) => u.name);

  test('search: case-insensitive substring of email or name', async () => {
    assert.deepEqual(names(await list(org, '?search=ALP')), ['alpha']);
    assert.deepEqual(names(await list(org, '?search=bird')), ['bravo']);
    assert.deepEqual(names(await list(org, '?search=e&sort=name:asc')), ['alpha', 'bravo', 'charlie']);
    assert.deepEqual(names(await list(org, '?search=zzz')), []);
    assert.deepEqual(names(await list(org, '?search=&sort=name:asc')), ['alpha', 'bravo', 'charlie'], 'an empty search filters nothing');
  });

  test('search matches %, _ and \\ literally', async () => {
    const other = await createOrg(ctx);
    await create(other, { email: 'a%b@example.com', name: 'percent' });
    await create(other, { email: 'a_b@example.com', name: 'underscore' });
    await create(other, { email: 'axb@example.com', name: 'back\\slash' });
    const found = async (q: string) => names(await list(other, `?sort=name:asc&search=${encodeURIComponent(q)}`));
    assert.deepEqual(await found('%'), ['percent']);
    assert.deepEqual(await found('a_b'), ['underscore']);
    assert.deepEqual(await found('\\'), ['back\\slash']);
    assert.deepEqual(await found('a'), ['back\\slash', 'percent', 'underscore']);
  });

  test('email filter: exact, compared lower-cased', async () => {
    assert.deepEqual(names(await list(org, '?email=ECHO@Example.com')), ['alpha']);
    assert.deepEqual(names(await list(org, '?email=echo@example.co')), [], 'not a substring match');
    assert.deepEqual(errorPaths(await list(org, '?email=nope')), ['query.email']);
    assert.deepEqual(names(await list(org, '?email=echo@example.com&search=bravo')), [], 'filters combine');
  });
});

describe('mdm users: isolation', () => {
  test("another organization's user is 404 3001 by id and stays unchanged", async () => {
    const b = await createOrg(ctx);
    const theirs = (await create(b, { email: email(), name: 'Theirs' })).body.data;
    const url = `${base(a.org.id)}/${theirs.id}`;
    assertError(await call(ctx.app, a.adminKey, { method: 'GET', url }), 404, 3001);
    assertError(await call(ctx.app, a.adminKey, { method: 'PUT', url, payload: { name: 'Mine' } }), 404, 3001);
    assertError(await call(ctx.app, a.adminKey, { method: 'DELETE', url }), 404, 3001);
    const still = await call(ctx.app, b.adminKey, { method: 'GET', url: `${base(b.org.id)}/${theirs.id}` });
    assert.deepEqual(still.body.data, theirs);
    const mine = await list(a, '?limit=500');
    assert.ok(!mine.body.data.items.some((u: { id: string }) => u.id === theirs.id));
  });
});

describe('mdm users: security', () => {
  const one = (org: string) => `${base(org)}/${MISSING_ID}`;
  test('list', () => assertRouteSecurity(ctx, { method: 'GET', path: base, permission: 'mdm.global.mdmUser.list' }));
  test('create', () => assertRouteSecurity(ctx, { method: 'POST', path: base, body: { email: email() }, permission: 'mdm.global.mdmUser.create' }));
  test('get', () => assertRouteSecurity(ctx, { method: 'GET', path: one, permission: 'mdm.global.mdmUser.get' }));
  test('update', () => assertRouteSecurity(ctx, { method: 'PUT', path: one, body: { name: 'x' }, permission: 'mdm.global.mdmUser.update' }));
  test('delete', () => assertRouteSecurity(ctx, { method: 'DELETE', path: one, permission: 'mdm.global.mdmUser.remove' }));
});

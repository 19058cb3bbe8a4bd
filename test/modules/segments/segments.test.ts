import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createOrg, type TestOrg } from '../../helpers/factories.ts';
import { assertError, errorPaths, ISO_MS } from '../../helpers/assertions.ts';
import { assertRouteSecurity } from '../../helpers/security.ts';
import { buildTestApp, call, type TestContext } from '../../helpers/test-app.ts';

let ctx: TestContext;
let a: TestOrg;
before(async () => {
  ctx = await buildTestApp();
  a = await createOrg(ctx);
});
after(() => ctx.close());

const base = (org: string) => `/v1/organizations/${org}/segments`;
const KEYS = ['createdAt', 'id', 'name', 'organizationId', 'parentId', 'updatedAt'];
const MISSING_ID = 2_000_000_000;

interface Seg {
  id: number;
  name: string;
  parentId: number | null;
}

const create = (org: TestOrg, payload: object) => call(ctx.app, org.adminKey, { method: 'POST', url: base(org.org.id), payload });
const get = (org: TestOrg, id: number | string) => call(ctx.app, org.adminKey, { method: 'GET', url: `${base(org.org.id)}/${id}` });
const put = (org: TestOrg, id: number | string, payload: object) => call(ctx.app, org.adminKey, { method: 'PUT', url: `${base(org.org.id)}/${id}`, payload });
const del = (org: TestOrg, id: number | string) => call(ctx.app, org.adminKey, { method: 'DELETE', url: `${base(org.org.id)}/${id}` });
const list = (org: TestOrg, query = '') => call(ctx.app, org.adminKey, { method: 'GET', url: `${base(org.org.id)}${query}` });
const seg = async (org: TestOrg, name: string, parentId?: number | null): Promise<Seg> => {
  const res = await create(org, parentId === undefined ? { name } : { name, parentId });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.data;
};

describe('segments: happy paths', () => {
  test('create a top-level segment and a child; integer ids', async () => {
    const res = await create(a, { name: 'Sales' });
    assert.equal(res.status, 200);
    const top = res.body.data;
    assert.deepEqual(Object.keys(top).sort(), KEYS);
    assert.ok(Number.isInteger(top.id) && top.id >= 0);
    assert.equal(top.organizationId, a.org.id);
    assert.equal(top.name, 'Sales');
    assert.equal(top.parentId, null);
    assert.match(top.createdAt, ISO_MS);
    assert.equal(top.updatedAt, top.createdAt);
    const child = await seg(a, 'Sales EMEA', top.id);
    assert.equal(child.parentId, top.id);
    const explicitNull = await seg(a, 'Other', null);
    assert.equal(explicitNull.parentId, null);
    assert.deepEqual((await get(a, child.id)).body.data, child);
  });

  test('update the name and the parent; null makes it top-level', async () => {
    const p1 = await seg(a, 'P1');
    const p2 = await seg(a, 'P2');
    const c = await seg(a, 'C', p1.id);
    ctx.clock.advance(4_000);
    const moved = await put(a, c.id, { parentId: p2.id, name: 'C2' });
    assert.equal(moved.status, 200);
    assert.deepEqual(Object.keys(moved.body.data).sort(), KEYS);
    assert.equal(moved.body.data.parentId, p2.id);
    assert.equal(moved.body.data.name, 'C2');
    assert.equal(new Date(moved.body.data.updatedAt).getTime() - new Date(moved.body.data.createdAt).getTime(), 4_000);
    const renamed = await put(a, c.id, { name: 'C3' });
    assert.equal(renamed.body.data.parentId, p2.id, 'the parent is kept when not given');
    const top = await put(a, c.id, { parentId: null });
    assert.equal(top.body.data.parentId, null);
    assert.equal(top.body.data.name, 'C3');
  });

  test('delete is hard: answers the segment, its children become top-level', async () => {
    const parent = await seg(a, 'Parent');
    const kid1 = await seg(a, 'Kid1', parent.id);
    const kid2 = await seg(a, 'Kid2', parent.id);
    const grandkid = await seg(a, 'Grandkid', kid1.id);
    const res = await del(a, parent.id);
    assert.equal(res.status, 200);
    assert.deepEqual(res.body.data, parent);
    assertError(await get(a, parent.id), 404, 3001);
    assertError(await del(a, parent.id), 404, 3001);
    assertError(await put(a, parent.id, { name: 'x' }), 404, 3001);
    assert.equal((await get(a, kid1.id)).body.data.parentId, null);
    assert.equal((await get(a, kid2.id)).body.data.parentId, null);
    assert.equal((await get(a, grandkid.id)).body.data.parentId, kid1.id, 'only direct children move');
    assertError(await create(a, { name: 'Orphan', parentId: parent.id }), 404, 3001);
  });
});

describe('segments: the tree stays a tree', () => {
  test('a segment cannot be its own parent: 400 3000 naming body.parentId', async () => {
    const s = await seg(a, 'Self');
    const res = await put(a, s.id, { parentId: s.id });
    assert.deepEqual(errorPaths(res), ['body.parentId']);
  });

  test('a segment cannot move under its own descendant', async () => {
    const root = await seg(a, 'Root');
    const mid = await seg(a, 'Mid', root.id);
    const leaf = await seg(a, 'Leaf', mid.id);
    assert.deepEqual(errorPaths(await put(a, root.id, { parentId: leaf.id })), ['body.parentId']);
    assert.deepEqual(errorPaths(await put(a, root.id, { parentId: mid.id })), ['body.parentId']);
    assert.equal((await get(a, root.id)).body.data.parentId, null, 'nothing changed');
    assert.equal((await put(a, leaf.id, { parentId: root.id })).status, 200, 'moving down the other way is fine');
  });

  test('two concurrent moves that would close a loop: one wins, the other is 400', async () => {
    const x = await seg(a, 'X');
    const y = await seg(a, 'Y');
    const results = await Promise.all([put(a, x.id, { parentId: y.id }), put(a, y.id, { parentId: x.id })]);
    assert.deepEqual(results.map((r) => r.status).sort(), [200, 400]);
    const [gx, gy] = [(await get(a, x.id)).body.data, (await get(a, y.id)).body.data];
    assert.ok((gx.parentId === y.id) !== (gy.parentId === x.id), 'exactly one of them moved');
  });

  test('an unknown parent, or one of another organization, is 404 3001', async () => {
    const b = await createOrg(ctx);
    const theirs = await seg(b, 'Theirs');
    const mine = await seg(a, 'Mine');
    assertError(await create(a, { name: 'x', parentId: MISSING_ID }), 404, 3001);
    assertError(await create(a, { name: 'x', parentId: theirs.id }), 404, 3001);
    assertError(await put(a, mine.id, { parentId: MISSING_ID }), 404, 3001);
    assertError(await put(a, mine.id, { parentId: theirs.id }), 404, 3001);
    assert.equal((await get(a, mine.id)).body.data.parentId, null);
  });
});

describe('segments: validation', () => {
  test('create lists every failing field', async () => {
    assert.deepEqual(errorPaths(await create(a, { parentId: -1, extra: true })), ['body.extra', 'body.name', 'body.parentId']);
    assert.deepEqual(errorPaths(await create(a, { name: '', parentId: 1.5 })), ['body.name', 'body.parentId']);
    assert.deepEqual(errorPaths(await create(a, { name: 'x', parentId: '1' })), ['body.parentId']);
    assert.deepEqual(errorPaths(await create(a, { name: 'x', parentId: 2_147_483_648 })), ['body.parentId']);
  });

  test('name boundaries: 256 passes, 257 fails', async () => {
    assert.equal((await create(a, { name: 'n'.repeat(256) })).status, 200);
    assert.deepEqual(errorPaths(await create(a, { name: 'n'.repeat(257) })), ['body.name']);
  });

  test('ids are integers from 0; update needs a field', async () => {
    const s = await seg(a, 'V');
    assert.deepEqual(errorPaths(await put(a, s.id, {})), ['body']);
    assert.deepEqual(errorPaths(await put(a, s.id, { name: 'n'.repeat(257), parent: 1 })), ['body.name', 'body.parent']);
    for (const bad of ['abc', '-1', '1.5', '0123456789abcdef01234567', '2147483648']) {
      assert.deepEqual(errorPaths(await get(a, bad)), ['params.id'], bad);
    }
    assertError(await get(a, 0), 404, 3001);
    assertError(await get(a, MISSING_ID), 404, 3001);
    assertError(await put(a, MISSING_ID, { name: 'x' }), 404, 3001);
    assertError(await del(a, MISSING_ID), 404, 3001);
  });
});

describe('segments: isolation', () => {
  test("another organization's segment is 404 3001 by id and stays unchanged", async () => {
    const b = await createOrg(ctx);
    const theirs = await seg(b, 'Theirs');
    const child = await seg(b, 'Child', theirs.id);
    assertError(await get(a, theirs.id), 404, 3001);
    assertError(await put(a, theirs.id, { name: 'Mine' }), 404, 3001);
    assertError(await del(a, theirs.id), 404, 3001);
    assert.deepEqual((await get(b, theirs.id)).body.data, theirs);
    assert.equal((await get(b, child.id)).body.data.parentId, theirs.id);
    assert.ok(!(await list(a, '?limit=500')).body.data.items.some((s: Seg) => s.id === theirs.id));
  });
});

describe('segments: security', () => {
  const one = (org: string) => `${base(org)}/${MISSING_ID}`;
  test('list', () => assertRouteSecurity(ctx, { method: 'GET', path: base, permission: 'base.organization.segment.list' }));
  test('create', () => assertRouteSecurity(ctx, { method: 'POST', path: base, body: { name: 's' }, permission: 'base.organization.segment.create' }));
  test('get', () => assertRouteSecurity(ctx, { method: 'GET', path: one, permission: 'base.organization.segment.get' }));
  test('update', () => assertRouteSecurity(ctx, { method: 'PUT', path: one, body: { name: 's' }, permission: 'base.organization.segment.update' }));
  test('delete', () => assertRouteSecurity(ctx, { method: 'DELETE', path: one, permission: 'base.organization.segment.remove' }));
});

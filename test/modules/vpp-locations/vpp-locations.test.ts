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

const base = (org: string) => `/v1/organizations/${org}/mdm/apple/enterprise/vpp/locations`;
const KEYS = ['config', 'createdAt', 'id', 'name', 'organization', 'updatedAt'];
const MISSING_ID = '0123456789abcdef01234567';
const CONFIG = { countryISO2ACode: 'US', defaultPlatform: 'ios', locationName: 'US Corporate Location' };

const create = (org: TestOrg, payload: object) => call(ctx.app, org.adminKey, { method: 'POST', url: base(org.org.id), payload });
const get = (org: TestOrg, id: string) => call(ctx.app, org.adminKey, { method: 'GET', url: `${base(org.org.id)}/${id}` });
const put = (org: TestOrg, id: string, payload: object) => call(ctx.app, org.adminKey, { method: 'PUT', url: `${base(org.org.id)}/${id}`, payload });
const del = (org: TestOrg, id: string) => call(ctx.app, org.adminKey, { method: 'DELETE', url: `${base(org.org.id)}/${id}` });
const list = (org: TestOrg, query = '') => call(ctx.app, org.adminKey, { method: 'GET', url: `${base(org.org.id)}${query}` });

describe('vpp locations: happy paths', () => {
  test('create answers the seed 001 shape; the country code is stored upper-cased', async () => {
    const res = await create(a, { name: 'US Corporate VPP', config: { ...CONFIG, countryISO2ACode: 'us' } });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const loc = res.body.data;
    assert.deepEqual(Object.keys(loc).sort(), KEYS);
    assert.match(loc.id, /^[a-f0-9]{24}$/);
    assert.equal(loc.organization, a.org.id);
    assert.equal(loc.name, 'US Corporate VPP');
    assert.deepEqual(loc.config, CONFIG);
    assert.match(loc.createdAt, ISO_MS);
    assert.equal(loc.updatedAt, loc.createdAt);
    assert.deepEqual((await get(a, loc.id.toUpperCase())).body.data, loc);
  });

  test('locationName is optional; every platform of the enum is accepted', async () => {
    for (const defaultPlatform of ['ios', 'macos', 'tvos', 'visionos']) {
      const res = await create(a, { name: defaultPlatform, config: { countryISO2ACode: 'ES', defaultPlatform } });
      assert.equal(res.status, 200, defaultPlatform);
      assert.deepEqual(res.body.data.config, { countryISO2ACode: 'ES', defaultPlatform });
    }
  });

  test('update: name and config keys given replace the stored ones, the others stay', async () => {
    const created = (await create(a, { name: 'Before', config: CONFIG })).body.data;
    ctx.clock.advance(3_000);
    const res = await put(a, created.id, { config: { locationName: 'Madrid', countryISO2ACode: 'es' } });
    assert.equal(res.status, 200);
    assert.deepEqual(Object.keys(res.body.data).sort(), KEYS);
    assert.equal(res.body.data.name, 'Before');
    assert.deepEqual(res.body.data.config, { countryISO2ACode: 'ES', defaultPlatform: 'ios', locationName: 'Madrid' });
    assert.equal(new Date(res.body.data.updatedAt).getTime() - new Date(created.updatedAt).getTime(), 3_000);
    const renamed = await put(a, created.id, { name: 'After' });
    assert.equal(renamed.body.data.name, 'After');
    assert.deepEqual(renamed.body.data.config, res.body.data.config);
    assert.deepEqual((await get(a, created.id)).body.data, renamed.body.data);
  });

  test('delete is soft: answers the location, then 404 and gone from the list', async () => {
    const created = (await create(a, { name: 'Doomed', config: CONFIG })).body.data;
    const res = await del(a, created.id);
    assert.equal(res.status, 200);
    assert.deepEqual(res.body.data, created);
    assertError(await get(a, created.id), 404, 3001);
    assertError(await put(a, created.id, { name: 'x' }), 404, 3001);
    assertError(await del(a, created.id), 404, 3001);
    assert.ok(!(await list(a, '?limit=500')).body.data.items.some((l: { id: string }) => l.id === created.id));
  });
});

describe('vpp locations: validation', () => {
  test('create lists every failing field, additional keys rejected at every level', async () => {
    const res = await create(a, { name: '', config: { countryISO2ACode: 'USA', defaultPlatform: 'android', locationName: 'l'.repeat(257), token: 'x' }, extra: 1 });
    assert.deepEqual(errorPaths(res), ['body.config.countryISO2ACode', 'body.config.defaultPlatform', 'body.config.locationName', 'body.config.token', 'body.extra', 'body.name']);
    assert.deepEqual(errorPaths(await create(a, { name: 'x' })), ['body.config']);
    assert.deepEqual(errorPaths(await create(a, { name: 'x', config: {} })), ['body.config.countryISO2ACode', 'body.config.defaultPlatform']);
    assert.deepEqual(errorPaths(await create(a, { name: 'x', config: { ...CONFIG, countryISO2ACode: 'U1' } })), ['body.config.countryISO2ACode']);
  });

  test('boundaries: 256 characters pass, 257 fail', async () => {
    const ok = await create(a, { name: 'n'.repeat(256), config: { ...CONFIG, locationName: 'l'.repeat(256) } });
    assert.equal(ok.status, 200);
    assert.deepEqual(errorPaths(await create(a, { name: 'n'.repeat(257), config: CONFIG })), ['body.name']);
    assert.deepEqual(errorPaths(await create(a, { name: 'x', config: { ...CONFIG, locationName: 'l'.repeat(257) } })), ['body.config.locationName']);
  });

  test('update needs a field (and a config key); bad and unknown ids', async () => {
    const created = (await create(a, { name: 'U', config: CONFIG })).body.data;
    assert.deepEqual(errorPaths(await put(a, created.id, {})), ['body']);
    assert.deepEqual(errorPaths(await put(a, created.id, { config: {} })), ['body.config']);
    assert.deepEqual(errorPaths(await put(a, created.id, { config: { defaultPlatform: 'watch' }, note: 'x' })), ['body.config.defaultPlatform', 'body.note']);
    assert.deepEqual(errorPaths(await get(a, 'g'.repeat(24))), ['params.id']);
    assertError(await get(a, MISSING_ID), 404, 3001);
    assertError(await put(a, MISSING_ID, { name: 'x' }), 404, 3001);
    assertError(await del(a, MISSING_ID), 404, 3001);
  });
});

describe('vpp locations: isolation', () => {
  test("another organization's location is 404 3001 by id and stays unchanged", async () => {
    const b = await createOrg(ctx);
    const theirs = (await create(b, { name: 'Theirs', config: CONFIG })).body.data;
    assertError(await get(a, theirs.id), 404, 3001);
    assertError(await put(a, theirs.id, { name: 'Mine' }), 404, 3001);
    assertError(await del(a, theirs.id), 404, 3001);
    assert.deepEqual((await get(b, theirs.id)).body.data, theirs);
    assert.ok(!(await list(a, '?limit=500')).body.data.items.some((l: { id: string }) => l.id === theirs.id));
  });
});

describe('vpp locations: security', () => {
  const one = (org: string) => `${base(org)}/${MISSING_ID}`;
  test('list', () => assertRouteSecurity(ctx, { method: 'GET', path: base, permission: 'mdm.apple.vppLocation.list' }));
  test('create', () => assertRouteSecurity(ctx, { method: 'POST', path: base, body: { name: 'v', config: CONFIG }, permission: 'mdm.apple.vppLocation.create' }));
  test('get', () => assertRouteSecurity(ctx, { method: 'GET', path: one, permission: 'mdm.apple.vppLocation.get' }));
  test('update', () => assertRouteSecurity(ctx, { method: 'PUT', path: one, body: { name: 'v' }, permission: 'mdm.apple.vppLocation.update' }));
  test('delete', () => assertRouteSecurity(ctx, { method: 'DELETE', path: one, permission: 'mdm.apple.vppLocation.remove' }));
});

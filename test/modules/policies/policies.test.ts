import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createOrg, type TestOrg } from '../../helpers/factories.ts';
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

type P = 'windows' | 'apple';
const base = (platform: P) => (org: string) => `/v1/organizations/${org}/mdm/${platform}/enterprise/policies`;
const WIN_KEYS = [
  'admxConfigs',
  'admxConfigsInfo',
  'agentConfiguration',
  'applications',
  'applicationsInfo',
  'assets',
  'assetsInfo',
  'config',
  'createdAt',
  'id',
  'name',
  'organizationId',
  'scripts',
  'scriptsInfo',
  'settings',
  'updatedAt',
  'version',
  'winEnterpriseId',
];
const ADM_KEYS = ['admEnterprise', 'applications', 'config', 'createdAt', 'id', 'name', 'organization', 'profiles', 'updatedAt', 'version'];
const HEX = 'ABCDEF0123456789ABCDEF01';
const MISSING_ID = '0123456789abcdef01234567';

const create = (org: TestOrg, platform: P, payload: object) => call(ctx.app, org.adminKey, { method: 'POST', url: base(platform)(org.org.id), payload });
const get = (org: TestOrg, platform: P, id: string) => call(ctx.app, org.adminKey, { method: 'GET', url: `${base(platform)(org.org.id)}/${id}` });
const put = (org: TestOrg, platform: P, id: string, payload: object) =>
  call(ctx.app, org.adminKey, { method: 'PUT', url: `${base(platform)(org.org.id)}/${id}`, payload });
const del = (org: TestOrg, platform: P, id: string) => call(ctx.app, org.adminKey, { method: 'DELETE', url: `${base(platform)(org.org.id)}/${id}` });
const list = (org: TestOrg, platform: P, query = '') => call(ctx.app, org.adminKey, { method: 'GET', url: `${base(platform)(org.org.id)}${query}` });
const enterpriseId = async (org: TestOrg, platform: P) =>
  (await call(ctx.app, org.adminKey, { method: 'GET', url: `/v1/organizations/${org.org.id}/mdm/${platform}/enterprise` })).body.data.id as string;

const fullWindows = {
  name: 'Office laptops',
  config: { wifi: { ssid: 'corp' } },
  applications: [{ winApplicationId: HEX, configuration: { silent: true }, action: 'forceInstall' }],
  scripts: [
    {
      type: 'loop',
      id: 'script-1',
      loopTime: 3600,
      resetDate: '2026-04-01T00:00:00.000Z',
      arguments: '-v',
      name: 'Cleanup',
      description: 'Removes temp files',
      runner: 'powershell',
    },
  ],
  admxConfigs: [{ winAdmxConfigId: HEX }],
  agentConfiguration: {
    enabled: true,
    buildTag: 'stable',
    allowLocation: false,
    allowNetworkStatus: true,
    allowPackageTime: true,
    allowPackageTransfer: false,
  },
  assets: [{ mdmAssetId: HEX, location: 'C:\\certs', assetName: 'root.cer', scope: 'all-users' }],
};

describe('policies: happy paths', () => {
  test('windows create answers the winPolicy object of seed 003', async () => {
    const res = await create(a, 'windows', fullWindows);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const p = res.body.data;
    assert.deepEqual(Object.keys(p).sort(), WIN_KEYS);
    assert.match(p.id, /^[a-f0-9]{24}$/);
    assert.equal(p.organizationId, a.org.id);
    assert.equal(p.winEnterpriseId, await enterpriseId(a, 'windows'));
    assert.equal(p.name, 'Office laptops');
    assert.deepEqual(p.config, fullWindows.config);
    const lower = HEX.toLowerCase();
    assert.deepEqual(p.applications, [{ ...fullWindows.applications[0], winApplicationId: lower }]);
    assert.deepEqual(p.scripts, fullWindows.scripts);
    assert.deepEqual(p.admxConfigs, [{ winAdmxConfigId: lower }]);
    assert.deepEqual(p.agentConfiguration, fullWindows.agentConfiguration);
    assert.deepEqual(p.assets, [{ ...fullWindows.assets[0], mdmAssetId: lower }]);
    for (const key of ['applicationsInfo', 'scriptsInfo', 'admxConfigsInfo', 'assetsInfo']) assert.deepEqual(p[key], [], key);
    assert.equal(p.version, 0);
    assert.match(p.createdAt, ISO_MS);
    assert.equal(p.updatedAt, p.createdAt);
    assert.deepEqual((await get(a, 'windows', p.id.toUpperCase())).body.data, p);
  });

  test('windows create with a name only: every list empty, agentConfiguration null', async () => {
    const res = await create(a, 'windows', { name: 'Bare' });
    assert.equal(res.status, 200);
    const p = res.body.data;
    assert.deepEqual(Object.keys(p).sort(), WIN_KEYS);
    assert.deepEqual(p.config, {});
    for (const key of ['applications', 'scripts', 'admxConfigs', 'assets']) assert.deepEqual(p[key], [], key);
    assert.equal(p.agentConfiguration, null);
  });

  test('apple create answers organization / admEnterprise', async () => {
    const body = {
      name: 'iPads',
      config: { passcode: { minLength: 6 } },
      profiles: [{ name: 'Wi-Fi', payload: { ssid: 'corp' } }],
      applications: [{ admApplication: HEX.toLowerCase(), managed: true }],
    };
    const res = await create(a, 'apple', body);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const p = res.body.data;
    assert.deepEqual(Object.keys(p).sort(), ADM_KEYS);
    assert.equal(p.organization, a.org.id);
    assert.equal(p.admEnterprise, await enterpriseId(a, 'apple'));
    assert.deepEqual(p.config, body.config);
    assert.deepEqual(p.profiles, body.profiles);
    assert.deepEqual(p.applications, body.applications);
    assert.equal(p.version, 0);
    const bare = await create(a, 'apple', { name: 'Bare' });
    assert.deepEqual({ config: bare.body.data.config, profiles: bare.body.data.profiles, applications: bare.body.data.applications }, { config: {}, profiles: [], applications: [] });
  });

  test('update replaces only the fields given, and every update bumps the version', async () => {
    const created = (await create(a, 'windows', fullWindows)).body.data;
    ctx.clock.advance(2_000);
    const first = await put(a, 'windows', created.id, { scripts: [], name: 'Renamed' });
    assert.equal(first.status, 200);
    assert.deepEqual(Object.keys(first.body.data).sort(), WIN_KEYS);
    assert.equal(first.body.data.version, 1);
    assert.equal(first.body.data.name, 'Renamed');
    assert.deepEqual(first.body.data.scripts, []);
    assert.deepEqual(first.body.data.applications, created.applications, 'untouched fields keep their value');
    assert.deepEqual(first.body.data.agentConfiguration, created.agentConfiguration);
    assert.equal(first.body.data.createdAt, created.createdAt);
    assert.equal(new Date(first.body.data.updatedAt).getTime() - new Date(created.updatedAt).getTime(), 2_000);
    const second = await put(a, 'windows', created.id, { agentConfiguration: null, config: { replaced: true } });
    assert.equal(second.body.data.version, 2);
    assert.equal(second.body.data.agentConfiguration, null);
    assert.deepEqual(second.body.data.config, { replaced: true });
    assert.equal(second.body.data.name, 'Renamed');
    assert.deepEqual((await get(a, 'windows', created.id)).body.data, second.body.data);

    const apple = (await create(a, 'apple', { name: 'A', profiles: [{ x: 1 }] })).body.data;
    const updated = await put(a, 'apple', apple.id, { applications: [{ y: 2 }] });
    assert.equal(updated.body.data.version, 1);
    assert.deepEqual(updated.body.data.profiles, [{ x: 1 }]);
    assert.deepEqual(updated.body.data.applications, [{ y: 2 }]);
  });

  test('concurrent updates each count as a version', async () => {
    const created = (await create(a, 'apple', { name: 'Busy' })).body.data;
    await Promise.all(Array.from({ length: 5 }, (_, i) => put(a, 'apple', created.id, { config: { i } })));
    assert.equal((await get(a, 'apple', created.id)).body.data.version, 5);
  });

  test('delete is soft: answers the policy, then 404 everywhere and gone from the list', async () => {
    const created = (await create(a, 'windows', { name: 'Doomed' })).body.data;
    const res = await del(a, 'windows', created.id);
    assert.equal(res.status, 200);
    assert.deepEqual(Object.keys(res.body.data).sort(), WIN_KEYS);
    assert.equal(res.body.data.id, created.id);
    assertError(await get(a, 'windows', created.id), 404, 3001);
    assertError(await put(a, 'windows', created.id, { name: 'x' }), 404, 3001);
    assertError(await del(a, 'windows', created.id), 404, 3001);
    const listed = await list(a, 'windows', '?limit=500');
    assert.ok(!listed.body.data.items.some((p: { id: string }) => p.id === created.id));
  });

  test('a policy belongs to its platform: the other platform answers 404 3001', async () => {
    const winPolicy = (await create(a, 'windows', { name: 'W' })).body.data;
    assertError(await get(a, 'apple', winPolicy.id), 404, 3001);
    assertError(await put(a, 'apple', winPolicy.id, { name: 'x' }), 404, 3001);
    assertError(await del(a, 'apple', winPolicy.id), 404, 3001);
    assert.equal((await get(a, 'windows', winPolicy.id)).body.data.name, 'W');
  });
});

describe('policies: plan', () => {
  test("a plan without the platform: create is 400 5050, after validation; the other platform works", async () => {
    const free = await createOrg(ctx, { plan: 'free' });
    assertError(await create(free, 'apple', { name: 'Not allowed' }), 400, 5050);
    assertError(await create(free, 'apple', { name: '' }), 400, 3000);
    assert.equal((await list(free, 'apple')).body.data.totalDocs, 0);
    assert.equal((await create(free, 'windows', { name: 'Allowed' })).status, 200);
  });
});

describe('policies: validation', () => {
  test('windows create lists every failing field', async () => {
    const res = await create(a, 'windows', {
      config: [],
      applications: [{ action: 'uninstall', extra: 1 }],
      scripts: [{ type: 'daily', id: 'i'.repeat(129), loopTime: -1, resetDate: 'soon', name: 'n'.repeat(257), description: 'd'.repeat(501), runner: 'r'.repeat(257) }],
      admxConfigs: [{ winAdmxConfigId: 'nope' }],
      agentConfiguration: { buildTag: 'b'.repeat(129), enabled: 'yes' },
      assets: [{ mdmAssetId: HEX, location: 'l'.repeat(257), assetName: 'a'.repeat(257), scope: 'everyone' }],
      profiles: [],
    });
    assert.deepEqual(errorPaths(res), [
      'body.admxConfigs.0.winAdmxConfigId',
      'body.agentConfiguration',
      'body.agentConfiguration.buildTag',
      'body.agentConfiguration.enabled',
      'body.applications.0.action',
      'body.applications.0.extra',
      'body.applications.0.winApplicationId',
      'body.assets.0.assetName',
      'body.assets.0.location',
      'body.assets.0.scope',
      'body.config',
      'body.name',
      'body.profiles',
      'body.scripts.0.description',
      'body.scripts.0.id',
      'body.scripts.0.loopTime',
      'body.scripts.0.name',
      'body.scripts.0.resetDate',
      'body.scripts.0.runner',
      'body.scripts.0.type',
    ]);
  });

  test('windows boundaries: 256 / 128 / 500 characters pass, one more fails', async () => {
    const ok = await create(a, 'windows', {
      name: 'n'.repeat(256),
      scripts: [{ type: 'once', id: 'i'.repeat(128), name: 'n'.repeat(256), description: 'd'.repeat(500), runner: 'r'.repeat(256), loopTime: 0 }],
      agentConfiguration: { buildTag: 'b'.repeat(128) },
      assets: [{ mdmAssetId: HEX, location: 'l'.repeat(256), assetName: 'a'.repeat(256), scope: 'user' }],
    });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.deepEqual(errorPaths(await create(a, 'windows', { name: 'n'.repeat(257) })), ['body.name']);
    assert.deepEqual(errorPaths(await create(a, 'windows', { name: '' })), ['body.name']);
    assert.deepEqual(errorPaths(await create(a, 'windows', { name: 'x', scripts: [{ type: 'onDemand' }] })), ['body.scripts.0.id']);
  });

  test('apple create: only its own fields, objects where objects are due', async () => {
    const res = await create(a, 'apple', { name: 'n'.repeat(257), config: 'x', profiles: [1], applications: {}, scripts: [] });
    assert.deepEqual(errorPaths(res), ['body.applications', 'body.config', 'body.name', 'body.profiles.0', 'body.scripts']);
    assert.equal((await create(a, 'apple', { name: 'n'.repeat(256) })).status, 200);
  });

  test('update needs a field; bad ids are 400; unknown ids are 404', async () => {
    const created = (await create(a, 'windows', { name: 'U' })).body.data;
    assert.deepEqual(errorPaths(await put(a, 'windows', created.id, {})), ['body']);
    assert.deepEqual(errorPaths(await put(a, 'windows', created.id, { name: '', profiles: [] })), ['body.name', 'body.profiles']);
    assert.deepEqual(errorPaths(await get(a, 'windows', 'xyz')), ['params.id']);
    assertError(await get(a, 'windows', MISSING_ID), 404, 3001);
    assertError(await put(a, 'apple', MISSING_ID, { name: 'x' }), 404, 3001);
    assertError(await del(a, 'apple', MISSING_ID), 404, 3001);
  });
});

describe('policies: listing', () => {
  // Pagination, sort and removal: the list suite (test/lib/listing.test.ts); here the split by platform.
  let org: TestOrg;
  before(async () => {
    org = await createOrg(ctx);
    for (const name of ['charlie', 'alpha', 'bravo']) {
      ctx.clock.advance(1_000);
      await create(org, 'windows', { name });
    }
    await create(org, 'apple', { name: 'apple-only' });
  });
  const names = (res: Json) => res.body.data.items.map((p: { name: string }) => p.name);

  test('each platform lists its own policies, newest first, in its own shape', async () => {
    const res = await list(org, 'windows');
    assert.equal(res.status, 200);
    assert.deepEqual(names(res), ['bravo', 'alpha', 'charlie']);
    for (const item of res.body.data.items) assert.deepEqual(Object.keys(item).sort(), WIN_KEYS);
    const apple = await list(org, 'apple');
    assert.deepEqual(names(apple), ['apple-only']);
    assert.deepEqual(Object.keys(apple.body.data.items[0]).sort(), ADM_KEYS);
  });
});

describe('policies: isolation', () => {
  test("another organization's policy is 404 3001 by id and stays unchanged", async () => {
    const b = await createOrg(ctx);
    for (const platform of ['windows', 'apple'] as const) {
      const theirs = (await create(b, platform, { name: 'Theirs' })).body.data;
      assertError(await get(a, platform, theirs.id), 404, 3001);
      assertError(await put(a, platform, theirs.id, { name: 'Mine' }), 404, 3001);
      assertError(await del(a, platform, theirs.id), 404, 3001);
      assert.deepEqual((await get(b, platform, theirs.id)).body.data, theirs);
      assert.ok(!(await list(a, platform, '?limit=500')).body.data.items.some((p: { id: string }) => p.id === theirs.id));
    }
  });
});

describe('policies: security', () => {
  for (const platform of ['windows', 'apple'] as const) {
    const path = base(platform);
    const one = (org: string) => `${path(org)}/${MISSING_ID}`;
    const perm = (action: string) => `mdm.${platform}.policy.${action}`;
    test(`${platform} list`, () => assertRouteSecurity(ctx, { method: 'GET', path, permission: perm('list') }));
    test(`${platform} create`, () => assertRouteSecurity(ctx, { method: 'POST', path, body: { name: 'p' }, permission: perm('create') }));
    test(`${platform} get`, () => assertRouteSecurity(ctx, { method: 'GET', path: one, permission: perm('get') }));
    test(`${platform} update`, () => assertRouteSecurity(ctx, { method: 'PUT', path: one, body: { name: 'p' }, permission: perm('update') }));
    test(`${platform} delete`, () => assertRouteSecurity(ctx, { method: 'DELETE', path: one, permission: perm('remove') }));
  }
});

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createOrg, type TestOrg } from '../../helpers/factories.ts';
import { ISO_MS } from '../../helpers/assertions.ts';
import { assertRouteSecurity } from '../../helpers/security.ts';
import { buildTestApp, call, type TestContext } from '../../helpers/test-app.ts';

let ctx: TestContext;
let a: TestOrg;
before(async () => {
  ctx = await buildTestApp();
  a = await createOrg(ctx);
});
after(() => ctx.close());

const path = (platform: 'windows' | 'apple') => (org: string) => `/v1/organizations/${org}/mdm/${platform}/enterprise`;

describe('enterprises', () => {
  test('windows: the organization enterprise, named the Windows way', async () => {
    const res = await call(ctx.app, a.adminKey, { method: 'GET', url: path('windows')(a.org.id) });
    assert.equal(res.status, 200);
    assert.equal(res.body.status, true);
    const e = res.body.data;
    assert.deepEqual(Object.keys(e).sort(), ['config', 'createdAt', 'id', 'name', 'organizationId', 'updatedAt']);
    assert.match(e.id, /^[a-f0-9]{24}$/);
    assert.equal(e.organizationId, a.org.id);
    assert.equal(typeof e.name, 'string');
    assert.deepEqual(e.config, {});
    assert.match(e.createdAt, ISO_MS);
    assert.match(e.updatedAt, ISO_MS);
  });

  test('apple: organization, plus the enroll settings', async () => {
    const res = await call(ctx.app, a.adminKey, { method: 'GET', url: `${path('apple')(a.org.slug)}/` });
    assert.equal(res.status, 200);
    const e = res.body.data;
    assert.deepEqual(Object.keys(e).sort(), ['config', 'createdAt', 'enroll', 'id', 'name', 'organization', 'updatedAt']);
    assert.equal(e.organization, a.org.id);
    assert.deepEqual(Object.keys(e.enroll).sort(), ['mobileConfigSigned', 'serverExpirationDate']);
    assert.match(e.enroll.serverExpirationDate, ISO_MS);
    assert.ok(new Date(e.enroll.serverExpirationDate) > new Date(e.createdAt), 'the enrollment settings outlive their creation');
    assert.equal(typeof e.enroll.mobileConfigSigned, 'boolean');
  });

  test('each platform has its own enterprise, and each organization its own', async () => {
    const b = await createOrg(ctx);
    const ids = new Set<string>();
    for (const org of [a, b]) {
      for (const platform of ['windows', 'apple'] as const) {
        ids.add((await call(ctx.app, org.adminKey, { method: 'GET', url: path(platform)(org.org.id) })).body.data.id);
      }
    }
    assert.equal(ids.size, 4);
  });
});

describe('enterprises: security', () => {
  test('windows', () => assertRouteSecurity(ctx, { method: 'GET', path: path('windows'), permission: 'mdm.windows.enterprise.get' }));
  test('apple', () => assertRouteSecurity(ctx, { method: 'GET', path: path('apple'), permission: 'mdm.apple.enterprise.get' }));
});

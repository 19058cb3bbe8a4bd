import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createKey, createOrg, type TestOrg } from '../helpers/factories.ts';
import { assertRouteSecurity } from '../helpers/security.ts';
import { buildTestApp, call, type TestContext } from '../helpers/test-app.ts';
import { enrollWindowsDevice, insertWindowsDevice } from '../helpers/windows-device.ts';

let ctx: TestContext;
let tenant: TestOrg;
const base = (org: string) => `/v1/organizations/${org}/mdm/windows/devices`;

before(async () => {
  ctx = await buildTestApp();
  tenant = await createOrg(ctx);
});
after(() => ctx.close());

describe('Windows devices API', () => {
  test('lists newest first with the contract pagination; gets one; unknown ids are 404 3001', async () => {
    const first = await insertWindowsDevice(ctx, tenant.org);
    ctx.clock.advance(1000);
    const second = await insertWindowsDevice(ctx, tenant.org);
    const list = await call(ctx.app, tenant.adminKey, { method: 'GET', url: `${base(tenant.org.slug)}?limit=1` });
    assert.equal(list.status, 200, JSON.stringify(list.body));
    assert.deepEqual(list.body.data.items.map((d: { id: string }) => d.id), [second.id]);
    assert.equal(list.body.data.totalDocs, 2);
    assert.equal(list.body.data.hasNextPage, true);
    const sorted = await call(ctx.app, tenant.adminKey, { method: 'GET', url: `${base(tenant.org.id)}?sort=createdAt:asc` });
    assert.deepEqual(sorted.body.data.items.map((d: { id: string }) => d.id), [first.id, second.id]);

    const one = await call(ctx.app, tenant.adminKey, { method: 'GET', url: `${base(tenant.org.id)}/${first.id.toUpperCase()}` });
    assert.equal(one.status, 200);
    assert.equal(one.body.data.deviceId, first.deviceIdentifier);
    assert.equal(one.body.data.state, 'enrolled');
    assert.deepEqual(Object.keys(one.body.data.certificate).sort(), ['serialNumber', 'thumbprint']);
    assert.equal('enrollCodeHash' in one.body.data, false, 'no credential material');

    const missing = await call(ctx.app, tenant.adminKey, { method: 'GET', url: `${base(tenant.org.id)}/${'a'.repeat(24)}` });
    assert.equal(missing.status, 404);
    assert.equal(missing.body.error.code, 3001);
    const badSort = await call(ctx.app, tenant.adminKey, { method: 'GET', url: `${base(tenant.org.id)}?sort=enrollCodeHash` });
    assert.equal(badSort.body.error.code, 3000);
  });

  test('viewers and developers may read devices', async () => {
    for (const role of ['viewer', 'developer'] as const) {
      const key = await createKey(ctx, tenant.org, { role });
      assert.equal((await call(ctx.app, key, { method: 'GET', url: base(tenant.org.id) })).status, 200, role);
    }
  });

  test('list: security', () => assertRouteSecurity(ctx, { method: 'GET', path: base, permission: 'mdm.windows.device.list' }));
  test('get: security', async () => {
    const org = await createOrg(ctx);
    const device = await insertWindowsDevice(ctx, org.org);
    // The helper makes its own tenant A; the device id names nothing there, so a lawful key gets 404.
    await assertRouteSecurity(ctx, { method: 'GET', path: (o) => `${base(o)}/${device.id}`, permission: 'mdm.windows.device.get' });
  });

  test('retire: the device becomes unenrolled and its certificates revoked; again changes nothing; developers may, viewers may not', async () => {
    const enrolled = await enrollWindowsDevice(ctx, tenant, 'E0000000-0000-4000-8000-00000000000e');
    const [row] = (await call(ctx.app, tenant.adminKey, { method: 'GET', url: `${base(tenant.org.id)}?limit=100` })).body.data.items.filter((d: { deviceId: string }) => d.deviceId === enrolled.deviceId);
    const viewer = await createKey(ctx, tenant.org, { role: 'viewer' });
    const refused = await call(ctx.app, viewer, { method: 'DELETE', url: `${base(tenant.org.id)}/${row.id}` });
    assert.equal(refused.status, 403);
    assert.equal(refused.body.error.code, 4003);

    ctx.clock.advance(5000);
    const developer = await createKey(ctx, tenant.org, { role: 'developer' });
    const retired = await call(ctx.app, developer, { method: 'DELETE', url: `${base(tenant.org.id)}/${row.id.toUpperCase()}` });
    assert.equal(retired.status, 200, JSON.stringify(retired.body));
    assert.equal(retired.body.data.state, 'unenrolled');
    assert.equal(retired.body.data.unenrolledAt, ctx.clock.now().toISOString());
    const issued = await ctx.container.certificateAuthority.findIssuedCertificate(tenant.org.id, { thumbprint: row.certificate.thumbprint });
    assert.equal(issued?.revokedAt?.toISOString(), ctx.clock.now().toISOString());

    ctx.clock.advance(5000);
    const again = await call(ctx.app, tenant.adminKey, { method: 'DELETE', url: `${base(tenant.org.id)}/${row.id}` });
    assert.equal(again.status, 200);
    assert.deepEqual(again.body.data, retired.body.data, 'retiring twice changes nothing');
    const read = await call(ctx.app, tenant.adminKey, { method: 'GET', url: `${base(tenant.org.id)}/${row.id}` });
    assert.deepEqual(read.body.data, retired.body.data);
  });

  test('retire: another organization’s device is 404 3001 and stays enrolled', async () => {
    const other = await createOrg(ctx);
    const device = await insertWindowsDevice(ctx, other.org);
    const res = await call(ctx.app, tenant.adminKey, { method: 'DELETE', url: `${base(tenant.org.id)}/${device.id}` });
    assert.equal(res.status, 404);
    assert.equal(res.body.error.code, 3001);
    const missing = await call(ctx.app, tenant.adminKey, { method: 'DELETE', url: `${base(tenant.org.id)}/${'b'.repeat(24)}` });
    assert.equal(missing.body.error.code, 3001);
    assert.equal((await call(ctx.app, other.adminKey, { method: 'GET', url: `${base(other.org.id)}/${device.id}` })).body.data.state, 'enrolled');
  });

  test('retire: security', async () => {
    const org = await createOrg(ctx);
    const device = await insertWindowsDevice(ctx, org.org);
    await assertRouteSecurity(ctx, { method: 'DELETE', path: (o) => `${base(o)}/${device.id}`, permission: 'mdm.windows.device.remove' });
  });
});

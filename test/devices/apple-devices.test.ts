import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createAppleDevice } from '../helpers/apple-factories.ts';
import { createKey, createOrg, type TestOrg } from '../helpers/factories.ts';
import { assertRouteSecurity } from '../helpers/security.ts';
import { buildTestApp, call, type TestContext } from '../helpers/test-app.ts';

let ctx: TestContext;
let a: TestOrg;
before(async () => {
  ctx = await buildTestApp();
  a = await createOrg(ctx);
});
after(() => ctx.close());

describe('GET the Apple devices', () => {
  test('list and get, scoped to the organization, with no push secrets', async () => {
    const device = await createAppleDevice(ctx, a.org);
    const list = await call(ctx.app, a.adminKey, { method: 'GET', url: `/v1/organizations/${a.org.id}/mdm/apple/devices?sort=lastSeenAt:desc` });
    assert.equal(list.status, 200);
    assert.equal(list.body.data.totalDocs, 1);
    const got = await call(ctx.app, a.adminKey, { method: 'GET', url: `/v1/organizations/${a.org.id}/mdm/apple/devices/${device.id.toUpperCase()}` });
    assert.equal(got.status, 200);
    assert.equal(got.body.data.udid, device.udid);
    assert.equal(got.body.data.pushTokenSet, true);
    assert.doesNotMatch(JSON.stringify(got.body), /pushMagic|unlockToken|"pushToken"/);
    const bad = await call(ctx.app, a.adminKey, { method: 'GET', url: `/v1/organizations/${a.org.id}/mdm/apple/devices?sort=udid` });
    assert.equal(bad.status, 400);
    const b = await createOrg(ctx);
    const foreign = await call(ctx.app, b.adminKey, { method: 'GET', url: `/v1/organizations/${b.org.id}/mdm/apple/devices/${device.id}` });
    assert.equal(foreign.status, 404);
    assert.equal(foreign.body.error.code, 3001);
  });

  test('security: mdm.apple.device.list and .get', async () => {
    const device = await createAppleDevice(ctx, a.org);
    await assertRouteSecurity(ctx, { method: 'GET', path: (org) => `/v1/organizations/${org}/mdm/apple/devices`, permission: 'mdm.apple.device.list' });
    await assertRouteSecurity(ctx, { method: 'GET', path: (org) => `/v1/organizations/${org}/mdm/apple/devices/${device.id}`, permission: 'mdm.apple.device.get' });
  });
});

describe('DELETE an Apple device (retire)', () => {
  test('unenrolled, repeatable, scoped to the organization; admin and developer, not viewer', async () => {
    const device = await createAppleDevice(ctx, a.org);
    const b = await createOrg(ctx);
    const foreign = await call(ctx.app, b.adminKey, { method: 'DELETE', url: `/v1/organizations/${b.org.id}/mdm/apple/devices/${device.id}` });
    assert.equal(foreign.status, 404, "another organization's device");
    assert.equal(foreign.body.error.code, 3001);
    const missing = await call(ctx.app, a.adminKey, { method: 'DELETE', url: `/v1/organizations/${a.org.id}/mdm/apple/devices/${'0'.repeat(24)}` });
    assert.equal(missing.status, 404);
    const viewer = await createKey(ctx, a.org, { role: 'viewer' });
    const denied = await call(ctx.app, viewer, { method: 'DELETE', url: `/v1/organizations/${a.org.id}/mdm/apple/devices/${device.id}` });
    assert.equal(denied.status, 403);
    assert.equal(denied.body.error.code, 4003);
    assert.equal((await call(ctx.app, a.adminKey, { method: 'GET', url: `/v1/organizations/${a.org.id}/mdm/apple/devices/${device.id}` })).body.data.state, 'ENROLLED', 'refusals change nothing');

    const developer = await createKey(ctx, a.org, { role: 'developer' });
    const retired = await call(ctx.app, developer, { method: 'DELETE', url: `/v1/organizations/${a.org.id}/mdm/apple/devices/${device.id.toUpperCase()}` });
    assert.equal(retired.status, 200, JSON.stringify(retired.body));
    assert.equal(retired.body.data.state, 'UNENROLLED');
    assert.equal(retired.body.data.unenrolledAt, ctx.clock.now().toISOString());
    const again = await call(ctx.app, a.adminKey, { method: 'DELETE', url: `/v1/organizations/${a.org.id}/mdm/apple/devices/${device.id}` });
    assert.deepEqual(again.body.data, retired.body.data);
  });

  test('security: mdm.apple.device.remove', async () => {
    const device = await createAppleDevice(ctx, a.org);
    await assertRouteSecurity(ctx, { method: 'DELETE', path: (org) => `/v1/organizations/${org}/mdm/apple/devices/${device.id}`, permission: 'mdm.apple.device.remove' });
  });
});

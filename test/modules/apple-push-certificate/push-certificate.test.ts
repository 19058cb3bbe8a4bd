import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { applePushCertificates } from '../../../src/db/schema.ts';
import { decryptSecret } from '../../../src/pki/secret-key.ts';
import { pushKeyAad } from '../../../src/modules/apple-push-certificate/push-certificate.service.ts';
import { createDbProbe } from '../../helpers/db-probe.ts';
import { createKey, createOrg, type TestOrg } from '../../helpers/factories.ts';
import { assertRouteSecurity } from '../../helpers/security.ts';
import { buildTestApp, call, type TestContext } from '../../helpers/test-app.ts';
import { makePushCertificate } from '../../protocols/apple/apple-device.ts';

let ctx: TestContext;
let a: TestOrg;
let push: Awaited<ReturnType<typeof makePushCertificate>>;
before(async () => {
  ctx = await buildTestApp();
  a = await createOrg(ctx);
  push = await makePushCertificate();
});
after(() => ctx.close());

const path = (org: string) => `/v1/organizations/${org}/mdm/apple/enterprise/push-certificate`;
const put = (payload: object, org = a.org.id) => call(ctx.app, a.adminKey, { method: 'PUT', url: path(org), payload });

function assertFieldError(res: Awaited<ReturnType<typeof put>>, field: string, pattern: RegExp) {
  assert.equal(res.status, 400, JSON.stringify(res.body));
  assert.equal(res.body.error.code, 3000);
  const error = res.body.error.data.errors.find((e: { path: string }) => e.path === field);
  assert.ok(error, JSON.stringify(res.body));
  assert.match(error.message, pattern);
}

describe('PUT and GET the Apple push certificate', () => {
  test('stores it with its key encrypted, answers topic and expiry, never the key', async () => {
    const res = await put({ certificate: push.certificate, privateKey: push.privateKey });
    assert.equal(res.status, 200);
    assert.deepEqual(Object.keys(res.body.data).sort(), ['expiresAt', 'serialNumber', 'topic', 'uploadedAt']);
    assert.equal(res.body.data.topic, push.topic);
    const [row] = await ctx.container.database.db.select().from(applePushCertificates);
    assert.ok(row);
    assert.ok(!row.privateKeyEncrypted.toString('latin1').includes('PRIVATE KEY'), 'the key is not stored in clear');
    const der = decryptSecret(ctx.config.secretKey!, row.privateKeyEncrypted, pushKeyAad(a.org.id));
    assert.ok(der.length > 1000, 'it decrypts to the PKCS#8 key');
    const got = await call(ctx.app, a.adminKey, { method: 'GET', url: path(a.org.slug) });
    assert.deepEqual(got.body.data, res.body.data);
  });

  test('a renewed certificate replaces the old one', async () => {
    const renewed = await makePushCertificate({ uid: push.topic, notAfter: new Date('2028-01-01T00:00:00Z') });
    const res = await put({ certificate: renewed.certificate, privateKey: renewed.privateKey });
    assert.equal(res.body.data.expiresAt, '2028-01-01T00:00:00.000Z');
    assert.equal(await ctx.container.database.db.$count(applePushCertificates), 1);
  });

  test('each problem is a 400 naming it, and nothing is stored', async () => {
    const b = await createOrg(ctx);
    const other = await makePushCertificate();
    const noMgmt = await makePushCertificate({ uid: 'com.example.not-mdm' });
    const expired = await makePushCertificate({ notAfter: new Date('2026-02-01T00:00:00Z') });
    const probe = await createDbProbe(ctx.container.database);
    const before = await probe.counts();
    const send = (payload: object) => call(ctx.app, b.adminKey, { method: 'PUT', url: path(b.org.id), payload });
    assertFieldError(await send({ certificate: push.certificate, privateKey: other.privateKey }), 'body.privateKey', /does not match the certificate/);
    assertFieldError(await send({ certificate: noMgmt.certificate, privateKey: noMgmt.privateKey }), 'body.certificate', /com\.apple\.mgmt\./);
    assertFieldError(await send({ certificate: expired.certificate, privateKey: expired.privateKey }), 'body.certificate', /expired/);
    assertFieldError(await send({ certificate: 'hello', privateKey: push.privateKey }), 'body.certificate', /PEM certificate/);
    assertFieldError(await send({ certificate: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----', privateKey: push.privateKey }), 'body.certificate', /not a valid X\.509/);
    assertFieldError(await send({ certificate: push.certificate, privateKey: 'nope' }), 'body.privateKey', /PEM private key/);
    assertFieldError(await send({ certificate: push.certificate, privateKey: '-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----' }), 'body.privateKey', /encrypted/);
    assertFieldError(await send({ certificate: push.certificate }), 'body.privateKey', /required/);
    assertFieldError(await send({ certificate: push.certificate, privateKey: push.privateKey, extra: 1 }), 'body.extra', /not allowed/);
    assert.deepEqual(await probe.counts(), before);
    const none = await call(ctx.app, b.adminKey, { method: 'GET', url: path(b.org.id) });
    assert.equal(none.body.data.topic, null);
  });

  test('security: GET needs mdm.apple.enterprise.get, PUT needs .update; viewers cannot upload', async () => {
    await assertRouteSecurity(ctx, { method: 'GET', path, permission: 'mdm.apple.enterprise.get' });
    await assertRouteSecurity(ctx, { method: 'PUT', path, body: { certificate: push.certificate, privateKey: push.privateKey }, permission: 'mdm.apple.enterprise.update' });
    const viewer = await createKey(ctx, a.org, { role: 'viewer' });
    assert.equal((await call(ctx.app, viewer, { method: 'GET', url: path(a.org.id) })).status, 200);
    const denied = await call(ctx.app, viewer, { method: 'PUT', url: path(a.org.id), payload: { certificate: push.certificate, privateKey: push.privateKey } });
    assert.equal(denied.status, 403);
    assert.equal(denied.body.error.code, 4003);
  });
});

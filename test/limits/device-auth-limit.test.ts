import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { buildApp, DEVICE_AUTH_FAILURES } from '../../src/app.ts';
import { createContainer } from '../../src/container.ts';
import { createOrg, type TestOrg } from '../helpers/factories.ts';
import { buildTestApp, type TestContext } from '../helpers/test-app.ts';
import { TEST_DB_KIND } from '../helpers/test-db.ts';
import { BEHIND_PROXY, enrollWindowsDevice, faultSubcode, syncmlBody, type EnrolledWindowsDevice } from '../helpers/windows-device.ts';

/**
 * Failed device authentications are limited per client address on both platforms' device
 * routes, in one count; accepted sessions never count. The addresses are the proxy's forwarded
 * client (X-Forwarded-For from TRUST_PROXY), as in production behind nginx.
 */
let ctx: TestContext;
let tenant: TestOrg;
let device: EnrolledWindowsDevice;
const { max } = DEVICE_AUTH_FAILURES;

before(async () => {
  ctx = await buildTestApp(BEHIND_PROXY);
  tenant = await createOrg(ctx);
  device = await enrollWindowsDevice(ctx, tenant, 'F0000000-0000-4000-8000-00000000000f');
});
after(() => ctx.close());

/** A session through the proxy on 127.0.0.1 for the client at `client`. */
const windows = (client: string, pem?: string, app = ctx.app) =>
  app.inject({
    method: 'POST',
    url: `/ManagementServer/MDM.svc/${tenant.org.id}`,
    payload: syncmlBody('syncml-first-session.xml', device.deviceId),
    headers: { 'content-type': 'application/vnd.syncml.dm+xml', 'x-forwarded-for': client, ...(pem ? { 'x-ssl-client-cert': encodeURIComponent(pem) } : {}) },
  });
const appleCheckIn = (client: string) =>
  ctx.app.inject({
    method: 'PUT',
    url: `/mdm/apple/${tenant.org.id}/checkin`,
    payload: Buffer.from('<?xml version="1.0"?><plist version="1.0"><dict><key>MessageType</key><string>Authenticate</string></dict></plist>'),
    headers: { 'content-type': 'application/x-apple-aspen-mdm-checkin', 'x-forwarded-for': client },
  });

test('an office of PCs behind one address: accepted sessions are never limited', async () => {
  for (let i = 0; i < max + 10; i++) {
    const res = await windows('192.0.2.10', device.pem);
    assert.equal(res.statusCode, 200, `session ${i}`);
  }
});

test('Windows: past the limit of refused sessions an address gets 429 with Retry-After, even with the right certificate', async () => {
  for (let i = 0; i < max; i++) {
    const res = await windows('192.0.2.20');
    assert.equal(res.statusCode, 401, `failure ${i}`);
  }
  const blocked = await windows('192.0.2.20', device.pem);
  assert.equal(blocked.statusCode, 429);
  assert.ok(Number(blocked.headers['retry-after']) > 0);
  assert.equal(faultSubcode(blocked.body), 's:Authentication');
  assert.equal((await windows('192.0.2.21', device.pem)).statusCode, 200, 'another address is not limited');
});

test('Apple: unsigned check-ins count the same way; and one count serves both platforms', async () => {
  for (let i = 0; i < max; i++) {
    const res = await appleCheckIn('192.0.2.30');
    assert.equal(res.statusCode, 401, `failure ${i}`);
    assert.equal(res.json().error.code, 4004);
  }
  const blocked = await appleCheckIn('192.0.2.30');
  assert.equal(blocked.statusCode, 429);
  assert.equal(blocked.json().error.code, 4029);
  assert.ok(Number(blocked.headers['retry-after']) > 0);
  assert.equal((await windows('192.0.2.30', device.pem)).statusCode, 429, 'the Windows route shares the count');
  // Windows failures likewise block Apple check-ins from 192.0.2.20.
  assert.equal((await appleCheckIn('192.0.2.20')).statusCode, 429);
});

test('on PostgreSQL, an address blocked by one server process is blocked by another', { skip: TEST_DB_KIND === 'postgres' ? false : 'PGlite is opened by one process only' }, async () => {
  const second = await buildApp({ container: createContainer({ config: ctx.config, database: ctx.db.database, clock: ctx.clock }) });
  try {
    for (let i = 0; i < max; i++) await windows('192.0.2.40');
    assert.equal((await windows('192.0.2.40', device.pem, second)).statusCode, 429);
  } finally {
    await second.close();
  }
});

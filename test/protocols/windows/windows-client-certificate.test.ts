import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { buildApp } from '../../../src/app.ts';
import { ConfigError, deviceSessionNotice, loadConfig } from '../../../src/config.ts';
import { createContainer } from '../../../src/container.ts';
import { createMdmUser, createOrg, type TestOrg } from '../../helpers/factories.ts';
import { buildTestApp, call, type TestContext } from '../../helpers/test-app.ts';
import { createToken, tokensPath } from '../../helpers/tokens.ts';
import {
  all,
  BEHIND_PROXY,
  CERT_HEADER,
  enrollWindowsDevice,
  faultSubcode,
  makeCsr,
  managementSession,
  parse,
  requestSecurityTokenBody,
  syncmlBody,
  type EnrolledWindowsDevice,
} from '../../helpers/windows-device.ts';

/**
 * Windows management sessions behind a TLS-terminating proxy on 127.0.0.1 that forwards the
 * client certificate (MDM_CLIENT_CERT_HEADER, TRUST_PROXY): a session is the device its
 * certificate was issued to, and nothing the message or an untrusted client says changes that.
 */
let ctx: TestContext;
let tenant: TestOrg;
let other: TestOrg;
let device: EnrolledWindowsDevice;
let neighbour: EnrolledWindowsDevice;
let foreign: EnrolledWindowsDevice;

const devicesPath = (org: TestOrg) => `/v1/organizations/${org.org.id}/mdm/windows/devices`;
const deviceRow = async (org: TestOrg, deviceId: string) => {
  const list = await call(ctx.app, org.adminKey, { method: 'GET', url: `${devicesPath(org)}?limit=100` });
  return list.body.data.items.filter((d: { deviceId: string }) => d.deviceId === deviceId);
};

before(async () => {
  ctx = await buildTestApp(BEHIND_PROXY);
  tenant = await createOrg(ctx);
  other = await createOrg(ctx);
  device = await enrollWindowsDevice(ctx, tenant, 'A1000000-0000-4000-8000-000000000001');
  neighbour = await enrollWindowsDevice(ctx, tenant, 'A2000000-0000-4000-8000-000000000002');
  foreign = await enrollWindowsDevice(ctx, other, 'A1000000-0000-4000-8000-000000000001');
});
after(() => ctx.close());

const session = (headers: Record<string, string>, remoteAddress = '127.0.0.1', deviceId = device.deviceId) =>
  ctx.app.inject({ method: 'POST', url: `/ManagementServer/MDM.svc/${tenant.org.id}`, payload: syncmlBody('syncml-first-session.xml', deviceId), headers: { 'content-type': 'application/vnd.syncml.dm+xml', ...headers }, remoteAddress });

describe('management behind a TLS proxy', () => {
  test('the device’s own certificate, in the forms proxies forward it, opens the session', async () => {
    const der = new X509Certificate(device.pem).raw.toString('base64');
    for (const value of [encodeURIComponent(device.pem), device.pem.replace(/\n/g, ' '), der]) {
      const res = await session({ [CERT_HEADER]: value });
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(all(parse(res.body), 'Final').length, 1);
    }
  });

  test('no certificate, garbage, another device’s, another organization’s: 401 InvalidSecurity, nothing recorded', async () => {
    const cases: Array<[string, Record<string, string>]> = [
      ['none', {}],
      ['empty, as nginx sends it without one', { [CERT_HEADER]: '' }],
      ['not a certificate', { [CERT_HEADER]: 'not a certificate' }],
      ['another device’s', { [CERT_HEADER]: encodeURIComponent(neighbour.pem) }],
      ['another organization’s (same DeviceID there)', { [CERT_HEADER]: encodeURIComponent(foreign.pem) }],
    ];
    for (const [label, headers] of cases) {
      const res = await session(headers);
      assert.equal(res.statusCode, 401, label);
      assert.equal(faultSubcode(res.body), 's:InvalidSecurity', label);
    }
    const [row] = await deviceRow(other, foreign.deviceId);
    assert.equal(row.lastSeenAt, null, 'the other organization’s device was not touched');
  });

  test('the header from an address that is not TRUST_PROXY is ignored: no certificate', async () => {
    const res = await session({ [CERT_HEADER]: encodeURIComponent(device.pem) }, '203.0.113.7');
    assert.equal(res.statusCode, 401);
    assert.equal(faultSubcode(res.body), 's:InvalidSecurity');
    assert.match(res.body, /no client certificate/);
  });

  test('the SyncML Source must be the certificate’s device: its own certificate naming the neighbour is refused', async () => {
    const before = (await deviceRow(tenant, neighbour.deviceId))[0];
    const res = await session({ [CERT_HEADER]: encodeURIComponent(device.pem) }, '127.0.0.1', neighbour.deviceId);
    assert.equal(res.statusCode, 401);
    assert.equal(faultSubcode(res.body), 's:InvalidSecurity');
    assert.deepEqual((await deviceRow(tenant, neighbour.deviceId))[0], before);
  });

  test('another user’s token enrolling under the enrolled DeviceID is refused; the real device’s next session is 200', async () => {
    const mallory = await createMdmUser(ctx, tenant.org);
    const token = await createToken(ctx, tenant.adminKey, tenant.org.id, 'windows', { mdmUserId: mallory.id, sendEmail: false });
    const res = await ctx.app.inject({
      method: 'POST',
      url: '/EnrollmentServer/Enrollment.svc',
      headers: { 'content-type': 'application/soap+xml; charset=utf-8' },
      payload: requestSecurityTokenBody({ email: mallory.email, code: token.body.data.enrollCode, csr: await makeCsr(), deviceId: device.deviceId, hwDevId: 'C'.repeat(64) }),
    });
    assert.equal(faultSubcode(res.body), 's:Authorization', res.body);
    assert.match(res.body, /already enrolled/);
    const after = await call(ctx.app, tenant.adminKey, { method: 'GET', url: `${tokensPath(tenant.org.id, 'windows')}/${token.body.data.id}` });
    assert.equal(after.body.data.state, 'PENDING', 'the refused enrollment used nothing up');
    assert.equal((await deviceRow(tenant, device.deviceId)).length, 1, 'one row for the DeviceID');
    const next = await managementSession(ctx, tenant.org.id, { deviceId: device.deviceId, pem: device.pem });
    assert.equal(next.statusCode, 200, next.body);
  });

  test('two new PCs enrolling one DeviceID at once: one is enrolled, the other refused, one row', async () => {
    const deviceId = 'C0000000-0000-4000-8000-00000000000c';
    const attempts = await Promise.all(
      [0, 1].map(async (i) => {
        const user = await createMdmUser(ctx, tenant.org);
        const token = await createToken(ctx, tenant.adminKey, tenant.org.id, 'windows', { mdmUserId: user.id, sendEmail: false });
        const payload = requestSecurityTokenBody({ email: user.email, code: token.body.data.enrollCode, csr: await makeCsr(), deviceId, hwDevId: String(i).repeat(64) });
        return ctx.app.inject({ method: 'POST', url: '/EnrollmentServer/Enrollment.svc', headers: { 'content-type': 'application/soap+xml; charset=utf-8' }, payload });
      }),
    );
    assert.deepEqual(attempts.map((res) => faultSubcode(res.body) ?? 'enrolled').sort(), ['enrolled', 's:Authorization']);
    assert.equal((await deviceRow(tenant, deviceId)).length, 1);
  });

  test('DevInfo keeps only the nodes Openroll uses, bounded: 1,500 made-up nodes a session, 8 sessions', async () => {
    const items = Array.from({ length: 1500 }, (_, i) => `<Item><Source><LocURI>./DevInfo/Made${i}Up</LocURI></Source><Data>${'x'.repeat(100)}</Data></Item>`).join('');
    const kept = `<Item><Source><LocURI>./DevInfo/Mod</LocURI></Source><Data>${'M'.repeat(5000)}</Data></Item><Item><Source><LocURI>./DevDetail/SwV</LocURI></Source><Data>10.0</Data></Item>`;
    const body = syncmlBody('syncml-first-session.xml', device.deviceId).replace('</SyncBody>', `<Replace><CmdID>9</CmdID>${items}${kept}</Replace></SyncBody>`);
    for (let i = 0; i < 8; i++) {
      const res = await managementSession(ctx, tenant.org.id, { deviceId: device.deviceId, pem: device.pem, body: body.replace('<SessionID>1</SessionID>', `<SessionID>${i + 2}</SessionID>`) });
      assert.equal(res.statusCode, 200, res.body.slice(0, 500));
    }
    const [row] = await deviceRow(tenant, device.deviceId);
    assert.deepEqual(Object.keys(row.devInfo).sort(), ['DevId', 'DmV', 'Lang', 'Man', 'Mod']);
    assert.equal(row.devInfo.Mod.length, 256);
    assert.ok(JSON.stringify(row.devInfo).length < 2048, JSON.stringify(row.devInfo).length.toString());
    const list = await call(ctx.app, tenant.adminKey, { method: 'GET', url: devicesPath(tenant) });
    assert.ok(JSON.stringify(list.body).length < 16_384, 'the device list stays small');
  });

  test('a retired device’s certificate opens no session; its DeviceID enrolls again, with a new certificate', async () => {
    const [row] = await deviceRow(tenant, neighbour.deviceId);
    const retired = await call(ctx.app, tenant.adminKey, { method: 'DELETE', url: `${devicesPath(tenant)}/${row.id}` });
    assert.equal(retired.status, 200, JSON.stringify(retired.body));
    const refused = await managementSession(ctx, tenant.org.id, { deviceId: neighbour.deviceId, pem: neighbour.pem });
    assert.equal(refused.statusCode, 403);
    assert.equal(faultSubcode(refused.body), 's:Authorization');
    const again = await enrollWindowsDevice(ctx, tenant, neighbour.deviceId);
    assert.equal((await managementSession(ctx, tenant.org.id, { deviceId: neighbour.deviceId, pem: again.pem })).statusCode, 200);
    assert.equal((await managementSession(ctx, tenant.org.id, { deviceId: neighbour.deviceId, pem: neighbour.pem })).statusCode, 403, 'the old certificate stays refused');
  });
});

describe('without a verified path', () => {
  /** A second app on the same database, configured as the test names (the rows are shared). */
  const appWith = (overrides: Partial<TestContext['config']>) =>
    buildApp({ container: createContainer({ config: { ...ctx.config, mdmClientCertHeader: undefined, trustProxy: [], ...overrides }, database: ctx.db.database, clock: ctx.clock }) });
  const post = (app: Awaited<ReturnType<typeof appWith>>, body: string, headers: Record<string, string> = {}) =>
    app.inject({ method: 'POST', url: `/ManagementServer/MDM.svc/${tenant.org.id}`, payload: body, headers: { 'content-type': 'application/vnd.syncml.dm+xml', ...headers } });

  test('neither TLS nor a proxy header: every session is refused, even an enrolled DeviceID’s', async () => {
    const app = await appWith({});
    try {
      const res = await post(app, syncmlBody('syncml-first-session.xml', device.deviceId), { [CERT_HEADER]: encodeURIComponent(device.pem) });
      assert.equal(res.statusCode, 401);
      assert.equal(faultSubcode(res.body), 's:InvalidSecurity');
    } finally {
      await app.close();
    }
  });

  test('MDM_ALLOW_UNVERIFIED_SESSIONS=true believes the DeviceID, but its Alert 1226 unenrolls nothing', async () => {
    const app = await appWith({ mdmAllowUnverifiedSessions: true });
    try {
      assert.equal((await post(app, syncmlBody('syncml-first-session.xml', device.deviceId))).statusCode, 200);
      assert.equal((await post(app, syncmlBody('syncml-first-session.xml', 'NOT-ENROLLED'))).statusCode, 401);
      const unenroll = await post(app, syncmlBody('syncml-unenroll.xml', device.deviceId));
      assert.equal(unenroll.statusCode, 200);
      const [row] = await deviceRow(tenant, device.deviceId);
      assert.equal(row.state, 'enrolled', 'an unverified session cannot unenroll');
      const issued = await ctx.container.certificateAuthority.findIssuedCertificate(tenant.org.id, { thumbprint: row.certificate.thumbprint });
      assert.equal(issued?.revokedAt, null);
    } finally {
      await app.close();
    }
  });
});

test('configuration: the header needs TRUST_PROXY, TLS files go together, the unverified setting is a flagged trial', () => {
  assert.equal(loadConfig({}).mdmClientCertHeader, undefined);
  assert.equal(loadConfig({ MDM_CLIENT_CERT_HEADER: 'X-SSL-Client-Cert', TRUST_PROXY: '10.0.0.1' }).mdmClientCertHeader, 'x-ssl-client-cert');
  const names = (variable: string) => (e: unknown) => e instanceof ConfigError && e.message.includes(variable);
  for (const bad of ['two words', 'x:y', 'é']) assert.throws(() => loadConfig({ MDM_CLIENT_CERT_HEADER: bad, TRUST_PROXY: '10.0.0.1' }), names('MDM_CLIENT_CERT_HEADER'), bad);
  assert.throws(() => loadConfig({ MDM_CLIENT_CERT_HEADER: 'X-SSL-Client-Cert' }), names('TRUST_PROXY'));
  assert.throws(() => loadConfig({ TLS_CERT_FILE: 'cert.pem' }), names('TLS_KEY_FILE'));
  assert.throws(() => loadConfig({ TLS_KEY_FILE: 'key.pem' }), names('TLS_CERT_FILE'));
  assert.throws(() => loadConfig({ MDM_ALLOW_UNVERIFIED_SESSIONS: 'maybe' }), names('MDM_ALLOW_UNVERIFIED_SESSIONS'));
  const tls = loadConfig({ TLS_CERT_FILE: 'cert.pem', TLS_KEY_FILE: 'key.pem', PORT: '8443' });
  assert.deepEqual(tls.tls, { certFile: 'cert.pem', keyFile: 'key.pem' });
  assert.equal(tls.publicUrl, 'https://localhost:8443');

  assert.equal(deviceSessionNotice(loadConfig({})).level, 'warn');
  assert.match(deviceSessionNotice(loadConfig({})).message, /refused/);
  const trial = deviceSessionNotice(loadConfig({ MDM_ALLOW_UNVERIFIED_SESSIONS: 'true' }));
  assert.equal(trial.level, 'warn');
  assert.match(trial.message, /MDM_ALLOW_UNVERIFIED_SESSIONS=true is a trial setting/);
  assert.equal(deviceSessionNotice(tls).level, 'info');
});

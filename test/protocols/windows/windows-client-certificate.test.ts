import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { createMdmUser, createOrg, type TestOrg } from '../../helpers/factories.ts';
import { buildTestApp, type TestContext } from '../../helpers/test-app.ts';
import { createToken } from '../../helpers/tokens.ts';
import { all, characteristic, childTypes, faultSubcode, makeCsr, parm, parse, provisioningDocOf, requestSecurityTokenBody, syncmlBody } from '../../helpers/windows-device.ts';

/**
 * With MDM_CLIENT_CERT_HEADER set (a TLS-terminating proxy forwards the client certificate), a
 * management session must carry the certificate Openroll issued to that device.
 */
let ctx: TestContext;
let tenant: TestOrg;
let devicePem = '';
let otherPem = '';
const HEADER = 'x-ssl-client-cert';
const SYNCML = { 'content-type': 'application/vnd.syncml.dm+xml' };

async function enroll(deviceId: string): Promise<string> {
  const user = await createMdmUser(ctx, tenant.org);
  const token = await createToken(ctx, tenant.adminKey, tenant.org.id, 'windows', { mdmUserId: user.id, sendEmail: false });
  const res = await ctx.app.inject({
    method: 'POST',
    url: '/EnrollmentServer/Enrollment.svc',
    headers: { 'content-type': 'application/soap+xml; charset=utf-8' },
    payload: requestSecurityTokenBody({ email: user.email, code: token.body.data.enrollCode, csr: await makeCsr(), deviceId, hwDevId: deviceId.replace(/-/g, '').padEnd(64, '0') }),
  });
  assert.equal(faultSubcode(res.body), undefined, res.body);
  const doc = provisioningDocOf(res.body);
  const user_ = characteristic(all(doc, 'characteristic').find((c) => c.getAttribute('type') === 'My')!, 'User')!;
  const [thumbprint] = childTypes(user_).filter((t) => t !== 'PrivateKeyContainer');
  const der = Buffer.from(parm(characteristic(user_, thumbprint!), 'EncodedCertificate')!, 'base64');
  return new X509Certificate(der).toString();
}

before(async () => {
  ctx = await buildTestApp({ mdmClientCertHeader: HEADER });
  tenant = await createOrg(ctx);
  devicePem = await enroll('A1000000-0000-4000-8000-000000000001');
  otherPem = await enroll('A2000000-0000-4000-8000-000000000002');
});
after(() => ctx.close());

const session = (headers: Record<string, string>) =>
  ctx.app.inject({ method: 'POST', url: `/ManagementServer/MDM.svc/${tenant.org.id}`, payload: syncmlBody('syncml-first-session.xml', 'A1000000-0000-4000-8000-000000000001'), headers: { ...SYNCML, ...headers } });

describe('management behind a TLS proxy', () => {
  test('no certificate, garbage, or another device’s certificate: 401 InvalidSecurity', async () => {
    for (const headers of [{}, { [HEADER]: 'not a certificate' }, { [HEADER]: encodeURIComponent(otherPem) }] as Array<Record<string, string>>) {
      const res = await session(headers);
      assert.equal(res.statusCode, 401, JSON.stringify(headers));
      assert.equal(faultSubcode(res.body), 's:InvalidSecurity');
    }
  });

  test('the device’s own certificate, in the forms proxies forward it, opens the session', async () => {
    const der = new X509Certificate(devicePem).raw.toString('base64');
    for (const value of [encodeURIComponent(devicePem), devicePem.replace(/\n/g, ' '), der]) {
      const res = await session({ [HEADER]: value });
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(all(parse(res.body), 'Final').length, 1);
    }
  });
});

test('MDM_CLIENT_CERT_HEADER is a header name, kept lower-cased; anything else names the variable', async () => {
  const { ConfigError, loadConfig } = await import('../../../src/config.ts');
  assert.equal(loadConfig({}).mdmClientCertHeader, undefined);
  assert.equal(loadConfig({ MDM_CLIENT_CERT_HEADER: 'X-SSL-Client-Cert' }).mdmClientCertHeader, 'x-ssl-client-cert');
  for (const bad of ['two words', 'x:y', 'é']) {
    assert.throws(() => loadConfig({ MDM_CLIENT_CERT_HEADER: bad }), (e: unknown) => e instanceof ConfigError && e.message.includes('MDM_CLIENT_CERT_HEADER'), bad);
  }
});

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { buildApp } from '../../../src/app.ts';
import { createContainer } from '../../../src/container.ts';
import { createDbProbe, type DbProbe } from '../../helpers/db-probe.ts';
import { TEST_DB_KIND } from '../../helpers/test-db.ts';
import { createMdmUser, createOrg, type TestOrg } from '../../helpers/factories.ts';
import { buildTestApp, call, type TestContext } from '../../helpers/test-app.ts';
import { createToken, tokensPath } from '../../helpers/tokens.ts';
import { discoverBody, faultSubcode, getPoliciesBody, makeCsr, parse, requestSecurityTokenBody, syncmlBody, tamper, text } from '../../helpers/windows-device.ts';

/** Every refusal of a device message is an MS-MDE2 SOAP fault that changes nothing; never a 500. */
let ctx: TestContext;
let tenant: TestOrg;
let probe: DbProbe;
const SOAP = { 'content-type': 'application/soap+xml; charset=utf-8' };

before(async () => {
  ctx = await buildTestApp();
  tenant = await createOrg(ctx);
  probe = await createDbProbe(ctx.container.database);
});
after(() => ctx.close());

async function newToken(platform: 'windows' | 'apple' = 'windows', body: Record<string, unknown> = {}) {
  const user = await createMdmUser(ctx, tenant.org);
  const res = await createToken(ctx, tenant.adminKey, tenant.org.id, platform, { mdmUserId: user.id, sendEmail: false, ...body });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return { id: res.body.data.id as string, code: res.body.data.enrollCode as string, email: user.email };
}
const state = async (id: string, platform: 'windows' | 'apple' = 'windows') =>
  (await call(ctx.app, tenant.adminKey, { method: 'GET', url: `${tokensPath(tenant.org.id, platform)}/${id}` })).body.data.state;
const post = (url: string, payload: string, headers: Record<string, string> = SOAP, remoteAddress = '127.0.0.1') =>
  ctx.app.inject({ method: 'POST', url, payload, headers, remoteAddress });

const MANAGEMENT = () => `/ManagementServer/MDM.svc/${tenant.org.id}`;
const ENDPOINTS = ['/EnrollmentServer/Discovery.svc', '/EnrollmentServer/Policy.svc', '/EnrollmentServer/Enrollment.svc'];

const BILLION_LAUGHS = `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body>&lol2;</s:Body></s:Envelope>`;
const XXE = `<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><SyncML xmlns="SYNCML:SYNCML1.2"><SyncHdr><SessionID>1</SessionID><MsgID>1</MsgID><Source><LocURI>&x;</LocURI></Source></SyncHdr><SyncBody/></SyncML>`;
const MALFORMED: Array<[string, string]> = [
  ['empty', ''],
  ['not XML', 'hello'],
  ['JSON', '{"Envelope":{}}'],
  ['unclosed', '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body>'],
  ['undeclared prefix', '<s:Envelope><s:Body><x/></s:Body></s:Envelope>'],
  ['entity expansion', BILLION_LAUGHS],
  ['external entity', XXE],
  ['another root', '<html><body/></html>'],
  ['an empty SOAP body', '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body/></s:Envelope>'],
  ['a Discover sent everywhere', discoverBody()],
  ['a SyncML message', syncmlBody('syncml-first-session.xml')],
];

describe('malformed messages', () => {
  test('every enrollment endpoint answers a MessageFormat fault (200, SOAP content type) and changes nothing', async () => {
    for (const url of ENDPOINTS) {
      for (const [label, body] of MALFORMED) {
        if (url.endsWith('Discovery.svc') && label === 'a Discover sent everywhere') continue;
        const before = await probe.counts();
        const res = await post(url, body);
        const where = `${url} ${label}: ${res.statusCode} ${res.body.slice(0, 300)}`;
        assert.equal(res.statusCode, 200, where);
        assert.equal(res.headers['content-type'], 'application/soap+xml; charset=utf-8', where);
        assert.equal(Number(res.headers['content-length']), Buffer.byteLength(res.body), where);
        const expected = label === 'a Discover sent everywhere' && !url.endsWith('Discovery.svc') ? ['s:MessageFormat', 's:InvalidSecurity'] : ['s:MessageFormat'];
        assert.ok(expected.includes(faultSubcode(res.body) ?? ''), where);
        assert.ok(!res.body.includes('root:'), `${where}: no file content`);
        assert.deepEqual(await probe.counts(), before, where);
      }
    }
  });

  test('the management endpoint answers 400 MessageFormat faults', async () => {
    for (const [label, body] of MALFORMED) {
      if (label === 'a SyncML message') continue;
      const res = await post(MANAGEMENT(), body, { 'content-type': 'application/vnd.syncml.dm+xml' });
      assert.equal(res.statusCode, 400, `${label}: ${res.body}`);
      assert.equal(faultSubcode(res.body), 's:MessageFormat', label);
    }
  });

  test('a body over the limit is a MessageFormat fault, not a 413 JSON envelope', async () => {
    const huge = `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body>${'x'.repeat(600 * 1024)}</s:Body></s:Envelope>`;
    for (const url of [...ENDPOINTS, MANAGEMENT()]) {
      const res = await post(url, huge);
      assert.ok(res.statusCode < 500, `${url}: ${res.statusCode}`);
      assert.equal(faultSubcode(res.body), 's:MessageFormat', url);
    }
  });

  test('no content type, or an odd one, is read as XML all the same', async () => {
    for (const headers of [{}, { 'content-type': 'text/xml' }, { 'content-type': 'application/octet-stream' }] as Array<Record<string, string>>) {
      const res = await post('/EnrollmentServer/Discovery.svc', discoverBody(), headers);
      assert.equal(res.statusCode, 200);
      assert.equal(text(parse(res.body), 'AuthPolicy'), 'OnPremise', JSON.stringify(headers));
    }
    const withBom = await post('/EnrollmentServer/Discovery.svc', `\uFEFF${discoverBody()}`);
    assert.equal(text(parse(withBom.body), 'AuthPolicy'), 'OnPremise', 'a byte order mark is legal XML');
  });
});

describe('discovery negotiates', () => {
  test('the highest enrollment version both sides speak; too old or no OnPremise is a fault', async () => {
    const versions: Array<[string, string | undefined]> = [['3.0', '3.0'], ['4.0', '4.0'], ['5.0', '4.0'], ['6.0', '4.0'], ['2.0', undefined]];
    for (const [asked, answered] of versions) {
      const res = await post('/EnrollmentServer/Discovery.svc', discoverBody().replace('<RequestVersion>3.0</RequestVersion>', `<RequestVersion>${asked}</RequestVersion>`));
      if (answered) assert.equal(text(parse(res.body), 'EnrollmentVersion'), answered, asked);
      else assert.equal(faultSubcode(res.body), 's:MessageFormat', asked);
    }
    const federatedOnly = await post('/EnrollmentServer/Discovery.svc', discoverBody().replace('<AuthPolicy>OnPremise</AuthPolicy>', '<AuthPolicy>Federated</AuthPolicy>'));
    assert.equal(faultSubcode(federatedOnly.body), 's:Authentication');
  });
});

describe('credentials and certificate requests', () => {
  test('a missing UsernameToken is InvalidSecurity', async () => {
    const body = getPoliciesBody('a@b.example', 'X').replace(/<wsse:Security[\s\S]*<\/wsse:Security>/, '');
    assert.equal(faultSubcode((await post('/EnrollmentServer/Policy.svc', body)).body), 's:InvalidSecurity');
  });

  test('an expired token is an Authorization fault; an Apple token code is unknown to Windows', async () => {
    const expiring = await newToken('windows', { duration: 60 });
    const apple = await newToken('apple');
    ctx.clock.advance(61_000);
    assert.equal(faultSubcode((await post('/EnrollmentServer/Policy.svc', getPoliciesBody(expiring.email, expiring.code))).body), 's:Authorization');
    assert.equal(await state(expiring.id), 'EXPIRED');
    assert.equal(faultSubcode((await post('/EnrollmentServer/Policy.svc', getPoliciesBody(apple.email, apple.code))).body), 's:Authentication');
    const rst = await post('/EnrollmentServer/Enrollment.svc', requestSecurityTokenBody({ email: apple.email, code: apple.code, csr: await makeCsr() }));
    assert.equal(faultSubcode(rst.body), 's:Authentication');
    assert.equal(await state(apple.id, 'apple'), 'PENDING');
  });

  test('a tampered, weak or unreadable CSR is a CertificateRequest fault and the token stays PENDING', async () => {
    const token = await newToken();
    const cases = [tamper(await makeCsr()), await makeCsr({ bits: 1024 }), { ...(await makeCsr()), base64: 'bm90IGEgY3Ny' }, { ...(await makeCsr()), base64: '@@@' }];
    for (const csr of cases) {
      const before = await probe.counts();
      const res = await post('/EnrollmentServer/Enrollment.svc', requestSecurityTokenBody({ email: token.email, code: token.code, csr }));
      assert.equal(faultSubcode(res.body), 's:CertificateRequest', res.body);
      assert.deepEqual(await probe.counts(), before);
    }
    assert.equal(await state(token.id), 'PENDING');
  });

  test('a SHA-256 signed CSR enrolls too; a request without DeviceID is a MessageFormat fault', async () => {
    const token = await newToken();
    const noDevice = requestSecurityTokenBody({ email: token.email, code: token.code, csr: await makeCsr() }).replace(/<ac:ContextItem Name="DeviceID">[\s\S]*?<\/ac:ContextItem>/, '');
    assert.equal(faultSubcode((await post('/EnrollmentServer/Enrollment.svc', noDevice)).body), 's:MessageFormat');
    const res = await post('/EnrollmentServer/Enrollment.svc', requestSecurityTokenBody({ email: token.email, code: token.code, csr: await makeCsr({ hash: 'SHA-256' }), deviceId: 'D0000000-0000-4000-8000-000000000256' }));
    assert.equal(faultSubcode(res.body), undefined, res.body);
    assert.equal(await state(token.id), 'DONE');
  });

  test("wrong codes are limited per user: even that user's right code waits; another user's from the same address does not (windows-wrong-codes.test.ts)", async () => {
    const token = await newToken();
    for (let i = 0; i < 21; i++) await post('/EnrollmentServer/Policy.svc', getPoliciesBody(token.email, `WRONG${i}`), SOAP, '10.9.9.9');
    const blocked = await post('/EnrollmentServer/Policy.svc', getPoliciesBody(token.email, token.code), SOAP, '10.9.9.9');
    assert.equal(faultSubcode(blocked.body), 's:Authentication', 'even the right code waits');
    const other = await newToken();
    const colleague = await post('/EnrollmentServer/Policy.svc', getPoliciesBody(other.email, other.code), SOAP, '10.9.9.9');
    assert.equal(faultSubcode(colleague.body), undefined, colleague.body);
  });

  test('on PostgreSQL, a user blocked by one server process is blocked by another on the same database', { skip: TEST_DB_KIND === 'postgres' ? false : 'PGlite is opened by one process only' }, async () => {
    const second = await buildApp({ container: createContainer({ config: ctx.config, database: ctx.db.database, clock: ctx.clock }) });
    try {
      const token = await newToken();
      for (let i = 0; i < 20; i++) await post('/EnrollmentServer/Policy.svc', getPoliciesBody(token.email, `WRONG${i}`), SOAP, '10.9.8.7');
      const blocked = await second.inject({ method: 'POST', url: '/EnrollmentServer/Policy.svc', payload: getPoliciesBody(token.email, token.code), headers: SOAP, remoteAddress: '10.9.8.7' });
      assert.equal(faultSubcode(blocked.body), 's:Authentication', 'the other process counted the same wrong codes');
      assert.match(blocked.body, /Too many wrong codes/);
    } finally {
      await second.close();
    }
  });
});

describe('management sessions', () => {
  test('an organization that is not an id is an Authentication fault; no certificate is InvalidSecurity (401)', async () => {
    const cases: Array<[string, string]> = [
      ['/ManagementServer/MDM.svc/not-an-org', 's:Authentication'],
      [MANAGEMENT(), 's:InvalidSecurity'],
      [`/ManagementServer/MDM.svc/${'0'.repeat(24)}`, 's:InvalidSecurity'],
    ];
    for (const [url, subcode] of cases) {
      const res = await post(url, syncmlBody('syncml-first-session.xml', 'UNKNOWN-DEVICE'), { 'content-type': 'application/vnd.syncml.dm+xml' });
      assert.equal(res.statusCode, 401, url);
      assert.equal(faultSubcode(res.body), subcode, url);
    }
  });
});

/**
 * Input an attacker can send to the device routes before anything authenticates it, built to
 * make a backtracking pattern or a parser whose cost grows faster than its input stall the
 * event loop. Each is refused with the route's own refusal; the checks in front of the parsers
 * are loops over the input (src/lib/base64.ts, xml-shape.ts, ber-shape.ts), linear by
 * construction, so these tests assert the refusal and not a time.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { isBase64, stripWhitespace } from '../../src/lib/base64.ts';
import { berShapeProblem } from '../../src/pki/ber-shape.ts';
import { forwardedCertificateDer } from '../../src/protocols/windows/client-certificate.ts';
import { xmlShapeProblem } from '../../src/protocols/windows/xml-shape.ts';
import { createOrg, type TestOrg } from '../helpers/factories.ts';
import { fleetCapturedRequest } from '../helpers/fleet-windows-dump.ts';
import { buildTestApp, type TestContext } from '../helpers/test-app.ts';
import { faultSubcode } from '../helpers/windows-device.ts';
import { CHECKIN_TYPE, MDM_TYPE, PKI_TYPE } from './apple/apple-fixtures.ts';

let ctx: TestContext;
let tenant: TestOrg;
before(async () => {
  ctx = await buildTestApp();
  tenant = await createOrg(ctx);
});
after(() => ctx.close());

/** A SEQUENCE of `count` NULLs: tiny, but asn1js's cost grows faster than its length. */
function nullFlood(count: number): Buffer {
  const body = Buffer.alloc(count * 2, 0);
  for (let i = 0; i < body.length; i += 2) body[i] = 0x05;
  return Buffer.concat([Buffer.from([0x30, 0x82, body.length >> 8, body.length & 0xff]), body]);
}

const PATHOLOGICAL_SIGNATURE = 'A' + ' '.repeat(16_000) + '!';

describe('Apple: Mdm-Signature and SCEP before authentication', () => {
  test("a pathological Mdm-Signature ('A' + 16,000 spaces + '!') is 401 4004 at check-in and at the server URL", async () => {
    for (const [path, type] of [
      [`/mdm/apple/${tenant.org.id}/checkin`, CHECKIN_TYPE],
      [`/mdm/apple/${tenant.org.id}/server`, MDM_TYPE],
    ] as const) {
      const res = await ctx.app.inject({ method: 'PUT', url: path, payload: '<plist/>', headers: { 'content-type': type, 'mdm-signature': PATHOLOGICAL_SIGNATURE } });
      assert.equal(res.statusCode, 401, path);
      assert.equal(res.json().error.code, 4004);
      assert.equal(res.json().error.data.errors[0].path, 'headers.mdm-signature');
    }
  });

  test('a signature of 10,000 NULLs is refused before asn1js decodes it: 401 4004', async () => {
    const res = await ctx.app.inject({ method: 'PUT', url: `/mdm/apple/${tenant.org.id}/checkin`, payload: '<plist/>', headers: { 'content-type': CHECKIN_TYPE, 'mdm-signature': nullFlood(10_000).toString('base64') } });
    assert.equal(res.statusCode, 401);
    assert.equal(res.json().error.code, 4004);
    assert.match(res.json().error.data.errors[0].message, /more than 2048 values/);
  });

  test('a pkiMessage of 12,000 NULLs, by POST and by GET, is 400 3000', async () => {
    const flood = nullFlood(12_000);
    const post = await ctx.app.inject({ method: 'POST', url: `/mdm/apple/${tenant.org.id}/scep?operation=PKIOperation`, payload: flood, headers: { 'content-type': PKI_TYPE } });
    assert.equal(post.statusCode, 400);
    assert.equal(post.json().error.code, 3000);
    const get = await ctx.app.inject({ method: 'GET', url: `/mdm/apple/${tenant.org.id}/scep?operation=PKIOperation&message=${encodeURIComponent(flood.toString('base64'))}` });
    assert.equal(get.statusCode, 400);
    assert.equal(get.json().error.code, 3000);
    const spaces = await ctx.app.inject({ method: 'GET', url: `/mdm/apple/${tenant.org.id}/scep?operation=PKIOperation&message=${encodeURIComponent(PATHOLOGICAL_SIGNATURE)}` });
    assert.equal(spaces.statusCode, 400);
  });

  test('every SCEP operation of an organization that does not exist is 404 3001', async () => {
    const unknown = `/mdm/apple/${'0'.repeat(24)}/scep`;
    for (const [method, url, payload] of [
      ['GET', `${unknown}?operation=GetCACaps`, undefined],
      ['GET', `${unknown}?operation=GetCACert`, undefined],
      ['GET', `${unknown}?operation=PKIOperation&message=${encodeURIComponent(nullFlood(4).toString('base64'))}`, undefined],
      ['GET', `${unknown}?operation=PKIOperation&message=%25%25`, undefined],
      ['POST', `${unknown}?operation=PKIOperation`, Buffer.from('garbage')],
    ] as const) {
      const res = await ctx.app.inject({ method, url, ...(payload ? { payload, headers: { 'content-type': PKI_TYPE } } : {}) });
      assert.equal(res.statusCode, 404, url);
      assert.equal(res.json().error.code, 3001, url);
    }
    const known = await ctx.app.inject({ method: 'GET', url: `/mdm/apple/${tenant.org.id}/scep?operation=GetCACaps` });
    assert.equal(known.statusCode, 200, 'a real organization still answers');
  });
});

describe('Windows: XML before the credentials are read', () => {
  const SOAP = { 'content-type': 'application/soap+xml; charset=utf-8' };
  const rst = () => fleetCapturedRequest('/EnrollmentServer/Enrollment.svc').body;
  const floods: Record<string, string> = {
    // 29 s of xmldom on main before this check; 16 s for the plain nesting.
    'nested namespace declarations': '<a xmlns:p="u">'.repeat(30_000),
    'nesting deeper than 32': rst().replace('<s:Body>', '<s:Body>' + '<x>'.repeat(40) + '</x>'.repeat(40)),
    '100,000 siblings': rst().replace('<s:Body>', '<s:Body>' + '<x/>'.repeat(100_000)),
    '40 attributes on one element': rst().replace('<wst:RequestSecurityToken>', `<wst:RequestSecurityToken ${Array.from({ length: 40 }, (_, i) => `a${i}="1"`).join(' ')}>`),
    '20,000 entity references': rst().replace('<s:Body>', `<s:Body><x>${'&amp;'.repeat(20_000)}</x>`),
    'an unclosed start tag of 400 KB': '<s:Envelope ' + 'a'.repeat(400_000),
  };
  for (const [name, body] of Object.entries(floods)) {
    test(`${name}: a MessageFormat fault at every enrollment endpoint`, async () => {
      for (const path of ['/EnrollmentServer/Discovery.svc', '/EnrollmentServer/Policy.svc', '/EnrollmentServer/Enrollment.svc']) {
        const res = await ctx.app.inject({ method: 'POST', url: path, payload: body, headers: SOAP });
        assert.equal(faultSubcode(res.body), 's:MessageFormat', `${path}: ${res.body.slice(0, 300)}`);
      }
    });
  }
});

describe('the linear checks themselves', () => {
  test('base64: whitespace stripped, padding, alphabet', () => {
    assert.equal(stripWhitespace(' QU\r\nJD\tRA== '), 'QUJDRA==');
    assert.equal(stripWhitespace('QUJD'), 'QUJD');
    assert.ok(isBase64('QUJDRA=='));
    assert.ok(!isBase64('QUJDRA==='));
    assert.ok(!isBase64('=='));
    assert.ok(!isBase64(''));
    assert.ok(!isBase64('QU JD'));
    assert.ok(!isBase64(stripWhitespace(PATHOLOGICAL_SIGNATURE)));
    assert.ok(!isBase64('QUJD-_'), 'not the URL-safe alphabet');
  });

  test('XML shape: real messages pass; the limits name what they refuse', () => {
    for (const path of ['/EnrollmentServer/Discovery.svc', '/EnrollmentServer/Policy.svc', '/EnrollmentServer/Enrollment.svc', '/ManagementServer/MDM.svc']) {
      assert.equal(xmlShapeProblem(fleetCapturedRequest(path).body), null, path);
    }
    assert.equal(xmlShapeProblem('<a x="a>b" y=\'<\'/>'), null, "'>' inside an attribute value does not end the tag");
    assert.equal(xmlShapeProblem('<a><!-- <b><b><b> --><![CDATA[<c><c>]]></a>'), null);
    assert.match(xmlShapeProblem('<a>'.repeat(33)) ?? '', /nested more than 32/);
    assert.match(xmlShapeProblem('<a>' + '<b/>'.repeat(40_000) + '</a>') ?? '', /more than 32768 nodes/);
    assert.match(xmlShapeProblem('<a><!-- never closed') ?? '', /not closed/);
  });

  test('BER shape: DER and BER (indefinite lengths) pass; floods, depth and truncation are named', () => {
    assert.equal(berShapeProblem(Buffer.from('3006020101020102', 'hex')), null);
    assert.equal(berShapeProblem(Buffer.from('30800201010000', 'hex')), null, 'indefinite length');
    assert.equal(berShapeProblem(Buffer.from('24800403414243040144 0000'.replace(/ /g, ''), 'hex')), null, 'a constructed OCTET STRING');
    assert.match(berShapeProblem(nullFlood(3000)) ?? '', /more than 2048 values/);
    assert.match(berShapeProblem(Buffer.from('3080'.repeat(60), 'hex')) ?? '', /nested more than 48/);
    assert.match(berShapeProblem(Buffer.from('300602010102', 'hex')) ?? '', /truncated/);
    assert.match(berShapeProblem(Buffer.from('30030201010500', 'hex')) ?? '', /trailing/);
  });

  test('a forwarded header of 600 BEGIN lines and no END is no certificate', () => {
    assert.equal(forwardedCertificateDer('-----BEGIN CERTIFICATE-----'.repeat(600)), null);
    assert.equal(forwardedCertificateDer(`-----BEGIN CERTIFICATE----- ${'A'.repeat(16_000)}`), null);
  });
});

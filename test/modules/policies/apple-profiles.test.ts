/**
 * `mobileconfig` on Apple profile items (CONTRACT.md section 6, "Apple profiles"), on a policy
 * and on a token (create, bulk, update): a profile as Apple Configurator saves it passes and is
 * shown back with the item's other fields as given; a bad one is a 400 3000 naming the item's
 * field, and nothing is stored.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { createMdmUser, createOrg, type TestOrg } from '../../helpers/factories.ts';
import { buildTestApp, call, type TestContext } from '../../helpers/test-app.ts';
import { createToken, errorPaths, tokensPath } from '../../helpers/tokens.ts';

const PROFILES = new URL('../../fixtures/apple/profiles/', import.meta.url);
/** Apple Configurator's layout (test/fixtures/apple/README.md, `profiles/`). */
const WIFI = readFileSync(new URL('wifi.mobileconfig', PROFILES), 'utf8');
const RESTRICTIONS = readFileSync(new URL('restrictions.mobileconfig', PROFILES), 'utf8');

let ctx: TestContext;
let a: TestOrg;
before(async () => {
  ctx = await buildTestApp();
  a = await createOrg(ctx);
});
after(() => ctx.close());

const policies = (t: TestOrg) => `/v1/organizations/${t.org.id}/mdm/apple/enterprise/policies`;
const createPolicy = (payload: object) => call(ctx.app, a.adminKey, { method: 'POST', url: policies(a), payload });

/** Profiles that are not what the contract asks, each with the reason it names. */
const BAD: [string, unknown][] = [
  ['not a string', 42],
  ['not XML', 'PayloadType=Configuration'],
  ['a plist array', '<?xml version="1.0"?><plist version="1.0"><array/></plist>'],
  ['PayloadType not Configuration', WIFI.replace('<string>Configuration</string>', '<string>com.apple.wifi.managed</string>')],
  ['no PayloadIdentifier', WIFI.replace('<key>PayloadIdentifier</key>\n\t<string>Admins-MacBook-Pro.E4A3B1C2-6D7E-4F80-9A1B-2C3D4E5F6071</string>\n', '')],
  ['no PayloadUUID', WIFI.replace('<key>PayloadUUID</key>\n\t<string>3C2D1E0F-9A8B-4C7D-8E6F-5A4B3C2D1E0F</string>\n', '')],
  ['PayloadVersion a string', WIFI.replace('<integer>1</integer>\n</dict>', '<string>1</string>\n</dict>')],
  ['PayloadContent a dictionary', WIFI.replace('<key>PayloadContent</key>\n\t<array>', '<key>PayloadContent</key>\n\t<dict><key>x</key><string>y</string></dict>\n\t<key>Unused</key>\n\t<array>')],
  ['an entity declaration', WIFI.replace('<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">', '<!DOCTYPE plist [<!ENTITY x "y">]>')],
  ['over 512 KB', WIFI.replace('<string>Office Wi-Fi</string>', `<string>${'x'.repeat(512 * 1024)}</string>`)],
];

describe('Apple policy profiles', () => {
  test("a profile as Apple Configurator saves it passes, with the item's other fields kept and shown back", async () => {
    const profiles = [{ name: 'Wi-Fi', mobileconfig: WIFI, note: { any: ['thing'] } }, { name: 'kept as given, not installed' }];
    const res = await createPolicy({ name: 'Office', profiles });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(res.body.data.profiles, profiles);
    const got = await call(ctx.app, a.adminKey, { method: 'GET', url: `${policies(a)}/${res.body.data.id}` });
    assert.deepEqual(got.body.data.profiles, profiles);
    const updated = await call(ctx.app, a.adminKey, { method: 'PUT', url: `${policies(a)}/${res.body.data.id}`, payload: { profiles: [{ mobileconfig: RESTRICTIONS }] } });
    assert.equal(updated.status, 200);
    assert.deepEqual(updated.body.data.profiles, [{ mobileconfig: RESTRICTIONS }]);
  });

  for (const [label, mobileconfig] of BAD) {
    test(`a profile that is ${label}: 400 3000 naming the item's field`, async () => {
      const res = await createPolicy({ name: 'Bad', profiles: [{ mobileconfig: WIFI }, { mobileconfig }] });
      assert.equal(res.status, 400, label);
      assert.equal(res.body.error.code, 3000);
      assert.deepEqual(errorPaths(res), ['body.profiles.1.mobileconfig']);
    });
  }

  test('an update with a bad profile changes nothing', async () => {
    const created = (await createPolicy({ name: 'Keep', profiles: [{ mobileconfig: WIFI }] })).body.data;
    const res = await call(ctx.app, a.adminKey, { method: 'PUT', url: `${policies(a)}/${created.id}`, payload: { profiles: [{ mobileconfig: 'nope' }] } });
    assert.deepEqual([res.status, res.body.error.code, errorPaths(res)], [400, 3000, ['body.profiles.0.mobileconfig']]);
    const got = await call(ctx.app, a.adminKey, { method: 'GET', url: `${policies(a)}/${created.id}` });
    assert.deepEqual([got.body.data.profiles, got.body.data.version], [[{ mobileconfig: WIFI }], created.version]);
  });
});

describe("a token's own profiles", () => {
  test('create, bulk and update check them the same way; a good one is shown back', async () => {
    const user = await createMdmUser(ctx, a.org);
    const good = await createToken(ctx, a.adminKey, a.org.id, 'apple', { mdmUserId: user.id, sendEmail: false, profiles: [{ name: 'Wi-Fi', mobileconfig: WIFI }] });
    assert.equal(good.status, 200, JSON.stringify(good.body));
    assert.deepEqual(good.body.data.profiles, [{ name: 'Wi-Fi', mobileconfig: WIFI }]);

    const bad = [{ name: 'ok' }, { mobileconfig: WIFI }, { mobileconfig: '<plist version="1.0"><dict/></plist>' }];
    const created = await createToken(ctx, a.adminKey, a.org.id, 'apple', { mdmUserId: user.id, sendEmail: false, profiles: bad });
    assert.deepEqual([created.status, created.body.error.code, errorPaths(created)], [400, 3000, ['body.profiles.2.mobileconfig']]);

    const bulk = await call(ctx.app, a.adminKey, { method: 'POST', url: `${tokensPath(a.org.id, 'apple')}/bulk`, payload: { userEmails: ['bulk-profile@example.com'], sendEmail: false, profiles: bad } });
    assert.deepEqual([bulk.status, bulk.body.error.code, errorPaths(bulk)], [400, 3000, ['body.profiles.2.mobileconfig']]);

    const update = await call(ctx.app, a.adminKey, { method: 'PUT', url: `${tokensPath(a.org.id, 'apple')}/${good.body.data.id}`, payload: { profiles: bad } });
    assert.deepEqual([update.status, update.body.error.code, errorPaths(update)], [400, 3000, ['body.profiles.2.mobileconfig']]);
    const after = await call(ctx.app, a.adminKey, { method: 'GET', url: `${tokensPath(a.org.id, 'apple')}/${good.body.data.id}` });
    assert.deepEqual(after.body.data.profiles, [{ name: 'Wi-Fi', mobileconfig: WIFI }], 'the refused update changed nothing');
  });

  test('validation comes before the 404 of a referenced entity (CONTRACT.md section 2 precedence)', async () => {
    const res = await createToken(ctx, a.adminKey, a.org.id, 'apple', { mdmUserId: '0123456789abcdef01234567', sendEmail: false, profiles: [{ mobileconfig: 'x' }] });
    assert.deepEqual([res.status, res.body.error.code, errorPaths(res)], [400, 3000, ['body.profiles.0.mobileconfig']]);
  });
});

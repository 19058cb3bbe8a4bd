/**
 * A Windows policy's `settings` (CONTRACT.md section 6): validated row by row, stored, shown on
 * create, update, get and list, and in the `winPolicy` a token embeds.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { assertError, errorPaths } from '../../helpers/assertions.ts';
import { createMdmUser, createOrg, type TestOrg } from '../../helpers/factories.ts';
import { buildTestApp, call, type TestContext } from '../../helpers/test-app.ts';
import { createToken, tokensPath } from '../../helpers/tokens.ts';

let ctx: TestContext;
let a: TestOrg;
let b: TestOrg;
before(async () => {
  ctx = await buildTestApp();
  a = await createOrg(ctx);
  b = await createOrg(ctx);
});
after(() => ctx.close());

const base = (t: TestOrg) => `/v1/organizations/${t.org.id}/mdm/windows/enterprise/policies`;
const create = (t: TestOrg, payload: object) => call(ctx.app, t.adminKey, { method: 'POST', url: base(t), payload });
const put = (t: TestOrg, id: string, payload: object) => call(ctx.app, t.adminKey, { method: 'PUT', url: `${base(t)}/${id}`, payload });

// Rows as Microsoft's Policy CSP documents them (Camera/AllowCamera, an ADMX-backed xml value, a b64 blob).
const SETTINGS = [
  { locUri: './Device/Vendor/MSFT/Policy/Config/Camera/AllowCamera', format: 'int', data: '0' },
  { locUri: './User/Vendor/MSFT/Policy/Config/Start/HideSleep', format: 'bool', data: 'true', verb: 'Add' },
  { locUri: './Device/Vendor/MSFT/Policy/Config/Education/PrinterNames', format: 'chr', data: 'Printer <A> & B' },
  { locUri: './Vendor/MSFT/DMClient/Provider/Openroll/Blob', format: 'b64', data: 'aGVsbG8=' },
  { locUri: './Device/Vendor/MSFT/Policy/Config/Power/Timeout', format: 'float', data: '1.5e3' },
  { locUri: './Device/Vendor/MSFT/Policy/Config/Foo/Bar', format: 'xml', data: '<enabled/><data id="x" value="1"/>' },
];
const SHOWN = SETTINGS.map((s) => ({ verb: 'Replace', ...s }));

describe('Windows policy settings', () => {
  test('stored and shown on create, get, list, update; verb defaults to Replace', async () => {
    const created = await create(a, { name: 'Lockdown', settings: SETTINGS });
    assert.equal(created.status, 200, JSON.stringify(created.body));
    assert.deepEqual(created.body.data.settings, SHOWN);
    const id = created.body.data.id;
    assert.deepEqual((await call(ctx.app, a.adminKey, { method: 'GET', url: `${base(a)}/${id}` })).body.data.settings, SHOWN);
    const listed = await call(ctx.app, a.adminKey, { method: 'GET', url: `${base(a)}?limit=500` });
    assert.deepEqual(listed.body.data.items.find((p: { id: string }) => p.id === id).settings, SHOWN);
    const updated = await put(a, id, { settings: [SETTINGS[0]] });
    assert.equal(updated.status, 200);
    assert.deepEqual(updated.body.data.settings, [SHOWN[0]]);
    assert.equal(updated.body.data.version, 1);
    // An update of another field keeps the settings.
    assert.deepEqual((await put(a, id, { name: 'Renamed' })).body.data.settings, [SHOWN[0]]);
    assert.deepEqual((await create(a, { name: 'Bare' })).body.data.settings, []);
  });

  test('a token embeds its policies with their settings', async () => {
    const policy = (await create(a, { name: 'Embedded', settings: SETTINGS.slice(0, 2) })).body.data;
    const user = await createMdmUser(ctx, a.org);
    const token = await createToken(ctx, a.adminKey, a.org.id, 'windows', { mdmUserId: user.id, sendEmail: false, winPolicyAssignments: [{ winPolicyId: policy.id, priority: 3 }] });
    assert.equal(token.status, 200, JSON.stringify(token.body));
    assert.deepEqual(token.body.data.winPolicyAssignments[0].winPolicy.settings, SHOWN.slice(0, 2));
    const read = await call(ctx.app, a.adminKey, { method: 'GET', url: `${tokensPath(a.org.id, 'windows')}/${token.body.data.id}` });
    assert.deepEqual(read.body.data.winPolicyAssignments[0].winPolicy.settings, SHOWN.slice(0, 2));
  });

  test('data that does not fit its format: 400 3000 naming each row and field', async () => {
    const bad = [
      { locUri: './Device/A', format: 'int', data: '1.5' },
      { locUri: './Device/B', format: 'bool', data: 'yes' },
      { locUri: './Device/C', format: 'b64', data: 'not base64!' },
      SETTINGS[0],
      { locUri: './Device/E', format: 'float', data: 'NaN' },
      { locUri: './Device/F', format: 'int', data: '' },
    ];
    const res = await create(a, { name: 'Bad', settings: bad });
    assertError(res, 400, 3000);
    assert.deepEqual(errorPaths(res), ['body.settings.0.data', 'body.settings.1.data', 'body.settings.2.data', 'body.settings.4.data', 'body.settings.5.data']);
    const policy = (await create(a, { name: 'Good' })).body.data;
    const update = await put(a, policy.id, { settings: [SETTINGS[0], SETTINGS[1], SETTINGS[2], { locUri: './Device/X', format: 'bool', data: 'TRUE' }] });
    assertError(update, 400, 3000);
    assert.deepEqual(errorPaths(update), ['body.settings.3.data']);
  });

  test('the shape: locUri root, whitespace and length, format, verb, data length, unknown keys, count', async () => {
    const rows = [
      { locUri: 'Device/Vendor/MSFT/X', format: 'int', data: '1' },
      { locUri: './Device/Vendor/MSFT/X Y', format: 'int', data: '1' },
      { locUri: `./Device/${'a'.repeat(1_016)}`, format: 'chr', data: '' },
      { locUri: './Device/X', format: 'string', data: 'x' },
      { locUri: './Device/X', format: 'chr', data: 'x', verb: 'Delete' },
      { locUri: './Device/X', format: 'chr', data: 'x'.repeat(65_537) },
      { locUri: './Device/X', format: 'chr', data: 'x', extra: true },
      { locUri: './Device/X', format: 'chr' },
      { locUri: './Device/X', format: 'chr', data: 7 },
    ];
    const res = await create(a, { name: 'Shape', settings: rows });
    assertError(res, 400, 3000);
    assert.deepEqual(errorPaths(res), [
      'body.settings.0.locUri',
      'body.settings.1.locUri',
      'body.settings.2.locUri',
      'body.settings.3.format',
      'body.settings.4.verb',
      'body.settings.5.data',
      'body.settings.6.extra',
      'body.settings.7.data',
      'body.settings.8.data',
    ]);
    // 1,024 characters and 65,536 of data pass; 1,000 rows pass, 1,001 do not.
    const edge = await create(a, { name: 'Edge', settings: [{ locUri: `./Device/${'a'.repeat(1_015)}`, format: 'chr', data: 'x'.repeat(65_536) }] });
    assert.equal(edge.status, 200, JSON.stringify(edge.body).slice(0, 500));
    const many = (n: number) => Array.from({ length: n }, (_, i) => ({ locUri: `./Device/N/${i}`, format: 'int', data: String(i) }));
    assert.equal((await create(a, { name: 'Many', settings: many(1_000) })).status, 200);
    const tooMany = await create(a, { name: 'Too many', settings: many(1_001) });
    assertError(tooMany, 400, 3000);
    assert.deepEqual(errorPaths(tooMany), ['body.settings']);
  });

  test("another organization's policy cannot be read or changed", async () => {
    const policy = (await create(a, { name: 'Mine', settings: [SETTINGS[0]] })).body.data;
    assertError(await put(b, policy.id, { settings: [] }), 404, 3001);
    assertError(await call(ctx.app, b.adminKey, { method: 'PUT', url: `${base(a)}/${policy.id}`, payload: { settings: [] } }), 404, 3001);
    assert.deepEqual((await call(ctx.app, a.adminKey, { method: 'GET', url: `${base(a)}/${policy.id}` })).body.data.settings, [SHOWN[0]]);
  });
});

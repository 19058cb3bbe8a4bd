import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { jsonShapeProblem, MAX_JSON_DEPTH, MAX_JSON_KEYS } from '../../src/plugins/json-body.ts';
import { assertError } from '../helpers/assertions.ts';
import { createDbProbe, type DbProbe } from '../helpers/db-probe.ts';
import { createMdmUser, createOrg, createPolicy, createVppLocation, type TestOrg } from '../helpers/factories.ts';
import { buildTestApp, call, type TestContext } from '../helpers/test-app.ts';
import { createToken, tokensPath } from '../helpers/tokens.ts';

let ctx: TestContext;
let a: TestOrg;
let probe: DbProbe;
let userId: string;
let appleTokenId: string;
let winPolicyId: string;
let admPolicyId: string;

before(async () => {
  ctx = await buildTestApp();
  a = await createOrg(ctx);
  probe = await createDbProbe(ctx.container.database);
  userId = (await createMdmUser(ctx, a.org)).id;
  appleTokenId = (await createToken(ctx, a.adminKey, a.org.id, 'apple', { mdmUserId: userId, sendEmail: false })).body.data.id;
  winPolicyId = (await createPolicy(ctx, a.org, 'windows')).id;
  admPolicyId = (await createPolicy(ctx, a.org, 'apple')).id;
  await createVppLocation(ctx, a.org);
});
after(() => ctx.close());

/** JSON text nested `levels` deep ({"a":{"a":...}}), written by hand: JSON.stringify itself overflows at a few thousand. */
const deepObject = (levels: number) => `${'{"a":'.repeat(levels - 1)}{}${'}'.repeat(levels - 1)}`;

const org = () => `/v1/organizations/${a.org.id}`;

/** Every free-form (jsonb) input of the API: the field, and a body around it. */
function freeFormCases(deep: string): Array<{ label: string; method: 'POST' | 'PUT'; url: string; body: string; path: string }> {
  const apple = tokensPath(a.org.id, 'apple');
  return [
    { label: 'Apple token configuration', method: 'POST', url: apple, body: `{"mdmUserId":"${userId}","sendEmail":false,"configuration":${deep}}`, path: 'body.configuration' },
    { label: 'Apple token profiles', method: 'POST', url: apple, body: `{"mdmUserId":"${userId}","sendEmail":false,"profiles":[${deep}]}`, path: 'body.profiles' },
    {
      label: 'Apple token application configuration',
      method: 'POST',
      url: apple,
      body: `{"mdmUserId":"${userId}","sendEmail":false,"applications":[{"admApplication":"${userId}","configuration":${deep}}]}`,
      path: 'body.applications',
    },
    { label: 'Apple bulk configuration', method: 'POST', url: `${apple}/bulk`, body: `{"userEmails":["deep@example.com"],"sendEmail":false,"configuration":${deep}}`, path: 'body.configuration' },
    { label: 'Apple token update configuration', method: 'PUT', url: `${apple}/${appleTokenId}`, body: `{"configuration":${deep}}`, path: 'body.configuration' },
    { label: 'Windows policy config (create)', method: 'POST', url: `${org()}/mdm/windows/enterprise/policies`, body: `{"name":"deep","config":${deep}}`, path: 'body.config' },
    { label: 'Windows policy config (update)', method: 'PUT', url: `${org()}/mdm/windows/enterprise/policies/${winPolicyId}`, body: `{"config":${deep}}`, path: 'body.config' },
    { label: 'Apple policy profiles', method: 'POST', url: `${org()}/mdm/apple/enterprise/policies`, body: `{"name":"deep","profiles":[${deep}]}`, path: 'body.profiles' },
    { label: 'Apple policy applications (update)', method: 'PUT', url: `${org()}/mdm/apple/enterprise/policies/${admPolicyId}`, body: `{"applications":[${deep}]}`, path: 'body.applications' },
    { label: 'MDM user (no free-form field at all)', method: 'POST', url: `${org()}/mdm/users`, body: `{"email":"deep@example.com","name":${deep}}`, path: 'body.name' },
  ];
}

describe('nesting limit of JSON bodies', () => {
  test('5,000 levels in any free-form field: 400 3000 naming the field, nothing stored (was 500 1000)', async () => {
    for (const c of freeFormCases(deepObject(5_000))) {
      const before = await probe.counts();
      const res = await call(ctx.app, a.adminKey, { method: c.method, url: c.url, headers: { 'content-type': 'application/json' }, payload: c.body });
      assertError(res, 400, 3000);
      assert.deepEqual(res.body.error.data.errors, [{ path: c.path, message: `is nested more than ${MAX_JSON_DEPTH} levels deep (the body is the first level)` }], c.label);
      assert.equal(res.body.error.requestId, res.headers['x-request-id']);
      assert.deepEqual(await probe.counts(), before, `${c.label}: nothing stored`);
    }
  });

  test(`exactly ${MAX_JSON_DEPTH} levels are stored and read back; one more is refused`, async () => {
    // The body is level 1, so the configuration may nest MAX_JSON_DEPTH - 1 levels.
    const fits = deepObject(MAX_JSON_DEPTH - 1);
    const created = await call(ctx.app, a.adminKey, {
      method: 'POST',
      url: tokensPath(a.org.id, 'apple'),
      headers: { 'content-type': 'application/json' },
      payload: `{"mdmUserId":"${userId}","sendEmail":false,"configuration":${fits}}`,
    });
    assert.equal(created.status, 200, JSON.stringify(created.body));
    const got = await call(ctx.app, a.adminKey, { method: 'GET', url: `${tokensPath(a.org.id, 'apple')}/${created.body.data.id}` });
    assert.equal(JSON.stringify(got.body.data.configuration), fits);

    const tooDeep = await call(ctx.app, a.adminKey, {
      method: 'POST',
      url: tokensPath(a.org.id, 'apple'),
      headers: { 'content-type': 'application/json' },
      payload: `{"mdmUserId":"${userId}","sendEmail":false,"configuration":${deepObject(MAX_JSON_DEPTH)}}`,
    });
    assertError(tooDeep, 400, 3000);
    assert.equal(tooDeep.body.error.data.errors[0].path, 'body.configuration');
  });

  test('a megabyte of [[[[ is refused at once, before JSON.parse walks it', async () => {
    const body = `${'['.repeat(500_000)}${']'.repeat(500_000)}`;
    const started = performance.now();
    const res = await call(ctx.app, a.adminKey, { method: 'POST', url: `${org()}/segments`, headers: { 'content-type': 'application/json' }, payload: body });
    const ms = performance.now() - started;
    assertError(res, 400, 3000);
    assert.deepEqual(res.body.error.data.errors.map((e: { path: string }) => e.path), ['body']);
    // JSON.parse alone takes about two seconds on this text.
    assert.ok(ms < 1_000, `answered in ${ms.toFixed(0)} ms`);
  });
});

describe('key limit of JSON bodies', () => {
  /** A create body with exactly `total` object keys: mdmUserId, sendEmail, configuration, and the rest inside it. */
  const withKeys = (total: number) => {
    const inner = Array.from({ length: total - 3 }, (_, i) => `"k${i}":${i}`).join(',');
    return `{"mdmUserId":"${userId}","sendEmail":false,"configuration":{${inner}}}`;
  };

  test(`${MAX_JSON_KEYS} keys are accepted; one more is 400 3000 naming the field that holds it`, async () => {
    const url = tokensPath(a.org.id, 'apple');
    const fits = await call(ctx.app, a.adminKey, { method: 'POST', url, headers: { 'content-type': 'application/json' }, payload: withKeys(MAX_JSON_KEYS) });
    assert.equal(fits.status, 200, JSON.stringify(fits.body).slice(0, 300));
    const before = await probe.counts();
    const over = await call(ctx.app, a.adminKey, { method: 'POST', url, headers: { 'content-type': 'application/json' }, payload: withKeys(MAX_JSON_KEYS + 1) });
    assertError(over, 400, 3000);
    assert.deepEqual(over.body.error.data.errors, [{ path: 'body.configuration', message: `makes the body hold more than ${MAX_JSON_KEYS} keys` }]);
    assert.deepEqual(await probe.counts(), before);
  });
});

describe('jsonShapeProblem', () => {
  test('brackets, colons and escaped quotes inside strings do not count', () => {
    const limits = { depth: 3, keys: 2 };
    assert.equal(jsonShapeProblem('{"a":"[[[[{{{{:::\\"[[[","b":["x"]}', limits), undefined);
    assert.equal(jsonShapeProblem('{"a\\"[":1}', limits), undefined);
  });

  test('names the top-level key, decoded, and the body for a deep root array', () => {
    const limits = { depth: 3, keys: 100 };
    assert.deepEqual(jsonShapeProblem('{"x":1,"caf\\u00e9":{"b":{"c":{}}}}', limits)?.path, 'body.café');
    assert.deepEqual(jsonShapeProblem('[[[[]]]]', limits)?.path, 'body');
    assert.equal(jsonShapeProblem('{"a":{"b":{}}}', limits), undefined);
    assert.deepEqual(jsonShapeProblem('{"a":1,"b":2,"c":3}', { depth: 10, keys: 2 })?.path, 'body');
  });

  test('malformed text is left to the parser', async () => {
    assert.equal(jsonShapeProblem('{"a":'), undefined);
    const res = await call(ctx.app, a.adminKey, { method: 'POST', url: `${org()}/segments`, headers: { 'content-type': 'application/json' }, payload: '{"name":' });
    assertError(res, 400, 3000);
    assert.deepEqual(res.body.error.data.errors, [{ path: 'body', message: 'is not valid JSON' }]);
  });
});

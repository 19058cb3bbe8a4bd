import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createMdmUser, createOrg, type TestOrg } from '../helpers/factories.ts';
import { buildTestApp, call, type Json, type TestContext } from '../helpers/test-app.ts';
import { tokensPath } from '../helpers/tokens.ts';

let ctx: TestContext;
let a: TestOrg;
before(async () => {
  ctx = await buildTestApp();
  a = await createOrg(ctx);
});
after(() => ctx.close());

test('every response that carries a key, an enrollment link or a code says Cache-Control: no-store (it said nothing)', async () => {
  const org = `/v1/organizations/${a.org.id}`;
  const user = await createMdmUser(ctx, a.org);
  const send = (method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: object) => call(ctx.app, a.adminKey, { method, url, ...(payload ? { payload } : {}) });
  const seen: Array<[string, Json]> = [];
  const check = async (label: string, res: Promise<Json>, carries: RegExp) => {
    const answer = await res;
    assert.equal(answer.status, 200, `${label}: ${JSON.stringify(answer.body).slice(0, 200)}`);
    assert.match(JSON.stringify(answer.body), carries, `${label} carries a secret`);
    seen.push([label, answer]);
    return answer;
  };

  await check('a new API key', send('POST', `${org}/api-keys`, { name: 'cache', role: 'viewer' }), /"key":"ork_/);
  for (const platform of ['windows', 'apple'] as const) {
    const base = tokensPath(a.org.id, platform);
    const created = await check(`${platform}: create`, send('POST', base, { mdmUserId: user.id, sendEmail: false }), /enrollCode/);
    const id = created.body.data.id;
    await check(`${platform}: list`, send('GET', base), /enrollmentLink/);
    await check(`${platform}: get`, send('GET', `${base}/${id}`), /enrollmentLink/);
    await check(`${platform}: update`, send('PUT', `${base}/${id}`, { displayName: 'x' }), /enrollmentLink/);
    await check(`${platform}: send-email`, send('POST', `${base}/${id}/send-email`), /enrollmentLink/);
    await check(`${platform}: revoke`, send('DELETE', `${base}/${id}`), /enrollmentLink/);
    await check(`${platform}: bulk`, send('POST', `${base}/bulk`, { userEmails: ['cache@example.com'], sendEmail: false }), /tokenId/);
  }
  const page = await ctx.app.inject({ method: 'GET', url: new URL(seen[1]![1].body.data.enrollmentLink).pathname });
  assert.equal(page.statusCode, 410, 'the page of the revoked token');
  seen.push(['the enrollment page', { status: page.statusCode, body: page.body, headers: page.headers }]);
  for (const [label, res] of seen) assert.equal(res.headers['cache-control'], 'no-store', label);

  // Errors, and everything else, too: nothing the API answers is for a cache.
  for (const url of [`${org}/api-keys`, '/v1/nothing', '/healthz']) {
    const res = await call(ctx.app, undefined, { method: 'GET', url });
    assert.equal(res.headers['cache-control'], 'no-store', url);
  }
});

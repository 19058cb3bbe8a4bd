import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createMdmUser, createOrg, unique, type TestOrg } from '../../helpers/factories.ts';
import { buildTestApp, type TestContext } from '../../helpers/test-app.ts';
import { createToken } from '../../helpers/tokens.ts';

let ctx: TestContext;
let tenant: TestOrg;

before(async () => {
  ctx = await buildTestApp();
  tenant = await createOrg(ctx);
});
after(() => ctx.close());

async function pageOf(platform: 'windows' | 'apple', language = 'en', email = `${unique('user')}@contoso.com`) {
  const user = await createMdmUser(ctx, tenant.org, { email });
  const token = await createToken(ctx, tenant.adminKey, tenant.org.id, platform, { mdmUserId: user.id, sendEmail: false, language });
  const res = await ctx.app.inject({ method: 'GET', url: new URL(token.body.data.enrollmentLink).pathname });
  assert.equal(res.statusCode, 200);
  return { html: res.body, code: token.body.data.enrollCode as string };
}

test('a Windows token’s page opens Windows enrollment with the email and the discovery URL, and says the code is the password', async () => {
  const { html, code } = await pageOf('windows', 'en', 'ana+laptop@contoso.com');
  const link = 'ms-device-enrollment:?mode=mdm&amp;username=ana%2Blaptop%40contoso.com&amp;servername=https%3A%2F%2Fmdm.example.test%2FEnrollmentServer%2FDiscovery.svc';
  assert.ok(html.includes(`class="button" href="${link}"`), html);
  assert.ok(html.includes(code));
  assert.ok(html.includes('On Windows, sign in as ana+laptop@contoso.com and type this code as the password.'));
  const es = await pageOf('windows', 'es');
  assert.ok(es.html.includes('escribe este código como contraseña'));
});

test('an Apple token’s page has no Windows link', async () => {
  const { html } = await pageOf('apple');
  assert.equal(html.includes('ms-device-enrollment:'), false);
});

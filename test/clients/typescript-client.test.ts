/**
 * The typed client of clients/typescript: its generated types match the committed openapi.json,
 * and its built package talks to a real server this test starts on 127.0.0.1.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { createOpenrollClient, type OpenrollClient } from '@openroll/client';
import { GENERATED_FILE, generateClientTypes } from '../../clients/typescript/scripts/generate.ts';
import { createOrg, createPolicy, type TestOrg } from '../helpers/factories.ts';
import { buildTestApp, type TestContext } from '../helpers/test-app.ts';

let ctx: TestContext;
let a: TestOrg;
let base: string;
let api: OpenrollClient;

before(async () => {
  ctx = await buildTestApp();
  a = await createOrg(ctx);
  base = await ctx.app.listen({ host: '127.0.0.1', port: 0 });
  api = createOpenrollClient({ baseUrl: base, apiKey: a.adminKey });
});
after(() => ctx.close());

test('src/openapi.ts is what openapi-typescript makes of openapi.json (run `npm run client:generate`)', async () => {
  assert.equal(readFileSync(GENERATED_FILE, 'utf8'), await generateClientTypes());
});

test('creates a user and a token, lists and gets it through the typed client', async () => {
  const organizationId = a.org.slug;
  const policy = await createPolicy(ctx, a.org, 'windows');
  const user = await api.POST('/v1/organizations/{organizationId}/mdm/users', {
    params: { path: { organizationId } },
    body: { email: 'client-test@example.com', name: 'Client Test', language: 'es' },
  });
  assert.ok(user.data, JSON.stringify(user.error));
  const created = await api.POST('/v1/organizations/{organizationId}/mdm/windows/enterprise/enrollment-tokens', {
    params: { path: { organizationId } },
    body: { mdmUserId: user.data.data.id, sendEmail: false, displayName: 'Typed laptop', winPolicyAssignments: [{ winPolicyId: policy.id, priority: 5 }] },
  });
  assert.ok(created.data, JSON.stringify(created.error));
  const token = created.data.data;
  assert.equal(token.state, 'PENDING');

  const list = await api.GET('/v1/organizations/{organizationId}/mdm/windows/enterprise/enrollment-tokens', {
    params: { path: { organizationId }, query: { 'mdm-user': user.data.data.id, 'win-policy': policy.id, sort: 'displayName:asc' } },
  });
  assert.ok(list.data, JSON.stringify(list.error));
  assert.equal(list.data.data.totalDocs, 1);
  assert.deepEqual(list.data.data.items.map((t) => t.id), [token.id]);

  const got = await api.GET('/v1/organizations/{organizationId}/mdm/windows/enterprise/enrollment-tokens/{id}', {
    params: { path: { organizationId, id: token.id } },
  });
  assert.ok(got.data, JSON.stringify(got.error));
  assert.equal(got.data.data.displayName, 'Typed laptop');
  assert.equal(got.data.data.winPolicyId, policy.id);
  assert.equal(got.data.data.enrollmentLink, token.enrollmentLink);
});

test('errors come back as the typed envelope, not as exceptions', async () => {
  const missing = await api.GET('/v1/organizations/{organizationId}/mdm/windows/enterprise/enrollment-tokens/{id}', {
    params: { path: { organizationId: a.org.id, id: '0'.repeat(24) } },
  });
  assert.equal(missing.response.status, 404);
  assert.equal(missing.error?.error.code, 3001);

  const anonymous = createOpenrollClient({ baseUrl: base });
  const refused = await anonymous.GET('/v1/organizations/{organizationId}/api-keys', { params: { path: { organizationId: a.org.id } } });
  assert.equal(refused.response.status, 401);
  assert.equal(refused.error?.error.code, 4002);

  const invalid = await api.POST('/v1/organizations/{organizationId}/mdm/users', {
    params: { path: { organizationId: a.org.id } },
    body: { email: 'not an email' },
  });
  assert.equal(invalid.response.status, 400);
  assert.equal(invalid.error?.error.code, 3000);
  assert.ok((invalid.error?.error.data?.errors as unknown[] | undefined)?.length);
});

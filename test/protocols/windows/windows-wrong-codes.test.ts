/**
 * Wrong Windows enrollment codes are limited per user (the email the device sends) and by a much
 * larger per-address budget (src/protocols/windows/wrong-code-limit.ts), so a whole office
 * behind one NAT is not refused for one user's typos (issue 21, item 1). Real MS-MDE2 messages
 * (the captured ones in test/fixtures/windows) through inject; addresses are the
 * `remoteAddress` inject claims.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { createDeviceAuthLimit } from '../../../src/limits/device-auth-limit.ts';
import { windowsRoutes } from '../../../src/protocols/windows/windows.routes.ts';
import { WRONG_CODE_WINDOW_MS, WRONG_CODES_PER_ADDRESS, WRONG_CODES_PER_USER } from '../../../src/protocols/windows/wrong-code-limit.ts';
import { createMdmUser, createOrg, type TestOrg } from '../../helpers/factories.ts';
import { buildTestApp, call, type TestContext } from '../../helpers/test-app.ts';
import { createToken, tokensPath } from '../../helpers/tokens.ts';
import { faultSubcode, getPoliciesBody, makeCsr, requestSecurityTokenBody } from '../../helpers/windows-device.ts';

let ctx: TestContext;
let tenant: TestOrg;
const SOAP = { 'content-type': 'application/soap+xml; charset=utf-8' };
const POLICY = '/EnrollmentServer/Policy.svc';
const ENROLLMENT = '/EnrollmentServer/Enrollment.svc';

before(async () => {
  ctx = await buildTestApp();
  tenant = await createOrg(ctx);
});
after(() => ctx.close());

async function newToken() {
  const user = await createMdmUser(ctx, tenant.org);
  const res = await createToken(ctx, tenant.adminKey, tenant.org.id, 'windows', { mdmUserId: user.id, sendEmail: false });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return { id: res.body.data.id as string, code: res.body.data.enrollCode as string, email: user.email };
}
const state = async (id: string) => (await call(ctx.app, tenant.adminKey, { method: 'GET', url: `${tokensPath(tenant.org.id, 'windows')}/${id}` })).body.data.state;

let addresses = 0;
const address = () => `100.64.${Math.floor(++addresses / 250)}.${(addresses % 250) + 1}`;
const post = (app: FastifyInstance, url: string, payload: string, remoteAddress: string) => app.inject({ method: 'POST', url, payload, headers: SOAP, remoteAddress });
const wrongCode = () => `WRONG${randomBytes(4).toString('hex').toUpperCase()}`;

describe('wrong enrollment codes, per user and per address', () => {
  test('the numbers: 10 per user and 1,000 per address in 10 minutes', () => {
    assert.deepEqual([WRONG_CODES_PER_USER, WRONG_CODES_PER_ADDRESS, WRONG_CODE_WINDOW_MS], [10, 1_000, 600_000]);
  });

  test("wrong codes for one user, then another user's correct enrollment from the same address succeeds (it was refused for 10 minutes)", async () => {
    const typist = await newToken();
    const colleague = await newToken();
    const office = address();
    for (let i = 0; i < 25; i++) assert.equal(faultSubcode((await post(ctx.app, POLICY, getPoliciesBody(typist.email, wrongCode()), office)).body), 's:Authentication');
    const held = await post(ctx.app, POLICY, getPoliciesBody(typist.email, typist.code), office);
    assert.equal(faultSubcode(held.body), 's:Authentication', 'the user who sent them waits, even with the right code');
    assert.match(held.body, /Too many wrong codes for this user/);

    const policies = await post(ctx.app, POLICY, getPoliciesBody(colleague.email, colleague.code), office);
    assert.equal(faultSubcode(policies.body), undefined, policies.body);
    const enrolled = await post(ctx.app, ENROLLMENT, requestSecurityTokenBody({ email: colleague.email, code: colleague.code, csr: await makeCsr(), deviceId: 'D0000000-0000-4000-8000-00000000C011' }), office);
    assert.equal(enrolled.statusCode, 200, enrolled.body);
    assert.equal(faultSubcode(enrolled.body), undefined, enrolled.body);
    assert.equal(await state(colleague.id), 'DONE');
    assert.equal(await state(typist.id), 'PENDING');
  });

  test("one user's wrong codes past the per-user limit are refused even from different addresses, the right code too", async () => {
    const target = await newToken();
    const sent: Array<string | undefined> = [];
    for (let i = 0; i < WRONG_CODES_PER_USER + 2; i++) sent.push(faultSubcode((await post(ctx.app, POLICY, getPoliciesBody(target.email, wrongCode()), address())).body));
    assert.deepEqual(sent, Array(WRONG_CODES_PER_USER + 2).fill('s:Authentication'));
    // The email in another case and with spaces is the same user.
    for (const email of [target.email, ` ${target.email.toUpperCase()} `]) {
      const res = await post(ctx.app, ENROLLMENT, requestSecurityTokenBody({ email, code: target.code, csr: await makeCsr() }), address());
      assert.equal(faultSubcode(res.body), 's:Authentication', res.body);
      assert.match(res.body, /Too many wrong codes for this user/);
    }
    assert.equal(await state(target.id), 'PENDING');
  });

  test('the per-address budget: past it the address is refused for every user, another address is not', async () => {
    // The real plugin and services with small budgets, so the test need not send 1,000 messages.
    const app = Fastify();
    await app.register(windowsRoutes, {
      enrollment: ctx.container.windowsEnrollment,
      management: ctx.container.windowsManagement,
      bodyLimit: 512 * 1024,
      wrongCodeLimit: { perUser: 3, perAddress: 8, timeWindowMs: 60_000 },
      counters: ctx.container.rateLimits,
      certificateOf: () => 'none',
      deviceAuthLimit: createDeviceAuthLimit({ counters: ctx.container.rateLimits, max: 30, timeWindowMs: 600_000 }),
    });
    try {
      const nat = address();
      const results: Array<string | undefined> = [];
      for (let i = 0; i < 8; i++) results.push(faultSubcode((await post(app, POLICY, getPoliciesBody(`user${i}-${randomBytes(3).toString('hex')}@contoso.com`, wrongCode()), nat)).body));
      assert.deepEqual(results, Array(8).fill('s:Authentication'));
      const token = await newToken();
      const refused = await post(app, POLICY, getPoliciesBody(token.email, token.code), nat);
      assert.equal(faultSubcode(refused.body), 's:Authentication');
      assert.match(refused.body, /Too many wrong codes from this network/);
      const elsewhere = await post(app, POLICY, getPoliciesBody(token.email, token.code), address());
      assert.equal(faultSubcode(elsewhere.body), undefined, elsewhere.body);
    } finally {
      await app.close();
    }
  });
});

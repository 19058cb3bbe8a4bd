import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CODE_ALPHABET } from '../../../src/lib/secrets.ts';
import { seedSampleBody } from '../../helpers/fixtures.ts';
import { createMdmUser, createOrg, createPolicy, createSegment, createVppLocation, type TestOrg } from '../../helpers/factories.ts';
import { buildTestApp, call, type TestContext } from '../../helpers/test-app.ts';
import { APPLE_TOKEN_KEYS, WINDOWS_TOKEN_KEYS, createToken, errorPaths, tokensPath } from '../../helpers/tokens.ts';

let ctx: TestContext;
let a: TestOrg;
let user: { id: string; email: string };
before(async () => {
  ctx = await buildTestApp();
  a = await createOrg(ctx);
  user = await createMdmUser(ctx, a.org, { language: 'fr' });
});
after(() => ctx.close());

describe('create: shapes', () => {
  test('Windows: exactly the keys of the seed, with nulls for unset references', async () => {
    const res = await createToken(ctx, a.adminKey, a.org.id, 'windows', { mdmUserId: user.id, sendEmail: false });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.status, true);
    const t = res.body.data;
    assert.deepEqual(Object.keys(t), WINDOWS_TOKEN_KEYS);
    assert.equal(t.organizationId, a.org.id);
    assert.match(t.winEnterpriseId, /^[0-9a-f]{24}$/);
    assert.equal(t.winDeviceId, null);
    assert.deepEqual(t.mdmUser, { id: user.id, email: user.email });
    assert.equal(t.state, 'PENDING');
    assert.equal(t.type, 'enrollment');
    assert.equal(t.subType, 'standard');
    assert.deepEqual(t.config, {});
    assert.equal(t.displayName, '');
    assert.deepEqual(t.tags, []);
    assert.equal(t.winPolicyId, null);
    assert.deepEqual(t.winPolicyAssignments, []);
    assert.equal(t.segmentId, null);
    assert.equal(t.sendEmail, false);
    assert.equal(t.emailText, '');
    assert.equal(t.createdAt, ctx.clock.now().toISOString());
    assert.equal(t.expireAt, new Date(ctx.clock.now().getTime() + 86_400_000).toISOString(), 'duration defaults to one day');
    assert.equal(t.summary.expirationTimestamp, t.expireAt);
    const secret = t.enrollmentLink.slice(`${ctx.config.publicUrl}/enroll/`.length);
    assert.ok(t.enrollmentLink.startsWith(`${ctx.config.publicUrl}/enroll/`));
    assert.match(secret, /^[A-Za-z0-9_-]{43}$/, '256 bits of secret');
    assert.ok(t.enrollmentLink.length <= 500);
    assert.equal(t.enrollCode.length, 10);
    for (const ch of t.enrollCode) assert.ok(CODE_ALPHABET.includes(ch), ch);
    const got = await call(ctx.app, a.adminKey, { method: 'GET', url: `${tokensPath(a.org.slug, 'windows')}/${t.id}` });
    assert.deepEqual(got.body.data, t);
  });

  test('Apple: exactly the keys of the seed', async () => {
    const vpp = await createVppLocation(ctx, a.org);
    const res = await createToken(ctx, a.adminKey, a.org.id, 'apple', {
      mdmUserId: user.id,
      sendEmail: 'TRUE',
      admVppLocationId: vpp.id.toUpperCase(),
      configuration: { skipPersonalInfo: true },
      applications: [{ admApplication: '698f42e5457fafa13d088794', managed: true, vpp: true, iOSApp: true, action: 'forceInstall', configuration: {} }],
      profiles: [{ name: 'Wi-Fi' }],
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const t = res.body.data;
    assert.deepEqual(Object.keys(t), APPLE_TOKEN_KEYS);
    assert.equal(t.organization, a.org.id);
    assert.equal(t.admDevice, null);
    assert.equal(t.type, 'user');
    assert.equal(t.sendEmail, true, '"TRUE" is a boolean, as Joi insensitive');
    assert.equal(t.admPolicy, null);
    assert.deepEqual(t.admVppLocation, { id: vpp.id, name: vpp.name, config: vpp.config });
    assert.deepEqual(t.configuration, { skipPersonalInfo: true });
    assert.equal(t.applications[0].admApplication, '698f42e5457fafa13d088794');
    assert.deepEqual(t.profiles, [{ name: 'Wi-Fi' }]);
    assert.equal(typeof t.enroll.mobileConfigSigned, 'boolean');
    assert.match(t.enroll.serverExpirationDate, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.equal(t.summary.email.status, 'pending', 'the email is queued with the token');
  });

  test('policies: the legacy id is one assignment at priority 0; winPolicyId is the highest precedence; policies are embedded', async () => {
    const p1 = await createPolicy(ctx, a.org, 'windows', 'Corporate Security Policy');
    const p2 = await createPolicy(ctx, a.org, 'windows');
    const res = await createToken(ctx, a.adminKey, a.org.id, 'windows', {
      mdmUserId: user.id,
      sendEmail: false,
      winPolicyId: p2.id,
      winPolicyAssignments: [{ winPolicyId: p1.id, priority: 100 }],
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const t = res.body.data;
    assert.equal(t.winPolicyId, p2.id);
    assert.deepEqual(t.winPolicyAssignments.map((x: { winPolicyId: string; priority: number }) => [x.winPolicyId, x.priority]), [[p2.id, 0], [p1.id, 100]]);
    assert.equal(t.winPolicyAssignments[1].winPolicy.name, 'Corporate Security Policy');
    assert.equal(t.winPolicyAssignments[1].winPolicy.id, p1.id);

    const only = await createToken(ctx, a.adminKey, a.org.id, 'windows', {
      mdmUserId: user.id,
      sendEmail: false,
      winPolicyAssignments: [{ winPolicyId: p1.id, priority: 10000 }, { winPolicyId: p2.id, priority: 0 }],
    });
    assert.equal(only.body.data.winPolicyId, p2.id, 'lowest priority number wins');
  });

  test('language: the body, else the user, else the organization', async () => {
    const plain = await createMdmUser(ctx, a.org);
    for (const [body, expected] of [[{ language: 'de' }, 'de'], [{}, 'fr']] as const) {
      const res = await createToken(ctx, a.adminKey, a.org.id, 'windows', { mdmUserId: user.id, sendEmail: false, ...body });
      assert.equal(res.status, 200);
      const stored = await ctx.container.database.db.query.enrollmentTokens.findFirst({ where: (t, { eq }) => eq(t.id, res.body.data.id) });
      assert.equal(stored!.language, expected);
    }
    const res = await createToken(ctx, a.adminKey, a.org.id, 'windows', { mdmUserId: plain.id, sendEmail: false });
    const stored = await ctx.container.database.db.query.enrollmentTokens.findFirst({ where: (t, { eq }) => eq(t.id, res.body.data.id) });
    assert.equal(stored!.language, 'en');
  });
});

describe('create: validation mirrors the vendor Joi rules', () => {
  const create = (body: Record<string, unknown>) => createToken(ctx, a.adminKey, a.org.id, 'windows', { mdmUserId: user.id, sendEmail: false, ...body });
  const expectValid = async (body: Record<string, unknown>) => assert.equal((await create(body)).status, 200, JSON.stringify(body));
  const expectInvalid = async (body: Record<string, unknown>, path: string) => {
    const res = await create(body);
    assert.equal(res.status, 400, JSON.stringify(body));
    assert.equal(res.body.error.code, 3000);
    assert.ok(errorPaths(res).includes(path), `${path} in ${errorPaths(res)}`);
  };

  test('the seed pages literal sample bodies get a 400 naming sendEmail and the unknown keys', async () => {
    for (const [sample, platform] of [['002-create-windows-token', 'windows'], ['003-create-windows-token-older-page', 'windows']] as const) {
      const res = await createToken(ctx, a.adminKey, a.org.id, platform, seedSampleBody(sample));
      assert.equal(res.status, 400);
      assert.equal(res.body.error.code, 3000);
      const paths = errorPaths(res);
      for (const p of ['body.sendEmail', 'body.type', 'body.children']) assert.ok(paths.includes(p), `${p} in ${paths}`);
    }
  });

  test('sendEmail: required; "true"/"false" in any case; nothing else', async () => {
    const missing = await createToken(ctx, a.adminKey, a.org.id, 'windows', { mdmUserId: user.id });
    assert.deepEqual(errorPaths(missing), ['body.sendEmail']);
    for (const v of [true, false, 'true', 'FALSE', 'True']) await expectValid({ sendEmail: v });
    for (const v of ['yes', 1, null, '']) await expectInvalid({ sendEmail: v }, 'body.sendEmail');
  });

  test('duration: integer seconds from 60 to 2592000', async () => {
    for (const d of [60, 2_592_000]) await expectValid({ duration: d });
    for (const d of [59, 2_592_001, 60.5, '3600', null]) await expectInvalid({ duration: d }, 'body.duration');
    const res = await create({ duration: 60 });
    assert.equal(new Date(res.body.data.expireAt).getTime() - ctx.clock.now().getTime(), 60_000);
  });

  test('displayName and each tag: at most 128 characters; empty allowed', async () => {
    await expectValid({ displayName: 'x'.repeat(128), tags: ['y'.repeat(128), ''] });
    await expectValid({ displayName: '' });
    await expectInvalid({ displayName: 'x'.repeat(129) }, 'body.displayName');
    await expectInvalid({ tags: ['ok', 'y'.repeat(129)] }, 'body.tags.1');
    await expectInvalid({ tags: 'solo' }, 'body.tags');
  });

  test('language from the supported list', async () => {
    for (const l of ['en', 'es', 'fr', 'de', 'it', 'pt']) await expectValid({ language: l });
    for (const l of ['xx', 'EN', '']) await expectInvalid({ language: l }, 'body.language');
  });

  test('ids match ^[a-fA-F0-9]{24}$, in either case', async () => {
    await expectInvalid({ mdmUserId: 'not-an-id' }, 'body.mdmUserId');
    await expectInvalid({ winPolicyId: '698efa6ed851667d9c0aec8' }, 'body.winPolicyId');
    const res = await create({ mdmUserId: user.id.toUpperCase() });
    assert.equal(res.status, 200);
    assert.equal(res.body.data.mdmUser.id, user.id);
  });

  test('assignment priorities are required integers from 0 to 10000; a policy at most once', async () => {
    const p = await createPolicy(ctx, a.org, 'windows');
    await expectValid({ winPolicyAssignments: [{ winPolicyId: p.id, priority: 0 }] });
    await expectValid({ winPolicyAssignments: [{ winPolicyId: p.id, priority: 10_000 }] });
    await expectInvalid({ winPolicyAssignments: [{ winPolicyId: p.id, priority: -1 }] }, 'body.winPolicyAssignments.0.priority');
    await expectInvalid({ winPolicyAssignments: [{ winPolicyId: p.id, priority: 10_001 }] }, 'body.winPolicyAssignments.0.priority');
    await expectInvalid({ winPolicyAssignments: [{ winPolicyId: p.id }] }, 'body.winPolicyAssignments.0.priority');
    await expectInvalid({ winPolicyAssignments: [{ winPolicyId: p.id, priority: 1, extra: true }] }, 'body.winPolicyAssignments.0.extra');
    await expectInvalid(
      { winPolicyAssignments: [{ winPolicyId: p.id, priority: 1 }, { winPolicyId: p.id.toUpperCase(), priority: 2 }] },
      'body.winPolicyAssignments.1.winPolicyId',
    );
  });

  test('segmentId is an integer from 0; unknown keys are rejected; Apple-only fields are unknown on Windows', async () => {
    await expectInvalid({ segmentId: -1 }, 'body.segmentId');
    await expectInvalid({ segmentId: 'one' }, 'body.segmentId');
    await expectInvalid({ color: 'red' }, 'body.color');
    await expectInvalid({ admVppLocationId: user.id }, 'body.admVppLocationId');
  });

  test('every failing field is listed in one 400', async () => {
    const res = await createToken(ctx, a.adminKey, a.org.id, 'windows', { mdmUserId: 'x', duration: 1, displayName: 'x'.repeat(200), language: 'xx', extra: 1 });
    assert.equal(res.status, 400);
    assert.deepEqual(errorPaths(res), ['body.displayName', 'body.duration', 'body.extra', 'body.language', 'body.mdmUserId', 'body.sendEmail']);
  });
});

describe('create: references, plans, idempotency', () => {
  test('a referenced id that is not a live entity of the organization: 404 3001', async () => {
    const b = await createOrg(ctx);
    const bUser = await createMdmUser(ctx, b.org);
    const bPolicy = await createPolicy(ctx, b.org, 'windows');
    const applePolicy = await createPolicy(ctx, a.org, 'apple');
    const bSegment = await createSegment(ctx, b.org);
    const bVpp = await createVppLocation(ctx, b.org);
    const cases: Array<['windows' | 'apple', Record<string, unknown>]> = [
      ['windows', { mdmUserId: '0123456789abcdef01234567' }],
      ['windows', { mdmUserId: bUser.id }],
      ['windows', { mdmUserId: user.id, winPolicyId: bPolicy.id }],
      ['windows', { mdmUserId: user.id, winPolicyAssignments: [{ winPolicyId: applePolicy.id, priority: 1 }] }],
      ['windows', { mdmUserId: user.id, segmentId: bSegment.id }],
      ['apple', { mdmUserId: user.id, admVppLocationId: bVpp.id }],
    ];
    for (const [platform, body] of cases) {
      const res = await createToken(ctx, a.adminKey, a.org.id, platform, { sendEmail: false, ...body });
      assert.equal(res.status, 404, JSON.stringify(body));
      assert.equal(res.body.error.code, 3001);
    }
    const segment = await createSegment(ctx, a.org);
    const ok = await createToken(ctx, a.adminKey, a.org.id, 'windows', { mdmUserId: user.id, sendEmail: false, segmentId: segment.id });
    assert.equal(ok.body.data.segmentId, segment.id);
  });

  test('a plan without the platform: 400 5050; past the cap of open tokens: 400 5017', async () => {
    const free = await createOrg(ctx, { plan: 'free' });
    const freeUser = await createMdmUser(ctx, free.org);
    const apple = await createToken(ctx, free.adminKey, free.org.id, 'apple', { mdmUserId: freeUser.id, sendEmail: false });
    assert.equal(apple.status, 400);
    assert.equal(apple.body.error.code, 5050);
    assert.equal(apple.body.error.message, 'Feature not allowed for you billing plan');
    const cap = free.org.planMaxOpenTokens!;
    for (let i = 0; i < cap; i++) {
      const res = await createToken(ctx, free.adminKey, free.org.id, 'windows', { mdmUserId: freeUser.id, sendEmail: false, duration: 60 });
      assert.equal(res.status, 200);
    }
    const over = await createToken(ctx, free.adminKey, free.org.id, 'windows', { mdmUserId: freeUser.id, sendEmail: false });
    assert.equal(over.status, 400);
    assert.equal(over.body.error.code, 5017);
    ctx.clock.advance(60_000);
    const afterExpiry = await createToken(ctx, free.adminKey, free.org.id, 'windows', { mdmUserId: freeUser.id, sendEmail: false });
    assert.equal(afterExpiry.status, 200, 'expired tokens are not open: they do not count');
  });

  test('Idempotency-Key: a retry returns the first answer and creates nothing; another body is 409 5001', async () => {
    const org = await createOrg(ctx);
    const u = await createMdmUser(ctx, org.org);
    const headers = { 'idempotency-key': 'create-1' };
    const first = await createToken(ctx, org.adminKey, org.org.id, 'windows', { mdmUserId: u.id, sendEmail: true }, headers);
    ctx.clock.advance(1000);
    const retry = await createToken(ctx, org.adminKey, org.org.id, 'windows', { sendEmail: true, mdmUserId: u.id }, headers);
    assert.equal(retry.status, 200);
    assert.deepEqual(retry.body, first.body);
    const list = await call(ctx.app, org.adminKey, { method: 'GET', url: tokensPath(org.org.id, 'windows') });
    assert.equal(list.body.data.totalDocs, 1);
    const conflict = await createToken(ctx, org.adminKey, org.org.id, 'windows', { mdmUserId: u.id, sendEmail: false }, headers);
    assert.equal(conflict.status, 409);
    assert.equal(conflict.body.error.code, 5001);
    const otherPlatform = await createToken(ctx, org.adminKey, org.org.id, 'apple', { mdmUserId: u.id, sendEmail: true }, headers);
    assert.equal(otherPlatform.status, 200, 'a key is scoped to its route');
    const badKey = await createToken(ctx, org.adminKey, org.org.id, 'windows', { mdmUserId: u.id, sendEmail: true }, { 'idempotency-key': 'a b' });
    assert.equal(badKey.body.error.code, 3000);
  });
});

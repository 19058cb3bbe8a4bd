import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { MESSAGES } from '../../src/mail/i18n.ts';
import { createMdmUser, createOrg, type TestOrg } from '../helpers/factories.ts';
import { buildTestApp, call, type TestContext } from '../helpers/test-app.ts';
import { createToken, tokensPath } from '../helpers/tokens.ts';

let ctx: TestContext;
let a: TestOrg;
let userId: string;
before(async () => {
  ctx = await buildTestApp();
  a = await createOrg(ctx);
  userId = (await createMdmUser(ctx, a.org)).id;
});
after(() => ctx.close());

async function newToken(language: string, platform: 'windows' | 'apple' = 'windows') {
  const res = await createToken(ctx, a.adminKey, a.org.id, platform, { mdmUserId: userId, sendEmail: false, language, duration: 60, displayName: 'Laptop' });
  const path = new URL(res.body.data.enrollmentLink).pathname;
  return { token: res.body.data, path };
}

const page = (path: string, remoteAddress = '127.0.0.1') => ctx.app.inject({ method: 'GET', url: path, remoteAddress });

describe('the page behind an enrollment link', () => {
  test('/favicon.ico is the icon, an ICO whose images are PNGs, that anyone may cache', async () => {
    const res = await ctx.app.inject({ method: 'GET', url: '/favicon.ico' });
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['content-type'], 'image/x-icon');
    assert.equal(res.headers['cache-control'], 'public, max-age=86400');
    const ico = res.rawPayload;
    // ICONDIR: reserved 0, type 1 (icon), then the count of images; each entry points at a PNG.
    assert.deepEqual([ico.readUInt16LE(0), ico.readUInt16LE(2)], [0, 1]);
    const count = ico.readUInt16LE(4);
    assert.ok(count >= 1);
    for (let i = 0; i < count; i++) {
      const offset = ico.readUInt32LE(6 + 16 * i + 12);
      assert.equal(ico.subarray(offset, offset + 8).toString('hex'), '89504e470d0a1a0a', `image ${i} is a PNG`);
    }
  });

  test('a PENDING token: the steps and the code, in its language, never cached', async () => {
    for (const language of ['en', 'es', 'fr', 'de', 'it', 'pt'] as const) {
      const { token, path } = await newToken(language, language === 'fr' ? 'apple' : 'windows');
      const res = await page(path);
      assert.equal(res.statusCode, 200);
      assert.match(String(res.headers['content-type']), /^text\/html; charset=utf-8/);
      assert.equal(res.headers['cache-control'], 'no-store');
      assert.equal(res.headers['referrer-policy'], 'no-referrer');
      assert.match(res.body, new RegExp(`<html lang="${MESSAGES[language].htmlLang}"`));
      assert.ok(res.body.includes(token.enrollCode));
      assert.ok(res.body.includes('Test organization'));
      assert.ok(res.body.includes(MESSAGES[language].title));
    }
  });

  test('expired, used and revoked tokens say which, in the token language', async () => {
    const expired = await newToken('es');
    ctx.clock.advance(60_000);
    const e = await page(expired.path);
    assert.equal(e.statusCode, 410);
    assert.ok(e.body.includes(MESSAGES.es.expired));
    assert.equal(e.body.includes(expired.token.enrollCode), false, 'no code for a token that cannot enroll');

    const used = await newToken('de');
    await ctx.container.tokenLifecycle.redeem(a.org.id, 'windows', used.token.id, 'abcdefabcdefabcdefabcdef');
    const u = await page(used.path);
    assert.equal(u.statusCode, 410);
    assert.ok(u.body.includes(MESSAGES.de.used));

    const revoked = await newToken('pt');
    await call(ctx.app, a.adminKey, { method: 'DELETE', url: `${tokensPath(a.org.id, 'windows')}/${revoked.token.id}` });
    const r = await page(revoked.path);
    assert.equal(r.statusCode, 410);
    assert.ok(r.body.includes(MESSAGES.pt.revoked));
  });

  test('an unknown or malformed link: a 404 page that reveals nothing', async () => {
    for (const path of ['/enroll/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', '/enroll/short', "/enroll/'%20or%201=1--"]) {
      const res = await page(path, '10.0.0.9');
      assert.equal(res.statusCode, 404, path);
      assert.match(String(res.headers['content-type']), /^text\/html/);
      assert.equal(res.body.includes('Test organization'), false);
    }
  });

  test('wrong links are rate-limited per client; other clients and real links are not', async () => {
    const wrong = '/enroll/BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB';
    for (let i = 0; i < 20; i++) assert.equal((await page(wrong, '10.0.0.1')).statusCode, 404);
    const limited = await page(wrong, '10.0.0.1');
    assert.equal(limited.statusCode, 429);
    assert.ok(Number(limited.headers['retry-after']) > 0);
    assert.equal((await page(wrong, '10.0.0.2')).statusCode, 404, 'another client is not limited');
    const { path } = await newToken('en');
    assert.equal((await page(path, '10.0.0.1')).statusCode, 200, 'a real link still opens');
  });
});

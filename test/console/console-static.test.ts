/**
 * The console's files over HTTP: index.html for /console and every path under it, hashed assets
 * cached for good, a CSP that allows the console's own files and nothing else, and no inline
 * script or style anywhere in what the build emitted.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { CONSOLE_DIST_DIR } from '../../src/console/console.plugin.ts';
import { CONSOLE_CSP } from '../../src/console/console-static.routes.ts';
import { buildTestApp, type TestContext } from '../helpers/test-app.ts';

let ctx: TestContext;
before(async () => {
  ctx = await buildTestApp();
});
after(() => ctx.close());

const built = existsSync(path.join(CONSOLE_DIST_DIR, 'index.html'));

function csp(header: string | string[] | number | undefined): Map<string, string[]> {
  return new Map(
    String(header)
      .split(';')
      .map((d) => d.trim().split(/\s+/))
      .map(([name, ...sources]) => [name!, sources]),
  );
}

test('the console is built by npm ci (console/dist exists)', () => {
  assert.ok(built, 'run `npm run console:build`');
});

test('/console, /console/ and deep links answer index.html under the console CSP', { skip: !built }, async () => {
  for (const url of ['/console', '/console/', '/console/tokens/windows', '/console/tokens/apple/0123456789abcdef01234567', '/console/api-keys?x=1']) {
    const res = await ctx.app.inject({ method: 'GET', url });
    assert.equal(res.statusCode, 200, url);
    assert.match(String(res.headers['content-type']), /^text\/html/, url);
    assert.equal(res.headers['cache-control'], 'no-cache', url);
    assert.equal(res.headers['content-security-policy'], CONSOLE_CSP, url);
    assert.equal(res.headers['x-frame-options'], 'DENY', url);
    assert.match(res.body, /<script type="module" crossorigin src="\/console\/assets\/index-[\w-]+\.js"><\/script>/);
  }
  const policy = csp(CONSOLE_CSP);
  assert.deepEqual(policy.get('default-src'), ["'none'"]);
  assert.deepEqual(policy.get('script-src'), ["'self'"]);
  assert.deepEqual(policy.get('style-src'), ["'self'"]);
  assert.deepEqual(policy.get('connect-src'), ["'self'"]);
  assert.deepEqual(policy.get('frame-ancestors'), ["'none'"]);
  assert.ok(!CONSOLE_CSP.includes('unsafe'), 'no unsafe-inline or unsafe-eval');
});

test('the built files carry no inline script, inline style or event handler attribute', { skip: !built }, () => {
  const html = readFileSync(path.join(CONSOLE_DIST_DIR, 'index.html'), 'utf8');
  assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/, 'every script has a src');
  assert.doesNotMatch(html, /<style|\sstyle=|\son\w+=/i);
  const assets = readdirSync(path.join(CONSOLE_DIST_DIR, 'assets'));
  assert.ok(assets.some((f) => f.endsWith('.js')) && assets.some((f) => f.endsWith('.css')));
});

test('assets are served with a long cache; unknown ones and unknown console API paths are 404s', { skip: !built }, async () => {
  const script = readdirSync(path.join(CONSOLE_DIST_DIR, 'assets')).find((f) => f.endsWith('.js'))!;
  const res = await ctx.app.inject({ method: 'GET', url: `/console/assets/${script}` });
  assert.equal(res.statusCode, 200);
  assert.match(String(res.headers['content-type']), /javascript/);
  assert.match(String(res.headers['cache-control']), /max-age=31536000.*immutable|immutable.*max-age=31536000/);
  assert.equal((await ctx.app.inject({ method: 'GET', url: '/console/assets/nope.js' })).statusCode, 404);
  assert.equal((await ctx.app.inject({ method: 'GET', url: '/console/assets/../../package.json' })).statusCode, 404);
  const api = await ctx.app.inject({ method: 'GET', url: '/console/api/nothing' });
  assert.equal(api.statusCode, 404);
  assert.equal(api.json().error.code, 1002);
});

test('the console routes and its session API stay out of the OpenAPI document', async () => {
  await ctx.app.ready();
  const doc = ctx.app.swagger() as { paths: Record<string, unknown> };
  assert.deepEqual(Object.keys(doc.paths).filter((p) => p.startsWith('/console')), []);
});

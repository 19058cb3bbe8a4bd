/**
 * The admin console in a real browser: Debian's headless Chromium driven by playwright-core,
 * against a server this test starts on 127.0.0.1. It signs in with an admin key, finds a token
 * the API made, opens it (QR code, trail), creates a token and a bulk through the forms and reads
 * them back through the API, revokes one, and signs in with a viewer key to find no write
 * controls; at 1440 and 390 CSS px, in English and Spanish, with no CSP violation on the way.
 *
 * `npm run test:browser` runs it (it needs console/dist: npm ci builds it). Screenshots go to
 * `$OPENROLL_ARTIFACTS_DIR` (default `artifacts/`) as `console-*.png`. Without /usr/bin/chromium
 * the test is skipped, unless OPENROLL_REQUIRE_BROWSER=1, when it fails.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { CONSOLE_DIST_DIR } from '../../src/console/console.plugin.ts';
import { createKey, createMdmUser, createOrg, createPolicy, type TestOrg } from '../helpers/factories.ts';
import { buildTestApp, call, type TestContext } from '../helpers/test-app.ts';
import { assertAccessible } from './axe-audit.ts';
import { createToken, tokensPath } from '../helpers/tokens.ts';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const DESKTOP = { width: 1440, height: 900 };
const PHONE = { width: 390, height: 844 };
const ARTIFACTS_DIR = path.resolve(process.env.OPENROLL_ARTIFACTS_DIR || 'artifacts');
const REQUIRED = process.env.OPENROLL_REQUIRE_BROWSER === '1';

const skipReason = !existsSync(CHROMIUM)
  ? `${CHROMIUM} not found: install Debian's chromium (apt-get install chromium) to run the browser check`
  : !existsSync(path.join(CONSOLE_DIST_DIR, 'index.html'))
    ? 'console/dist is not built: run npm ci (or npm run console:build)'
    : undefined;

if (skipReason) {
  if (REQUIRED) test('admin console in headless Chromium', () => assert.fail(`${skipReason} (OPENROLL_REQUIRE_BROWSER=1)`));
  else test('admin console in headless Chromium', { skip: skipReason }, () => {});
} else {
  let ctx: TestContext;
  let a: TestOrg;
  let viewerKey: string;
  let base: string;
  let browser: Browser;
  let userEmail: string;
  let policyId: string;
  let policyName: string;

  before(async () => {
    ctx = await buildTestApp({ publicUrl: 'http://localhost:3000', rateLimitPerMinute: 0 });
    a = await createOrg(ctx);
    viewerKey = await createKey(ctx, a.org, { role: 'viewer', name: 'auditor' });
    const user = await createMdmUser(ctx, a.org, { email: 'jane.doe@example.com' });
    userEmail = user.email;
    const policy = await createPolicy(ctx, a.org, 'windows', 'Finance laptops');
    policyId = policy.id;
    policyName = policy.name;
    for (const [displayName, extra] of [
      ['Jane laptop', { winPolicyAssignments: [{ winPolicyId: policyId, priority: 3 }] }],
      ['Spare desktop', {}],
      ['Old tablet', {}],
    ] as const) {
      const res = await createToken(ctx, a.adminKey, a.org.id, 'windows', { mdmUserId: user.id, sendEmail: true, displayName, ...extra });
      assert.equal(res.status, 200, JSON.stringify(res.body));
    }
    const old = await call(ctx.app, a.adminKey, { method: 'GET', url: `${tokensPath(a.org.id, 'windows')}?sort=displayName:asc` });
    const oldId = old.body.data.items.find((t: { displayName: string }) => t.displayName === 'Old tablet').id;
    await call(ctx.app, a.adminKey, { method: 'DELETE', url: `${tokensPath(a.org.id, 'windows')}/${oldId}` });
    base = await ctx.app.listen({ host: '127.0.0.1', port: 0 });
    mkdirSync(ARTIFACTS_DIR, { recursive: true });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true, timeout: 30_000 });
  });

  after(async () => {
    await browser?.close();
    await ctx?.close();
  });

  /** A fresh browser profile (no cookies) whose console errors, CSP reports and failed requests are kept. */
  async function newPage(viewport = DESKTOP): Promise<{ page: Page; context: BrowserContext; problems: string[] }> {
    const context = await browser.newContext({ viewport, deviceScaleFactor: 1, locale: 'en-US', acceptDownloads: true });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('console', (msg) => {
      if (msg.type() === 'error' && !/status of (400|401|403|404)/.test(msg.text())) problems.push(`console: ${msg.text()}`);
    });
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
    page.on('request', (req) => {
      if (new URL(req.url()).origin !== base) problems.push(`request leaves the server: ${req.url()}`);
    });
    return { page, context, problems };
  }

  async function signIn(page: Page, key: string): Promise<void> {
    // The home page is the dashboard (console-devices.browser.test.ts): this suite starts at the tokens.
    await page.goto(`${base}/console/tokens/windows`);
    await page.getByLabel('API key').fill(key);
    await page.getByLabel('API key').press('Enter');
    await page.getByRole('heading', { name: 'Windows enrollment tokens' }).waitFor();
  }

  async function shot(page: Page, name: string): Promise<void> {
    await page.screenshot({ path: path.join(ARTIFACTS_DIR, `console-${name}.png`), fullPage: true });
  }

  /**
   * Waits (Playwright's default 30 s) until `within` shows `text`: a page draws its heading
   * before its requests answer, so reading innerText at once races them.
   */
  async function showsText(within: Locator, text: RegExp): Promise<void> {
    await within.filter({ hasText: text }).first().waitFor();
  }

  /** No horizontal scrolling, every control has an accessible name, and axe-core finds no WCAG 2.2 AA violation. */
  async function assertUsable(page: Page, label: string): Promise<void> {
    const facts = await page.evaluate(`(() => {
      const unnamed = [];
      for (const el of document.querySelectorAll('button, a[href], input, select, textarea')) {
        if (el.closest('dialog:not([open])') || el.type === 'hidden') continue;
        const name = (el.getAttribute('aria-label') || (el.labels && el.labels.length ? el.labels[0].textContent : '') || el.textContent || el.getAttribute('title') || '').trim();
        if (!name) unnamed.push(el.outerHTML.slice(0, 80));
      }
      return { scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth, unnamed };
    })()`) as { scrollWidth: number; innerWidth: number; unnamed: string[] };
    assert.ok(facts.scrollWidth <= facts.innerWidth, `${label}: horizontal overflow (${facts.scrollWidth} > ${facts.innerWidth})`);
    assert.deepEqual(facts.unnamed, [], `${label}: controls without an accessible name`);
    await assertAccessible(page, label);
  }

  describe('the admin console in headless Chromium', { timeout: 180_000 }, () => {
    test('an admin signs in, finds an API-made token by name and state, and opens its QR code and trail', async () => {
      const { page, context, problems } = await newPage();
      try {
        await signIn(page, a.adminKey);
        // The key lives in an HttpOnly cookie's session only: not in storage, not readable by scripts.
        const stored = await page.evaluate('JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }) + document.cookie');
        assert.ok(!String(stored).includes(a.adminKey) && !String(stored).includes('openroll_session'), String(stored));
        const cookies = await context.cookies();
        assert.equal(cookies.length, 1);
        assert.equal(cookies[0]!.httpOnly, true);
        assert.equal(cookies[0]!.sameSite, 'Strict');

        const row = page.getByRole('row').filter({ hasText: 'Jane laptop' });
        await row.waitFor();
        assert.match(await row.innerText(), /Pending/);
        assert.equal(await page.getByRole('row').filter({ hasText: 'Old tablet' }).count(), 0, 'revoked tokens are hidden by default');
        assert.match(await page.getByRole('navigation', { name: 'Pages' }).innerText(), /2 in total/);
        await assertUsable(page, 'tokens list');
        await shot(page, 'tokens-1440');

        // Every filter of the API: show revoked ones, by policy, by user, sorted by name.
        await page.getByLabel('Show revoked tokens').check();
        await page.getByLabel('Sort by').selectOption('displayName');
        await page.getByLabel('Order').selectOption('asc');
        await page.getByRole('button', { name: 'Apply' }).click();
        await page.getByRole('row').filter({ hasText: 'Old tablet' }).filter({ hasText: 'Revoked' }).waitFor();
        const names = await page.locator('tbody tr td:first-child').allInnerTexts();
        assert.deepEqual(names, ['Jane laptop', 'Old tablet', 'Spare desktop']);
        await page.getByLabel('Policy').selectOption({ label: policyName });
        await page.getByLabel('User email').fill(userEmail);
        await page.getByRole('button', { name: 'Apply' }).click();
        await page.getByRole('navigation', { name: 'Pages' }).filter({ hasText: '1 in total' }).waitFor();
        assert.deepEqual(await page.locator('tbody tr td:first-child').allInnerTexts(), ['Jane laptop']);
        await page.getByLabel('User email').fill('nobody@example.com');
        await page.getByRole('button', { name: 'Apply' }).click();
        await page.getByText('No user has this email.').waitFor();
        assert.equal(await page.getByLabel('User email').getAttribute('aria-invalid'), 'true');

        await page.getByRole('link', { name: 'Jane laptop' }).click();
        await page.getByRole('heading', { name: /Jane laptop/ }).waitFor();
        const qr = page.getByRole('img', { name: 'QR code of the enrollment link' });
        await qr.waitFor();
        assert.ok(((await qr.boundingBox())?.width ?? 0) >= 150, 'the QR code is large enough to scan');
        // The token, its email and its trail arrive by separate requests: wait for each text.
        for (const text of [/Pending/, /Finance laptops \(priority 3\)/, /Queued|Sent/]) await showsText(page.locator('main'), text);
        const trail = page.getByRole('region', { name: 'Audit trail' });
        await showsText(trail, /Created/);
        await showsText(trail, /Email queued/);
        await assertUsable(page, 'token page');
        await shot(page, 'token-1440');
        assert.deepEqual(problems, []);
      } finally {
        await context.close();
      }
    });

    test('an admin creates a token and a bulk through the forms; the API sees them', async () => {
      const { page, context, problems } = await newPage();
      try {
        await signIn(page, a.adminKey);
        await page.getByRole('link', { name: 'New token' }).click();
        await page.getByRole('heading', { name: 'New Windows token' }).waitFor();
        await page.getByLabel('User email').fill(userEmail);
        await page.getByLabel('Display name').fill('Made in the console');
        await page.getByRole('button', { name: 'Add a policy' }).click();
        await page.getByLabel('Policy 1', { exact: true }).selectOption({ label: policyName });
        await page.getByLabel('Priority').fill('7');
        await page.getByLabel('Valid for').fill('0');
        await page.getByLabel('Language of the email and the page').selectOption('es');
        await page.getByLabel('A message of your own in the email').fill('Bienvenida al equipo');
        await page.getByRole('button', { name: 'Create the token' }).click();
        // The API's field error, next to the field that caused it.
        const duration = page.getByLabel('Valid for');
        await page.locator('.field-error').first().waitFor();
        assert.equal(await duration.getAttribute('aria-invalid'), 'true');
        await shot(page, 'create-error-1440');
        await duration.fill('2');
        await page.getByRole('button', { name: 'Create the token' }).click();
        await page.getByRole('heading', { name: /Made in the console/ }).waitFor();
        await page.getByRole('img', { name: 'QR code of the enrollment link' }).waitFor();

        const listed = await call(ctx.app, a.adminKey, { method: 'GET', url: `${tokensPath(a.org.id, 'windows')}?sort=createdAt:desc&limit=500` });
        const made = listed.body.data.items.find((t: { displayName: string }) => t.displayName === 'Made in the console');
        assert.ok(made, 'the API lists the token made in the console');
        assert.equal(made.mdmUser.email, userEmail);
        assert.deepEqual(made.winPolicyAssignments.map((x: { winPolicyId: string; priority: number }) => [x.winPolicyId, x.priority]), [[policyId, 7]]);
        assert.equal(Date.parse(made.expireAt) - Date.parse(made.createdAt), 2 * 86_400_000);
        assert.equal(made.emailText, 'Bienvenida al equipo');
        assert.equal(made.sendEmail, true);

        // Bulk: pasted emails, one of them bad; progress, results per row, and their CSV.
        await page.getByRole('link', { name: 'Windows tokens' }).click();
        await page.getByRole('link', { name: 'Many at once' }).click();
        await page.getByLabel('Emails').fill('email\nana.bulk@example.com\nluis.bulk@example.com\nnot-an-email\nana.bulk@example.com\n');
        await page.getByText('4 found').waitFor();
        await page.getByLabel('Tags').fill('onboarding, console');
        await page.getByRole('button', { name: 'Create 4 tokens' }).click();
        await page.getByText('2 created, 2 failed.').waitFor();
        assert.match(await page.getByRole('region', { name: 'Results' }).innerText(), /4 of 4 done/);
        await shot(page, 'bulk-1440');
        const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download the results (CSV)' }).click()]);
        const csv = readFileSync((await download.path())!, 'utf8').trim().split('\r\n');
        assert.equal(csv[0], 'email,tokenId,errorCode,error');
        assert.equal(csv.length, 5);
        assert.match(csv[1]!, /^ana\.bulk@example\.com,[0-9a-f]{24},,$/);
        assert.match(csv[3]!, /^not-an-email,,3000,/);

        for (const email of ['ana.bulk@example.com', 'luis.bulk@example.com']) {
          const users = await call(ctx.app, a.adminKey, { method: 'GET', url: `/v1/organizations/${a.org.id}/mdm/users?email=${email}` });
          assert.equal(users.body.data.items.length, 1, email);
          const tokens = await call(ctx.app, a.adminKey, { method: 'GET', url: `${tokensPath(a.org.id, 'windows')}?mdm-user=${users.body.data.items[0].id}` });
          assert.equal(tokens.body.data.totalDocs, 1, email);
          assert.deepEqual(tokens.body.data.items[0].tags, ['onboarding', 'console']);
        }
        assert.deepEqual(problems, []);
      } finally {
        await context.close();
      }
    });

    test('revoking asks first, then the API shows the token DELETED; signing out ends the session', async () => {
      const { page, context, problems } = await newPage();
      try {
        await signIn(page, a.adminKey);
        await page.getByRole('link', { name: 'Spare desktop' }).click();
        await page.getByRole('heading', { name: /Spare desktop/ }).waitFor();
        const id = page.url().split('/').pop()!;
        await page.getByRole('button', { name: 'Revoke', exact: true }).click();
        const dialog = page.getByRole('dialog');
        await dialog.waitFor();
        await page.keyboard.press('Escape');
        await dialog.waitFor({ state: 'hidden' });
        assert.equal((await call(ctx.app, a.adminKey, { method: 'GET', url: `${tokensPath(a.org.id, 'windows')}/${id}` })).body.data.state, 'PENDING');
        await page.getByRole('button', { name: 'Revoke', exact: true }).click();
        await dialog.getByRole('button', { name: 'Revoke the token' }).click();
        await page.getByText('The token was revoked.').waitFor();
        assert.equal((await call(ctx.app, a.adminKey, { method: 'GET', url: `${tokensPath(a.org.id, 'windows')}/${id}` })).body.data.state, 'DELETED');

        const cookie = (await context.cookies())[0]!;
        await page.getByRole('button', { name: 'Sign out' }).click();
        await page.getByLabel('API key').waitFor();
        const after = await call(ctx.app, undefined, { method: 'GET', url: tokensPath(a.org.id, 'windows'), headers: { cookie: `${cookie.name}=${cookie.value}` } });
        assert.equal(after.status, 401);
        assert.deepEqual(problems, []);
      } finally {
        await context.close();
      }
    });

    test('a viewer finds no write controls anywhere', async () => {
      const { page, context, problems } = await newPage();
      try {
        await signIn(page, viewerKey);
        await page.getByRole('row').filter({ hasText: 'Jane laptop' }).waitFor();
        const writeControls = /new token|many at once|create|revoke|delete|send the email|add a/i;
        const controls = async () => (await page.locator('main').getByRole('button').allInnerTexts()).concat(await page.locator('main').getByRole('link').allInnerTexts());
        assert.deepEqual((await controls()).filter((c) => writeControls.test(c)), []);
        assert.equal(await page.getByRole('link', { name: 'API keys' }).count(), 0, 'a viewer cannot list keys');
        await shot(page, 'viewer-tokens-1440');
        await page.getByRole('link', { name: 'Jane laptop' }).click();
        await page.getByRole('img', { name: 'QR code of the enrollment link' }).waitFor();
        assert.deepEqual((await controls()).filter((c) => writeControls.test(c)), []);
        for (const [nav, heading] of [
          ['Users', 'Users'],
          ['Windows policies', 'Windows policies'],
          ['Segments', 'Segments'],
          ['VPP locations', 'VPP locations'],
        ]) {
          await page.getByRole('link', { name: nav, exact: true }).click();
          await page.getByRole('heading', { name: heading, exact: true }).waitFor();
          await page.waitForLoadState('networkidle');
          assert.deepEqual((await controls()).filter((c) => writeControls.test(c)), [], nav);
          assert.equal(await page.locator('details.create').count(), 0, nav);
        }
        await page.goto(`${base}/console/tokens/windows/new`);
        await page.getByText('Your key does not allow this.').waitFor();
        assert.deepEqual(problems, []);
      } finally {
        await context.close();
      }
    });

    test('on a 390 px phone, and in Spanish', async () => {
      const { page, context, problems } = await newPage(PHONE);
      try {
        await page.goto(`${base}/console/`);
        await assertUsable(page, 'sign-in at 390px');
        await shot(page, 'sign-in-390');
        await signIn(page, a.adminKey);
        await page.getByRole('link', { name: 'Jane laptop' }).waitFor();
        await assertUsable(page, 'tokens at 390px');
        await shot(page, 'tokens-390');
        await page.getByRole('button', { name: 'Menu' }).click();
        await page.getByRole('link', { name: 'Apple tokens' }).click();
        await page.getByText('No tokens yet.').waitFor();
        await page.goBack();
        await page.getByRole('link', { name: 'Jane laptop' }).click();
        await page.getByRole('img', { name: 'QR code of the enrollment link' }).waitFor();
        await assertUsable(page, 'token at 390px');
        await shot(page, 'token-390');
        await page.goto(`${base}/console/tokens/windows/new`);
        await page.getByRole('button', { name: 'Add a policy' }).click();
        await assertUsable(page, 'create at 390px');
        await shot(page, 'create-390');

        await page.getByLabel('Language').first().selectOption('es');
        await page.getByRole('heading', { name: 'Nuevo token de Windows' }).waitFor();
        await page.goto(`${base}/console/tokens/windows`);
        await page.getByRole('heading', { name: 'Tokens de inscripción de Windows' }).waitFor();
        assert.equal(await page.locator('html').getAttribute('lang'), 'es');
        // The heading is drawn before the list's request answers.
        await showsText(page.locator('main'), /Pendiente/);
        await assertUsable(page, 'tokens in Spanish at 390px');
        await shot(page, 'tokens-es-390');
        assert.deepEqual(problems, []);
      } finally {
        await context.close();
      }
    });

    test('the resources pages at 1440 px: users, policies, segments, VPP locations, and a key shown once', async () => {
      const { page, context, problems } = await newPage();
      try {
        await signIn(page, a.adminKey);
        await page.getByRole('link', { name: 'Segments', exact: true }).click();
        await page.getByText('No segments yet.').waitFor();
        await page.getByText('Add a segment').click();
        await page.getByLabel('Name').fill('Finance');
        await page.getByRole('button', { name: 'Create', exact: true }).click();
        await page.getByRole('cell', { name: 'Finance' }).waitFor();

        await page.getByRole('link', { name: 'VPP locations' }).click();
        await page.getByText('Add a VPP location').click();
        await page.getByLabel('Name').fill('US store');
        await page.getByLabel('Country').fill('12');
        await page.getByRole('button', { name: 'Create', exact: true }).click();
        await page.locator('.field-error').first().waitFor();
        assert.equal(await page.getByLabel('Country').getAttribute('aria-invalid'), 'true');
        await page.getByLabel('Country').fill('US');
        await page.getByRole('button', { name: 'Create', exact: true }).click();
        await page.getByRole('cell', { name: 'US store' }).waitFor();

        await page.getByRole('link', { name: 'Users', exact: true }).click();
        await page.getByRole('cell', { name: userEmail }).waitFor();
        await shot(page, 'users-1440');

        await page.getByRole('link', { name: 'API keys' }).click();
        await page.getByText('Create a key').click();
        await page.getByLabel('Name').fill('reporting');
        await page.getByRole('button', { name: 'Create', exact: true }).click();
        const secret = await page.locator('.secret-value').innerText();
        assert.match(secret, /^ork_/);
        await shot(page, 'api-key-created-1440');
        const check = await call(ctx.app, secret, { method: 'GET', url: tokensPath(a.org.id, 'windows') });
        assert.equal(check.status, 200, 'the key shown works');
        await page.getByRole('button', { name: 'I have copied it' }).click();
        assert.equal(await page.locator('.secret-value').count(), 0);
        assert.ok(!(await page.content()).includes(secret), 'the secret is gone from the page');
        assert.deepEqual(problems, []);
      } finally {
        await context.close();
      }
    });
  });
}

/**
 * The console's editing pages in a real browser (Debian's headless Chromium, playwright-core,
 * a server on 127.0.0.1): a token, a Windows policy's OMA-URI settings, an Apple policy's
 * .mobileconfig profiles and a user, each changed through its form and read back through the
 * API, each showing the API's field error at its field, each audited by axe-core at WCAG 2.2 AA
 * at 1440 and 390 CSS px; a viewer finds no edit control. Also the newcomer's nits of issue 26
 * that a browser shows. Screenshots go to `$OPENROLL_ARTIFACTS_DIR` (default `artifacts/`) as
 * `console-edit-*.png`. Skipped without /usr/bin/chromium unless OPENROLL_REQUIRE_BROWSER=1.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { CONSOLE_DIST_DIR } from '../../src/console/console.plugin.ts';
import { createKey, createMdmUser, createOrg, createPolicy, createSegment, type TestOrg } from '../helpers/factories.ts';
import { buildTestApp, call, type TestContext } from '../helpers/test-app.ts';
import { createToken, tokensPath } from '../helpers/tokens.ts';
import { assertAccessible } from './axe-audit.ts';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const DESKTOP = { width: 1440, height: 900 };
const PHONE = { width: 390, height: 844 };
const ARTIFACTS_DIR = path.resolve(process.env.OPENROLL_ARTIFACTS_DIR || 'artifacts');
const REQUIRED = process.env.OPENROLL_REQUIRE_BROWSER === '1';
/** A real configuration profile (test/fixtures/apple/profiles), byte for byte. */
const RESTRICTIONS = readFileSync(new URL('../fixtures/apple/profiles/restrictions.mobileconfig', import.meta.url));

const skipReason = !existsSync(CHROMIUM)
  ? `${CHROMIUM} not found: install Debian's chromium (apt-get install chromium) to run the browser check`
  : !existsSync(path.join(CONSOLE_DIST_DIR, 'index.html'))
    ? 'console/dist is not built: run npm ci (or npm run console:build)'
    : undefined;

if (skipReason) {
  if (REQUIRED) test('console editing in headless Chromium', () => assert.fail(`${skipReason} (OPENROLL_REQUIRE_BROWSER=1)`));
  else test('console editing in headless Chromium', { skip: skipReason }, () => {});
} else {
  let ctx: TestContext;
  let a: TestOrg;
  let viewerKey: string;
  let base: string;
  let browser: Browser;
  let userId: string;
  let userEmail: string;
  let winPolicy: { id: string; name: string };
  let otherPolicy: { id: string; name: string };
  let applePolicy: { id: string; name: string };
  let segment: { id: number; name: string };
  let tokenId: string;

  before(async () => {
    ctx = await buildTestApp({ publicUrl: 'http://localhost:3000', rateLimitPerMinute: 0 });
    a = await createOrg(ctx);
    viewerKey = await createKey(ctx, a.org, { role: 'viewer', name: 'auditor' });
    const user = await createMdmUser(ctx, a.org, { email: 'edit.me@example.com' });
    userId = user.id;
    userEmail = user.email;
    winPolicy = await createPolicy(ctx, a.org, 'windows', 'Finance laptops');
    otherPolicy = await createPolicy(ctx, a.org, 'windows', 'Kiosks');
    applePolicy = await createPolicy(ctx, a.org, 'apple', 'Managed iPads');
    segment = await createSegment(ctx, a.org);
    const made = await createToken(ctx, a.adminKey, a.org.id, 'windows', { mdmUserId: userId, sendEmail: false, displayName: 'Front desk', winPolicyAssignments: [{ winPolicyId: winPolicy.id, priority: 5 }] });
    assert.equal(made.status, 200, JSON.stringify(made.body));
    tokenId = made.body.data.id;
    base = await ctx.app.listen({ host: '127.0.0.1', port: 0 });
    mkdirSync(ARTIFACTS_DIR, { recursive: true });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true, timeout: 30_000 });
  });

  after(async () => {
    await browser?.close();
    await ctx?.close();
  });

  async function newPage(viewport = DESKTOP): Promise<{ page: Page; context: BrowserContext; problems: string[] }> {
    const context = await browser.newContext({ viewport, deviceScaleFactor: 1, locale: 'en-US' });
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
    await page.screenshot({ path: path.join(ARTIFACTS_DIR, `console-edit-${name}.png`), fullPage: true });
  }

  /** No horizontal scrolling, every control named, and axe-core finds no WCAG 2.2 AA violation. */
  async function assertUsable(page: Page, label: string): Promise<void> {
    const facts = (await page.evaluate(`(() => {
      const unnamed = [];
      for (const el of document.querySelectorAll('button, a[href], input, select, textarea')) {
        if (el.closest('dialog:not([open])') || el.type === 'hidden') continue;
        const name = (el.getAttribute('aria-label') || (el.labels && el.labels.length ? el.labels[0].textContent : '') || el.textContent || el.getAttribute('title') || '').trim();
        if (!name) unnamed.push(el.outerHTML.slice(0, 80));
      }
      return { scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth, unnamed };
    })()`)) as { scrollWidth: number; innerWidth: number; unnamed: string[] };
    assert.ok(facts.scrollWidth <= facts.innerWidth, `${label}: horizontal overflow (${facts.scrollWidth} > ${facts.innerWidth})`);
    assert.deepEqual(facts.unnamed, [], `${label}: controls without an accessible name`);
    await assertAccessible(page, label);
  }

  const get = async (url: string) => (await call(ctx.app, a.adminKey, { method: 'GET', url })).body.data;
  const policyPath = (platform: 'windows' | 'apple', id: string) => `/v1/organizations/${a.org.id}/mdm/${platform}/enterprise/policies/${id}`;

  describe('editing in the console, in headless Chromium', { timeout: 240_000 }, () => {
    test('a token: name, tags, segment, policies and priorities through PUT; a bad priority is shown at its field', async () => {
      for (const [viewport, width] of [
        [DESKTOP, 1440],
        [PHONE, 390],
      ] as const) {
        const { page, context, problems } = await newPage(viewport);
        try {
          await signIn(page, a.adminKey);
          await page.goto(`${base}/console/tokens/windows/${tokenId}`);
          await page.getByRole('link', { name: 'Edit the token' }).click();
          await page.getByRole('heading', { name: /^Edit / }).waitFor();
          await page.getByLabel('Policy 1', { exact: true }).waitFor();
          await assertUsable(page, `token edit at ${width}px`);
          await shot(page, `token-${width}`);
        } finally {
          await context.close();
        }
        assert.deepEqual(problems, []);
      }

      const { page, context, problems } = await newPage();
      try {
        await signIn(page, a.adminKey);
        await page.goto(`${base}/console/tokens/windows/${tokenId}/edit`);
        await page.getByLabel('Policy 1', { exact: true }).waitFor();
        assert.equal(await page.getByLabel('Display name').inputValue(), 'Front desk');
        assert.equal(await page.getByLabel('Priority').inputValue(), '5');
        await page.getByLabel('Display name').fill('Front desk (edited)');
        await page.getByLabel('Tags').fill('lobby, shared');
        await page.getByLabel('Segment').selectOption({ label: segment.name });
        await page.getByRole('button', { name: 'Add a policy' }).click();
        await page.getByLabel('Policy 2', { exact: true }).selectOption({ label: otherPolicy.name });
        await page.getByLabel('Priority').nth(1).fill('20000');
        await page.getByRole('button', { name: 'Save the changes' }).click();
        // The API's 400 3000 names body.winPolicyAssignments.1.priority: shown at that field.
        const bad = page.getByLabel('Priority').nth(1);
        await page.locator('.policy-row .field-error').first().waitFor();
        assert.equal(await bad.getAttribute('aria-invalid'), 'true');
        assert.equal(await page.getByLabel('Priority').first().getAttribute('aria-invalid'), null);
        await assertUsable(page, 'token edit with a field error');
        await shot(page, 'token-error-1440');
        assert.equal((await get(`${tokensPath(a.org.id, 'windows')}/${tokenId}`)).displayName, 'Front desk', 'nothing saved by a refused PUT');

        await bad.fill('1');
        await page.getByRole('button', { name: 'Save the changes' }).click();
        await page.getByText('The changes were saved.').waitFor();
        await page.getByRole('heading', { name: /Front desk \(edited\)/ }).waitFor();
        const tok = await get(`${tokensPath(a.org.id, 'windows')}/${tokenId}`);
        assert.equal(tok.displayName, 'Front desk (edited)');
        assert.deepEqual(tok.tags, ['lobby', 'shared']);
        assert.equal(tok.segmentId, segment.id);
        assert.deepEqual(
          tok.winPolicyAssignments.map((x: { winPolicyId: string; priority: number }) => [x.winPolicyId, x.priority]).sort(),
          [
            [winPolicy.id, 5],
            [otherPolicy.id, 1],
          ].sort(),
        );
        // The trail names the key that edited it by its name, not its id.
        await page.getByRole('region', { name: 'Audit trail' }).filter({ hasText: 'by key First admin key' }).waitFor();
        assert.doesNotMatch(await page.getByRole('region', { name: 'Audit trail' }).innerText(), /[0-9a-f]{24}/);
        assert.deepEqual(problems, []);
      } finally {
        await context.close();
      }
    });

    test('an Apple token: its assignments are admPolicyAssignments, its VPP location may be cleared', async () => {
      const made = await createToken(ctx, a.adminKey, a.org.id, 'apple', { mdmUserId: userId, sendEmail: false, displayName: 'Shared iPad', admPolicyAssignments: [{ admPolicyId: applePolicy.id, priority: 2 }] });
      assert.equal(made.status, 200, JSON.stringify(made.body));
      const { page, context, problems } = await newPage();
      try {
        await signIn(page, a.adminKey);
        await page.goto(`${base}/console/tokens/apple/${made.body.data.id}/edit`);
        await page.getByLabel('Policy 1', { exact: true }).waitFor();
        await page.getByLabel('Display name').fill('Shared iPad 2');
        await page.getByLabel('Priority').fill('9');
        await page.getByRole('button', { name: 'Save the changes' }).click();
        await page.getByText('The changes were saved.').waitFor();
        const tok = await get(`${tokensPath(a.org.id, 'apple')}/${made.body.data.id}`);
        assert.equal(tok.displayName, 'Shared iPad 2');
        assert.deepEqual(
          tok.admPolicyAssignments.map((x: { admPolicyId: string; priority: number }) => [x.admPolicyId, x.priority]),
          [[applePolicy.id, 9]],
        );
        assert.equal(tok.admVppLocation, null);
        assert.deepEqual(problems, []);
      } finally {
        await context.close();
      }
    });

    test('a Windows policy: OMA-URI rows added, changed and removed; a value that misfits its format is shown in its cell', async () => {
      const { page, context, problems } = await newPage();
      try {
        await signIn(page, a.adminKey);
        await page.getByRole('link', { name: 'Windows policies' }).click();
        await page.getByRole('link', { name: winPolicy.name }).click();
        await page.getByRole('heading', { name: `Policy ${winPolicy.name}` }).waitFor();
        await page.getByText('No setting yet.').waitFor();
        for (let i = 0; i < 3; i++) await page.getByRole('button', { name: 'Add a setting' }).click();
        await page.getByLabel('OMA-URI of setting 1').fill('./Device/Vendor/MSFT/Policy/Config/Camera/AllowCamera');
        await page.getByLabel('Value of setting 1').fill('0');
        await page.getByLabel('OMA-URI of setting 2').fill('./Device/Vendor/MSFT/Policy/Config/Experience/AllowCortana');
        await page.getByLabel('Value of setting 2').fill('not a number');
        await page.getByLabel('OMA-URI of setting 3').fill('./User/Vendor/MSFT/Policy/Config/Start/HideSleep');
        await page.getByLabel('Format of setting 3').selectOption('bool');
        await page.getByLabel('Value of setting 3').fill('true');
        await page.getByLabel('Command of setting 3').selectOption('Add');
        await page.getByRole('button', { name: 'Save the changes' }).click();
        // body.settings.1.data: the second row's value, and only it.
        const value2 = page.getByLabel('Value of setting 2');
        await page.locator('.settings-table .field-error').first().waitFor();
        assert.equal(await value2.getAttribute('aria-invalid'), 'true');
        assert.equal(await page.getByLabel('Value of setting 1').getAttribute('aria-invalid'), null);
        const describedBy = (await value2.getAttribute('aria-describedby'))!;
        assert.match(await page.locator(`[id="${describedBy}"]`).innerText(), /integer/);
        assert.deepEqual((await get(policyPath('windows', winPolicy.id))).settings, [], 'a refused PUT saves nothing');
        await assertUsable(page, 'windows policy with a field error at 1440px');
        await shot(page, 'win-policy-error-1440');

        await page.getByRole('button', { name: 'Remove setting 2' }).click();
        await page.getByRole('button', { name: 'Save the changes' }).click();
        await page.getByText('The changes were saved.').waitFor();
        assert.deepEqual((await get(policyPath('windows', winPolicy.id))).settings, [
          { locUri: './Device/Vendor/MSFT/Policy/Config/Camera/AllowCamera', format: 'int', data: '0', verb: 'Replace' },
          { locUri: './User/Vendor/MSFT/Policy/Config/Start/HideSleep', format: 'bool', data: 'true', verb: 'Add' },
        ]);
        await assertUsable(page, 'windows policy at 1440px');
        await shot(page, 'win-policy-1440');
        await page.setViewportSize(PHONE);
        await page.reload();
        await page.getByLabel('OMA-URI of setting 2').waitFor();
        assert.equal(await page.getByLabel('OMA-URI of setting 2').inputValue(), './User/Vendor/MSFT/Policy/Config/Start/HideSleep');
        await assertUsable(page, 'windows policy at 390px');
        await shot(page, 'win-policy-390');
        assert.deepEqual(problems, []);
      } finally {
        await context.close();
      }
    });

    test('an Apple policy: .mobileconfig files read in the browser into profiles; a bad one is shown in its row', async () => {
      const { page, context, problems } = await newPage();
      try {
        await signIn(page, a.adminKey);
        await page.goto(`${base}/console/policies/apple/${applePolicy.id}`);
        await page.getByText('No profile yet.').waitFor();
        await page.getByLabel('Add .mobileconfig files').setInputFiles([
          { name: 'restrictions.mobileconfig', mimeType: 'application/x-apple-aspen-config', buffer: RESTRICTIONS },
          { name: 'broken.mobileconfig', mimeType: 'application/x-apple-aspen-config', buffer: Buffer.from('<plist><dict><key>PayloadType</key></dict>') },
        ]);
        await page.getByRole('cell', { name: 'No screenshots' }).waitFor();
        await page.getByRole('button', { name: 'Save the changes' }).click();
        await page.locator('.profiles-table .field-error').first().waitFor();
        const rows = page.locator('.profiles-table tbody tr');
        assert.equal(await rows.nth(0).locator('.field-error').count(), 0);
        assert.equal(await rows.nth(1).locator('.field-error').count(), 1, 'the error of body.profiles.1.mobileconfig is in row 2');
        await assertUsable(page, 'apple policy with a field error at 1440px');
        await shot(page, 'apple-policy-error-1440');

        await page.getByRole('button', { name: 'Remove profile 2' }).click();
        await page.getByRole('button', { name: 'Save the changes' }).click();
        await page.getByText('The changes were saved.').waitFor();
        const saved = await get(policyPath('apple', applePolicy.id));
        assert.equal(saved.profiles.length, 1);
        assert.equal(saved.profiles[0].mobileconfig, RESTRICTIONS.toString('utf8'), 'the file reaches the API byte for byte');
        assert.equal(saved.profiles[0].name, 'restrictions.mobileconfig');
        await page.getByRole('cell', { name: 'Admins-MacBook-Pro.9D8C7B6A-5F4E-4D3C-2B1A-0F9E8D7C6B5A' }).waitFor();
        await assertUsable(page, 'apple policy at 1440px');
        await shot(page, 'apple-policy-1440');
        await page.setViewportSize(PHONE);
        await assertUsable(page, 'apple policy at 390px');
        await shot(page, 'apple-policy-390');
        assert.deepEqual(problems, []);
      } finally {
        await context.close();
      }
    });

    test('a user: email, name, language and tags through PUT; a bad email is shown at its field', async () => {
      const { page, context, problems } = await newPage(PHONE);
      try {
        await signIn(page, a.adminKey);
        await page.goto(`${base}/console/users`);
        await page.getByRole('link', { name: userEmail }).click();
        await page.getByRole('heading', { name: `User ${userEmail}` }).waitFor();
        await assertUsable(page, 'user edit at 390px');
        await shot(page, 'user-390');
        await page.setViewportSize(DESKTOP);
        await page.getByLabel('Email').fill('not an email');
        await page.getByLabel('Name').fill('Edith Mee');
        await page.getByRole('button', { name: 'Save the changes' }).click();
        await page.locator('.field-error').first().waitFor();
        assert.equal(await page.getByLabel('Email').getAttribute('aria-invalid'), 'true');
        assert.equal(await page.getByLabel('Name').getAttribute('aria-invalid'), null);
        await assertUsable(page, 'user edit with a field error at 1440px');
        await shot(page, 'user-error-1440');
        await page.getByLabel('Email').fill('edith.mee@example.com');
        await page.getByLabel('Language').last().selectOption('fr');
        await page.getByLabel('Tags').fill('reception, lisbon');
        await page.getByRole('button', { name: 'Save the changes' }).click();
        await page.getByRole('link', { name: 'edith.mee@example.com' }).waitFor();
        const u = await get(`/v1/organizations/${a.org.id}/mdm/users/${userId}`);
        assert.deepEqual([u.email, u.name, u.language, u.tags], ['edith.mee@example.com', 'Edith Mee', 'fr', ['reception', 'lisbon']]);
        assert.deepEqual(problems, []);
      } finally {
        await context.close();
      }
    });

    test('the newcomer’s nits: bulk tokens named by their user, “Send the email” when none was sent, plurals, the email box, revoked keys, the filters’ line', async () => {
      const bulk = await call(ctx.app, a.adminKey, { method: 'POST', url: `${tokensPath(a.org.id, 'windows')}/bulk`, payload: { userEmails: ['bulk.one@example.com'], sendEmail: false } });
      assert.equal(bulk.status, 200, JSON.stringify(bulk.body));
      const revoked = await call(ctx.app, a.adminKey, { method: 'POST', url: `/v1/organizations/${a.org.id}/api-keys`, payload: { name: 'old script', role: 'viewer', expiresAt: '2099-01-31T12:00:00.000Z' } });
      assert.equal(revoked.status, 200, JSON.stringify(revoked.body));
      await call(ctx.app, a.adminKey, { method: 'DELETE', url: `/v1/organizations/${a.org.id}/api-keys/${revoked.body.data.id}` });
      const { page, context, problems } = await newPage();
      try {
        await signIn(page, a.adminKey);
        const row = page.getByRole('row').filter({ hasText: 'bulk.one@example.com' });
        await row.waitFor();
        assert.match(await row.locator('td').first().innerText(), /^Token for bulk\.one@example\.com$/);
        assert.equal(await page.getByText('(no name)').count(), 0);

        // At 1440 px the checkbox sits on its label's line, level with the other filters.
        const box = (await page.getByLabel('Show revoked tokens').boundingBox())!;
        const label = (await page.locator('label', { hasText: 'Show revoked tokens' }).boundingBox())!;
        const select = (await page.getByLabel('Per page').boundingBox())!;
        assert.ok(Math.abs(box.y + box.height / 2 - (label.y + label.height / 2)) <= 2, `box ${JSON.stringify(box)} and label ${JSON.stringify(label)} share a line`);
        assert.ok(label.x > box.x, 'the label is beside the box, not under it');
        assert.ok(Math.abs(box.y + box.height / 2 - (select.y + select.height / 2)) <= 4, `box ${JSON.stringify(box)} level with the selects ${JSON.stringify(select)}`);
        await shot(page, 'filters-1440');

        // A token made without an email: its first, not “again”.
        await page.goto(`${base}/console/tokens/windows/${tokenId}`);
        await page.getByText('No email was sent for this token.').waitFor();
        await page.getByRole('button', { name: 'Send the email', exact: true }).waitFor();
        assert.equal(await page.getByRole('button', { name: 'Send the email again' }).count(), 0);

        // One token and a bulk start with the same email choice; “1 day”, “2 days”.
        await page.goto(`${base}/console/tokens/windows/new`);
        assert.equal(await page.getByLabel('Email the link and the code to the user').isChecked(), true);
        const unit = page.getByLabel('Unit');
        assert.equal(await unit.locator('option:checked').innerText(), 'day');
        await page.getByLabel('Valid for').fill('2');
        assert.equal(await unit.locator('option:checked').innerText(), 'days');
        await page.goto(`${base}/console/tokens/windows/bulk`);
        assert.equal(await page.getByLabel('Email the link and the code to the user').isChecked(), true);
        await page.getByLabel('Emails').fill('only.one@example.com');
        await page.getByRole('button', { name: 'Create 1 token', exact: true }).waitFor();

        // A revoked key: the state says so, the Expires column keeps its date.
        await page.goto(`${base}/console/api-keys`);
        const keyRow = page.getByRole('row').filter({ hasText: 'old script' });
        await keyRow.waitFor();
        assert.equal(await keyRow.locator('td[data-label="State"]').innerText(), 'Revoked');
        const expires = await keyRow.locator('td[data-label="Expires"]').innerText();
        assert.doesNotMatch(expires, /Revoked/);
        assert.match(expires, /2099/);
        await assertUsable(page, 'api keys with a revoked one');
        assert.deepEqual(problems, []);
      } finally {
        await context.close();
      }
    });

    test('a viewer sees no edit control on the token, the policies and the users, and an edit URL is refused', async () => {
      const { page, context, problems } = await newPage();
      try {
        await signIn(page, viewerKey);
        const editControls = /edit|save|remove|add a|upload|\.mobileconfig|send the email/i;
        const controls = async () => (await page.locator('main').getByRole('button').allInnerTexts()).concat(await page.locator('main').getByRole('link').allInnerTexts());
        await page.goto(`${base}/console/tokens/windows/${tokenId}`);
        await page.getByRole('img', { name: 'QR code of the enrollment link' }).waitFor();
        assert.deepEqual((await controls()).filter((c) => editControls.test(c)), []);
        for (const [platform, id, what] of [
          ['windows', winPolicy.id, 'AllowCamera'],
          ['apple', applePolicy.id, 'No screenshots'],
        ] as const) {
          await page.goto(`${base}/console/policies/${platform}/${id}`);
          await page.getByText('Your key can read this policy but not change it.').waitFor();
          await page.getByText(what).first().waitFor();
          assert.deepEqual((await controls()).filter((c) => editControls.test(c)), [], platform);
          assert.equal(await page.locator('main input, main select, main textarea').count(), 0, platform);
          await assertUsable(page, `${platform} policy read by a viewer`);
        }
        await page.goto(`${base}/console/users`);
        await page.getByRole('cell', { name: 'edith.mee@example.com' }).waitFor();
        assert.equal(await page.getByRole('link', { name: 'edith.mee@example.com' }).count(), 0);
        for (const url of [`/console/tokens/windows/${tokenId}/edit`, `/console/users/${userId}`]) {
          await page.goto(`${base}${url}`);
          await page.getByText('Your key does not allow this.').waitFor();
        }
        await shot(page, 'viewer-refused-1440');
        assert.deepEqual(problems, []);
      } finally {
        await context.close();
      }
    });
  });
}

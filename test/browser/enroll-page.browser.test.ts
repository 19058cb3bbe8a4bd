/**
 * The page behind an enrollment link, opened in a real browser: Debian's headless Chromium
 * driven by playwright-core (no browser download), on a phone-sized screen.
 *
 * `npm run test:browser` runs it (CI: once, on Node 20). Full-page screenshots go to
 * `$OPENROLL_ARTIFACTS_DIR` (default `artifacts/`) as `enroll-page-<lang>.png` and
 * `enroll-page-expired.png` (390 CSS px wide), plus `...-320px.png` for the smallest phones. Without /usr/bin/chromium the test is skipped, unless
 * OPENROLL_REQUIRE_BROWSER=1, when it fails.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { LANGUAGES, MESSAGES, type Lang } from '../../src/mail/i18n.ts';
import { createMdmUser, createOrg, type TestOrg } from '../helpers/factories.ts';
import { buildTestApp, call, type TestContext } from '../helpers/test-app.ts';
import { createToken } from '../helpers/tokens.ts';
import { makePushCertificate } from '../protocols/apple/apple-device.ts';
import { assertAccessible } from './axe-audit.ts';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
/** A common phone (iPhone 12–15 class); the smallest phones still in use are 320 CSS px wide. */
const PHONE = { width: 390, height: 844 };
const SMALL_PHONE = { width: 320, height: 568 };
const ARTIFACTS_DIR = path.resolve(process.env.OPENROLL_ARTIFACTS_DIR || 'artifacts');
const REQUIRED = process.env.OPENROLL_REQUIRE_BROWSER === '1';
const ORG_NAME = 'Test organization'; // createOrg's name
const STATUS_TEXT: Record<number, string> = { 404: 'Not Found', 410: 'Gone' };

/** Layout facts measured in the page (a plain script: nothing of the test's build may leak in). */
interface Layout {
  innerWidth: number;
  scrollWidth: number;
  /** Elements whose box ends right of the viewport, e.g. clipped by an overflow:hidden parent. */
  overflowing: string[];
  /** The smallest computed font size of any element that shows text of its own. */
  minFontSize: number;
  /** How many lines the enrollment code takes (0: no code on this page). */
  codeLines: number;
  buttonHeight: number;
}

const MEASURE_LAYOUT = `(() => {
  const innerWidth = window.innerWidth;
  const overflowing = [];
  let minFontSize = Infinity;
  for (const el of document.body.querySelectorAll('*')) {
    const rect = el.getBoundingClientRect();
    if (rect.width === 0 && rect.height === 0) continue;
    if (rect.right > innerWidth + 0.5 || rect.left < -0.5) {
      overflowing.push(el.tagName.toLowerCase() + (el.className ? '.' + el.className : '') + ' [' + Math.round(rect.left) + ', ' + Math.round(rect.right) + ']');
    }
    const ownText = Array.from(el.childNodes).some((n) => n.nodeType === 3 && n.textContent.trim() !== '');
    if (ownText) minFontSize = Math.min(minFontSize, parseFloat(getComputedStyle(el).fontSize));
  }
  const code = document.querySelector('.code-value');
  const codeLines = code ? Math.round(code.getBoundingClientRect().height / parseFloat(getComputedStyle(code).lineHeight)) : 0;
  const button = document.querySelector('.button');
  return {
    innerWidth,
    scrollWidth: document.documentElement.scrollWidth,
    overflowing,
    minFontSize,
    codeLines,
    buttonHeight: button ? button.getBoundingClientRect().height : 0,
  };
})()`;

function assertPhoneLayout(layout: Layout, width: number, label: string): void {
  assert.equal(layout.innerWidth, width, `${label}: the page is laid out at the device width (viewport meta)`);
  assert.ok(layout.scrollWidth <= layout.innerWidth, `${label}: horizontal overflow (scrollWidth ${layout.scrollWidth} > ${layout.innerWidth})`);
  assert.deepEqual(layout.overflowing, [], `${label}: elements reach past the right edge`);
  assert.ok(layout.minFontSize >= 14, `${label}: text smaller than 14px (${layout.minFontSize}px)`);
}

if (!existsSync(CHROMIUM)) {
  const reason = `${CHROMIUM} not found: install Debian's chromium (apt-get install chromium) to run the browser check`;
  if (REQUIRED) {
    test('enrollment page in headless Chromium', () => {
      assert.fail(`${reason} (OPENROLL_REQUIRE_BROWSER=1)`);
    });
  } else {
    test('enrollment page in headless Chromium', { skip: reason }, () => {});
  }
} else {
  let ctx: TestContext;
  let a: TestOrg;
  let userId: string;
  let base: string;
  let userDataDir: string;
  let browser: BrowserContext | undefined;

  before(async () => {
    ctx = await buildTestApp();
    a = await createOrg(ctx);
    userId = (await createMdmUser(ctx, a.org)).id;
    // With a push certificate, Apple links offer the profile download button (issue 13).
    const push = await makePushCertificate();
    const uploaded = await call(ctx.app, a.adminKey, { method: 'PUT', url: `/v1/organizations/${a.org.id}/mdm/apple/enterprise/push-certificate`, payload: { certificate: push.certificate, privateKey: push.privateKey } });
    assert.equal(uploaded.status, 200, JSON.stringify(uploaded.body));
    base = await ctx.app.listen({ host: '127.0.0.1', port: 0 });
    mkdirSync(ARTIFACTS_DIR, { recursive: true });
    userDataDir = mkdtempSync(path.join(tmpdir(), 'openroll-chromium-'));
    browser = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      args: CHROMIUM_ARGS,
      headless: true,
      viewport: PHONE,
      deviceScaleFactor: 2,
      isMobile: true,
      hasTouch: true,
      timeout: 30_000,
    });
  });

  after(async () => {
    await browser?.close();
    if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
    await ctx?.close();
  });

  /** A link the API made, on the server this test listens on (the API writes PUBLIC_URL). */
  async function newLink(language: Lang, platform: 'windows' | 'apple'): Promise<{ url: string; code: string }> {
    const res = await createToken(ctx, a.adminKey, a.org.id, platform, {
      mdmUserId: userId,
      sendEmail: false,
      language,
      duration: 60,
      displayName: 'Jane’s work laptop',
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return { url: new URL(new URL(res.body.data.enrollmentLink).pathname, base).href, code: res.body.data.enrollCode };
  }

  /**
   * Opens the URL in a fresh tab and records everything that went wrong on the way: console
   * errors (CSP violations are reported there), script errors, failed or blocked requests,
   * error responses to anything but the page itself, and any request that leaves the server.
   */
  async function open(url: string, expectedStatus: number): Promise<{ page: Page; problems: string[] }> {
    const page = await browser!.newPage();
    const problems: string[] = [];
    const origin = new URL(url).origin;
    page.on('console', (msg) => {
      if (msg.type() !== 'error') return;
      const at = msg.location().url;
      const failedLoad = (status: number) => msg.text() === `Failed to load resource: the server responded with a status of ${status} (${STATUS_TEXT[status]})`;
      // Chromium logs the page's own 4xx as a failed load (its status is asserted below). Its
      // request for /favicon.ico is not exempt: the server serves the icon.
      if (at === url && failedLoad(expectedStatus)) return;
      problems.push(`console error: ${msg.text()} (${at})`);
    });
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
    page.on('requestfailed', (req) => problems.push(`request failed: ${req.url()} (${req.failure()?.errorText})`));
    page.on('request', (req) => {
      if (new URL(req.url()).origin !== origin) problems.push(`request leaves the server: ${req.url()}`);
    });
    page.on('response', (res) => {
      if (res.url() !== url && res.status() >= 400) problems.push(`HTTP ${res.status()} for ${res.url()}`);
    });
    const res = await page.goto(url, { waitUntil: 'load' });
    assert.equal(res?.status(), expectedStatus);
    return { page, problems };
  }

  /** Checks the page on a phone and on a small phone (axe-core included), with a screenshot of each; returns the worse. */
  async function checkOnPhones(page: Page, name: string): Promise<Layout> {
    const layout = await page.evaluate<Layout>(MEASURE_LAYOUT);
    assertPhoneLayout(layout, PHONE.width, `${name} at ${PHONE.width}px`);
    await page.screenshot({ path: path.join(ARTIFACTS_DIR, `enroll-page-${name}.png`), fullPage: true });
    await page.setViewportSize(SMALL_PHONE);
    const small = await page.evaluate<Layout>(MEASURE_LAYOUT);
    await page.screenshot({ path: path.join(ARTIFACTS_DIR, `enroll-page-${name}-${SMALL_PHONE.width}px.png`), fullPage: true });
    assertPhoneLayout(small, SMALL_PHONE.width, `${name} at ${SMALL_PHONE.width}px`);
    await assertAccessible(page, name);
    return { ...layout, codeLines: Math.max(layout.codeLines, small.codeLines), buttonHeight: Math.min(layout.buttonHeight, small.buttonHeight) };
  }

  describe('the enrollment page in headless Chromium on a phone', { timeout: 120_000 }, () => {
    for (const language of LANGUAGES) {
      test(`a pending link in ${language}`, async () => {
        const t = MESSAGES[language];
        const { url, code } = await newLink(language, language === 'fr' || language === 'it' ? 'apple' : 'windows');
        const { page, problems } = await open(url, 200);
        try {
          const text = await page.locator('body').innerText();
          assert.ok(text.includes(code), `the code ${code} is not visible:\n${text}`);
          assert.ok(text.includes(ORG_NAME), `the organization name is not visible:\n${text}`);
          assert.ok(text.includes(t.title));
          assert.equal(await page.locator('html').getAttribute('lang'), t.htmlLang);
          const layout = await checkOnPhones(page, language);
          assert.equal(layout.codeLines, 1, 'the enrollment code is on one line');
          assert.ok(layout.buttonHeight >= 44, `the button is a comfortable tap target (${layout.buttonHeight}px)`);
          assert.deepEqual(problems, []);
        } finally {
          await page.close();
        }
      });
    }

    test('an expired link', async () => {
      const { url, code } = await newLink('en', 'windows');
      ctx.clock.advance(60_000);
      const { page, problems } = await open(url, 410);
      try {
        const text = await page.locator('body').innerText();
        assert.ok(text.includes(MESSAGES.en.expired), text);
        assert.ok(text.includes(ORG_NAME), text);
        assert.ok(!text.includes(code), 'no code for a link that cannot enroll');
        await checkOnPhones(page, 'expired');
        assert.deepEqual(problems, []);
      } finally {
        await page.close();
      }
      console.log(`screenshots: ${ARTIFACTS_DIR}`);
    });
  });
}

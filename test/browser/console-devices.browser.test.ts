/**
 * The console's device pages in headless Chromium (like console.browser.test.ts, whose setup
 * this follows): the captured Windows 10 PC (Fleet's dump, test/fixtures/windows) enrolls
 * through the real endpoint with a token holding a policy, its first management session gets
 * the policy's commands and its answer fails one of them; an Apple device row stands behind a
 * real Apple token. An admin filters the lists, opens each device (identity, token and user,
 * policies, the commands with their codes), follows the token link and back, and retires the
 * Apple device after the question; a viewer sees no Retire. The dashboard, the home page, shows
 * the dashboard route's figures as text and links. Each page at 1440 and 390 CSS px,
 * audited by axe-core at WCAG 2.2 AA, screenshots as `console-device*.png` in the artifacts dir.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { CONSOLE_DIST_DIR } from '../../src/console/console.plugin.ts';
import { createAppleDevice } from '../helpers/apple-factories.ts';
import { createKey, createMdmUser, createOrg, type TestOrg } from '../helpers/factories.ts';
import { fleetCapturedRequest, FLEET_DEVICE_ID, withCredentials } from '../helpers/fleet-windows-dump.ts';
import { buildTestApp, call, type TestContext } from '../helpers/test-app.ts';
import { createToken } from '../helpers/tokens.ts';
import { all, BEHIND_PROXY, deviceCertificateOf, faultSubcode, managementSession, parse, text } from '../helpers/windows-device.ts';
import { assertAccessible } from './axe-audit.ts';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const DESKTOP = { width: 1440, height: 900 };
const PHONE = { width: 390, height: 844 };
const ARTIFACTS_DIR = path.resolve(process.env.OPENROLL_ARTIFACTS_DIR || 'artifacts');
const REQUIRED = process.env.OPENROLL_REQUIRE_BROWSER === '1';
const CAMERA = './Device/Vendor/MSFT/Policy/Config/Camera/AllowCamera';
const PRINTERS = './Device/Vendor/MSFT/Policy/Config/Education/PrinterNames';

const skipReason = !existsSync(CHROMIUM)
  ? `${CHROMIUM} not found: install Debian's chromium (apt-get install chromium) to run the browser check`
  : !existsSync(path.join(CONSOLE_DIST_DIR, 'index.html'))
    ? 'console/dist is not built: run npm ci (or npm run console:build)'
    : undefined;

/** The PC's answer to the commands of a session (MS-MDM section 4, package 3): one Status each. */
function answer(sessionId: string, statuses: Array<{ cmdRef: string; code: number; detail?: string }>): string {
  let cmdId = 0;
  const status = (s: { cmdRef: string; cmd: string; code: number; detail?: string }) =>
    `<Status><CmdID>${++cmdId}</CmdID><MsgRef>1</MsgRef><CmdRef>${s.cmdRef}</CmdRef><Cmd>${s.cmd}</Cmd><Data>${s.code}</Data>${s.detail ? `<Item><Data>${s.detail}</Data></Item>` : ''}</Status>`;
  return (
    `<SyncML xmlns="SYNCML:SYNCML1.2"><SyncHdr><VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto><SessionID>${sessionId}</SessionID><MsgID>2</MsgID>` +
    `<Target><LocURI>https://mdm.example.test/ManagementServer/MDM.svc</LocURI></Target><Source><LocURI>${FLEET_DEVICE_ID}</LocURI></Source></SyncHdr>` +
    `<SyncBody>${[{ cmdRef: '0', cmd: 'SyncHdr', code: 200 }, ...statuses.map((s) => ({ ...s, cmd: 'Replace' }))].map(status).join('')}<Final/></SyncBody></SyncML>`
  );
}

if (skipReason) {
  if (REQUIRED) test('console device pages in headless Chromium', () => assert.fail(`${skipReason} (OPENROLL_REQUIRE_BROWSER=1)`));
  else test('console device pages in headless Chromium', { skip: skipReason }, () => {});
} else {
  let ctx: TestContext;
  let a: TestOrg;
  let viewerKey: string;
  let base: string;
  let browser: Browser;
  let pc: { id: string; tokenId: string; email: string };
  let apple: { id: string; tokenId: string; email: string; serial: string };

  before(async () => {
    ctx = await buildTestApp({ ...BEHIND_PROXY, publicUrl: 'http://localhost:3000', rateLimitPerMinute: 0 });
    // The browser computes "last seen in the last 24 hours" from its own clock: the server's is set to it.
    ctx.clock.set(new Date());
    a = await createOrg(ctx);
    viewerKey = await createKey(ctx, a.org, { role: 'viewer', name: 'auditor' });

    // The Windows PC: a token with a policy, the captured enrollment, its first session and its answer.
    const policy = await call(ctx.app, a.adminKey, {
      method: 'POST',
      url: `/v1/organizations/${a.org.id}/mdm/windows/enterprise/policies`,
      payload: { name: 'Locked camera', settings: [{ locUri: CAMERA, format: 'int', data: '0' }, { locUri: PRINTERS, format: 'chr', data: 'Hall 2' }] },
    });
    assert.equal(policy.status, 200, JSON.stringify(policy.body));
    const jane = await createMdmUser(ctx, a.org, { email: 'jane.doe@example.com' });
    const token = await createToken(ctx, a.adminKey, a.org.id, 'windows', { mdmUserId: jane.id, sendEmail: false, displayName: 'Jane laptop', winPolicyAssignments: [{ winPolicyId: policy.body.data.id, priority: 1 }] });
    assert.equal(token.status, 200, JSON.stringify(token.body));
    const enrolled = await ctx.app.inject({
      method: 'POST',
      url: '/EnrollmentServer/Enrollment.svc',
      headers: { 'content-type': 'application/soap+xml; charset=utf-8' },
      payload: withCredentials(fleetCapturedRequest('/EnrollmentServer/Enrollment.svc').body, jane.email, token.body.data.enrollCode),
    });
    assert.equal(faultSubcode(enrolled.body), undefined, enrolled.body);
    const pem = deviceCertificateOf(enrolled.body);
    const first = await managementSession(ctx, a.org.id, { deviceId: FLEET_DEVICE_ID, pem, body: fleetCapturedRequest('/ManagementServer/MDM.svc').body });
    assert.equal(first.statusCode, 200, first.body);
    const sent = Array.from(all(parse(first.body), 'SyncBody')[0]!.childNodes).filter((n) => n.nodeType === 1 && (n as { localName?: string }).localName === 'Replace');
    assert.equal(sent.length, 2, first.body);
    const cmdRefs = sent.map((c) => text(c as Parameters<typeof text>[0], 'CmdID')!);
    const reply = await managementSession(ctx, a.org.id, {
      deviceId: FLEET_DEVICE_ID,
      pem,
      body: answer('1', [{ cmdRef: cmdRefs[0]!, code: 200 }, { cmdRef: cmdRefs[1]!, code: 405, detail: 'The node is read-only' }]),
    });
    assert.equal(reply.statusCode, 200, reply.body);
    const tokenAfter = await call(ctx.app, a.adminKey, { method: 'GET', url: `/v1/organizations/${a.org.id}/mdm/windows/enterprise/enrollment-tokens/${token.body.data.id}` });
    pc = { id: tokenAfter.body.data.winDeviceId, tokenId: token.body.data.id, email: jane.email };
    assert.ok(pc.id, JSON.stringify(tokenAfter.body.data));

    // The Apple device: a row behind a real Apple token of John's.
    const john = await createMdmUser(ctx, a.org, { email: 'john.roe@example.com' });
    const appleToken = await createToken(ctx, a.adminKey, a.org.id, 'apple', { mdmUserId: john.id, sendEmail: false, displayName: 'John iPhone' });
    assert.equal(appleToken.status, 200, JSON.stringify(appleToken.body));
    const row = await createAppleDevice(ctx, a.org, appleToken.body.data.id, { serialNumber: 'C02TESTSERIAL' });
    apple = { id: row.id, tokenId: appleToken.body.data.id, email: john.email, serial: 'C02TESTSERIAL' };

    base = await ctx.app.listen({ host: '127.0.0.1', port: 0 });
    mkdirSync(ARTIFACTS_DIR, { recursive: true });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true, timeout: 30_000 });
  });

  after(async () => {
    await browser?.close();
    await ctx?.close();
  });

  async function signedIn(key: string, viewport: { width: number; height: number }): Promise<{ page: Page; problems: string[]; close: () => Promise<void> }> {
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
    await page.goto(`${base}/console/`);
    await page.getByLabel('API key').fill(key);
    await page.getByLabel('API key').press('Enter');
    // The console's home page is the dashboard.
    await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
    return { page, problems, close: () => context.close() };
  }

  /** Opens a console path in the signed-in page (a real navigation: deep links work). */
  async function open(page: Page, to: string, heading: RegExp): Promise<void> {
    await page.goto(`${base}/console${to}`);
    await page.getByRole('heading', { level: 1, name: heading }).waitFor();
  }

  /** No horizontal scrolling and no WCAG 2.2 AA violation axe-core can find; a screenshot kept. */
  async function check(page: Page, label: string): Promise<void> {
    const { scrollWidth, innerWidth } = (await page.evaluate('({ scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth })')) as { scrollWidth: number; innerWidth: number };
    assert.ok(scrollWidth <= innerWidth, `${label}: horizontal overflow (${scrollWidth} > ${innerWidth})`);
    await assertAccessible(page, label);
    await page.screenshot({ path: path.join(ARTIFACTS_DIR, `console-${label}.png`), fullPage: true });
  }

  describe('the console’s device pages in headless Chromium', { timeout: 240_000 }, () => {
    for (const [viewport, width] of [[DESKTOP, 1440], [PHONE, 390]] as const) {
      test(`an admin lists, filters and opens each platform's device at ${width} px`, async () => {
        const { page, problems, close } = await signedIn(a.adminKey, viewport);
        try {
          // The dashboard's figures are the API's, as text beside the charts, each a link to its list.
          const figures = (await call(ctx.app, a.adminKey, { method: 'GET', url: `/v1/organizations/${a.org.id}/dashboard` })).body.data;
          const windowsCard = page.getByRole('region', { name: 'Windows tokens' });
          await windowsCard.getByRole('link', { name: `Enrolled: ${figures.tokens.windows.DONE}` }).waitFor();
          assert.equal(figures.tokens.windows.DONE, 1);
          await windowsCard.getByRole('link', { name: `Commands that failed: ${figures.commandsFailed.windows}` }).waitFor();
          assert.equal(figures.commandsFailed.windows, 1);
          await page.getByRole('region', { name: 'Apple tokens' }).getByRole('link', { name: `Pending: ${figures.tokens.apple.PENDING}` }).waitFor();
          await page.getByText('The numbers, day by day').click();
          const today = figures.enrollmentsPerDay.at(-1);
          assert.deepEqual([today.windows, today.apple], [1, 1]);
          assert.match(await page.getByRole('row').filter({ hasText: today.day }).innerText(), /1\s+1/);
          await check(page, `dashboard-${width}`);
          await windowsCard.getByRole('link', { name: /Commands that failed/ }).click();
          await page.getByRole('heading', { level: 1, name: 'Windows devices' }).waitFor();

          await open(page, '/devices/windows', /Windows devices/);
          const row = page.getByRole('row').filter({ hasText: FLEET_DEVICE_ID });
          await row.waitFor();
          assert.match(await row.innerText(), /Enrolled/);
          await check(page, `devices-windows-${width}`);

          // The filters reach the API: unenrolled finds nothing, the user's email finds the PC.
          await page.getByLabel('State').selectOption('unenrolled');
          await page.getByRole('button', { name: 'Apply' }).click();
          await page.getByText('No device matches these filters.').waitFor();
          await page.getByLabel('State').selectOption('');
          await page.getByLabel('User email').fill(pc.email);
          await page.getByLabel('Last seen').selectOption('1');
          await page.getByRole('button', { name: 'Apply' }).click();
          await page.getByRole('navigation', { name: 'Pages' }).filter({ hasText: '1 in total' }).waitFor();
          assert.match(page.url(), /state=|email=jane/);

          await row.getByRole('link').click();
          await page.getByRole('heading', { level: 1 }).filter({ hasText: /Enrolled/ }).waitFor();
          const main = page.locator('main');
          for (const expected of [FLEET_DEVICE_ID, pc.email, 'Jane laptop', 'Locked camera', 'Failed', CAMERA, PRINTERS, '405', 'Command not allowed', '1 acknowledged, 1 failed']) {
            await main.filter({ hasText: expected }).first().waitFor();
          }
          assert.equal(await page.getByRole('button', { name: 'Retire' }).count(), 1);
          await check(page, `device-windows-${width}`);

          // The device links to its token, and the token back to its device.
          await page.getByRole('region', { name: 'Enrollment' }).getByRole('link', { name: 'Jane laptop' }).click();
          await page.getByRole('heading', { level: 1, name: /Jane laptop/ }).waitFor();
          await page.getByRole('link', { name: pc.id }).click();
          await page.getByRole('heading', { level: 2, name: 'Commands' }).waitFor();
          assert.ok(page.url().endsWith(`/console/devices/windows/${pc.id}`), page.url());

          await open(page, '/devices/apple', /Apple devices/);
          await page.getByRole('row').filter({ hasText: apple.serial }).waitFor();
          await check(page, `devices-apple-${width}`);
          await open(page, `/devices/apple/${apple.id}`, /Test iPhone/);
          for (const expected of [apple.serial, apple.email, 'John iPhone', 'No command was queued for this device.']) await main.filter({ hasText: expected }).first().waitFor();
          await check(page, `device-apple-${width}`);
          assert.deepEqual(problems, []);
        } finally {
          await close();
        }
      });
    }

    test('a viewer reads a device but sees no Retire', async () => {
      const { page, problems, close } = await signedIn(viewerKey, DESKTOP);
      try {
        await open(page, `/devices/windows/${pc.id}`, /Enrolled/);
        await page.locator('main').filter({ hasText: '405' }).first().waitFor();
        assert.equal(await page.getByRole('button', { name: 'Retire' }).count(), 0);
        await check(page, 'device-windows-viewer-1440');
        assert.deepEqual(problems, []);
      } finally {
        await close();
      }
    });

    test('Retire asks first; cancelled it changes nothing, confirmed the API shows the device unenrolled', async () => {
      const { page, problems, close } = await signedIn(a.adminKey, DESKTOP);
      const state = async () => (await call(ctx.app, a.adminKey, { method: 'GET', url: `/v1/organizations/${a.org.id}/mdm/apple/devices/${apple.id}` })).body.data.state;
      try {
        await open(page, `/devices/apple/${apple.id}`, /Test iPhone/);
        await page.getByRole('button', { name: 'Retire' }).click();
        const dialog = page.getByRole('dialog');
        await dialog.getByText(/Retire this device\?/).waitFor();
        await dialog.getByRole('button', { name: 'Cancel' }).click();
        assert.equal(await state(), 'ENROLLED');
        await page.getByRole('button', { name: 'Retire' }).click();
        await dialog.getByRole('button', { name: 'Retire the device' }).click();
        await page.getByRole('status').filter({ hasText: 'The device was retired.' }).waitFor();
        assert.equal(await state(), 'UNENROLLED');
        await page.getByRole('heading', { level: 1 }).filter({ hasText: 'Unenrolled' }).waitFor();
        assert.equal(await page.getByRole('button', { name: 'Retire' }).count(), 0);
        assert.deepEqual(problems, []);
      } finally {
        await close();
      }
    });
  });
}

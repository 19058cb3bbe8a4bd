/**
 * axe-core (Deque's accessibility engine, the one the issue names) run inside a page that
 * Playwright drives, at WCAG 2.2 AA. The engine's source is evaluated through the DevTools
 * protocol, which the console's Content-Security-Policy does not govern, so the page under test
 * keeps its real policy and the audit adds no script tag to it.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** The WCAG 2.0, 2.1 and 2.2 rules at levels A and AA. */
const WCAG_22_AA = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: Array<{ target: string[] }>;
}

/** Every WCAG 2.2 AA violation axe-core finds on the page as it stands, one line each. */
export async function accessibilityViolations(page: Page): Promise<string[]> {
  const loaded = await page.evaluate('typeof window.axe === "object"');
  if (!loaded) await page.evaluate(AXE_SOURCE);
  const violations = (await page.evaluate(
    `window.axe.run(document, { runOnly: { type: 'tag', values: ${JSON.stringify(WCAG_22_AA)} }, resultTypes: ['violations'] })
      .then((r) => r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target })) })))`,
  )) as AxeViolation[];
  return violations.map((v) => `${v.id} (${v.impact ?? 'n/a'}): ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

/** Fails with axe-core's own words when the page has any WCAG 2.2 AA violation. */
export async function assertAccessible(page: Page, label: string): Promise<void> {
  assert.deepEqual(await accessibilityViolations(page), [], `${label}: axe-core found WCAG 2.2 AA violations`);
}

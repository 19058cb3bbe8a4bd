import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { renderEnrollPage, type EnrollPageInput } from '../../src/enroll-page/enroll-page.view.ts';
import { escapeHtml } from '../../src/lib/html.ts';
import { LANGUAGES, MESSAGES, type Lang } from '../../src/mail/i18n.ts';
import { PLATFORMS } from '../../src/platforms/platforms.ts';

const EXPIRE_AT = new Date('2025-03-05T14:30:00Z');
const LOCALES: Record<Lang, string> = { en: 'en-GB', es: 'es-ES', fr: 'fr-FR', de: 'de-DE', it: 'it-IT', pt: 'pt-PT' };
const CLOSED_KINDS = ['expired', 'used', 'revoked'] as const;

// ICU versions word dates differently, so the expectation is made with the same Intl call.
function expectedExpiry(language: Lang): string {
  return `${new Intl.DateTimeFormat(LOCALES[language], { dateStyle: 'long', timeStyle: 'short', timeZone: 'UTC' }).format(EXPIRE_AT)} UTC`;
}

function pending(overrides: Partial<Extract<EnrollPageInput, { kind: 'pending' }>> = {}): EnrollPageInput {
  return {
    kind: 'pending',
    language: 'en',
    platform: 'apple',
    organizationName: 'Acme Corp',
    displayName: 'Jane’s iPhone',
    code: 'ACDE7FGH3K',
    expireAt: EXPIRE_AT,
    link: 'https://mdm.acme.example/enroll/s3cr3t/profile',
    ...overrides,
  };
}

/** What every page must be: a standalone, phone-sized HTML5 document with nothing to fetch or run. */
function assertWellFormedPage(html: string, lang: string): void {
  assert.match(html, new RegExp(`^<!doctype html>\\n<html lang="${lang}">`));
  assert.ok(html.includes('<meta name="viewport" content="width=device-width, initial-scale=1">'));
  assert.ok(html.includes('<meta charset="utf-8">'));
  assert.ok(html.includes('<meta name="referrer" content="no-referrer">'));
  assert.ok(html.trimEnd().endsWith('</html>'));
  for (const banned of ['<script', '<link', '<img', '<iframe', 'src=', '@import', 'url(']) {
    assert.ok(!html.includes(banned), `page contains ${banned}`);
  }
  assert.doesNotMatch(html, /<[^>]*\son[a-z]+\s*=/i, 'page has an event handler attribute');
  for (const leak of ['undefined', 'null', '[object', 'NaN', 'Invalid Date']) {
    assert.ok(!html.includes(leak), `page contains ${leak}`);
  }
}

describe('enroll page: pending', () => {
  for (const language of LANGUAGES) {
    for (const platform of PLATFORMS) {
      test(`${language} / ${platform}`, () => {
        const t = MESSAGES[language];
        const html = renderEnrollPage(pending({ language, platform }));
        assertWellFormedPage(html, t.htmlLang);
        assert.ok(html.includes(`<title>${escapeHtml(t.title)}</title>`));
        for (const value of ['Acme Corp', 'Jane’s iPhone', 'ACDE7FGH3K', expectedExpiry(language), t.title, t.codeLabel, t.startButton, t.singleUse[platform], t.codeHint[platform]]) {
          assert.ok(html.includes(escapeHtml(value)), `page lacks ${value}`);
        }
        assert.ok(html.includes('href="https://mdm.acme.example/enroll/s3cr3t/profile"'));
        for (const step of t.steps[platform]) assert.ok(html.includes(escapeHtml(step)), `page lacks step ${step}`);
        const other = platform === 'windows' ? 'apple' : 'windows';
        assert.ok(!html.includes(escapeHtml(t.steps[other][0] ?? '')));
      });
    }
  }

  test('the Apple page asks for no code and does not call the link single-use, in every language', () => {
    for (const language of LANGUAGES) {
      const t = MESSAGES[language];
      const html = renderEnrollPage(pending({ language, platform: 'apple' }));
      // A profile install never asks for the code, and the profile downloads again until a device enrolls.
      for (const windowsOnly of [t.codeHint.windows, t.singleUse.windows, t.steps.windows[2]!]) assert.ok(!html.includes(escapeHtml(windowsOnly)), `${language}: ${windowsOnly}`);
      for (const said of [t.codeHint.apple, t.singleUse.apple]) assert.ok(html.includes(escapeHtml(said)), `${language}: lacks ${said}`);
    }
    const en = renderEnrollPage(pending({ language: 'en', platform: 'apple' }));
    assert.doesNotMatch(en, /enter the enrollment code|only be used once/i);
    assert.match(en, /download the profile again/i);
  });

  test('an empty display name leaves no label', () => {
    for (const language of LANGUAGES) {
      const html = renderEnrollPage(pending({ language, displayName: '' }));
      assert.ok(!html.includes(escapeHtml(MESSAGES[language].displayNameLabel)));
      assert.ok(!/<p[^>]*><\/p>/.test(html));
    }
  });

  test('the code is shown large and in monospace', () => {
    const html = renderEnrollPage(pending());
    assert.ok(html.includes('<p class="code-value">ACDE7FGH3K</p>'));
    assert.match(html, /\.code-value\{[^}]*monospace/);
    assert.match(html, /main\{max-width:/);
  });
});

describe('enroll page: closed links', () => {
  for (const language of LANGUAGES) {
    for (const kind of CLOSED_KINDS) {
      test(`${language} / ${kind}`, () => {
        const t = MESSAGES[language];
        const html = renderEnrollPage({ kind, language, organizationName: 'Acme Corp' });
        assertWellFormedPage(html, t.htmlLang);
        assert.ok(html.includes(`<h1>${escapeHtml(t[kind])}</h1>`));
        assert.ok(html.includes(`<title>${escapeHtml(t[kind])}</title>`));
        assert.ok(html.includes(escapeHtml(t.askNewLink)));
        assert.ok(html.includes('Acme Corp'));
        for (const otherKind of CLOSED_KINDS.filter((k) => k !== kind)) {
          assert.ok(!html.includes(escapeHtml(t[otherKind])), `${kind} page says ${otherKind}`);
        }
        assert.ok(!html.includes('href='), 'a closed link offers nothing to click');
      });
    }
  }

  test('English says plainly which it is and what to ask for', () => {
    const say = (kind: (typeof CLOSED_KINDS)[number]) => renderEnrollPage({ kind, language: 'en', organizationName: 'Acme Corp' });
    assert.ok(say('expired').includes('This enrollment link has expired'));
    assert.ok(say('used').includes('This enrollment link has already been used to enroll a device'));
    assert.ok(say('revoked').includes('This enrollment link was revoked by your IT administrator'));
    for (const kind of CLOSED_KINDS) assert.ok(say(kind).includes('Ask your IT administrator for a new enrollment link.'));
  });

  test('the three messages differ in every language', () => {
    for (const language of LANGUAGES) {
      const pages = CLOSED_KINDS.map((kind) => renderEnrollPage({ kind, language, organizationName: 'Acme Corp' }));
      assert.equal(new Set(pages).size, 3);
    }
  });
});

describe('enroll page: English-only pages', () => {
  test('not-found says the link is not valid and reveals nothing', () => {
    const html = renderEnrollPage({ kind: 'not-found' });
    assertWellFormedPage(html, 'en');
    assert.ok(html.includes('This enrollment link is not valid'));
    for (const secret of ['Acme', 'ACDE7FGH3K', 'expired', 'used', 'revoked', 'token', 'organization', 'href=']) {
      assert.ok(!html.toLowerCase().includes(secret.toLowerCase()), `not-found page mentions ${secret}`);
    }
  });

  test('rate-limited says to try again later', () => {
    const html = renderEnrollPage({ kind: 'rate-limited' });
    assertWellFormedPage(html, 'en');
    assert.ok(html.includes('Too many attempts'));
    assert.ok(html.includes('try again'));
    assert.ok(!html.includes('This enrollment link is not valid'));
  });
});

describe('enroll page: security', () => {
  const HOSTILE_ORG = '<img src=x onerror=alert(1)> & "Co"';

  test('hostile organization names are escaped on every page that shows one', () => {
    for (const language of LANGUAGES) {
      const pages = [
        renderEnrollPage(pending({ language, organizationName: HOSTILE_ORG })),
        ...CLOSED_KINDS.map((kind) => renderEnrollPage({ kind, language, organizationName: HOSTILE_ORG })),
      ];
      for (const html of pages) {
        assert.ok(!html.includes('<img'));
        assert.ok(html.includes('&lt;img src=x onerror=alert(1)&gt; &amp; &quot;Co&quot;'));
      }
    }
  });

  test('hostile display name, code and link are escaped; a script link is not clickable', () => {
    const html = renderEnrollPage(
      pending({ displayName: '<script>alert(1)</script>', code: '</p><b>X', link: 'javascript:alert(document.cookie)' }),
    );
    assert.ok(!html.includes('<script>'));
    assert.ok(html.includes('&lt;script&gt;alert(1)&lt;/script&gt;'));
    assert.ok(!html.includes('<b>X'));
    assert.ok(!html.includes('href="javascript:'));
    assert.ok(html.includes('href="#"'));
  });

  test('an attribute break-out in the link stays inside the attribute', () => {
    const html = renderEnrollPage(pending({ link: 'https://x.example/"><script>alert(1)</script>' }));
    assert.ok(!html.includes('"><script>'));
    assert.ok(html.includes('href="https://x.example/&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"'));
  });
});

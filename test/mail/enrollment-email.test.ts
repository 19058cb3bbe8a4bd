import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { escapeHtml, safeHref } from '../../src/lib/html.ts';
import { renderEnrollmentEmail, type EnrollmentEmailInput } from '../../src/mail/enrollment-email.ts';
import { formatExpiry, LANGUAGES, MESSAGES, type Lang } from '../../src/mail/i18n.ts';
import { PLATFORMS } from '../../src/platforms/platforms.ts';

const HOSTILE = '<script>alert(1)</script> & "quotes"';
const EXPIRE_AT = new Date('2025-03-05T14:30:00Z');
const LOCALES: Record<Lang, string> = { en: 'en-GB', es: 'es-ES', fr: 'fr-FR', de: 'de-DE', it: 'it-IT', pt: 'pt-PT' };

// ICU versions word dates differently, so the expectation is made with the same Intl call.
function expectedExpiry(language: Lang, date: Date = EXPIRE_AT): string {
  return `${new Intl.DateTimeFormat(LOCALES[language], { dateStyle: 'long', timeStyle: 'short', timeZone: 'UTC' }).format(date)} UTC`;
}

function emailInput(overrides: Partial<EnrollmentEmailInput> = {}): EnrollmentEmailInput {
  return {
    language: 'en',
    platform: 'windows',
    organizationName: 'Acme Corp',
    displayName: 'Jane’s laptop',
    recipient: 'jane@acme.example',
    link: 'https://mdm.acme.example/enroll/s3cr3tS3cr3t',
    code: 'ACDE7FGH3K',
    expireAt: EXPIRE_AT,
    emailText: HOSTILE,
    ...overrides,
  };
}

function assertNoPlaceholderLeaks(...outputs: string[]): void {
  for (const output of outputs) {
    for (const leak of ['undefined', 'null', '[object', 'NaN', 'Invalid Date']) {
      assert.ok(!output.includes(leak), `output contains ${leak}`);
    }
  }
}

describe('enrollment email: every language and platform', () => {
  for (const language of LANGUAGES) {
    for (const platform of PLATFORMS) {
      test(`${language} / ${platform}`, () => {
        const input = emailInput({ language, platform });
        const { subject, text, html } = renderEnrollmentEmail(input);
        const t = MESSAGES[language];
        const expiry = expectedExpiry(language);

        assert.ok(subject.includes('Acme Corp'));
        assert.equal(subject, t.subject('Acme Corp'));
        assert.match(html, new RegExp(`^<!doctype html>\\n<html lang="${t.htmlLang}">`));

        for (const value of [input.link, input.code, expiry, input.displayName, input.recipient, 'Acme Corp']) {
          assert.ok(text.includes(value), `text lacks ${value}`);
          assert.ok(html.includes(escapeHtml(value)), `html lacks ${value}`);
        }
        assert.ok(html.includes(`href="${input.link}"`));

        for (const step of t.steps[platform]) {
          assert.ok(text.includes(step), `text lacks step ${step}`);
          assert.ok(html.includes(escapeHtml(step)), `html lacks step ${step}`);
        }
        const other = platform === 'windows' ? 'apple' : 'windows';
        assert.ok(!text.includes(t.steps[other][0] ?? ''), 'the other platform’s steps leaked in');

        for (const line of [t.greeting, t.singleUse[platform], t.codeLabel, t.stepsHeading, t.expires(expiry)]) {
          assert.ok(text.includes(line), `text lacks ${line}`);
          assert.ok(html.includes(escapeHtml(line)), `html lacks ${line}`);
        }

        assert.ok(!html.includes('<script>'));
        assert.ok(html.includes('&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quotes&quot;'));
        assert.ok(text.includes(HOSTILE));

        assertNoPlaceholderLeaks(subject, text, html);
      });
    }
  }

  test('subjects, texts and htmls differ pairwise between languages', () => {
    for (const platform of PLATFORMS) {
      const rendered = LANGUAGES.map((language) => renderEnrollmentEmail(emailInput({ language, platform })));
      for (const part of ['subject', 'text', 'html'] as const) {
        assert.equal(new Set(rendered.map((r) => r[part])).size, LANGUAGES.length, `${part} repeats across languages`);
      }
    }
  });

  test('the two platforms give different steps in every language', () => {
    for (const language of LANGUAGES) {
      const windows = renderEnrollmentEmail(emailInput({ language, platform: 'windows' }));
      const apple = renderEnrollmentEmail(emailInput({ language, platform: 'apple' }));
      assert.notEqual(windows.text, apple.text);
      assert.ok(apple.text.includes('Safari'));
      assert.ok(windows.text.includes('Windows'));
    }
  });
});

describe('enrollment email: optional parts', () => {
  test('empty display name and empty emailText leave no label and no empty paragraph', () => {
    for (const language of LANGUAGES) {
      const t = MESSAGES[language];
      const { text, html } = renderEnrollmentEmail(emailInput({ language, displayName: '', emailText: '' }));
      assert.ok(!text.includes(t.displayNameLabel));
      assert.ok(!html.includes(escapeHtml(t.displayNameLabel)));
      assert.ok(!text.includes('\n\n\n'), 'a skipped paragraph left a blank gap');
      assert.ok(!/<p[^>]*><\/p>/.test(html), 'an empty paragraph was rendered');
      assertNoPlaceholderLeaks(text, html);
    }
  });

  test('emailText keeps its line breaks: verbatim in text, <br> in html', () => {
    const { text, html } = renderEnrollmentEmail(emailInput({ emailText: 'Line one\nLine <two>' }));
    assert.ok(text.includes('Line one\nLine <two>'));
    assert.ok(html.includes('Line one<br>Line &lt;two&gt;'));
  });

  test('the expiry follows the input date, in UTC', () => {
    const late = new Date('2031-12-31T23:59:00Z');
    for (const language of LANGUAGES) {
      const { text } = renderEnrollmentEmail(emailInput({ language, expireAt: late }));
      assert.ok(text.includes(expectedExpiry(language, late)));
      assert.equal(formatExpiry(late, language), expectedExpiry(language, late));
    }
  });
});

describe('enrollment email: security', () => {
  test('every interpolated value is escaped in html', () => {
    const input = emailInput({
      organizationName: '<b>Evil</b> & Co "x"',
      displayName: '<img src=x onerror=alert(1)>',
      recipient: '"<svg/onload=alert(1)>"@evil.example',
      link: 'https://evil.example/enroll/"><script>x</script>',
      code: '<i>CODE</i>',
      emailText: '</p><iframe src="https://evil.example">',
    });
    for (const language of LANGUAGES) {
      const { subject, text, html } = renderEnrollmentEmail({ ...input, language });
      for (const raw of ['<b>', '<img', '<svg', '<script', '<i>', '<iframe', '"><script']) {
        assert.ok(!html.includes(raw), `${language}: html contains raw ${raw}`);
      }
      assert.ok(html.includes('&lt;b&gt;Evil&lt;/b&gt; &amp; Co &quot;x&quot;'));
      assert.ok(html.includes('&lt;img src=x onerror=alert(1)&gt;'));
      assert.ok(html.includes('&lt;i&gt;CODE&lt;/i&gt;'));
      // Plain text is not markup: the admin's and the org's words are kept as written.
      assert.ok(text.includes('</p><iframe src="https://evil.example">'));
      assert.ok(subject.includes('<b>Evil</b> & Co "x"'));
    }
  });

  test('a non-web link scheme is not turned into a clickable href', () => {
    const { html } = renderEnrollmentEmail(emailInput({ link: 'javascript:alert(1)' }));
    assert.ok(!html.includes('href="javascript:'));
    assert.ok(html.includes('href="#"'));
    assert.equal(safeHref('JavaScript:alert(1)'), '#');
    assert.equal(safeHref('data:text/html,x'), '#');
    assert.equal(safeHref('https://a.example/enroll/x'), 'https://a.example/enroll/x');
    assert.equal(safeHref('ms-device-enrollment:?mode=mdm'), 'ms-device-enrollment:?mode=mdm');
  });

  test('line breaks in the organization name cannot reach the subject header', () => {
    for (const language of LANGUAGES) {
      const { subject } = renderEnrollmentEmail(emailInput({ language, organizationName: 'Acme\r\nBcc: victim@evil.example' }));
      assert.ok(!/[\r\n]/.test(subject), `${language}: subject has a line break`);
      assert.ok(subject.includes('Acme Bcc: victim@evil.example'));
    }
  });

  test('escapeHtml covers the five significant characters', () => {
    assert.equal(escapeHtml(`<a href="x" title='y'>&</a>`), '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;');
    assert.equal(escapeHtml('plain ünïcödé'), 'plain ünïcödé');
  });
});

describe('translations', () => {
  const keysOf = (lang: Lang) => Object.keys(MESSAGES[lang]).sort();

  test('every language has exactly the keys of English, with the same kinds of value', () => {
    assert.deepEqual([...LANGUAGES].sort(), Object.keys(MESSAGES).sort());
    for (const language of LANGUAGES) {
      assert.deepEqual(keysOf(language), keysOf('en'), `${language} keys`);
      for (const key of keysOf('en') as (keyof typeof MESSAGES.en)[]) {
        assert.equal(typeof MESSAGES[language][key], typeof MESSAGES.en[key], `${language}.${key}`);
      }
    }
  });

  test('no string is empty or untrimmed, and templates use their arguments', () => {
    for (const language of LANGUAGES) {
      const t = MESSAGES[language];
      const strings = [t.htmlLang, t.title, t.greeting, t.displayNameLabel, t.linkIntro, t.startButton, t.codeLabel, ...Object.values(t.codeHint),
        t.stepsHeading, ...Object.values(t.singleUse), t.expired, t.used, t.revoked, t.askNewLink];
      for (const s of strings) {
        assert.ok(s.length > 0 && s === s.trim(), `${language}: bad string ${JSON.stringify(s)}`);
      }
      assert.ok(t.colon.includes(':'));
      assert.ok(t.subject('ORG').includes('ORG'));
      assert.ok(t.intro('ORG').includes('ORG'));
      assert.ok(t.expires('DATE').includes('DATE'));
      const sentTo = t.sentTo('RCPT', 'ORG');
      assert.ok(sentTo.includes('RCPT') && sentTo.includes('ORG'));
    }
  });

  test('every language has the same number of steps as English, none empty', () => {
    for (const language of LANGUAGES) {
      for (const platform of PLATFORMS) {
        const steps = MESSAGES[language].steps[platform];
        assert.equal(steps.length, MESSAGES.en.steps[platform].length, `${language}/${platform}`);
        assert.ok(steps.every((s) => s.trim().length > 0));
      }
      assert.deepEqual(Object.keys(MESSAGES[language].steps).sort(), [...PLATFORMS].sort());
    }
  });

  test('languages do not share page messages', () => {
    for (const key of ['title', 'expired', 'used', 'revoked', 'askNewLink'] as const) {
      assert.equal(new Set(LANGUAGES.map((l) => MESSAGES[l][key])).size, LANGUAGES.length, key);
    }
    for (const platform of PLATFORMS) {
      for (const key of ['singleUse', 'codeHint'] as const) {
        assert.equal(new Set(LANGUAGES.map((l) => MESSAGES[l][key][platform])).size, LANGUAGES.length, `${key}.${platform}`);
      }
    }
  });
});

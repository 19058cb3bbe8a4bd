import { escapeHtml, safeHref } from '../lib/html.ts';
import type { Platform } from '../platforms/platforms.ts';
import { formatExpiry, MESSAGES, type Lang, type Messages } from './i18n.ts';

export interface EnrollmentEmailInput {
  language: Lang;
  platform: Platform;
  organizationName: string;
  /** May be ''. */
  displayName: string;
  /** The employee's email address. */
  recipient: string;
  link: string;
  code: string;
  expireAt: Date;
  /** The admin's own words; may be ''. Always plain text, never markup. */
  emailText: string;
}

export interface RenderedEmail {
  subject: string;
  text: string;
  html: string;
}

// Control characters in a header value could start a new header in a careless mailer.
function headerSafe(value: string): string {
  return value.replace(/\p{Cc}+/gu, ' ').trim();
}

export function renderEnrollmentEmail(input: EnrollmentEmailInput): RenderedEmail {
  const t = MESSAGES[input.language];
  const expiry = formatExpiry(input.expireAt, input.language);
  return {
    subject: headerSafe(t.subject(input.organizationName)),
    text: renderText(input, t, expiry),
    html: renderHtml(input, t, expiry),
  };
}

function renderText(input: EnrollmentEmailInput, t: Messages, expiry: string): string {
  const paragraphs = [
    t.greeting,
    t.intro(input.organizationName),
    input.emailText === '' ? undefined : input.emailText,
    input.displayName === '' ? undefined : `${t.displayNameLabel}${t.colon}${input.displayName}`,
    `${t.linkIntro}\n${input.link}`,
    `${t.codeLabel}${t.colon}${input.code}\n${t.expires(expiry)}`,
    `${t.stepsHeading}${t.colon.trimEnd()}\n${t.steps[input.platform].map((step, i) => `${i + 1}. ${step}`).join('\n')}`,
    t.singleUse[input.platform],
    `-- \n${t.sentTo(input.recipient, input.organizationName)}`,
  ];
  return `${paragraphs.filter((p) => p !== undefined).join('\n\n')}\n`;
}

// Inline styles only: many mail clients drop <style> blocks and all external resources.
const S = {
  body: 'margin:0;padding:0;background-color:#f3f4f6;',
  outer: 'max-width:560px;margin:0 auto;padding:24px 12px;font-family:-apple-system,BlinkMacSystemFont,Segoe UI,Roboto,Helvetica,Arial,sans-serif;font-size:16px;line-height:1.5;color:#1f2937;',
  card: 'background-color:#ffffff;border-radius:8px;padding:24px 20px;',
  h1: 'margin:0 0 16px;font-size:22px;line-height:1.3;color:#111827;',
  h2: 'margin:24px 0 8px;font-size:17px;line-height:1.3;color:#111827;',
  p: 'margin:0 0 16px;',
  note: 'margin:0 0 16px;padding:12px 16px;border-left:4px solid #d1d5db;background-color:#f9fafb;',
  buttonWrap: 'margin:8px 0 12px;text-align:center;',
  button: 'display:inline-block;padding:14px 28px;border-radius:6px;background-color:#1d4ed8;color:#ffffff;font-weight:600;font-size:17px;text-decoration:none;',
  rawLink: 'margin:0 0 20px;font-size:13px;word-break:break-all;text-align:center;',
  rawLinkA: 'color:#1d4ed8;',
  codeLabel: 'margin:0 0 4px;font-size:14px;color:#4b5563;',
  code: 'margin:0 0 8px;padding:12px;border-radius:6px;background-color:#f3f4f6;font-family:ui-monospace,Menlo,Consolas,Courier New,monospace;font-size:26px;font-weight:700;letter-spacing:4px;text-align:center;',
  ol: 'margin:0 0 16px;padding-left:22px;',
  li: 'margin:0 0 8px;',
  footer: 'margin:16px 4px 0;font-size:12px;line-height:1.5;color:#6b7280;',
} as const;

// Keeps the admin's line breaks without letting the text carry markup.
function escapeMultiline(value: string): string {
  return escapeHtml(value).replace(/\r?\n/g, '<br>');
}

function renderHtml(input: EnrollmentEmailInput, t: Messages, expiry: string): string {
  const e = escapeHtml;
  const href = e(safeHref(input.link));
  const steps = t.steps[input.platform].map((step) => `<li style="${S.li}">${e(step)}</li>`).join('\n');
  const blocks = [
    `<h1 style="${S.h1}">${e(t.title)}</h1>`,
    `<p style="${S.p}">${e(t.greeting)}</p>`,
    `<p style="${S.p}">${e(t.intro(input.organizationName))}</p>`,
    input.emailText === '' ? undefined : `<p style="${S.note}">${escapeMultiline(input.emailText)}</p>`,
    input.displayName === '' ? undefined : `<p style="${S.p}"><strong>${e(t.displayNameLabel + t.colon)}</strong>${e(input.displayName)}</p>`,
    `<p style="${S.p}">${e(t.linkIntro)}</p>`,
    `<p style="${S.buttonWrap}"><a href="${href}" style="${S.button}">${e(t.startButton)}</a></p>`,
    `<p style="${S.rawLink}"><a href="${href}" style="${S.rawLinkA}">${e(input.link)}</a></p>`,
    `<p style="${S.codeLabel}">${e(t.codeLabel)}</p>`,
    `<p style="${S.code}">${e(input.code)}</p>`,
    `<p style="${S.p}">${e(t.expires(expiry))}</p>`,
    `<h2 style="${S.h2}">${e(t.stepsHeading)}</h2>`,
    `<ol style="${S.ol}">\n${steps}\n</ol>`,
    `<p style="${S.p}">${e(t.singleUse[input.platform])}</p>`,
  ];
  return `<!doctype html>
<html lang="${e(t.htmlLang)}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${e(headerSafe(t.subject(input.organizationName)))}</title>
</head>
<body style="${S.body}">
<div style="${S.outer}">
<div style="${S.card}">
${blocks.filter((b) => b !== undefined).join('\n')}
</div>
<p style="${S.footer}">${e(t.sentTo(input.recipient, input.organizationName))}</p>
</div>
</body>
</html>
`;
}

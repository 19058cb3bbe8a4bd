import { escapeHtml as e, safeHref } from '../lib/html.ts';
import { formatExpiry, MESSAGES, type Lang } from '../mail/i18n.ts';
import type { Platform } from '../platforms/platforms.ts';
import { WINDOWS_PASSWORD_HINT } from './windows-enroll-link.ts';
import { APPLE_PROFILE_MESSAGES } from './apple-profile.i18n.ts';

export type EnrollPageInput =
  | {
      kind: 'pending';
      language: Lang;
      platform: Platform;
      organizationName: string;
      displayName: string;
      code: string;
      expireAt: Date;
      link: string;
      /** Windows: the user name to sign in with; the code is the password. */
      windowsUsername?: string;
      /** Apple only: the profile to download, or null while the organization has no push certificate. */
      appleProfileUrl?: string | null;
    }
  | { kind: 'expired' | 'used' | 'revoked'; language: Lang; organizationName: string }
  // English only: the secret matched nothing, so there is no language to use and nothing to reveal.
  | { kind: 'not-found' }
  // English only: too many attempts from this client.
  | { kind: 'rate-limited' };

/**
 * The page behind `https://<server>/enroll/<secret>`. The route owns the status code and the
 * headers; this only writes the document. No scripts, no external resources: the page must
 * work on a phone that is not yet managed, with a strict Content-Security-Policy.
 */
export function renderEnrollPage(input: EnrollPageInput): string {
  switch (input.kind) {
    case 'pending':
      return renderPending(input);
    case 'expired':
    case 'used':
    case 'revoked': {
      const t = MESSAGES[input.language];
      const message = t[input.kind];
      return documentHtml(t.htmlLang, message, [org(input.organizationName), `<h1>${e(message)}</h1>`, `<p>${e(t.askNewLink)}</p>`]);
    }
    case 'not-found':
      return documentHtml('en', 'Enrollment link not valid', [
        '<h1>This enrollment link is not valid</h1>',
        '<p>Check that you opened the complete link from your enrollment email. If it still does not work, ask your IT administrator for a new enrollment link.</p>',
      ]);
    case 'rate-limited':
      return documentHtml('en', 'Too many attempts', [
        '<h1>Too many attempts</h1>',
        '<p>Please wait a few minutes, then try again.</p>',
      ]);
  }
}

function renderPending(input: Extract<EnrollPageInput, { kind: 'pending' }>): string {
  const t = MESSAGES[input.language];
  const steps = t.steps[input.platform].map((step) => `<li>${e(step)}</li>`).join('\n');
  return documentHtml(t.htmlLang, t.title, [
    org(input.organizationName),
    `<h1>${e(t.title)}</h1>`,
    `<p>${e(t.intro(input.organizationName))}</p>`,
    input.displayName === '' ? '' : `<p><strong>${e(t.displayNameLabel + t.colon)}</strong>${e(input.displayName)}</p>`,
    `<section class="code" aria-labelledby="code-label">`,
    `<p id="code-label" class="code-label">${e(t.codeLabel)}</p>`,
    `<p class="code-value">${e(input.code)}</p>`,
    `<p class="hint">${e(t.codeHint[input.platform])}</p>`,
    input.windowsUsername === undefined ? '' : `<p class="hint password-hint">${e(WINDOWS_PASSWORD_HINT[input.language](input.windowsUsername))}</p>`,
    `</section>`,
    `<p class="expiry">${e(t.expires(formatExpiry(input.expireAt, input.language)))}</p>`,
    input.appleProfileUrl === undefined ? `<p><a class="button" href="${e(safeHref(input.link))}">${e(t.startButton)}</a></p>` : appleProfile(input),
    `<h2>${e(t.stepsHeading)}</h2>`,
    `<ol>\n${steps}\n</ol>`,
    `<p class="hint">${e(t.singleUse[input.platform])}</p>`,
  ]);
}

function appleProfile(input: Extract<EnrollPageInput, { kind: 'pending' }>): string {
  const t = APPLE_PROFILE_MESSAGES[input.language];
  if (!input.appleProfileUrl) return `<p class="expiry" role="alert">${e(t.noPushCertificate(input.organizationName))}</p>`;
  return `<p><a class="button" href="${e(safeHref(input.appleProfileUrl))}">${e(t.download)}</a></p>\n<p class="hint">${e(t.downloadHint)}</p>`;
}

function org(name: string): string {
  return `<p class="org">${e(name)}</p>`;
}

const CSS = `
*{box-sizing:border-box}
body{margin:0;background:#f3f4f6;color:#1f2937;font:16px/1.5 -apple-system,BlinkMacSystemFont,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;-webkit-text-size-adjust:100%}
main{max-width:560px;margin:0 auto;padding:24px 16px}
.card{background:#fff;border-radius:10px;padding:24px 20px;box-shadow:0 1px 3px rgba(0,0,0,.08)}
.card>:last-child{margin-bottom:0}
.org{margin:0 0 8px;font-size:14px;font-weight:600;color:#4b5563;overflow-wrap:anywhere}
h1{margin:0 0 16px;font-size:24px;line-height:1.25;color:#111827}
h2{margin:28px 0 8px;font-size:18px;color:#111827}
p{margin:0 0 16px;overflow-wrap:anywhere}
.code{margin:0 0 16px;padding:16px;border-radius:8px;background:#f3f4f6;text-align:center}
.code-label{margin:0 0 4px;font-size:14px;color:#4b5563}
.code-value{margin:0 0 8px;font:700 28px/1.2 ui-monospace,Menlo,Consolas,"Courier New",monospace;font-size:clamp(22px,8vw,32px);letter-spacing:.15em;color:#111827;user-select:all}
.hint{margin:0;font-size:14px;color:#4b5563}
.expiry{font-weight:600}
.button{display:block;min-height:48px;padding:14px 20px;border-radius:8px;background:#1d4ed8;color:#fff;font-size:18px;font-weight:600;text-align:center;text-decoration:none}
.button:focus-visible{outline:3px solid #93c5fd;outline-offset:2px}
ol{margin:0 0 16px;padding-left:24px}
li{margin:0 0 10px}
`;

function documentHtml(lang: string, title: string, body: string[]): string {
  // no-referrer: the page's own URL carries the enrollment secret.
  return `<!doctype html>
<html lang="${e(lang)}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow">
<meta name="referrer" content="no-referrer">
<title>${e(title)}</title>
<style>${CSS}</style>
</head>
<body>
<main>
<div class="card">
${body.filter((line) => line !== '').join('\n')}
</div>
</main>
</body>
</html>
`;
}

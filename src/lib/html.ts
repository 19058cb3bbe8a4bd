/** Escaping for the server-rendered HTML of emails and the enrollment page. */

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Safe in element content and in double- or single-quoted attribute values. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (ch) => HTML_ESCAPES[ch] ?? ch);
}

/**
 * Escaping stops a link from breaking out of its attribute but not from being `javascript:`.
 * Links are built by the server today; this keeps a future mistake from becoming script.
 */
export function safeHref(link: string): string {
  return /^(https?|ms-device-enrollment):/i.test(link.trim()) ? link : '#';
}

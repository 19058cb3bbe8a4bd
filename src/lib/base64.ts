/**
 * Base64 checks for values devices send before they are authenticated (signatures, CSRs,
 * forwarded certificates). Plain loops over the characters, never a regular expression: a
 * pattern like `/^[A-Za-z0-9+/\s]+={0,2}\s*$/` backtracks quadratically on 'A' + spaces + '!'
 * (16,000 spaces cost a quarter of a second of the event loop per request).
 */

function isWhitespace(code: number): boolean {
  // Space, tab, LF, VT, FF, CR: what PEM, MIME and header folding put between base64 characters.
  return code === 0x20 || (code >= 0x09 && code <= 0x0d);
}

function isBase64Character(code: number): boolean {
  return (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a) || (code >= 0x30 && code <= 0x39) || code === 0x2b || code === 0x2f;
}

/** The value without ASCII whitespace. */
export function stripWhitespace(value: string): string {
  let kept = '';
  let runStart = 0;
  for (let i = 0; i < value.length; i++) {
    if (!isWhitespace(value.charCodeAt(i))) continue;
    if (i > runStart) kept += value.slice(runStart, i);
    runStart = i + 1;
  }
  return runStart === 0 ? value : kept + value.slice(runStart);
}

/**
 * Standard-alphabet base64 with at most two `=` at the end and nothing else: at least one data
 * character. Whitespace is not allowed (strip it first where the format folds lines).
 */
export function isBase64(value: string): boolean {
  let end = value.length;
  let padding = 0;
  while (end > 0 && padding < 2 && value.charCodeAt(end - 1) === 0x3d) {
    end--;
    padding++;
  }
  if (end === 0) return false;
  for (let i = 0; i < end; i++) if (!isBase64Character(value.charCodeAt(i))) return false;
  return true;
}

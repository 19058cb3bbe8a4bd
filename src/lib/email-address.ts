import { fullFormats } from 'ajv-formats/dist/formats.js';

const EMAIL = fullFormats.email as RegExp;

/** Trimmed and lower-cased: the form in which emails are stored and compared. */
export function normalizeEmail(raw: string): string {
  return raw.trim().toLowerCase();
}

/** The same rule as the `email` format of the schemas, with RFC 5321's length limit. */
export function isEmail(value: string): boolean {
  return value.length <= 320 && EMAIL.test(value);
}

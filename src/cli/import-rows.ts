import { parse } from 'csv-parse/sync';
import { isEmail, normalizeEmail } from '../lib/email-address.ts';
import { LANGUAGES, type Language } from '../lib/languages.ts';

/**
 * The people CSV of `openroll tokens import`: a header row, then one person a row. Columns:
 * `email` (required), `displayName`, `language`, `tags` (separated by `;` or `,`) and `policy`
 * (a policy id or name). Every row becomes exactly one result: a row that cannot be sent (a
 * broken record, a bad value, a repeated email) gets its own error and does not stop the others.
 */
export const COLUMNS = ['email', 'displayName', 'language', 'tags', 'policy'] as const;
type Column = (typeof COLUMNS)[number];

/** Header spellings accepted for each column, compared lower-cased without spaces, dashes or underscores. */
const ALIASES: Record<string, Column> = { email: 'email', displayname: 'displayName', language: 'language', tags: 'tags', policy: 'policy' };

export interface ImportRow {
  /** Line of the input file where the record starts (the header is line 1). */
  line: number;
  email: string;
  displayName?: string;
  language?: Language;
  tags?: string[];
  /** As written: an id, or a name still to be resolved. */
  policy?: string;
  /** Set when the row cannot be sent; the row is reported with it. */
  error?: string;
}

export class CsvHeaderError extends Error {}

const MAX_TEXT = 128;
/** For naming the person of a record too broken to read. */
const EMAIL_LIKE = /[^\s",;']+@[^\s",;']+/;

function validate(row: ImportRow, values: Partial<Record<Column, string>>): ImportRow {
  const problems: string[] = [];
  const email = normalizeEmail(values.email ?? '');
  row.email = email;
  if (email === '') problems.push('email is empty');
  else if (!isEmail(email)) problems.push(`email "${email}" is not an email address`);
  if (values.displayName) {
    if (values.displayName.length > MAX_TEXT) problems.push(`displayName is longer than ${MAX_TEXT} characters`);
    else row.displayName = values.displayName;
  }
  if (values.language) {
    const language = values.language.toLowerCase();
    if ((LANGUAGES as readonly string[]).includes(language)) row.language = language as Language;
    else problems.push(`language "${values.language}" is not one of ${LANGUAGES.join(', ')}`);
  }
  if (values.tags) {
    const tags = [...new Set(values.tags.split(/[;,]/).map((t) => t.trim()).filter(Boolean))];
    const long = tags.find((t) => t.length > MAX_TEXT);
    if (long) problems.push(`tag "${long.slice(0, 20)}…" is longer than ${MAX_TEXT} characters`);
    else row.tags = tags;
  }
  if (values.policy) row.policy = values.policy;
  if (problems.length) row.error = problems.join('; ');
  return row;
}

/** Reads the CSV text into rows, each valid or carrying its error; a bad header throws. */
export function readImportRows(text: string): ImportRow[] {
  const rows: ImportRow[] = [];
  let header: Array<Column | undefined> | undefined;
  const records = parse(text, {
    bom: true,
    trim: true,
    skip_empty_lines: true,
    relax_column_count: true,
    info: true,
    raw: true,
    skip_records_with_error: true,
    // A record the parser cannot read (a stray quote, an unclosed one) is this row's error.
    on_skip: (error, raw) => {
      if (error) rows.push({ line: Number(error.lines ?? 0), email: normalizeEmail(EMAIL_LIKE.exec(raw ?? '')?.[0] ?? ''), error: `the CSV record is malformed: ${error.message}` });
      return undefined;
    },
  }) as unknown as Array<{ record: string[]; info: { lines: number }; raw: string }>;

  for (const { record, info, raw } of records) {
    if (!header) {
      header = record.map((name) => ALIASES[name.toLowerCase().replace(/[\s_-]/g, '')]);
      const unknown = record.filter((_, i) => !header![i]);
      if (unknown.length) throw new CsvHeaderError(`unknown column${unknown.length > 1 ? 's' : ''} ${unknown.map((c) => `"${c}"`).join(', ')} in the header (known: ${COLUMNS.join(', ')})`);
      const repeated = header.find((c, i) => header!.indexOf(c) !== i);
      if (repeated) throw new CsvHeaderError(`column "${repeated}" appears twice in the header`);
      if (!header.includes('email')) throw new CsvHeaderError('the header has no "email" column');
      continue;
    }
    // info.lines is where the record ends; one with quoted line breaks started that many lines earlier.
    const line = info.lines - (raw.replace(/^[\r\n]+/, '').replace(/\r?\n$/, '').match(/\n/g)?.length ?? 0);
    if (record.length !== header.length) {
      rows.push({ line, email: normalizeEmail(record[header.indexOf('email')] ?? ''), error: `the row has ${record.length} fields, the header ${header.length}` });
      continue;
    }
    const values: Partial<Record<Column, string>> = {};
    header.forEach((column, i) => (values[column!] = record[i]));
    rows.push(validate({ line, email: '' }, values));
  }
  if (!header) throw new CsvHeaderError('the file is empty: it needs a header row with an "email" column');
  rows.sort((a, b) => a.line - b.line);

  // A person once: a second row of the same email would make a second token.
  const first = new Map<string, number>();
  for (const row of rows) {
    if (row.error || row.email === '') continue;
    const seen = first.get(row.email);
    if (seen !== undefined) row.error = `repeats the email of line ${seen}`;
    else first.set(row.email, row.line);
  }
  return rows;
}

import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';

/**
 * Reads a backup file line by line and refuses, with the line's number, anything its writer
 * (`writeBackup`) would not have written: a restore loads what the file says or nothing, so a
 * line that is not JSON, a row with a column the table does not have, or anything after the end
 * marker is an error, never skipped. Every refusal is one line of text (an operator reads it).
 */
export class BackupError extends Error {}

export const BACKUP_FORMAT = 'openroll-backup';
export const BACKUP_VERSION = 1;

export interface BackupHeader {
  format: string;
  version: number;
  createdAt: string;
  /** The `when` of every migration applied to the source database. */
  migrations: number[];
}

export type BackupEntry = { kind: 'table'; line: number; table: string } | { kind: 'row'; line: number; row: Record<string, unknown> } | { kind: 'end'; line: number };

/** One line, whatever a database or a parser put in the message. */
export const oneLine = (text: string) => text.replace(/\s+/g, ' ').trim();

function refuse(file: string, line: number, what: string): never {
  throw new BackupError(oneLine(`${file}, line ${line}: ${what}`));
}

function parseLine(file: string, line: number, text: string): unknown {
  if (text.trim() === '') refuse(file, line, 'an empty line (a backup has one JSON value on each line)');
  try {
    return JSON.parse(text);
  } catch (error) {
    return refuse(file, line, `not JSON (${(error as Error).message})`);
  }
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** The header, checked field by field: a file that is no backup says so on its first line. */
function checkHeader(file: string, value: unknown): BackupHeader {
  if (!isObject(value) || value.format !== BACKUP_FORMAT) refuse(file, 1, `not an Openroll backup (its first line is no {"format": "${BACKUP_FORMAT}", ...} header)`);
  if (value.version !== BACKUP_VERSION) refuse(file, 1, `not an Openroll backup of version ${BACKUP_VERSION} (the header says version ${JSON.stringify(value.version)})`);
  if (!Array.isArray(value.migrations) || !value.migrations.every((m) => Number.isSafeInteger(m))) refuse(file, 1, 'a bad header: "migrations" is not a list of whole numbers');
  if (typeof value.createdAt !== 'string') refuse(file, 1, 'a bad header: "createdAt" is not a string');
  const extra = Object.keys(value).filter((k) => !['format', 'version', 'createdAt', 'migrations'].includes(k));
  if (extra.length > 0) refuse(file, 1, `a bad header: unknown field ${extra.map((k) => JSON.stringify(k)).join(', ')}`);
  return value as unknown as BackupHeader;
}

export interface BackupReader {
  header: BackupHeader;
  /**
   * The file's tables, rows and end marker after the header, checked against `columns` (each
   * table of the target database and its columns). It ends only at the end of the file: the
   * row count is checked at the end marker, and any line after it is refused.
   */
  entries(columns: Map<string, Set<string>>): AsyncGenerator<BackupEntry>;
  close(): void;
}

export async function openBackup(file: string): Promise<BackupReader> {
  const input = createReadStream(file);
  const opened = new Promise<void>((resolve, reject) => {
    input.once('ready', () => resolve());
    input.once('error', reject);
  });
  try {
    await opened;
  } catch (error) {
    throw new BackupError(oneLine(`cannot read ${file}: ${(error as Error).message}`));
  }
  const lines = createInterface({ input, crlfDelay: Infinity })[Symbol.asyncIterator]();
  const close = () => input.destroy();
  let header: BackupHeader;
  try {
    const first = await lines.next();
    if (first.done) refuse(file, 1, 'the file is empty: not an Openroll backup');
    let parsed: unknown;
    try {
      parsed = JSON.parse(first.value);
    } catch {
      refuse(file, 1, 'not an Openroll backup (its first line is not JSON)');
    }
    header = checkHeader(file, parsed);
  } catch (error) {
    close();
    throw error;
  }

  async function* entries(columns: Map<string, Set<string>>): AsyncGenerator<BackupEntry> {
    let line = 1;
    let table: { name: string; line: number; keys: string[] } | undefined;
    const seen = new Set<string>();
    let rows = 0;
    let end: number | undefined;
    for (let next = await lines.next(); !next.done; next = await lines.next()) {
      line += 1;
      if (end !== undefined) refuse(file, line, `a line after the end marker (line ${end}): nothing was restored`);
      const value = parseLine(file, line, next.value);
      if (!isObject(value)) refuse(file, line, `${JSON.stringify(value)} is not a row, a table or the end marker (each is a JSON object)`);
      if ('openroll.table' in value) {
        const name = value['openroll.table'];
        if (typeof name !== 'string' || Object.keys(value).length !== 1) refuse(file, line, 'a bad table marker (it is {"openroll.table": "<name>"})');
        if (!columns.has(name)) refuse(file, line, `a table this Openroll does not know: ${JSON.stringify(name)}`);
        if (seen.has(name)) refuse(file, line, `the table ${name} a second time`);
        seen.add(name);
        table = { name, line, keys: [] };
        yield { kind: 'table', line, table: name };
      } else if ('openroll.end' in value) {
        if (value['openroll.end'] !== true || typeof value.rows !== 'number' || Object.keys(value).length !== 2) refuse(file, line, 'a bad end marker (it is {"openroll.end": true, "rows": <count>})');
        if (value.rows !== rows) refuse(file, line, `the end marker counts ${value.rows} rows, the file has ${rows} before it`);
        end = line;
        yield { kind: 'end', line };
      } else {
        if (!table) refuse(file, line, 'a row before any {"openroll.table": ...} line');
        const known = columns.get(table.name)!;
        const unknown = Object.keys(value).filter((k) => !known.has(k));
        if (unknown.length > 0) refuse(file, line, `the table ${table.name} has no column ${unknown.map((k) => JSON.stringify(k)).join(', ')}`);
        // Rows load in batches named by the first row's columns: a row with others would lose them.
        const keys = Object.keys(value);
        if (table.keys.length === 0) table.keys = keys;
        else if (keys.length !== table.keys.length || keys.some((k) => !table!.keys.includes(k))) refuse(file, line, `its columns differ from those of the first row of ${table.name}`);
        rows += 1;
        yield { kind: 'row', line, row: value };
      }
    }
    if (end === undefined) refuse(file, line, 'the file ends without its end marker (it is incomplete): nothing was restored');
  }
  return { header, entries, close };
}

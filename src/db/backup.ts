import { once } from 'node:events';
import { createWriteStream, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { BACKUP_FORMAT, BACKUP_VERSION, BackupError, oneLine, openBackup, type BackupHeader } from './backup-reader.ts';
import type { Database } from './client.ts';
import { MIGRATIONS_FOLDER } from './migrate.ts';

export { BACKUP_FORMAT, BackupError };

/**
 * Logical backups: one JSON line per row, table by table, read in one snapshot. The same file
 * restores into the embedded database or into any PostgreSQL (that is how to move from one to
 * the other), by whichever Openroll has all the migrations the backup was made with.
 *
 * File: a header line, then for each table a `{"openroll.table": name}` line followed by its
 * rows (to_jsonb of each), and a closing `{"openroll.end": true, "rows": n}` line that tells a
 * complete file from a truncated one.
 */
const BATCH = 500;

const ident = (name: string) => `"${name.replace(/"/g, '""')}"`;

async function connect(database: Database): Promise<pg.Client> {
  if (!database.connection) throw new BackupError('an in-memory database has nothing to back up');
  const client = new pg.Client(database.connection);
  client.on('error', () => {});
  await client.connect();
  // A backup of a large database takes as long as it takes.
  await client.query('SET statement_timeout = 0');
  return client;
}

/** The public tables, parents before children, so rows restore in an order foreign keys accept. */
async function tablesInOrder(client: pg.Client): Promise<string[]> {
  const tables = (await client.query<{ name: string }>(`select table_name as name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE' order by 1`)).rows.map((r) => r.name);
  const edges = (
    await client.query<{ child: string; parent: string }>(
      `select c.conrelid::regclass::text as child, c.confrelid::regclass::text as parent from pg_constraint c
       join pg_namespace n on n.oid = c.connamespace where c.contype = 'f' and n.nspname = 'public'`,
    )
  ).rows;
  const ordered: string[] = [];
  const visit = (table: string, path: Set<string>) => {
    if (ordered.includes(table) || path.has(table)) return;
    path.add(table);
    for (const e of edges) if (e.child.replace(/"/g, '') === table && e.parent.replace(/"/g, '') !== table) visit(e.parent.replace(/"/g, ''), path);
    ordered.push(table);
  };
  for (const t of tables) visit(t, new Set());
  return ordered;
}

/** Writes a consistent copy of the database to `file` (through `file.partial`, renamed when complete). */
export async function writeBackup(database: Database, file: string): Promise<{ tables: number; rows: number }> {
  const client = await connect(database);
  const partial = `${file}.partial`;
  const out = createWriteStream(partial, { mode: 0o600 });
  const write = async (line: unknown) => {
    if (!out.write(`${typeof line === 'string' ? line : JSON.stringify(line)}\n`)) await once(out, 'drain');
  };
  let rows = 0;
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const migrations = (await client.query<{ when: string }>('select created_at as when from drizzle.__drizzle_migrations order by created_at')).rows.map((r) => Number(r.when));
    const tables = await tablesInOrder(client);
    await write({ format: BACKUP_FORMAT, version: BACKUP_VERSION, createdAt: new Date().toISOString(), migrations } satisfies BackupHeader);
    for (const table of tables) {
      await write({ 'openroll.table': table });
      await client.query(`DECLARE rows_cursor NO SCROLL CURSOR FOR SELECT to_jsonb(t)::text AS row FROM ${ident(table)} t`);
      for (;;) {
        const batch = await client.query<{ row: string }>(`FETCH ${BATCH} FROM rows_cursor`);
        for (const r of batch.rows) await write(r.row);
        rows += batch.rows.length;
        if (batch.rows.length < BATCH) break;
      }
      await client.query('CLOSE rows_cursor');
    }
    await write({ 'openroll.end': true, rows });
    await client.query('COMMIT');
    out.end();
    await once(out, 'finish');
    renameSync(partial, file);
    return { tables: tables.length, rows };
  } catch (error) {
    out.destroy();
    rmSync(partial, { force: true });
    throw error;
  } finally {
    await client.end().catch(() => {});
  }
}

function knownMigrations(): Set<number> {
  const journal = JSON.parse(readFileSync(join(MIGRATIONS_FOLDER, 'meta', '_journal.json'), 'utf8')) as { entries: Array<{ when: number }> };
  return new Set(journal.entries.map((e) => e.when));
}

/**
 * Loads a backup into an empty, migrated database, in one transaction: all of it or nothing.
 * Triggers stay off meanwhile (the token counters are restored as they were, not recounted).
 * The whole file is read and checked first (`backup-reader.ts`), so a file with a wrong line is
 * refused before anything is written; a statement the database refuses names the lines of its
 * batch. Each refusal is one line for the operator.
 */
export async function restoreBackup(database: Database, file: string): Promise<{ tables: number; rows: number }> {
  const check = await openBackup(file);
  const known = knownMigrations();
  if (check.header.migrations.some((m) => !known.has(m))) {
    check.close();
    throw new BackupError(`${file} was made by a newer Openroll: update this one before restoring it`);
  }

  let client: pg.Client;
  try {
    client = await connect(database);
  } catch (error) {
    check.close();
    throw error;
  }
  try {
    await client.query('BEGIN');
    const [{ n }] = (await client.query<{ n: string }>('select count(*) as n from organizations')).rows as [{ n: string }];
    if (Number(n) > 0) throw new BackupError(`the target database already has data (${n} organizations): restore needs an empty one`);
    const tables = await tablesInOrder(client);
    const columns = new Map<string, Set<string>>(tables.map((t) => [t, new Set()]));
    for (const c of (await client.query<{ table: string; column: string }>(`select table_name as table, column_name as column from information_schema.columns where table_schema = 'public'`)).rows) {
      columns.get(c.table)?.add(c.column);
    }
    try {
      for await (const entry of check.entries(columns)) void entry;
    } finally {
      check.close();
    }

    for (const t of tables) await client.query(`ALTER TABLE ${ident(t)} DISABLE TRIGGER USER`);
    const identity = (await client.query<{ table: string; column: string }>(`select table_name as table, column_name as column from information_schema.columns where table_schema = 'public' and is_identity = 'YES'`)).rows;
    let table: string | undefined;
    let batch: Record<string, unknown>[] = [];
    let firstLine = 0;
    let lastLine = 0;
    let rows = 0;
    const flush = async () => {
      if (!table || batch.length === 0) return;
      const names = Object.keys(batch[0]!).map(ident).join(', ');
      const overriding = identity.some((c) => c.table === table) ? 'OVERRIDING SYSTEM VALUE' : '';
      try {
        await client.query(`INSERT INTO ${ident(table)} (${names}) ${overriding} SELECT ${names} FROM json_populate_recordset(null::${ident(table)}, $1::json)`, [JSON.stringify(batch)]);
      } catch (error) {
        const where = firstLine === lastLine ? `line ${firstLine}` : `lines ${firstLine}-${lastLine}`;
        throw new BackupError(oneLine(`${file}, ${where}: the database refused these rows of ${table}: ${(error as Error).message}`));
      }
      rows += batch.length;
      batch = [];
    };
    // Read again to load: checked again as it goes, should the file have changed in between.
    const load = await openBackup(file);
    try {
      for await (const entry of load.entries(columns)) {
        if (entry.kind === 'row') {
          if (batch.length === 0) firstLine = entry.line;
          lastLine = entry.line;
          batch.push(entry.row);
          if (batch.length >= BATCH) await flush();
          continue;
        }
        await flush();
        if (entry.kind === 'table') table = entry.table;
      }
    } finally {
      load.close();
    }
    for (const c of identity) {
      await client.query(`SELECT setval(pg_get_serial_sequence($1, $2), coalesce(max(${ident(c.column)}), 1), max(${ident(c.column)}) IS NOT NULL) FROM ${ident(c.table)}`, [ident(c.table), c.column]);
    }
    for (const t of tables) await client.query(`ALTER TABLE ${ident(t)} ENABLE TRIGGER USER`);
    await client.query('COMMIT');
    return { tables: tables.length, rows };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    check.close();
    await client.end().catch(() => {});
  }
}

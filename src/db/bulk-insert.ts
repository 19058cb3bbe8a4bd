import { getTableColumns, is, SQL, sql, type Column } from 'drizzle-orm';
import type { PgTable } from 'drizzle-orm/pg-core';
import type { Executor } from './client.ts';

/**
 * Rows per statement. One statement carries one parameter (the rows as JSON), so this bounds
 * the work done at once, not the parameter count: 500 tokens' JSON is built and their RETURNING
 * rows mapped in a few milliseconds (2,000 made 30-40 ms blocks in a profile of a bulk under
 * load), and the event loop serves other requests between chunks.
 */
const ROWS_PER_STATEMENT = 500;

/**
 * Columns the statement writes: every column some row sets, plus those a row can't leave out
 * (a JS default). The rest are left to the table's own defaults, as a VALUES insert would.
 */
function writtenColumns<T extends PgTable>(table: T, rows: readonly T['$inferInsert'][]): Array<[string, Column]> {
  const given = new Set<string>();
  for (const row of rows) for (const [key, value] of Object.entries(row)) if (value !== undefined) given.add(key);
  return Object.entries(getTableColumns(table)).filter(([key, column]) => {
    if (column.generated !== undefined || column.generatedIdentity?.type === 'always') return false;
    return given.has(key) || column.defaultFn !== undefined;
  });
}

/** A row as json_to_recordset reads it: database column names, JSON values, JS defaults applied. */
function jsonRow(row: Record<string, unknown>, columns: Array<[string, Column]>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, column] of columns) {
    let value = row[key];
    if (value === undefined) value = column.defaultFn?.() ?? (is(column.default, SQL) ? undefined : column.default);
    if (is(value, SQL) || Buffer.isBuffer(value)) throw new Error(`bulk insert: column ${column.name} needs a JSON value`);
    out[column.name] = value ?? null;
  }
  return out;
}

interface InsertOptions {
  /** Skip rows a unique index refuses (the caller sees which from what is returned). */
  onConflictDoNothing?: boolean;
}

/**
 * INSERT of many rows as one parameter: `INSERT ... SELECT ... FROM json_to_recordset($1)`,
 * typed by the table's own column types (the `unnest` idea with one array for all columns). A
 * VALUES list costs a bind parameter per cell, and building it (Drizzle's SQL builder, then the
 * driver's serializer) held the event loop for hundreds of milliseconds per 10,000 rows; this
 * costs one JSON.stringify. Returns the inserted rows, as Drizzle's `.returning()` would.
 */
export async function insertRowsReturning<T extends PgTable>(db: Executor, table: T, rows: readonly T['$inferInsert'][], options: InsertOptions = {}): Promise<T['$inferSelect'][]> {
  const returning = sql.join(
    Object.values(getTableColumns(table)).map((c) => sql.identifier(c.name)),
    sql`, `,
  );
  const inserted: T['$inferSelect'][] = [];
  for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT) {
    const result = (await db.execute(sql`${insertStatement(table, rows.slice(i, i + ROWS_PER_STATEMENT), options)} returning ${returning}`)) as unknown as {
      rows: Array<Record<string, unknown>>;
    };
    for (const raw of result.rows) inserted.push(fromDriver(table, raw));
  }
  return inserted;
}

/** insertRowsReturning, for rows nobody reads back (audit events, outbox rows). */
export async function insertRows<T extends PgTable>(db: Executor, table: T, rows: readonly T['$inferInsert'][], options: InsertOptions = {}): Promise<void> {
  for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT) await db.execute(insertStatement(table, rows.slice(i, i + ROWS_PER_STATEMENT), options));
}

function insertStatement<T extends PgTable>(table: T, chunk: readonly T['$inferInsert'][], options: InsertOptions): SQL {
  const columns = writtenColumns(table, chunk);
  const names = sql.join(
    columns.map(([, c]) => sql.identifier(c.name)),
    sql`, `,
  );
  const definitions = sql.join(
    columns.map(([, c]) => sql`${sql.identifier(c.name)} ${sql.raw(c.getSQLType())}`),
    sql`, `,
  );
  const json = JSON.stringify(chunk.map((row) => jsonRow(row as Record<string, unknown>, columns)));
  const conflict = options.onConflictDoNothing ? sql` on conflict do nothing` : sql``;
  return sql`insert into ${table} (${names}) select ${names} from json_to_recordset(${json}::json) as r(${definitions})${conflict}`;
}

/** A raw RETURNING row mapped as Drizzle maps its own results (column names to keys, driver values to JS). */
function fromDriver<T extends PgTable>(table: T, raw: Record<string, unknown>): T['$inferSelect'] {
  const out: Record<string, unknown> = {};
  for (const [key, column] of Object.entries(getTableColumns(table))) {
    const value = raw[column.name];
    out[key] = value === null || value === undefined ? null : column.mapFromDriverValue(value);
  }
  return out as T['$inferSelect'];
}

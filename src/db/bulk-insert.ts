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
 * Rows of another table written by the same statement as the rows they belong to (a token's
 * audit event, its outbox email, its webhook deliveries): one round trip and one atomic
 * statement instead of one per table. Only the rows whose `parentKey` names a parent the
 * statement inserted are written, so a parent skipped on conflict takes its rows with it.
 */
export interface DependentRows {
  table: PgTable;
  rows: readonly Record<string, unknown>[];
  /** The dependent's property holding its parent's `id`. */
  parentKey: string;
}

/** A typed DependentRows: the rows are checked against the table, the key against its properties. */
export function dependentRows<T extends PgTable>(table: T, rows: readonly T['$inferInsert'][], parentKey: keyof T['$inferInsert'] & string): DependentRows {
  return { table, rows: rows as readonly Record<string, unknown>[], parentKey };
}

interface ReturningOptions extends InsertOptions {
  dependents?: readonly DependentRows[];
}

/**
 * INSERT of many rows as one parameter: `INSERT ... SELECT ... FROM json_to_recordset($1)`,
 * typed by the table's own column types (the `unnest` idea with one array for all columns). A
 * VALUES list costs a bind parameter per cell, and building it (Drizzle's SQL builder, then the
 * driver's serializer) held the event loop for hundreds of milliseconds per 10,000 rows; this
 * costs one JSON.stringify. Returns the inserted rows, as Drizzle's `.returning()` would.
 */
export async function insertRowsReturning<T extends PgTable>(db: Executor, table: T, rows: readonly T['$inferInsert'][], options: ReturningOptions = {}): Promise<T['$inferSelect'][]> {
  const returning = sql.join(
    Object.values(getTableColumns(table)).map((c) => sql.identifier(c.name)),
    sql`, `,
  );
  const dependents = options.dependents?.filter((d) => d.rows.length > 0) ?? [];
  const inserted: T['$inferSelect'][] = [];
  for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT) {
    const chunk = rows.slice(i, i + ROWS_PER_STATEMENT);
    const insert = insertStatement(table, chunk, options);
    let statement = sql`${insert} returning ${returning}`;
    if (dependents.length > 0) {
      const ids = new Set(chunk.map((row) => (row as Record<string, unknown>).id));
      const parts = dependents.flatMap((d) => {
        const own = d.rows.filter((row) => ids.has(row[d.parentKey]));
        return own.length === 0 ? [] : [{ ...d, rows: own }];
      });
      statement = withDependents(table, insert, returning, parts);
    }
    const result = (await db.execute(statement)) as unknown as { rows: Array<Record<string, unknown>> };
    for (const raw of result.rows) inserted.push(fromDriver(table, raw));
  }
  return inserted;
}

/**
 * `WITH parent AS (INSERT ... RETURNING ...), d0 AS (INSERT ... WHERE its parent is in parent)
 * SELECT * FROM parent`. Data-modifying CTEs all run, whether or not the outer query reads
 * them, in the one statement's snapshot; foreign keys are checked at its end, when the parents
 * are there.
 */
function withDependents(table: PgTable, insert: SQL, returning: SQL, dependents: readonly DependentRows[]): SQL {
  const idColumn = getTableColumns(table).id;
  if (!idColumn) throw new Error('bulk insert: dependent rows need a parent table with an id column');
  return withDependentRows(sql`${insert} returning ${returning}`, idColumn.name, dependents);
}

/**
 * One statement that writes `parent` (an INSERT or UPDATE with a RETURNING clause that includes
 * `parentColumn`) and, only for the parents it returned, `dependents`: each dependent row whose
 * `parentKey` matches a returned `parentColumn`. Its answer is the parent's RETURNING rows, so
 * none returned means nothing was written at all.
 */
export function withDependentRows(parent: SQL, parentColumn: string, dependents: readonly DependentRows[]): SQL {
  const ctes = dependents
    .filter((d) => d.rows.length > 0)
    .map((d, k) => {
      const keyColumn = getTableColumns(d.table)[d.parentKey];
      if (!keyColumn) throw new Error(`bulk insert: no column ${d.parentKey} on a dependent table`);
      const own = insertStatement(d.table, d.rows, {}, sql`where r.${sql.identifier(keyColumn.name)} in (select ${sql.identifier(parentColumn)} from parent)`);
      return sql`, ${sql.identifier(`dependent_${k}`)} as (${own})`;
    });
  return sql`with parent as (${parent})${sql.join(ctes)} select * from parent`;
}

/** insertRowsReturning, for rows nobody reads back (audit events, outbox rows). */
export async function insertRows<T extends PgTable>(db: Executor, table: T, rows: readonly T['$inferInsert'][], options: InsertOptions = {}): Promise<void> {
  for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT) await db.execute(insertStatement(table, rows.slice(i, i + ROWS_PER_STATEMENT), options));
}

function insertStatement<T extends PgTable>(table: T, chunk: readonly T['$inferInsert'][], options: InsertOptions, where?: SQL): SQL {
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
  if (where === undefined) return sql`insert into ${table} (${names}) select ${names} from json_to_recordset(${json}::json) as r(${definitions})${conflict}`;
  // A filter may be planned as a hash join, which reorders rows: the ordinality keeps the order
  // given, so identity columns (an audit trail's ids) still number the rows in that order.
  return sql`insert into ${table} (${names}) select ${names} from rows from (json_to_recordset(${json}::json) as (${definitions})) with ordinality as r(${names}, row_number) ${where} order by r.row_number${conflict}`;
}

/** A raw RETURNING row mapped as Drizzle maps its own results (column names to keys, driver values to JS). */
export function fromDriver<T extends PgTable>(table: T, raw: Record<string, unknown>): T['$inferSelect'] {
  const out: Record<string, unknown> = {};
  for (const [key, column] of Object.entries(getTableColumns(table))) {
    const value = raw[column.name];
    out[key] = value === null || value === undefined ? null : column.mapFromDriverValue(value);
  }
  return out as T['$inferSelect'];
}

import { sql, type SQL } from 'drizzle-orm';
import type { Database } from '../../src/db/client.ts';

interface TableInfo {
  name: string;
  /** The table has an organization_id column (every tenant table does). */
  scoped: boolean;
}

/**
 * Reads the whole database the way an attacker's victim would see it: every table of the
 * public schema, found at run time so a table added later is covered without editing tests.
 */
export interface DbProbe {
  tables: readonly TableInfo[];
  /** Row count of every table, in one round trip. */
  counts(): Promise<Record<string, number>>;
  /** Every row of every table, or only one organization's rows, as canonical text. */
  snapshot(organizationId?: string): Promise<string>;
}

async function rows<T>(database: Database, query: SQL): Promise<T[]> {
  const result = (await database.db.execute(query)) as unknown as { rows: T[] };
  return result.rows;
}

const ident = (name: string) => sql.raw(`"${name.replace(/"/g, '""')}"`);

/**
 * Tables that count requests rather than hold anyone's data: every request may change them,
 * refused ones included (a refused request still spends its caller's rate limit).
 */
const REQUEST_BOOKKEEPING = new Set(['rate_limit_counters']);

export async function createDbProbe(database: Database): Promise<DbProbe> {
  const tables = (
    await rows<{ name: string; scoped: boolean | string }>(
      database,
      sql`select t.table_name as name,
                 exists(select 1 from information_schema.columns c
                        where c.table_schema = 'public' and c.table_name = t.table_name and c.column_name = 'organization_id') as scoped
          from information_schema.tables t
          where t.table_schema = 'public' and t.table_type = 'BASE TABLE'
          order by t.table_name`,
    )
  )
    .filter((t) => !REQUEST_BOOKKEEPING.has(t.name))
    .map((t) => ({ name: t.name, scoped: t.scoped === true || t.scoped === 't' }));
  if (tables.length === 0) throw new Error('no tables found in the public schema');

  const countQuery = sql`select json_build_object(${sql.join(
    tables.map((t) => sql`${t.name}::text, (select count(*) from ${ident(t.name)})`),
    sql`, `,
  )})::text as v`;

  return {
    tables,
    async counts() {
      const [row] = await rows<{ v: string }>(database, countQuery);
      const parsed = JSON.parse(row!.v) as Record<string, number | string>;
      return Object.fromEntries(Object.entries(parsed).map(([k, v]) => [k, Number(v)]));
    },
    async snapshot(organizationId) {
      const parts = tables.map((t) => {
        let where = sql``;
        if (organizationId !== undefined) {
          if (t.name === 'organizations') where = sql` where x.id = ${organizationId}`;
          else if (t.scoped) where = sql` where x.organization_id = ${organizationId}`;
          else where = sql` where false`;
        }
        return sql`${t.name}::text, (select coalesce(json_agg(x order by x::text), '[]'::json) from ${ident(t.name)} x${where})`;
      });
      const [row] = await rows<{ v: string }>(database, sql`select json_build_object(${sql.join(parts, sql`, `)})::text as v`);
      return row!.v;
    },
  };
}

/** The tables whose content differs between two snapshots, for a readable failure. */
export function changedTables(before: string, after: string): string[] {
  const a = JSON.parse(before) as Record<string, unknown>;
  const b = JSON.parse(after) as Record<string, unknown>;
  return Object.keys({ ...a, ...b }).filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k]));
}

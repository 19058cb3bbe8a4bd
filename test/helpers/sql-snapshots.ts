/**
 * The SQL committed for review (`db/`): `schema.sql`, the fully migrated database as its own
 * catalog describes it, and `statements/*.sql`, what PostgreSQL receives for the token list
 * (each of its read strategies) and the bulk create, captured from real requests. Both are made
 * here, by `npm run db:sql` (which writes them) and by test/db/sql-snapshots.test.ts (which
 * compares them with the committed files, on PGlite and on PostgreSQL alike).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { getTableColumns, sql, type SQL } from 'drizzle-orm';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import type { PGlite } from '@electric-sql/pglite';
import type pg from 'pg';
import type { Database, Db } from '../../src/db/client.ts';
import * as schema from '../../src/db/schema.ts';
import { enrollmentTokens } from '../../src/db/schema.ts';
import { catalogSchema } from './sql-catalog.ts';
import { createMdmUser, createOrg, createPolicy } from './factories.ts';
import { buildTestApp, call, type TestContext } from './test-app.ts';
import { createAppleDevice } from './apple-factories.ts';
import type { OrganizationRecord } from '../../src/modules/organizations/organizations.repo.ts';
import { createTestDatabase, type TestDatabase } from './test-db.ts';
import { tokensPath } from './tokens.ts';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const SQL_DIR = join(ROOT, 'db');
export const REFRESH_COMMAND = 'npm run db:sql';

const rowsOf = <T>(result: unknown): T[] => (Array.isArray(result) ? result : (result as { rows: T[] }).rows) as T[];

/** `schema.sql`: from the catalog of a freshly migrated database. */
export async function schemaSnapshot(database: Database): Promise<string> {
  return catalogSchema(async <T,>(query: SQL) => rowsOf<T>(await database.db.execute(query)));
}

interface Captured {
  text: string;
  params: unknown[];
}

/**
 * The same database, through a Drizzle instance that records every statement it sends (the
 * text and its parameters) while `recording` is set: the app runs over it unchanged.
 */
function recorded(database: Database): { database: Database; take(): Captured[] } {
  let log: Captured[] = [];
  const logger = { logQuery: (text: string, params: unknown[]) => void log.push({ text, params }) };
  const client = (database.db as unknown as { $client: PGlite | pg.Pool }).$client;
  const db = (database.connection ? drizzlePg({ client: client as pg.Pool, schema, logger }) : drizzlePglite({ client: client as PGlite, schema, logger })) as unknown as Db;
  return {
    database: { ...database, db },
    take: () => {
      const taken = log;
      log = [];
      return taken;
    },
  };
}

/** The clauses a statement is broken at (a `with` only where it names a CTE, a `from` but `rows from`). */
const CLAUSE = /^(with (recursive )?"?\w+"? as \(|select|from|inner join|left join|where|group by|order by|limit|offset|returning|on conflict|insert into|update|set|delete from|union all|for update)\b/i;

/** Breaks a one-line statement at its clauses, indented by parenthesis depth, quotes respected. */
export function layout(text: string): string {
  let out = '';
  let depth = 0;
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      out += c;
      if (c === quote) quote = undefined;
      continue;
    }
    if (c === "'" || c === '"') quote = c;
    if (c === '(') depth++;
    if (c === ')') depth = Math.max(0, depth - 1);
    const before = text[i - 1];
    const clause = (before === ' ' || before === '(') && !/\brows $/i.test(text.slice(Math.max(0, i - 5), i)) && CLAUSE.exec(text.slice(i));
    if (clause && out.trim() !== '') out = `${out.trimEnd()}\n${'  '.repeat(depth)}`;
    out += c;
  }
  return out
    .split('\n')
    .flatMap((line) => wrap(line))
    .join('\n');
}

/** A line longer than WIDTH broken after its commas (outside quotes), continued four spaces deeper. */
const WIDTH = 100;
function wrap(line: string, prefix = ''): string[] {
  if (line.length <= WIDTH) return [line];
  const indent = /^\s*/.exec(line)![0];
  const pieces: string[] = [];
  let current = '';
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    current += c;
    if (quote) {
      if (c === quote) quote = undefined;
    } else if (c === "'" || c === '"') quote = c;
    else if (c === ',' && line[i + 1] === ' ') {
      pieces.push(current);
      current = '';
      i++;
    }
  }
  pieces.push(current);
  const lines: string[] = [];
  let row = '';
  for (const piece of pieces) {
    if (row && (row + ' ' + piece).length > WIDTH) {
      lines.push(row);
      row = `${indent}${prefix}    ${piece.trimStart()}`;
    } else row = row ? `${row} ${piece}` : piece;
  }
  lines.push(row);
  return lines;
}

interface Names {
  [value: string]: string;
}

/** A parameter as the files show it: the values a run draws anew (ids, secrets, rows) by what they are. */
function shownParam(value: unknown, names: Names): string {
  if (value instanceof Date) value = value.toISOString();
  if (typeof value === 'string') {
    if (names[value]) return names[value]!;
    if (/^[0-9a-f]{24}$/.test(value)) return '<id>';
    if (value.startsWith('[{')) return `<json: ${(JSON.parse(value) as unknown[]).length} rows>`;
    return `'${Object.entries(names).reduce((text, [raw, name]) => text.replaceAll(raw, name), value)}'`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * Left out: transaction control (the PGlite driver sends it without the logger), and what every
 * request of the API does before its route: the key's lookup (auth/; its parameter is the key's
 * prefix) and, on PostgreSQL, the per-key rate limit's counter (limits/; in memory on PGlite).
 */
const NOT_SHOWN = [/^(begin|commit|rollback|savepoint|release)\b/i, /from "api_keys"/, /^insert into rate_limit_counters\b/];

function render(request: string, statements: Captured[], names: Names, options: { oneLine?: boolean } = {}): string {
  const kept = statements.filter((s) => !NOT_SHOWN.some((pattern) => pattern.test(s.text.trim())));
  const shown = kept.map((s, k) => {
    const params = s.params.map((v, n) => `$${n + 1} = ${shownParam(v, names)}`).join(', ');
    const head = wrap(`-- ${k + 1} of ${kept.length}${params ? `; ${params}` : ''}`, '-- ').map((line, n) => (n === 0 ? line : line.replace(/^(\s*)/, '-- ')));
    // A statement written out on many lines in its repository (sql``) is laid out like the rest.
    const text = options.oneLine && s.text.includes('\n') ? s.text.replace(/\s+/g, ' ') : s.text;
    return [...head, `${layout(text.trim().replace(/;$/, ''))};`].join('\n');
  });
  return [`-- ${request}`, '', shown.join('\n\n')].join('\n');
}

/** What each statement file says of its strategy: when the code chooses it (token.repo.ts and its parts). */
const HEADERS: Record<string, string> = {
  'token-list-offset.sql': `-- The token list, offset walk (token.repo.ts buildListStatements): every page shallower than
-- DEEP_PAGE_OFFSET (1000 rows), and every depth for the state, updatedAt and mdmUser.email sorts
-- (they read the clock or the users). A subquery takes the page's ids from an index, the outer
-- query joins what the views show. The total: from the token_counts counters without a filter,
-- counted with an MDM user filter. Named prepared statements, one per shape.`,
  'token-list-policy.sql': `-- The token list with a policy filter (token-policy-list.repo.ts). The policy alone, createdAt
-- sort: the page is a range of token_policies' primary key (named, planned once). The policy
-- alone, another sort: the offset walk with \`policy_ids @> array[$n]\`, unnamed (planned per
-- value). The total of a policy alone comes from token_policy_counts. With an MDM user too, that
-- user's few tokens are read and counted from the user index.`,
  'token-list-deep.sql': `-- The token list, deep pages (token-page-marks.repo.ts): an offset of DEEP_PAGE_OFFSET (1000)
-- or more, no policy filter, a sort of the tokens' own columns (createdAt, expireAt,
-- displayName, type, subType). One statement reads the list's version, its nearest mark and the
-- page; then the page's first token is marked at its offset, and older versions' marks dropped.`,
  'apple-profile-difference.sql': `-- An Apple policy's profiles changed (policies.service.ts update -> devices/apple-profile-sync.ts):
-- in the update's transaction, after the policy row, the tokens that assign it and enrolled a
-- device, their profiles and policies, then one statement (device-commands.repo.ts
-- queueProfileDifference) that compares each enrolled device's last InstallProfile/RemoveProfile
-- per PayloadIdentifier with what it must have, and queues the difference.`,
  'token-bulk-create.sql': `-- POST .../enrollment-tokens/bulk (token-lifecycle.service.ts issueBulk): the references, the
-- users (created when new), the plan's count, then one statement per 500 tokens that inserts them
-- with their audit events, outbox emails and webhook deliveries (db/bulk-insert.ts). It runs in one
-- transaction (BEGIN and COMMIT are left out here: the PGlite driver sends them on its own).`,
};

/** A one-line configuration profile (a statement's parameters are shown on one comment line). */
const profile = (identifier: string, version: number) =>
  `<plist version="1.0"><dict><key>PayloadContent</key><array/><key>PayloadIdentifier</key><string>${identifier}</string><key>PayloadType</key><string>Configuration</string><key>PayloadUUID</key><string>5A1D7A3E-0C1B-4E6F-9B8A-7D6C5B4A3F2${version}</string><key>PayloadVersion</key><integer>${version}</integer></dict></plist>`;

/**
 * An Apple policy's profiles changed while a device of its token is enrolled: what the update
 * sends, the difference for the device among it. The device row is inserted directly (its
 * enrollment through SCEP and check-in is test/devices/apple-profiles-delivery.test.ts's).
 */
async function appleProfileChange(ctx: TestContext, adminKey: string, org: OrganizationRecord, take: () => Captured[], names: Names, files: Map<string, string>): Promise<void> {
  const policies = `/v1/organizations/${org.id}/mdm/apple/enterprise/policies`;
  const created = await call(ctx.app, adminKey, { method: 'POST', url: policies, payload: { name: 'Office', profiles: [{ mobileconfig: profile('com.example.wifi', 1) }, { mobileconfig: profile('com.example.vpn', 1) }] } });
  if (created.status !== 200) throw new Error(`apple policy: ${created.status}`);
  const policyId = String(created.body.data.id);
  const user = await createMdmUser(ctx, org);
  const token = await call(ctx.app, adminKey, { method: 'POST', url: tokensPath(org.id, 'apple'), payload: { mdmUserId: user.id, sendEmail: false, policyId } });
  if (token.status !== 200) throw new Error(`apple token: ${token.status}`);
  const device = await createAppleDevice(ctx, org, token.body.data.id);
  await ctx.container.database.db.execute(sql`update enrollment_tokens set state = 'DONE', device_id = ${device.id} where organization_id = ${org.id} and id = ${token.body.data.id}`);
  await ctx.container.deviceCommands.enqueue(ctx.container.database.db, org.id, { id: device.id, platform: 'apple' }, [
    { type: 'InstallProfile', target: 'com.example.wifi', payload: { mobileconfig: profile('com.example.wifi', 1) }, source: { tokenId: token.body.data.id, policyId } },
    { type: 'InstallProfile', target: 'com.example.vpn', payload: { mobileconfig: profile('com.example.vpn', 1) }, source: { tokenId: token.body.data.id, policyId } },
  ]);
  take();
  const payload = { profiles: [{ mobileconfig: profile('com.example.wifi', 2) }, { mobileconfig: profile('com.example.mail', 1) }] };
  const res = await call(ctx.app, adminKey, { method: 'PUT', url: `${policies}/${policyId}`, payload });
  if (res.status !== 200) throw new Error(`apple policy update: ${res.status}`);
  const shown = { ...names, [policyId]: '<apple policy>' };
  files.set('apple-profile-difference.sql', render(`PUT /v1/organizations/<organization>/mdm/apple/enterprise/policies/<apple policy> (com.example.wifi changed, com.example.mail added, com.example.vpn removed)`, take(), shown, { oneLine: true }));
}

/** The statement files, from real requests over the app on a fresh database (`given`, or a new one), which it drops. */
export async function statementSnapshots(given?: TestDatabase): Promise<Map<string, string>> {
  const test = given ?? (await createTestDatabase());
  const capture = recorded(test.database);
  const ctx = await buildTestApp({ webhookAllowPrivateNetworks: true }, { db: { ...test, database: capture.database } });
  try {
    const { org, adminKey } = await createOrg(ctx);
    const user = await createMdmUser(ctx, org, { email: 'known@example.com' });
    const policy = await createPolicy(ctx, org, 'windows');
    const hook = await call(ctx.app, adminKey, { method: 'POST', url: `/v1/organizations/${org.id}/webhooks`, payload: { url: 'http://127.0.0.1:9/hook' } });
    if (hook.status !== 201 && hook.status !== 200) throw new Error(`webhook endpoint: ${hook.status}`);
    const path = tokensPath(org.id, 'windows');
    const names: Names = { [org.id]: '<organization>', [user.id]: '<mdm user>', [policy.id]: '<policy>', [ctx.clock.now().toISOString()]: '<now>' };
    const shownPath = `/v1/organizations/<organization>/mdm/windows/enterprise/enrollment-tokens`;
    // Enough tokens for a deep page to have a first row to mark: one made by the API, copied in
    // SQL (a bulk of a thousand through the API would cost seconds, and is not what is shown).
    const first = await call(ctx.app, adminKey, { method: 'POST', url: path, payload: { mdmUserId: user.id, sendEmail: false } });
    if (first.status !== 200) throw new Error(`token: ${first.status}`);
    const columns = Object.values(getTableColumns(enrollmentTokens)).map((c) => c.name);
    const drawn: Record<string, SQL> = {
      id: sql`substr(md5(random()::text || g), 1, 24)`,
      link_secret: sql`md5(random()::text || g) || md5(g::text)`,
      enroll_code: sql`'SQL' || lpad(g::text, 5, '0')`,
      created_at: sql`t.created_at - g * interval '1 second'`,
    };
    const list = sql.join(columns.map((name) => sql.identifier(name)), sql`, `);
    const values = sql.join(columns.map((name) => drawn[name] ?? sql`t.${sql.identifier(name)}`), sql`, `);
    await ctx.container.database.db.execute(sql`insert into enrollment_tokens (${list}) select ${values} from enrollment_tokens t cross join generate_series(1, 1000) g where t.organization_id = ${org.id}`);
    // The authenticator's first lookup of the key, and anything else a first request does once.
    await call(ctx.app, adminKey, { method: 'GET', url: `${path}?limit=10` });
    capture.take();

    const files = new Map<string, string>();
    const run = async (file: string, method: 'GET' | 'POST', query: string, payload?: Record<string, unknown>) => {
      const res = await call(ctx.app, adminKey, { method, url: `${path}${query}`, ...(payload ? { payload } : {}) });
      if (res.status !== 200) throw new Error(`${method} ${query}: ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
      const shownQuery = query.replaceAll(user.id, '<mdm user>').replaceAll(policy.id, '<policy>');
      const text = render(`${method} ${shownPath}${shownQuery}${payload ? ` ${JSON.stringify(payload)}` : ''}`, capture.take(), names);
      files.set(file, files.has(file) ? `${files.get(file)}\n\n${text}` : text);
    };
    await run('token-list-offset.sql', 'GET', '');
    await run('token-list-offset.sql', 'GET', `?mdm-user=${user.id}&sort=mdmUser.email:asc`);
    await run('token-list-offset.sql', 'GET', '?sort=state:asc&limit=50');
    await run('token-list-policy.sql', 'GET', `?win-policy=${policy.id}`);
    await run('token-list-policy.sql', 'GET', `?win-policy=${policy.id}&sort=displayName:asc`);
    await run('token-list-policy.sql', 'GET', `?win-policy=${policy.id}&mdm-user=${user.id}`);
    await run('token-list-deep.sql', 'GET', '?page=41&limit=25');
    await run('token-bulk-create.sql', 'POST', '/bulk', {
      userEmails: ['known@example.com', 'new@example.com'],
      sendEmail: true,
      tags: ['review'],
      winPolicyId: policy.id,
    });
    await appleProfileChange(ctx, adminKey, org, capture.take, names, files);
    return new Map([...files].map(([file, text]) => [file, `${HEADERS[file]}\n\n${text.replaceAll(policy.id, '<policy>')}\n`]));
  } finally {
    await ctx.close();
  }
}

/** Every committed file, by its path under db/. */
export async function sqlSnapshots(): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  const test = await createTestDatabase();
  files.set('schema.sql', await schemaSnapshot(test.database));
  for (const [name, text] of await statementSnapshots(test)) files.set(`statements/${name}`, text);
  return files;
}

export function committed(path: string): string | undefined {
  try {
    return readFileSync(join(SQL_DIR, path), 'utf8');
  } catch {
    return undefined;
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  for (const [path, text] of await sqlSnapshots()) {
    mkdirSync(dirname(join(SQL_DIR, path)), { recursive: true });
    writeFileSync(join(SQL_DIR, path), text);
    process.stdout.write(`wrote db/${path}\n`);
  }
}

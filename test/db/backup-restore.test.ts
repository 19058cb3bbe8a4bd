import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { BackupError, restoreBackup, writeBackup } from '../../src/db/backup.ts';
import { openDatabase } from '../../src/db/client.ts';
import { SECRET_KEY_FILE } from '../../src/pki/secret-key.ts';
import { runMigrations } from '../../src/db/migrate.ts';
import { createMdmUser, createOrg } from '../helpers/factories.ts';
import { buildTestApp } from '../helpers/test-app.ts';
import { demoKey, http, stopServer } from '../faults/fault-helpers.ts';
import { createDbProbe } from '../helpers/db-probe.ts';
import { runCli, startServerProcess } from '../helpers/processes.ts';
import { createTestDatabase, TEST_DB_KIND } from '../helpers/test-db.ts';

// Backups of the embedded database made by the command line while a server runs, restored into
// a new embedded directory and (on the PostgreSQL pass) into a new PostgreSQL database, which is
// how an installation moves from one to the other; compared table by table.
const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'openroll-backup-'));
  cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Every row of every table, as canonical text, read by a process of its own. */
async function snapshot(env: Record<string, string>): Promise<string> {
  const database = await openDatabase({ databaseUrl: env.DATABASE_URL, dataDir: env.DATA_DIR ?? '' });
  try {
    return await (await createDbProbe(database)).snapshot();
  } finally {
    await database.close();
  }
}

describe('backup and restore', () => {
  test('a backup made while the server runs restores into a new database with the same data', async () => {
    // The embedded database is the one to back up; PostgreSQL is where it may move to.
    const source: Record<string, string> = { DATA_DIR: tempDir() };
    const server = await startServerProcess({ ...source, HOST: '127.0.0.1', LOG_LEVEL: 'warn', RATE_LIMIT_PER_MINUTE: '0' });
    cleanups.push(() => stopServer(server));
    const key = demoKey(server);
    const base = '/v1/organizations/demo';
    const segment = await http(server.url, 'POST', `${base}/segments`, { key, body: { name: 'Sales' } });
    const policy = await http(server.url, 'POST', `${base}/mdm/windows/enterprise/policies`, { key, body: { name: 'Baseline' } });
    assert.equal(policy.status, 200, JSON.stringify(policy.body));
    const bulk = await http(server.url, 'POST', `${base}/mdm/windows/enterprise/enrollment-tokens/bulk`, {
      key,
      body: { sendEmail: true, userEmails: ['ana@example.com', 'luis@example.com', 'zoe@example.com'], tags: ['x'], segmentId: segment.body.data.id, winPolicyId: policy.body.data.id },
    });
    assert.equal(bulk.body.data.success, 3);
    await http(server.url, 'DELETE', `${base}/mdm/windows/enterprise/enrollment-tokens/${bulk.body.data.results[0].tokenId}`, { key });
    await http(server.url, 'POST', '/v1/organizations/demo/api-keys', { key, body: { name: 'reader', role: 'viewer' } });

    const file = join(tempDir(), 'openroll.backup');
    const backup = await runCli(['backup', file], source);
    assert.equal(backup.code, 0, backup.stderr);
    assert.match(backup.stdout, /rows in \d+ tables/);
    assert.equal((await http(server.url, 'GET', `${base}/api-keys`, { key })).status, 200, 'the server went on');
    await stopServer(server);
    const original = await snapshot(source);

    // The server key comes along, as the README says: it checks the API keys and decrypts the
    // certificate authorities. A new embedded directory gets the old one's key file; PostgreSQL
    // gets it as OPENROLL_SECRET_KEY.
    const serverKey = readFileSync(join(source.DATA_DIR!, SECRET_KEY_FILE), 'utf8').trim();
    const embeddedTarget = tempDir();
    copyFileSync(join(source.DATA_DIR!, SECRET_KEY_FILE), join(embeddedTarget, SECRET_KEY_FILE));
    const targets: Array<Record<string, string>> = [{ DATA_DIR: embeddedTarget }];
    if (TEST_DB_KIND === 'postgres') {
      const db = await createTestDatabase();
      await db.database.close();
      cleanups.push(() => db.drop());
      targets.push({ DATA_DIR: tempDir(), DATABASE_URL: db.url!, OPENROLL_SECRET_KEY: serverKey });
    }
    for (const target of targets) {
      const restore = await runCli(['restore', file], target);
      assert.equal(restore.code, 0, restore.stderr);
      assert.equal(await snapshot(target), original, `restored into ${target.DATABASE_URL ? 'PostgreSQL' : 'PGlite'}`);
      const again = await runCli(['restore', file], target);
      assert.equal(again.code, 1);
      assert.match(again.stderr, /already has data/);
    }

    // The restored database serves: the same key, the same tokens, and new ids after the old ones.
    const restored = await startServerProcess({ ...targets[targets.length - 1]!, HOST: '127.0.0.1', LOG_LEVEL: 'warn' });
    cleanups.push(() => stopServer(restored));
    const list = await http(restored.url, 'GET', `${base}/mdm/windows/enterprise/enrollment-tokens?show-deleted=true`, { key });
    assert.equal(list.body.data.totalDocs, 3);
    const another = await http(restored.url, 'POST', `${base}/segments`, { key, body: { name: 'After' } });
    assert.ok(another.body.data.id > segment.body.data.id, 'identities continue past the restored rows');
  });

  test('restore refuses a server-owned directory, a truncated file and a file that is no backup', async () => {
    const target = { DATA_DIR: tempDir() };
    const server = await startServerProcess({ ...target, HOST: '127.0.0.1', LOG_LEVEL: 'warn' });
    cleanups.push(() => stopServer(server));
    const file = join(tempDir(), 'b.jsonl');
    assert.equal((await runCli(['backup', file], target)).code, 0);
    const busy = await runCli(['restore', file], target);
    assert.equal(busy.code, 1);
    assert.match(busy.stderr, new RegExp(`process ${server.child.pid} \\(openroll serve\\) is using the embedded database: stop it first`));
    await stopServer(server);

    const fresh = { DATA_DIR: tempDir() };
    const truncated = join(tempDir(), 'truncated.jsonl');
    writeFileSync(truncated, readFileSync(file, 'utf8').split('\n').slice(0, -2).join('\n'));
    const cut = await runCli(['restore', truncated], fresh);
    assert.equal(cut.code, 1);
    assert.match(cut.stderr, /incomplete/);
    const notBackup = join(tempDir(), 'x.txt');
    writeFileSync(notBackup, 'hello\n');
    const wrong = await runCli(['restore', notBackup], fresh);
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /not an Openroll backup/);
    assert.equal((await runCli(['restore', file], fresh)).code, 0, 'the refused attempts left the database empty');
  });
});

// Crafted files against one target, restored in-process (each refusal must leave it empty), and
// once through the command line for what an operator sees: one line, no stack trace.
describe('restore refuses a crafted file at the line that is wrong', () => {
  test('rows after the end marker, a line that is not JSON, null, an unknown column, a bad header, rows the database refuses', async () => {
    const dir = tempDir();
    const target = TEST_DB_KIND === 'postgres' ? await createTestDatabase() : await embeddedTestDatabase(join(dir, 'data'));
    cleanups.push(() => target.drop());
    const { database } = target;
    const ctx = await buildTestApp({}, { db: { ...target, drop: async () => {} } });
    cleanups.push(() => ctx.close());
    for (let i = 0; i < 3; i++) {
      const { org } = await createOrg(ctx);
      await createMdmUser(ctx, org);
    }
    const base = join(dir, 'base.jsonl');
    await writeBackup(database, base);
    const probe = await createDbProbe(database);
    const tables = probe.tables.map((t) => `"${t.name}"`).join(', ');
    await database.db.execute(sql.raw(`TRUNCATE ${tables}, rate_limit_counters CASCADE`));
    const empty = await probe.counts();
    assert.ok(Object.values(empty).every((n) => n === 0));

    const lines = readFileSync(base, 'utf8').trimEnd().split('\n');
    const at = (pattern: RegExp) => lines.findIndex((l) => pattern.test(l));
    const orgTable = at(/^\{"openroll\.table":"organizations"\}$/);
    const orgRow = orgTable + 1;
    const end = lines.length - 1;
    assert.match(lines[end]!, /"openroll\.end"/);
    const another = JSON.parse(lines[orgRow]!) as Record<string, unknown>;
    another.id = randomUUID();
    another.slug = 'appended-after-the-end';
    const replace = (index: number, text: string) => lines.map((l, i) => (i === index ? text : l));
    const withRow = (row: Record<string, unknown>) => replace(orgRow, JSON.stringify(row));
    const header = JSON.parse(lines[0]!) as Record<string, unknown>;

    // Line numbers are 1-based: array index + 1.
    const cases: Array<{ what: string; content: string[]; line: string; says: RegExp }> = [
      { what: 'rows after the end', content: [...lines, JSON.stringify(another)], line: `line ${end + 2}`, says: /a line after the end marker \(line \d+\)/ },
      { what: 'a second end marker', content: [...lines, lines[end]!], line: `line ${end + 2}`, says: /after the end marker/ },
      { what: 'an empty line after the end', content: [...lines, ''], line: `line ${end + 2}`, says: /a line after the end marker/ },
      { what: 'an empty line among the rows', content: replace(orgRow, ''), line: `line ${orgRow + 1}`, says: /an empty line/ },
      { what: 'a line that is not JSON', content: replace(orgRow, '{"id": "x", '), line: `line ${orgRow + 1}`, says: /not JSON/ },
      { what: 'a null line', content: replace(orgRow, 'null'), line: `line ${orgRow + 1}`, says: /null is not a row/ },
      { what: 'an array line', content: replace(orgRow, '[1]'), line: `line ${orgRow + 1}`, says: /is not a row/ },
      { what: 'an unknown column', content: withRow({ ...JSON.parse(lines[orgRow]!), colour: 'red' }), line: `line ${orgRow + 1}`, says: /the table organizations has no column "colour"/ },
      { what: 'a row missing a column', content: replace(orgRow + 1, JSON.stringify({ ...JSON.parse(lines[orgRow + 1]!), plan_name: undefined })), line: `line ${orgRow + 2}`, says: /columns differ/ },
      { what: 'an unknown table', content: replace(orgTable, '{"openroll.table":"wallets"}'), line: `line ${orgTable + 1}`, says: /a table this Openroll does not know: "wallets"/ },
      { what: 'a row before any table', content: [lines[0]!, lines[orgRow]!, ...lines.slice(1)], line: 'line 2', says: /a row before any/ },
      { what: 'an end marker that miscounts', content: replace(end, JSON.stringify({ 'openroll.end': true, rows: 1 })), line: `line ${end + 1}`, says: /counts 1 rows, the file has \d+/ },
      { what: 'no end marker', content: lines.slice(0, -1), line: `line ${end}`, says: /incomplete/ },
      { what: 'a header of another version', content: replace(0, JSON.stringify({ ...header, version: 2 })), line: 'line 1', says: /version 1 \(the header says version 2\)/ },
      { what: 'a header whose migrations are no list', content: replace(0, JSON.stringify({ ...header, migrations: 'all' })), line: 'line 1', says: /bad header: "migrations"/ },
      { what: 'a null header', content: replace(0, 'null'), line: 'line 1', says: /not an Openroll backup/ },
      { what: 'a header that is not JSON', content: replace(0, '{"format": "openroll-backup"'), line: 'line 1', says: /not an Openroll backup \(its first line is not JSON\)/ },
      { what: 'a value the column refuses', content: withRow({ ...JSON.parse(lines[orgRow]!), created_at: 'not a date' }), line: `lines ${orgRow + 1}-${orgRow + 3}`, says: /the database refused these rows of organizations: .*"not a date"/ },
    ];
    for (const c of cases) {
      const file = join(dir, 'crafted.jsonl');
      writeFileSync(file, `${c.content.join('\n')}\n`);
      await assert.rejects(restoreBackup(database, file), (error: Error) => {
        assert.ok(error instanceof BackupError, `${c.what}: ${error.stack}`);
        assert.doesNotMatch(error.message, /\n/, c.what);
        assert.ok(error.message.startsWith(`${file}, ${c.line}: `), `${c.what}: ${error.message}`);
        assert.match(error.message, c.says, c.what);
        return true;
      });
      assert.deepEqual(await probe.counts(), empty, `${c.what}: nothing was restored`);
    }

    // The file they were made from restores whole: the refusals were of the crafted lines alone.
    const restored = await restoreBackup(database, base);
    assert.equal(restored.rows, lines.length - 2 - lines.filter((l) => l.startsWith('{"openroll.table"')).length);
    assert.equal((await probe.counts()).organizations, 3);
    await database.db.execute(sql.raw(`TRUNCATE ${tables}, rate_limit_counters CASCADE`));

    // What the operator sees: one line on standard error and a failure, without a stack trace.
    await ctx.app.close();
    if (TEST_DB_KIND === 'pglite') await database.close();
    const file = join(dir, 'after-the-end.jsonl');
    writeFileSync(file, `${[...lines, JSON.stringify(another)].join('\n')}\n`);
    const env: Record<string, string> = target.url ? { DATABASE_URL: target.url, DATA_DIR: tempDir() } : { DATA_DIR: join(dir, 'data') };
    const cli = await runCli(['restore', file], env);
    assert.equal(cli.code, 1);
    assert.equal(cli.stderr, `openroll restore: ${file}, line ${end + 2}: a line after the end marker (line ${end + 1}): nothing was restored\n`);
  });
});

/** An embedded database in its own directory: restore talks to it over a connection of its own. */
async function embeddedTestDatabase(dataDir: string) {
  const database = await openDatabase({ databaseUrl: undefined, dataDir });
  await runMigrations(database);
  return { database, url: undefined, drop: () => database.close().catch(() => {}) };
}

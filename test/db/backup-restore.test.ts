import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { openDatabase } from '../../src/db/client.ts';
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

    const targets: Array<Record<string, string>> = [{ DATA_DIR: tempDir() }];
    if (TEST_DB_KIND === 'postgres') {
      const db = await createTestDatabase();
      await db.database.close();
      cleanups.push(() => db.drop());
      targets.push({ DATA_DIR: tempDir(), DATABASE_URL: db.url! });
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

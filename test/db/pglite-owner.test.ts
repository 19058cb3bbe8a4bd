import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { SOCKET_PORT, startPgliteOwner, type PgliteOwner } from '../../src/db/pglite-owner.ts';
import { TEST_DB_KIND } from '../helpers/test-db.ts';

// The multiplexer that shares PGlite's single backend between connections. It exists only for
// the embedded database, so this file runs in the PGlite pass (PostgreSQL has real backends).
const skip = TEST_DB_KIND === 'postgres' ? 'the embedded database only' : false;

let dir: string;
let owner: PgliteOwner;
const clients: pg.Client[] = [];

async function client(): Promise<pg.Client> {
  const c = new pg.Client({ host: dir, port: SOCKET_PORT, user: 'postgres', database: 'postgres' });
  c.on('error', () => {});
  await c.connect();
  clients.push(c);
  return c;
}

const count = async (c: pg.Client, where = 'true') => Number((await c.query(`select count(*) as n from items where ${where}`)).rows[0].n);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the embedded database owner', { skip }, () => {
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'openroll-owner-'));
    owner = await startPgliteOwner({ dataDir: dir, socketDir: dir, idleInTransactionMs: 5_000 });
    const c = await client();
    await c.query('create table items (id int primary key, owner text not null)');
  });
  after(async () => {
    for (const c of clients) await c.end().catch(() => {});
    await owner?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("two connections' transactions never interleave; one that fails midway leaves nothing of itself", async () => {
    const a = await client();
    const b = await client();
    await a.query('begin');
    await a.query('insert into items values (1, $1)', ['a']);
    await a.query('insert into items values (2, $1)', ['a']);
    // b's statements wait for a's transaction to end, rather than running inside it.
    let bSaw: number | undefined;
    const bRead = count(b, "owner = 'a'").then((n) => (bSaw = n));
    const bWrite = b.query('insert into items values (100, $1)', ['b']);
    await sleep(300);
    assert.equal(bSaw, undefined, "b ran while a's transaction was open");
    // a fails midway: a duplicate key, then a rollback.
    await assert.rejects(a.query('insert into items values (1, $1)', ['a']), /duplicate key/);
    await a.query('rollback');
    await Promise.all([bRead, bWrite]);
    assert.equal(bSaw, 0, "nothing of a's failed transaction is visible to b");
    assert.equal(await count(a, "owner = 'a'"), 0);
    assert.equal(await count(a, "owner = 'b'"), 1, "b's own insert committed by itself");
  });

  test('a transaction that fails on the server rolls back alone, even with other connections queued', async () => {
    const a = await client();
    const others = await Promise.all([client(), client(), client()]);
    await a.query('begin');
    await a.query('insert into items values (200, $1)', ['a2']);
    const reads = others.map((o) => count(o, "owner = 'a2'"));
    await assert.rejects(a.query('select 1 / 0'), /division by zero/);
    await assert.rejects(a.query('insert into items values (201, $1)', ['a2']), /current transaction is aborted/);
    await a.query('rollback');
    assert.deepEqual(await Promise.all(reads), [0, 0, 0]);
  });

  test('parameterized queries of many connections at once each get their own answer', async () => {
    const conns = await Promise.all(Array.from({ length: 6 }, () => client()));
    const runs = conns.map(async (c, i) => {
      for (let k = 0; k < 40; k++) {
        const { rows } = await c.query('select $1::int as v, $2::text as w', [i * 1000 + k, `c${i}`]);
        assert.deepEqual(rows[0], { v: i * 1000 + k, w: `c${i}` });
      }
    });
    await Promise.all(runs);
  });

  test('two connections may prepare statements of the same name', async () => {
    const a = await client();
    const b = await client();
    const ra = await a.query({ name: 'probe', text: 'select $1::text as who', values: ['a'] });
    const rb = await b.query({ name: 'probe', text: 'select $1::int * 2 as who', values: [21] });
    assert.equal(ra.rows[0].who, 'a');
    assert.equal(rb.rows[0].who, 42);
    assert.equal((await a.query({ name: 'probe', text: 'select $1::text as who', values: ['again'] })).rows[0].who, 'again');
  });

  test('a connection that dies inside a transaction is rolled back and frees the database', async () => {
    const a = await client();
    const b = await client();
    await a.query('begin');
    await a.query('insert into items values (300, $1)', ['dead']);
    const waiting = count(b, "owner = 'dead'");
    (a as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
    assert.equal(await waiting, 0);
  });

  test('NOTIFY reaches the connections that LISTEN, from any connection, after commit', async () => {
    const listener = await client();
    const heard: string[] = [];
    listener.on('notification', (n) => heard.push(`${n.channel}:${n.payload}`));
    await listener.query('LISTEN openroll_probe');
    const talker = await client();
    await talker.query('begin');
    await talker.query(`select pg_notify('openroll_probe', 'one')`);
    await sleep(100);
    assert.deepEqual(heard, [], 'nothing before commit');
    await talker.query('commit');
    await talker.query(`select pg_notify('openroll_other', 'x')`);
    for (let i = 0; i < 50 && heard.length === 0; i++) await sleep(20);
    assert.deepEqual(heard, ['openroll_probe:one']);
  });

  test('a statement past its timeout answers 57014; committed data and prepared statements survive', async () => {
    const a = await client();
    const b = await client();
    await b.query({ name: 'by_owner', text: 'select count(*)::int as n from items where owner = $1', values: ['b'] });
    await a.query('SET statement_timeout = 200');
    const started = performance.now();
    await assert.rejects(a.query('select count(*) from generate_series(1, 500000000)'), (error: { code?: string }) => error.code === '57014');
    assert.ok(performance.now() - started < 5_000, 'answered at the timeout, not when the statement would have ended');
    assert.equal(owner.backend.restarts, 1);
    const again = await b.query({ name: 'by_owner', text: 'select count(*)::int as n from items where owner = $1', values: ['b'] });
    assert.equal(again.rows[0].n, 1, 'the committed row survived; the prepared statement was prepared again');
    assert.equal((await a.query('select 1 as one')).rows[0].one, 1, 'the connection that timed out goes on');
  });
});

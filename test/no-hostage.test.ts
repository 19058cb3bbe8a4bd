import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { startHealthzProbe } from '../bench/healthz-probe.ts';
import { demoKey, http, stopServer } from './faults/fault-helpers.ts';
import { runCli, startServerProcess, type ServerProcess } from './helpers/processes.ts';
import { createTestDatabase, TEST_DB_KIND } from './helpers/test-db.ts';

// A bounded load on loopback against a real server process: six slow user searches by a viewer
// key and a bulk of 10,000 in one organization, while /healthz and another organization are
// asked. Every one of them must be answered, and answered right. How fast is a speed target,
// and those are checked by the benchmark (`npm run bench`: "During that bulk, ..." in
// bench/RESULTS.md, against issue 10's 100 ms and 1 s), never by a timed unit test; the figures
// of this run are printed for the log.

const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function startServer(extra: Record<string, string> = {}): Promise<{ server: ServerProcess; env: Record<string, string> }> {
  const dir = mkdtempSync(join(tmpdir(), 'openroll-hostage-'));
  cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
  const env: Record<string, string> = { DATA_DIR: dir };
  if (TEST_DB_KIND === 'postgres') {
    const db = await createTestDatabase();
    await db.database.close();
    cleanups.push(() => db.drop());
    env.DATABASE_URL = db.url!;
  }
  const server = await startServerProcess({ ...env, HOST: '127.0.0.1', LOG_LEVEL: 'warn', RATE_LIMIT_PER_MINUTE: '0', EXPIRY_SWEEP_SECONDS: '86400', ...extra });
  cleanups.push(() => stopServer(server));
  return { server, env };
}

const max = (xs: number[]) => Math.round(Math.max(0, ...xs));
const median = (xs: number[]) => Math.round([...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0);

describe('no request holds the others hostage', () => {
  test('six slow searches and a bulk of 10,000 run while /healthz and another organization answer', async () => {
    const { server, env } = await startServer();
    const admin = demoKey(server);
    const users = '/v1/organizations/demo/mdm/users';
    const viewer = (await http(server.url, 'POST', '/v1/organizations/demo/api-keys', { key: admin, body: { name: 'viewer', role: 'viewer' } })).body.data.key as string;
    const other = await runCli(['org', 'create', '--slug', 'other-org', '--name', 'Other'], env);
    assert.equal(other.code, 0, other.stderr);
    const otherKey = /(ork_\S+)/.exec(other.stdout)![1]!;
    assert.equal((await http(server.url, 'POST', '/v1/organizations/other-org/mdm/users', { key: otherKey, body: { email: 'one@example.com' } })).status, 200);
    const seed = await http(server.url, 'POST', '/v1/organizations/demo/mdm/windows/enterprise/enrollment-tokens/bulk', {
      key: admin,
      body: { sendEmail: false, userEmails: Array.from({ length: 2_000 }, (_, i) => `seed.${i}@example.com`) },
      timeoutMs: 300_000,
    });
    assert.equal(seed.status, 200);

    // The search: 320 × 'İ' is now refused at once, naming the field.
    const tooLong = await http(server.url, 'GET', `${users}?search=${encodeURIComponent('İ'.repeat(320))}`, { key: viewer });
    assert.equal(tooLong.status, 400);
    assert.equal(tooLong.body.error.code, 3000);
    assert.equal(tooLong.body.error.data.errors[0].path, 'query.search');

    const slowSearch = `${users}?search=${encodeURIComponent('İ'.repeat(128))}`;
    let loadDone = false;
    const bulk = http(server.url, 'POST', '/v1/organizations/demo/mdm/windows/enterprise/enrollment-tokens/bulk', {
      key: admin,
      body: { sendEmail: false, userEmails: Array.from({ length: 10_000 }, (_, i) => `load.${i}@example.com`) },
      timeoutMs: 300_000,
    }).finally(() => (loadDone = true));
    const searchStatuses: number[] = [];
    const searches = Array.from({ length: 6 }, async () => {
      while (!loadDone) searchStatuses.push((await http(server.url, 'GET', slowSearch, { key: viewer, timeoutMs: 120_000 })).status);
    });
    const otherOrg: number[] = [];
    const failures: string[] = [];
    const probe = async (into: number[], path: string, key: string | undefined, everyMs: number) => {
      while (!loadDone) {
        const res = await http(server.url, 'GET', path, { key, timeoutMs: 120_000 });
        if (res.status === 200) into.push(res.ms);
        else failures.push(`${path}: ${res.status} ${res.failure ?? JSON.stringify(res.body)}`);
        await new Promise((r) => setTimeout(r, everyMs));
      }
    };
    // /healthz is timed from a thread of its own, so the six search loops and the bulk this
    // process drives do not add their own event loop's delays to the server's answer.
    const probeHealth = startHealthzProbe(server.url, 50);
    const probeOther = probe(otherOrg, '/v1/organizations/other-org/mdm/users', otherKey, 200);
    const done = await bulk;
    const healthz = await probeHealth.stop();
    await Promise.all([...searches, probeOther]);

    console.log(
      `no-hostage (${TEST_DB_KIND}): bulk ${Math.round(done.ms)} ms; ${searchStatuses.length} searches; ` +
        `/healthz n=${healthz.samples} median ${healthz.p50} ms p99 ${healthz.p99} ms max ${healthz.max} ms; ` +
        `other organization n=${otherOrg.length} median ${median(otherOrg)} ms max ${max(otherOrg)} ms`,
    );
    assert.deepEqual(failures, [], `every probe answered 200; the server said:\n${server.output().slice(-3000)}`);
    assert.equal(done.status, 200);
    assert.equal(done.body.data.success, 10_000);
    assert.ok(searchStatuses.length >= 6 && searchStatuses.every((s) => s === 200), `searches: ${searchStatuses.join(',')}`);
    assert.ok(healthz.samples >= 3, 'healthz was sampled during the load');
    assert.equal(healthz.failures, 0, 'every /healthz answered 200');
    assert.ok(otherOrg.length >= 1, 'another organization was answered during the load');
  });

  test('a statement past its timeout answers 503 with code 3004, and the server goes on', async () => {
    // Reads get 1 ms: any real search stops; writes keep the default and show the server is whole.
    const { server } = await startServer({ STATEMENT_TIMEOUT_MS: '1' });
    const admin = demoKey(server);
    const base = '/v1/organizations/demo/mdm';
    const seed = await http(server.url, 'POST', `${base}/windows/enterprise/enrollment-tokens/bulk`, {
      key: admin,
      body: { sendEmail: false, userEmails: Array.from({ length: 3_000 }, (_, i) => `t.${i}@example.com`) },
      timeoutMs: 300_000,
    });
    assert.equal(seed.status, 200);
    const slow = await http(server.url, 'GET', `${base}/users?search=example&limit=500`, { key: admin });
    assert.equal(slow.status, 503, JSON.stringify(slow.body));
    assert.equal(slow.body.error.code, 3004);
    assert.equal(slow.body.error.message, 'Database Timeout');
    assert.equal((await http(server.url, 'GET', '/healthz')).status, 200);
    // On PGlite the stopped statement's thread is replaced: the next statements wait for the reopen.
    const created = await http(server.url, 'POST', `${base}/users`, { key: admin, body: { email: 'after.timeout@example.com' }, timeoutMs: 120_000 });
    assert.equal(created.status, 200, `writes go on after the stopped statement; the server said:\n${server.output().slice(-3000)}`);
    const again = await http(server.url, 'POST', `${base}/users`, { key: admin, body: { email: 't.0@example.com' }, timeoutMs: 120_000 });
    assert.equal(again.body.error?.code, 5048, 'the users committed before the timeout are all there');
  });
});

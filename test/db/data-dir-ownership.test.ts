import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { demoKey, http, killHard, stopServer } from '../faults/fault-helpers.ts';
import { BIN, runCli, startServerProcess, TEST_SECRET_KEY, type ServerProcess } from '../helpers/processes.ts';
import { createTestDatabase, TEST_DB_KIND } from '../helpers/test-db.ts';

// Real processes: servers and the operator's command line on one embedded directory (PGlite
// pass) or one PostgreSQL database (PostgreSQL pass), talking to each other only through it.
const pglite = TEST_DB_KIND === 'pglite';
const servers: ServerProcess[] = [];
const dirs: string[] = [];
const drops: Array<() => Promise<void>> = [];
after(async () => {
  for (const s of servers) await stopServer(s);
  for (const d of drops) await d();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A fresh database for one test: an empty embedded directory, or a new PostgreSQL database. */
async function freshEnv(): Promise<Record<string, string>> {
  const dir = mkdtempSync(join(tmpdir(), 'openroll-owner-'));
  dirs.push(dir);
  if (pglite) return { DATA_DIR: dir };
  const db = await createTestDatabase();
  await db.database.close();
  drops.push(() => db.drop());
  // A server on PostgreSQL refuses to start without the server key (src/pki/secret-key.ts).
  return { DATA_DIR: dir, DATABASE_URL: db.url!, OPENROLL_SECRET_KEY: TEST_SECRET_KEY };
}

async function serve(env: Record<string, string>): Promise<ServerProcess> {
  const server = await startServerProcess({ HOST: '127.0.0.1', LOG_LEVEL: 'warn', RATE_LIMIT_PER_MINUTE: '0', EXPIRY_SWEEP_SECONDS: '86400', ...env });
  servers.push(server);
  return server;
}

/** Every file under `dir` with its size and modification time. */
function listing(dir: string): string {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else {
        const s = statSync(p);
        out.push(`${p} ${s.size} ${s.mtimeMs}`);
      }
    }
  };
  walk(dir);
  return out.sort().join('\n');
}

const keyOf = (stdout: string) => /(ork_\S+)/.exec(stdout)![1]!;
const keysPath = (org: string) => `/v1/organizations/${org}/api-keys`;

describe('one owner per data directory', { skip: pglite ? false : 'the embedded database only' }, () => {
  test('a second server on the same DATA_DIR exits 1 with one line naming the holder, and writes nothing', async () => {
    const env = await freshEnv();
    const first = await serve(env);
    const before = listing(env.DATA_DIR!);
    const second = await runCli(['serve'], { ...env, PORT: '0', LOG_LEVEL: 'info' });
    assert.equal(second.code, 1);
    assert.equal(second.stdout, '');
    const lines = second.stderr.trim().split('\n');
    assert.equal(lines.length, 1, second.stderr);
    assert.match(lines[0]!, new RegExp(`in use by process ${first.child.pid} \\(openroll serve\\)\\. Stop that process first`));
    assert.equal(listing(env.DATA_DIR!), before, 'the refused server changed nothing in the directory');
    assert.equal((await http(first.url, 'GET', '/healthz')).status, 200, 'the first one goes on');
  });

  test('a server killed with SIGKILL leaves a lock that the next owner takes over, with the data', async () => {
    const env = await freshEnv();
    const first = await serve(env);
    const key = demoKey(first);
    await killHard(first);
    const stale = JSON.parse(readFileSync(join(env.DATA_DIR!, 'openroll.lock'), 'utf8')) as { pid: number };
    assert.equal(stale.pid, first.child.pid, 'the killed server could not remove its lock');
    const list = await runCli(['key', 'list', '--org', 'demo'], env);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /First admin key/);
    const second = await serve(env);
    assert.equal((await http(second.url, 'GET', keysPath('demo'), { key })).status, 200);
  });
});

describe('the command line against a running server', () => {
  test('what it creates is usable at once, what it revokes is refused on the next request', async () => {
    const env = await freshEnv();
    const server = await serve(env);
    // On PostgreSQL a second server shares the database: a revoke must reach both caches.
    const others = pglite ? [] : [await serve(env)];
    const all = [server, ...others];

    const org = await runCli(['org', 'create', '--slug', 'other-1', '--name', 'Other'], env);
    assert.equal(org.code, 0, org.stderr);
    const admin = keyOf(org.stdout);
    for (const s of all) assert.equal((await http(s.url, 'GET', keysPath('other-1'), { key: admin })).status, 200, 'the new key works at once');

    const viewer = await runCli(['key', 'create', '--org', 'other-1', '--name', 'reader', '--role', 'viewer'], env);
    assert.equal(viewer.code, 0, viewer.stderr);
    const viewerKey = keyOf(viewer.stdout);
    const viewerId = /\(([0-9a-f]{24})\)/.exec(viewer.stdout)![1]!;
    // Warm every server's cache of authenticated keys.
    for (const s of all) for (let i = 0; i < 3; i++) assert.equal((await http(s.url, 'GET', '/v1/organizations/other-1/mdm/users', { key: viewerKey })).status, 200);

    const revoke = await runCli(['key', 'revoke', '--org', 'other-1', viewerId], env);
    assert.equal(revoke.code, 0, revoke.stderr);
    for (const s of all) {
      const next = await http(s.url, 'GET', '/v1/organizations/other-1/mdm/users', { key: viewerKey });
      assert.equal(next.status, 401, 'the very next request after the revoke');
      assert.equal(next.body.error.code, 4004);
    }

    if (others.length > 0) {
      // A revoke through one server's API reaches the other's cache too.
      const created = await http(server.url, 'POST', keysPath('other-1'), { key: admin, body: { name: 'second', role: 'viewer' } });
      for (const s of all) assert.equal((await http(s.url, 'GET', '/v1/organizations/other-1/mdm/users', { key: created.body.data.key })).status, 200);
      assert.equal((await http(server.url, 'DELETE', `${keysPath('other-1')}/${created.body.data.id}`, { key: admin })).status, 200);
      assert.equal((await http(others[0]!.url, 'GET', '/v1/organizations/other-1/mdm/users', { key: created.body.data.key })).status, 401);
    }

    for (const args of [['migrate'], ['mail', 'list'], ['key', 'list', '--org', 'other-1']]) {
      const res = await runCli(args, env);
      assert.equal(res.code, 0, `${args.join(' ')}: ${res.stderr}`);
    }
    for (const s of all) await stopServer(s);
    const list = await runCli(['key', 'list', '--org', 'other-1'], env);
    assert.equal(list.code, 0, 'the organization outlived the server');
    assert.match(list.stdout, new RegExp(`${viewerId}\\treader\\t.*\\t20\\d\\d-`), 'and the revoke too');
  });
});

async function freePort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as net.AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

describe('PUBLIC_URL', () => {
  test('unset, the links follow PORT and the start message prints their base', async () => {
    const env = await freshEnv();
    const port = await freePort();
    const child = spawn(process.execPath, [BIN, 'serve'], { env: { ...process.env, ...env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn' } });
    let out = '';
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const server: ServerProcess = { child, url: `http://127.0.0.1:${port}`, output: () => out, exited };
    servers.push(server);
    for (let i = 0; i < 1200 && !/admin API key/.test(out); i++) await new Promise((r) => setTimeout(r, 100));
    assert.match(out, new RegExp(`Enrollment links start with http://localhost:${port}\\b`));
    const key = demoKey(server);
    const user = await http(server.url, 'POST', '/v1/organizations/demo/mdm/users', { key, body: { email: 'links@example.com' } });
    const token = await http(server.url, 'POST', '/v1/organizations/demo/mdm/windows/enterprise/enrollment-tokens', { key, body: { mdmUserId: user.body.data.id, sendEmail: false } });
    const link = token.body.data.enrollmentLink as string;
    assert.ok(link.startsWith(`http://localhost:${port}/enroll/`), link);
    assert.equal((await http(server.url, 'GET', new URL(link).pathname)).status, 200, 'the link opens on this server');
  });
});

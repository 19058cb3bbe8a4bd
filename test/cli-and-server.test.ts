import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { SECRET_KEY_FILE } from '../src/pki/secret-key.ts';
import { runCli, startServerProcess } from './helpers/processes.ts';
import { createTestDatabase, type TestDatabase } from './helpers/test-db.ts';

// The command line and the server run as separate processes, on a PGlite directory or on
// this test file's own PostgreSQL database.
let dataDir: string;
let db: TestDatabase | undefined;
let env: Record<string, string>;

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'openroll-cli-'));
  env = { DATA_DIR: dataDir };
  if (process.env.OPENROLL_TEST_DATABASE_URL) {
    db = await createTestDatabase();
    await db.database.close();
    env.DATABASE_URL = db.url!;
  }
});
after(async () => {
  await db?.drop();
  rmSync(dataDir, { recursive: true, force: true });
});

async function get(url: string, key?: string): Promise<{ status: number; body: { status: boolean; error?: { code: number } } }> {
  const res = await fetch(url, { headers: key ? { authorization: `Bearer ${key}` } : {} });
  return { status: res.status, body: (await res.json()) as { status: boolean; error?: { code: number } } };
}

/** Runs the README's API examples as pasted, with the real key and server address. */
async function runReadmeExamples(url: string, key: string): Promise<void> {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const section = readme.slice(readme.indexOf('## Using the API'));
  const block = /```sh\n([\s\S]*?)```/.exec(section)![1]!;
  assert.match(block, /^KEY=ork_\.\.\. /m);
  const script = block.replace(/^KEY=ork_\.\.\..*$/m, `KEY=${key}`).replace('http://localhost:3000', url);
  const run = spawnSync('bash', ['-euo', 'pipefail', '-c', script], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(run.status, 0, run.stderr);
  const answers = run.stdout.split(/(?<=\})(?=\{"status")/);
  assert.equal(answers.length, 8, run.stdout.slice(0, 2000));
  for (const answer of answers) assert.equal(JSON.parse(answer).status, true, answer.slice(0, 300));
}

describe('operator command line', () => {
  test('help for every command', async () => {
    for (const args of [['--help'], ['org', 'create', '--help'], ['key', 'create', '--help'], ['key', 'list', '--help'], ['key', 'revoke', '--help'], ['migrate', '--help']]) {
      const res = await runCli(args, env);
      assert.equal(res.code, 0, args.join(' '));
      assert.match(res.stdout, /Usage: openroll/);
    }
  });

  test('bad usage and bad configuration exit 2 with one clear line', async () => {
    const missing = await runCli(['org', 'create', '--name', 'x'], env);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /missing --slug/);
    const badPort = await runCli(['migrate'], { ...env, PORT: 'x' });
    assert.equal(badPort.code, 2);
    assert.match(badPort.stderr, /PORT/);
    const unknown = await runCli(['frobnicate'], env);
    assert.equal(unknown.code, 2);
  });

  test('migrate, org create, key create/list/revoke', async () => {
    assert.equal((await runCli(['migrate'], env)).code, 0);
    const org = await runCli(['org', 'create', '--slug', 'acme', '--name', 'Acme Corp', '--plan', 'business'], env);
    assert.equal(org.code, 0, org.stderr);
    assert.match(org.stdout, /id:\s+[0-9a-f]{24}/);
    assert.match(org.stdout, /admin key: ork_/);
    const dup = await runCli(['org', 'create', '--slug', 'acme', '--name', 'Again'], env);
    assert.equal(dup.code, 1);
    assert.match(dup.stderr, /slug/);

    const key = await runCli(['key', 'create', '--org', 'acme', '--name', 'ci', '--role', 'viewer', '--expires', '30d'], env);
    assert.equal(key.code, 0, key.stderr);
    const id = /\(([0-9a-f]{24})\)/.exec(key.stdout)![1]!;
    const perms = await runCli(['key', 'create', '--org', 'acme', '--name', 'p', '--permissions', 'mdm.windows.*,mdm.global.mdmUser.list'], env);
    assert.equal(perms.code, 0, perms.stderr);
    const badPerm = await runCli(['key', 'create', '--org', 'acme', '--name', 'p', '--permissions', 'nope'], env);
    assert.equal(badPerm.code, 1);

    const list = await runCli(['key', 'list', '--org', 'acme'], env);
    assert.equal(list.code, 0);
    assert.equal(list.stdout.split('\n').filter((l) => /^[0-9a-f]{24}\t/.test(l)).length, 3);
    assert.equal(list.stdout.includes(/ork_\S+/.exec(key.stdout)![0]), false, 'list never prints a secret');

    const revoke = await runCli(['key', 'revoke', '--org', 'acme', id], env);
    assert.equal(revoke.code, 0, revoke.stderr);
    assert.match((await runCli(['key', 'list', '--org', 'acme'], env)).stdout, new RegExp(`${id}.*\\t20\\d\\d-`));
    assert.doesNotMatch(revoke.stderr, /Warning/, 'an admin key is left');

    // The API refuses to revoke the last admin key (409); the operator can, and is warned.
    const adminId = /^([0-9a-f]{24})\t[^\t]*\t[^\t]*\tadmin\t/m.exec(list.stdout)?.[1];
    assert.ok(adminId, list.stdout);
    const last = await runCli(['key', 'revoke', '--org', 'acme', adminId], env);
    assert.equal(last.code, 0, last.stderr);
    assert.match(last.stdout, /revoked/);
    assert.match(last.stderr, /Warning: acme has no admin key left/);
    assert.match(last.stderr, /openroll key create --org acme --name admin --role admin/);
  });
});

describe('server process', () => {
  test('npm start on an empty database prints a key and a curl line; SIGTERM stops it cleanly; data survives', async () => {
    const fresh = mkdtempSync(join(tmpdir(), 'openroll-serve-'));
    const serveEnv: Record<string, string> = db ? { ...env } : { DATA_DIR: fresh };
    if (db) {
      // The command-line test above already filled this database; start from an empty one.
      const empty = await createTestDatabase();
      await empty.database.close();
      serveEnv.DATABASE_URL = empty.url!;
      after(() => empty.drop());
    }
    try {
      const first = await startServerProcess(serveEnv);
      const key = /admin API key, shown only now: (ork_\S+)/.exec(first.output())?.[1];
      assert.ok(key, first.output());
      const curl = /curl -s (\S+) -H "Authorization: Bearer (\S+)"/.exec(first.output());
      assert.ok(curl, 'a ready-to-paste curl line');
      assert.match(first.output(), /Windows management sessions are refused: set TLS_CERT_FILE/, 'the start says how device sessions are verified');
      assert.equal((await get(`${first.url}/healthz`)).status, 200);
      // The embedded default made its server key at first start, readable by its owner only.
      if (!db) assert.equal(statSync(join(fresh, SECRET_KEY_FILE)).mode & 0o777, 0o600);
      assert.equal((await get(`${first.url}/readyz`)).status, 200);
      const keys = await get(`${first.url}/v1/organizations/demo/api-keys`, key);
      assert.equal(keys.status, 200);
      assert.equal((await get(`${first.url}/v1/organizations/demo/api-keys`)).body.error?.code, 4002);
      const tokens = await get(curl[1]!, curl[2]);
      assert.equal(tokens.status, 200, 'the printed curl line answers 200');
      assert.equal(tokens.body.status, true);

      // With no SMTP_URL the server keeps the email it would send; the command line shows it.
      const post = (path: string, body: unknown) =>
        fetch(`${first.url}/v1/organizations/demo${path}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        }).then((r) => r.json() as Promise<{ data: { id: string; enrollCode: string } }>);
      const user = await post('/mdm/users', { email: 'captured@example.com', language: 'it' });
      const token = await post('/mdm/windows/enterprise/enrollment-tokens', { mdmUserId: user.data.id, sendEmail: true });
      let status = '';
      for (let i = 0; i < 50 && status !== 'sent'; i++) {
        await new Promise((r) => setTimeout(r, 200));
        const got = (await get(`${first.url}/v1/organizations/demo/mdm/windows/enterprise/enrollment-tokens/${token.data.id}`, key)) as unknown as {
          body: { data: { summary: { email: { status: string } } } };
        };
        status = got.body.data.summary.email.status;
      }
      assert.equal(status, 'sent', 'the sender delivered it after commit');
      first.child.kill('SIGTERM');
      assert.equal(await first.exited, 0, 'graceful shutdown exits 0');

      const mailList = await runCli(['mail', 'list'], serveEnv);
      assert.equal(mailList.code, 0, mailList.stderr);
      const mailId = /^([0-9a-f]{24})\t.*captured@example\.com/m.exec(mailList.stdout)?.[1];
      assert.ok(mailId, mailList.stdout);
      const shown = await runCli(['mail', 'show', mailId], serveEnv);
      assert.equal(shown.code, 0);
      assert.match(shown.stdout, /^To: captured@example\.com$/m);
      assert.ok(shown.stdout.includes(token.data.enrollCode), 'the message carries the code');

      const second = await startServerProcess(serveEnv);
      assert.equal(/admin API key/.test(second.output()), false, 'no new demo organization on restart');
      assert.equal((await get(`${second.url}/v1/organizations/demo/api-keys`, key)).status, 200, 'the key survived the restart');
      await runReadmeExamples(second.url, key);
      second.child.kill('SIGINT');
      assert.equal(await second.exited, 0);
    } finally {
      rmSync(fresh, { recursive: true, force: true });
    }
  });
});

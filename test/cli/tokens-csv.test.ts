/**
 * `openroll tokens import|export` run as a user runs them: a child process talking HTTP to a
 * server this test starts on 127.0.0.1.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parse } from 'csv-parse/sync';
import { createProgress } from '../../src/cli/progress.ts';
import { createOrg, createPolicy, type TestOrg } from '../helpers/factories.ts';
import { BIN, runCli } from '../helpers/processes.ts';
import { buildTestApp, call, type TestContext } from '../helpers/test-app.ts';
import { tokensPath } from '../helpers/tokens.ts';

let ctx: TestContext;
let url: string;
let dir: string;

before(async () => {
  ctx = await buildTestApp();
  url = await ctx.app.listen({ port: 0, host: '127.0.0.1' });
  dir = mkdtempSync(join(tmpdir(), 'openroll-csv-'));
});
after(async () => {
  rmSync(dir, { recursive: true, force: true });
  await ctx.close();
});

const env = (t: TestOrg) => ({ OPENROLL_URL: url, OPENROLL_KEY: t.adminKey });
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};
type Row = Record<string, string>;
const readCsv = (path: string): Row[] => parse(readFileSync(path, 'utf8'), { columns: true, bom: true }) as Row[];

async function totalTokens(t: TestOrg, platform: 'windows' | 'apple' = 'windows'): Promise<number> {
  return (await call(ctx.app, t.adminKey, { method: 'GET', url: `${tokensPath(t.org.id, platform)}?limit=1&show-deleted=true` })).body.data.totalDocs;
}

/** 300 people in a few groups (language, tags), as an HR export would have them. */
function peopleCsv(n: number, domain: string): string {
  const lines = ['email,displayName,language,tags'];
  for (let i = 0; i < n; i++) lines.push(`person${i}@${domain},,${['es', 'fr', 'en'][i % 3]},${i % 2 ? '"onboarding;laptop"' : 'onboarding'}`);
  return `${lines.join('\r\n')}\r\n`;
}

describe('openroll tokens import', () => {
  test('a few hundred rows import; the results CSV has one row per input row; a rerun creates nothing new', async () => {
    const t = await createOrg(ctx, { plan: 'enterprise' });
    const input = file('people.csv', peopleCsv(300, 'acme.example'));
    const first = await runCli(['tokens', 'import', '--org', t.org.slug, '--platform', 'windows', '--chunk-size', '40', input], env(t));
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stderr, /300 rows: 300 with a token, 0 failed\. Results: .*people\.results\.csv/);
    assert.match(first.stderr, /^\d+\/300 rows · \d+ tokens · 0 failed · chunk 1\/\d+$/m, 'plain progress lines when not on a terminal');
    const results = readCsv(join(dir, 'people.results.csv'));
    assert.equal(results.length, 300);
    assert.deepEqual(Object.keys(results[0]!), ['line', 'email', 'tokenId', 'enrollmentLink', 'enrollCode', 'error']);
    results.forEach((r, i) => {
      assert.equal(r.line, String(i + 2));
      assert.equal(r.email, `person${i}@acme.example`);
      assert.match(r.tokenId!, /^[0-9a-f]{24}$/);
      assert.match(r.enrollmentLink!, /^https:\/\/mdm\.example\.test\/enroll\//);
      assert.match(r.enrollCode!, /^[A-Z0-9]{8,}$/);
      assert.equal(r.error, '');
    });
    assert.equal(await totalTokens(t), 300);
    const one = await call(ctx.app, t.adminKey, { method: 'GET', url: `${tokensPath(t.org.id, 'windows')}/${results[1]!.tokenId}` });
    assert.deepEqual(one.body.data.tags, ['onboarding', 'laptop']);
    assert.equal(one.body.data.mdmUser.email, 'person1@acme.example');

    const again = await runCli(['tokens', 'import', '--org', t.org.id, '--platform', 'windows', '--chunk-size', '40', '--out', join(dir, 'again.csv'), input], env(t));
    assert.equal(again.code, 0, again.stderr);
    assert.equal(await totalTokens(t), 300, 'nothing new');
    assert.deepEqual(readCsv(join(dir, 'again.csv')), results, 'the same answers');
  });

  test('a run killed half way, then run again: every row gets one token, none twice', async () => {
    const t = await createOrg(ctx, { plan: 'enterprise' });
    const input = file('interrupted.csv', peopleCsv(240, 'interrupted.example'));
    const args = ['tokens', 'import', '--org', t.org.slug, '--platform', 'apple', '--chunk-size', '20', input];
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env(t) } });
    let stderr = '';
    await new Promise<void>((resolve) => {
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        if (/chunk 3\//.test(stderr) && !child.killed) {
          child.kill('SIGKILL');
          resolve();
        }
      });
      child.on('close', () => resolve());
    });
    const partial = await totalTokens(t, 'apple');
    assert.ok(partial > 0 && partial < 240, `killed half way (${partial} tokens)`);
    const rerun = await runCli(args, env(t));
    assert.equal(rerun.code, 0, rerun.stderr);
    assert.equal(await totalTokens(t, 'apple'), 240);
    const results = readCsv(join(dir, 'interrupted.results.csv'));
    assert.equal(results.length, 240);
    assert.equal(new Set(results.map((r) => r.tokenId)).size, 240);
  });

  test('malformed rows get clear errors of their own; the others are created', async () => {
    const t = await createOrg(ctx);
    const policy = await createPolicy(ctx, t.org, 'windows', 'Laptops');
    const lines = [
      'Email,Display Name,language,tags,policy',
      'ok1@example.com,Ana laptop,es,,Laptops', // 2
      'not-an-email,,,,', // 3
      'ok2@example.com,,xx,,', // 4
      'ok3@example.com,too,many,fields,here,extra', // 5
      '"broken@example.com,bad "quote",,,', // 6
      'OK1@example.com,,,,', // 7: repeats line 2
      ',,,,', // 8: no email
      `ok4@example.com,${'x'.repeat(129)},,,`, // 9
      'ok5@example.com,,,,Desktops', // 10: no such policy
      `ok6@example.com,"Line one`, // 11
      `line two",,,${policy.id}`, // 12: a quoted line break; the record starts on line 11
    ];
    const input = file('messy.csv', `${lines.join('\n')}\n`);
    const res = await runCli(['tokens', 'import', '--org', t.org.slug, '--platform', 'windows', input, '--url', url, '--key', t.adminKey], {});
    assert.equal(res.code, 1, res.stderr);
    assert.match(res.stderr, /10 rows: 2 with a token, 8 failed/);
    const results = readCsv(join(dir, 'messy.results.csv'));
    const byLine = Object.fromEntries(results.map((r) => [r.line, r]));
    assert.deepEqual(Object.keys(byLine).map(Number), [2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    assert.match(byLine[2]!.tokenId!, /^[0-9a-f]{24}$/);
    assert.match(byLine[3]!.error!, /email "not-an-email" is not an email address/);
    assert.match(byLine[4]!.error!, /language "xx" is not one of/);
    assert.match(byLine[5]!.error!, /the row has 6 fields, the header 5/);
    assert.match(byLine[6]!.error!, /the CSV record is malformed: Invalid Closing Quote/);
    assert.equal(byLine[6]!.email, 'broken@example.com');
    assert.match(byLine[7]!.error!, /repeats the email of line 2/);
    assert.match(byLine[8]!.error!, /email is empty/);
    assert.match(byLine[9]!.error!, /displayName is longer than 128/);
    assert.match(byLine[10]!.error!, /no windows policy "Desktops"/);
    assert.match(byLine[11]!.tokenId!, /^[0-9a-f]{24}$/);
    const token = (id: string) => call(ctx.app, t.adminKey, { method: 'GET', url: `${tokensPath(t.org.id, 'windows')}/${id}` });
    assert.equal((await token(byLine[2]!.tokenId!)).body.data.winPolicyId, policy.id, 'the policy named by its name');
    assert.equal((await token(byLine[11]!.tokenId!)).body.data.displayName, 'Line one\nline two');
    assert.equal(await totalTokens(t), 2);
  });

  test('a bad header, a missing key, a wrong key: nothing is sent, and the reason is said', async () => {
    const t = await createOrg(ctx);
    const badHeader = await runCli(['tokens', 'import', '--org', t.org.slug, '--platform', 'windows', file('bad.csv', 'mail,name\na@example.com,A\n')], env(t));
    assert.equal(badHeader.code, 2);
    assert.match(badHeader.stderr, /unknown columns "mail", "name" in the header/);
    const noKey = await runCli(['tokens', 'import', '--org', t.org.slug, '--platform', 'windows', file('one.csv', 'email\na@example.com\n')], { OPENROLL_URL: url, OPENROLL_KEY: '' });
    assert.equal(noKey.code, 2);
    assert.match(noKey.stderr, /missing the API key/);
    const wrongKey = await runCli(['tokens', 'import', '--org', t.org.slug, '--platform', 'windows', join(dir, 'one.csv')], { OPENROLL_URL: url, OPENROLL_KEY: 'ork_wrong-key-0000000000000000000000' });
    assert.equal(wrongKey.code, 1);
    assert.match(wrongKey.stderr, /4004 Invalid Token/);
    const badPlatform = await runCli(['tokens', 'import', '--org', t.org.slug, '--platform', 'linux', join(dir, 'one.csv')], env(t));
    assert.equal(badPlatform.code, 2);
    assert.equal(await totalTokens(t), 0);
    const help = await runCli(['tokens', 'import', '--help'], {});
    assert.equal(help.code, 0);
    assert.match(help.stdout, /Usage: openroll tokens import/);
  });
});

describe('openroll tokens export', () => {
  test('writes the filtered list as CSV', async () => {
    const t = await createOrg(ctx);
    const input = file('export-in.csv', `email,displayName,tags\n${Array.from({ length: 30 }, (_, i) => `exp${i}@example.com,"=cmd|' /C calc'!A0",a;b`).join('\n')}\n`);
    assert.equal((await runCli(['tokens', 'import', '--org', t.org.slug, '--platform', 'windows', input], env(t))).code, 0);
    const imported = readCsv(join(dir, 'export-in.results.csv'));
    await call(ctx.app, t.adminKey, { method: 'DELETE', url: `${tokensPath(t.org.id, 'windows')}/${imported[0]!.tokenId}` });

    const out = join(dir, 'export.csv');
    const all = await runCli(['tokens', 'export', '--org', t.org.slug, '--platform', 'windows', '--out', out], env(t));
    assert.equal(all.code, 0, all.stderr);
    assert.match(all.stderr, /29 tokens exported/);
    const rows = readCsv(out);
    assert.equal(rows.length, 29, 'revoked tokens are left out by default');
    assert.deepEqual(Object.keys(rows[0]!), ['id', 'email', 'displayName', 'state', 'tags', 'enrollmentLink', 'enrollCode', 'expireAt', 'createdAt', 'mdmUserId', 'deviceId', 'policyIds']);
    assert.equal(rows[0]!.email, 'exp1@example.com', 'oldest first');
    assert.equal(rows[0]!.tags, 'a;b');
    assert.equal(rows[0]!.displayName, `'=cmd|' /C calc'!A0`, 'a formula is not left for a spreadsheet to run');
    assert.equal(rows[0]!.enrollCode, imported[1]!.enrollCode);

    const deleted = await runCli(['tokens', 'export', '--org', t.org.slug, '--platform', 'windows', '--state', 'deleted'], env(t));
    assert.equal(deleted.code, 0, deleted.stderr);
    const listed = parse(deleted.stdout, { columns: true }) as Row[];
    assert.deepEqual(listed.map((r) => [r.id, r.state]), [[imported[0]!.tokenId, 'DELETED']]);
    const bad = await runCli(['tokens', 'export', '--org', t.org.slug, '--platform', 'windows', '--state', 'LOST'], env(t));
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /unknown state LOST/);
  });
});

test('on a terminal, progress is one bar redrawn in place', () => {
  const written: string[] = [];
  const progress = createProgress({ isTTY: true, columns: 100, write: (s: string) => written.push(s) }, 200, 'rows');
  progress.update(50, '· 50 tokens');
  progress.update(200, '· 200 tokens');
  progress.finish();
  assert.match(written[0]!, /^\r\[#{10}-{30}\] 50\/200 rows · 50 tokens$/);
  assert.match(written[1]!, /^\r\[#{40}\] 200\/200 rows · 200 tokens/);
  assert.equal(written[2], '\n');
});

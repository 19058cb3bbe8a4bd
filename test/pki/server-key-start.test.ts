import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runCli } from '../helpers/processes.ts';

// The embedded default's key file at first start is checked where a real server starts on an
// empty DATA_DIR: test/cli-and-server.test.ts.

test('serve on PostgreSQL without OPENROLL_SECRET_KEY stops before connecting, with one line saying so', async () => {
  // Port 9 on loopback: nothing is contacted, the key check comes before the database opens.
  const result = await runCli(['serve'], { DATABASE_URL: 'postgres://openroll@127.0.0.1:9/none', OPENROLL_SECRET_KEY: '' });
  assert.equal(result.code, 2);
  assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
  assert.match(result.stderr, /OPENROLL_SECRET_KEY is required with DATABASE_URL/);
});

/**
 * Two real server processes on one PostgreSQL database enforce one limit (they enforced one
 * each: the counters lived in each process's memory). PGlite is opened by one process only,
 * so there is nothing to share there.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { startServerProcess, TEST_SECRET_KEY, type ServerProcess } from '../helpers/processes.ts';
import { createTestDatabase, TEST_PG_URL, type TestDatabase } from '../helpers/test-db.ts';
import { systemClock } from '../../src/lib/clock.ts';
import { createContainer } from '../../src/container.ts';
import { loadConfig } from '../../src/config.ts';

const skip = TEST_PG_URL ? false : 'needs PostgreSQL: only one process can open a PGlite directory';

describe('rate limits across two server processes on one database', { skip }, () => {
  let db: TestDatabase;
  const servers: ServerProcess[] = [];
  let org = '';
  let key = '';

  before(async () => {
    db = await createTestDatabase();
    const container = createContainer({ config: loadConfig({ LOG_LEVEL: 'silent', OPENROLL_SECRET_KEY: TEST_SECRET_KEY }), database: db.database, clock: systemClock });
    // The key is minted with the deployment's server key, as the servers below run with it.
    const created = await container.organizations.create({ slug: 'shared-limits', name: 'Shared limits' });
    org = created.organization.id;
    key = created.adminKey;
    const env = { DATABASE_URL: db.url!, RATE_LIMIT_PER_MINUTE: '6', RATE_LIMIT_UNAUTHENTICATED_PER_MINUTE: '4', LOG_LEVEL: 'warn' };
    // One after the other: on a loaded machine two cold starts at once can pass the helper's timeout.
    servers.push(await startServerProcess(env));
    servers.push(await startServerProcess(env));
  });
  after(async () => {
    for (const s of servers) {
      s.child.kill('SIGTERM');
      await s.exited;
    }
    await db?.drop();
  });

  /** Sends the i-th request to one process, the next to the other. */
  const alternate = (i: number, path: string, headers: Record<string, string> = {}) => fetch(`${servers[i % 2]!.url}${path}`, { headers });

  test('one key: six requests spread over both processes pass, the seventh and eighth get 429 4029 from either', async () => {
    const path = `/v1/organizations/${org}/segments`;
    const auth = { authorization: `Bearer ${key}` };
    for (let i = 0; i < 6; i++) assert.equal((await alternate(i, path, auth)).status, 200, `request ${i + 1}, to process ${(i % 2) + 1}`);
    for (let i = 6; i < 8; i++) {
      const res = await alternate(i, path, auth);
      assert.equal(res.status, 429, `request ${i + 1}, to process ${(i % 2) + 1}`);
      assert.equal(((await res.json()) as { error: { code: number } }).error.code, 4029);
      assert.ok(Number(res.headers.get('retry-after')) >= 1);
    }
  });

  test('requests without a valid key from one address: four spread over both processes, then 429 from either', async () => {
    const path = `/v1/organizations/${org}/segments`;
    for (let i = 0; i < 4; i++) {
      assert.equal((await alternate(i, path, { authorization: `Bearer ork_${randomBytes(32).toString('base64url')}` })).status, 401, `request ${i + 1}`);
    }
    assert.equal((await alternate(4, path)).status, 429);
    assert.equal((await alternate(5, path)).status, 429);
  });

  test("the enrollment page's wrong-link limit: twenty wrong links spread over both processes, then 429 pages from either", async () => {
    const wrong = (i: number) => alternate(i, `/enroll/${randomBytes(32).toString('base64url')}`);
    for (let i = 0; i < 20; i++) assert.equal((await wrong(i)).status, 404, `wrong link ${i + 1}`);
    assert.equal((await wrong(20)).status, 429);
    assert.equal((await wrong(21)).status, 429);
  });
});

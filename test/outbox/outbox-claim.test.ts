/**
 * Issue 27, part 1: a claim takes at most its batch whatever the planner's statistics. The
 * statistics of a queue that was empty when ANALYZE ran (what a routine autovacuum leaves after
 * a delivered bulk) made the planner re-run the limited `FOR UPDATE SKIP LOCKED` subquery once
 * per candidate row, and one claim took 2,900 rows. Here: ANALYZE of the empty queue, then 10,000
 * due rows, then the very statement the worker runs, for both outboxes.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { emailQueue } from '../../src/mail/outbox.repo.ts';
import { claimDue, claimStatement, newLeaseToken, type OutboxQueue } from '../../src/outbox/outbox-queue.ts';
import { webhookQueue } from '../../src/webhooks/webhooks.repo.ts';
import { createTestDatabase, TEST_DB_KIND, type TestDatabase } from '../helpers/test-db.ts';

const DUE = 10_000;
const BATCH = 50;
const ORG = 'a'.repeat(24);
const ENDPOINT = 'e'.repeat(24);
const now = new Date('2026-06-01T12:00:00.000Z');

let db: TestDatabase;
const exec = (query: ReturnType<typeof sql>) => db.database.db.execute(query) as unknown as Promise<{ rows: Array<Record<string, unknown>> }>;
/** 24 hex characters from a number: ids as the product writes them. */
const hexId = (prefix: string) => sql.raw(`'${prefix}' || lpad(to_hex(g), 20, '0')`);

before(async () => {
  db = await createTestDatabase();
  await exec(sql`insert into webhook_endpoints (organization_id, id, url, secret, events, enabled, created_at, updated_at)
    values (${ORG}, ${ENDPOINT}, 'http://127.0.0.1:9/', 'whsec_x', '{}'::text[], true, ${now.toISOString()}, ${now.toISOString()})`);
  // The statistics of an empty queue, as after a delivered bulk: nothing pending.
  await exec(sql`analyze email_outbox`);
  await exec(sql`analyze webhook_deliveries`);
  const at = sql`${new Date(now.getTime() - 1000).toISOString()}::timestamptz`;
  await exec(sql`insert into email_outbox (id, organization_id, token_id, recipient, status, attempts, next_attempt_at, created_at, updated_at)
    select ${hexId('0e00')}, ${ORG}, ${hexId('0700')}, 'user' || g || '@example.com', 'pending', 0, ${at}, ${at}, ${at}
    from generate_series(1, ${DUE}) g`);
  await exec(sql`insert into webhook_deliveries (organization_id, id, endpoint_id, token_id, event_type, payload, status, attempts, next_attempt_at, created_at, updated_at)
    select ${ORG}, ${hexId('0d00')}, ${ENDPOINT}, ${hexId('0700')}, 'enrollmentToken.created', '{}', 'pending', 0, ${at}, ${at}, ${at}
    from generate_series(1, ${DUE}) g`);
});
after(async () => {
  await db.drop();
});

interface PlanNode {
  'Node Type': string;
  'Parent Relationship'?: string;
  'Subplan Name'?: string;
  'CTE Name'?: string;
  'Actual Loops'?: number;
  'Actual Rows'?: number;
  Plans?: PlanNode[];
}
const nodes = (plan: PlanNode): PlanNode[] => [plan, ...(plan.Plans ?? []).flatMap(nodes)];

const queues: Array<[string, OutboxQueue]> = [
  ['email', emailQueue],
  ['webhook', webhookQueue],
];

describe('a claim with 10,000 due rows and the statistics of an empty queue', () => {
  for (const [name, queue] of queues) {
    test(`${name}: takes exactly its batch, with a fresh lease each, and the next claim the next rows`, async () => {
      const started = performance.now();
      const first = await claimDue(db.database.db, queue, now, BATCH, newLeaseToken(), 10_000);
      const ms = performance.now() - started;
      assert.equal(first.length, BATCH);
      assert.ok(ms < 2_000, `a claim takes milliseconds, not seconds (took ${ms.toFixed(0)} ms)`);
      const token = newLeaseToken();
      const second = await claimDue(db.database.db, queue, now, BATCH, token, 10_000);
      assert.equal(second.length, BATCH);
      assert.equal(new Set([...first, ...second].map((r) => r.id)).size, 2 * BATCH, 'a held row is not claimed again');
      for (const row of second) {
        assert.equal(row.leaseToken, token);
        assert.equal(row.attempts, 1);
        assert.equal((row.nextAttemptAt as Date).getTime(), now.getTime() + 10_000);
      }
    });

    test(`${name}: the plan runs the limited subquery once, not once per row`, { skip: TEST_DB_KIND === 'pglite' ? 'the plan is asserted on PostgreSQL (PGlite runs the same statement above)' : false }, async () => {
      // EXPLAIN ANALYZE runs the UPDATE: inside a transaction that is rolled back.
      let explained: Array<{ Plan: PlanNode; 'Execution Time': number }> | undefined;
      const rollback = new Error('rollback');
      await db.database.db
        .transaction(async (tx) => {
          const result = (await tx.execute(sql`explain (analyze, format json) ${claimStatement(queue, now, BATCH, newLeaseToken(), 10_000)}`)) as unknown as { rows: Array<Record<string, unknown>> };
          explained = Object.values(result.rows[0] ?? {})[0] as typeof explained;
          throw rollback;
        })
        .catch((error: unknown) => {
          if (error !== rollback) throw error;
        });
      const plan = explained![0]!;
      const all = nodes(plan.Plan);
      const limits = all.filter((n) => n['Node Type'] === 'Limit');
      assert.equal(limits.length, 1, 'one LIMIT in the plan');
      assert.equal(limits[0]!['Actual Loops'], 1, 'the LIMIT ran once');
      assert.equal(limits[0]!['Actual Rows'], BATCH);
      assert.ok(all.some((n) => n['Node Type'] === 'CTE Scan' && n['CTE Name'] === 'picked'), 'the UPDATE joins the materialized CTE');
      console.log(`# ${name} claim of ${BATCH} among ${DUE} due rows: ${plan['Execution Time'].toFixed(1)} ms`);
    });
  }
});

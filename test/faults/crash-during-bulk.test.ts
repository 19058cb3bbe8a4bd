import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'drizzle-orm';
import type { ServerProcess } from '../helpers/processes.ts';
import { createTestSmtpServer, type TestSmtpServer } from '../helpers/smtp.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/test-db.ts';
import { count, demoKey, http, killHard, report, requirePostgres, rows, seconds, sleep, startServer, stopServer, waitFor } from './fault-helpers.ts';

/**
 * Issue "Trustworthy under attack", part 3: the server process is SIGKILLed while a bulk of
 * 10,000 tokens with emails is in flight, and again while the outbox delivers them. The bulk
 * commits entirely or not at all, its Idempotency-Key retry makes exactly one set, and every
 * committed token's email arrives once per Message-ID.
 */
requirePostgres();

const TOTAL = 10_000;
const IDEMPOTENCY_KEY = 'crash-during-bulk-1';
const emails = Array.from({ length: TOTAL }, (_, i) => `crash${i}@example.com`);
const body = { sendEmail: true, userEmails: emails, displayName: 'Fleet rollout' };
const bulkPath = '/v1/organizations/demo/mdm/windows/enterprise/enrollment-tokens/bulk';

let db: TestDatabase;
let smtp: TestSmtpServer;
let server: ServerProcess | undefined;
let key: string;
let orgId: string;
const started = Date.now();
const facts = { crashOutcome: 'none', killedAfter: '', deliveryKills: 0, pendingAtKills: [] as number[], leasesReclaimed: 0, received: 0, distinct: 0 };
/** Outbox rows that a killed process held a lease on: the only ones allowed to arrive twice. */
const leasedAtKill = new Set<string>();

const env = () => ({ DATABASE_URL: db.url!, SMTP_URL: smtp.url, MAIL_RETRY_BASE_MS: '200' });
const sendBulk = () => http(server!.url, 'POST', bulkPath, { key, body, headers: { 'idempotency-key': IDEMPOTENCY_KEY }, timeoutMs: 120_000 });

const orgCount = (table: string) => count(db.database, sql`select count(*) as n from ${sql.identifier(table)} where organization_id = ${orgId}`);

/**
 * The open transaction of the bulk, seen from outside: it has written its users and is writing
 * tokens, each statement with their events and emails (src/db/bulk-insert.ts, `with parent as`).
 */
const bulkMidTransaction = () =>
  count(
    db.database,
    sql`select count(*) as n from pg_stat_activity
        where datname = current_database() and pid <> pg_backend_pid() and xact_start is not null
          and query ilike 'with parent as (insert into "enrollment_tokens"%'`,
  );

before(async () => {
  db = await createTestDatabase();
  smtp = await createTestSmtpServer();
  await smtp.start();
  server = await startServer(env());
  key = demoKey(server);
  const [org] = await rows<{ id: string }>(db.database, sql`select id from organizations where slug = 'demo'`);
  orgId = org!.id;
});

after(async () => {
  await stopServer(server);
  await smtp.stop();
  await db.drop();
});

describe('crash during a bulk of 10,000 with emails', () => {
  test('SIGKILL mid-request: all or nothing; the Idempotency-Key retry makes exactly one set', async () => {
    const sentAt = Date.now();
    let answered = false;
    const inFlight = sendBulk().finally(() => (answered = true));
    // Kill inside the bulk's transaction once it has inserted the tokens (or after 30 s, whatever it is doing).
    const trigger = await waitFor(
      'the bulk transaction',
      30_000,
      async () => (answered ? 'answered' : (await bulkMidTransaction()) > 0 ? 'mid-transaction' : undefined),
      5,
    ).catch(() => 'timeout');
    assert.notEqual(trigger, 'answered', 'the bulk finished before the kill: nothing was in flight to crash');
    await killHard(server!);
    facts.killedAfter = seconds(Date.now() - sentAt);
    const first = await inFlight;
    assert.equal(first.status, 0, `the client got no answer from a killed server (got ${first.status})`);

    server = await startServer(env());
    const tokens = await orgCount('enrollment_tokens');
    const users = await orgCount('mdm_users');
    const outbox = await orgCount('email_outbox');
    assert.ok(tokens === 0 || tokens === TOTAL, `tokens all or nothing, got ${tokens}`);
    assert.equal(users, tokens, 'users commit with their tokens');
    assert.equal(outbox, tokens, 'emails commit with their tokens');
    facts.crashOutcome = `${trigger}->${tokens === 0 ? 'rolled-back' : 'committed'}`;

    const retry = await sendBulk();
    assert.equal(retry.status, 200, JSON.stringify(retry.body).slice(0, 500));
    assert.equal(retry.body.data.success, TOTAL);
    const ids = new Set(retry.body.data.results.map((r: { tokenId: string }) => r.tokenId));
    assert.equal(ids.size, TOTAL);

    const again = await sendBulk();
    assert.equal(again.status, 200);
    assert.deepEqual(again.body.data, retry.body.data, 'a second retry answers the first answer');
    assert.equal(await orgCount('enrollment_tokens'), TOTAL, 'exactly one set of tokens');
    assert.equal(await orgCount('mdm_users'), TOTAL);
    assert.equal(await orgCount('email_outbox'), TOTAL, 'one email per token');
    const stored = await rows<{ id: string }>(db.database, sql`select id from enrollment_tokens where organization_id = ${orgId}`);
    assert.deepEqual(new Set(stored.map((r) => r.id)), ids, 'the answer names the stored tokens');
  });

  test('SIGKILL during delivery, twice: every token gets its email, one distinct Message-ID each', async () => {
    const pending = () => count(db.database, sql`select count(*) as n from email_outbox where organization_id = ${orgId} and status <> 'sent'`);
    for (const threshold of [TOTAL * 0.2, TOTAL * 0.55]) {
      await waitFor(`${threshold} emails delivered`, 120_000, () => (smtp.received.length >= threshold ? true : undefined), 20);
      await killHard(server!);
      facts.deliveryKills++;
      const pendingAtKill = await pending();
      assert.ok(pendingAtKill > 0, 'killed while emails were still to deliver');
      facts.pendingAtKills.push(pendingAtKill);
      // The killed sender's leases would expire after two minutes; expire them now instead.
      const leased = await rows<{ id: string }>(
        db.database,
        sql`update email_outbox set next_attempt_at = now() where organization_id = ${orgId} and status = 'pending' and next_attempt_at > now() returning id`,
      );
      for (const r of leased) leasedAtKill.add(r.id);
      facts.leasesReclaimed += leased.length;
      server = await startServer(env());
    }

    await waitFor('the outbox to deliver everything', 180_000, async () => ((await pending()) === 0 ? true : undefined), 250);
    await waitFor('the SMTP server to parse the last messages', 10_000, () => (distinctMessageIds().size >= TOTAL ? true : undefined));
    await sleep(500); // a late duplicate would show up here

    const outbox = await rows<{ id: string; token_id: string; recipient: string; message_id: string }>(
      db.database,
      sql`select o.id, o.token_id, o.recipient, o.message_id from email_outbox o
          join enrollment_tokens t on t.id = o.token_id and t.organization_id = o.organization_id
          where o.organization_id = ${orgId}`,
    );
    assert.equal(outbox.length, TOTAL);
    assert.equal(new Set(outbox.map((o) => o.token_id)).size, TOTAL, 'one outbox row per committed token');

    const byMessageId = distinctMessageIds();
    const expected = new Map(outbox.map((o) => [`<${o.id}@openroll>`, o]));
    const lost = [...expected.keys()].filter((id) => !byMessageId.has(id));
    const strangers = [...byMessageId.keys()].filter((id) => !expected.has(id));
    assert.deepEqual(lost, [], 'every committed token’s email arrived');
    assert.deepEqual(strangers, [], 'no message that is not in the outbox');
    for (const [messageId, row] of expected) {
      assert.equal(row.message_id, messageId, 'the outbox records the Message-ID it sent');
      assert.deepEqual(byMessageId.get(messageId)!.to, new Set([row.recipient]), `${messageId} went to its recipient`);
    }
    const duplicated = [...byMessageId].filter(([, m]) => m.copies > 1);
    for (const [messageId] of duplicated) {
      const outboxId = messageId.slice(1, messageId.indexOf('@'));
      assert.ok(leasedAtKill.has(outboxId), `${messageId} arrived twice but was not in flight at a crash`);
    }
    facts.received = smtp.received.length;
    facts.distinct = byMessageId.size;

    report('crash-during-bulk', {
      tokens: await orgCount('enrollment_tokens'),
      users: await orgCount('mdm_users'),
      'bulk-kill': `${facts.crashOutcome}@${facts.killedAfter}`,
      'delivery-kills': `${facts.deliveryKills}(pending=${facts.pendingAtKills.join('+')})`,
      'leases-reclaimed': facts.leasesReclaimed,
      'emails-delivered': facts.distinct,
      'physical-duplicates': facts.received - facts.distinct,
      lost: lost.length,
      duration: seconds(Date.now() - started),
    });
  });
});

/** What the SMTP server received, by Message-ID: how many copies, to whom. */
function distinctMessageIds(): Map<string, { copies: number; to: Set<string> }> {
  const out = new Map<string, { copies: number; to: Set<string> }>();
  for (const mail of smtp.received) {
    const id = mail.messageId ?? '(none)';
    const entry = out.get(id) ?? { copies: 0, to: new Set<string>() };
    entry.copies++;
    const to = mail.to && !Array.isArray(mail.to) ? mail.to.value.map((a) => a.address ?? '') : [];
    for (const address of to) entry.to.add(address);
    out.set(id, entry);
  }
  return out;
}

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'drizzle-orm';
import type { ServerProcess } from '../helpers/processes.ts';
import { createTestSmtpServer, type TestSmtpServer } from '../helpers/smtp.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/test-db.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.ts';
import { demoKey, http, killHard, report, requirePostgres, rows, seconds, sleep, startServer, stopServer, waitFor } from './fault-helpers.ts';

/**
 * Issue 27: every email and webhook sent once with several servers. Three server processes on
 * one PostgreSQL, an SMTP server and a webhook receiver on loopback that each take 250 ms per
 * message (the SMTP server checking the recipient, the receiver before it answers; what either
 * has of a message whose sender died before the answer does not count as accepted). For each outbox: a first bulk delivered, then ANALYZE (the statistics of an empty
 * queue, which made one claim take thousands of rows); a bulk of 3,000 that must arrive exactly
 * once each; another during which the busiest sender is SIGKILLed: none lost, at most one
 * duplicate, everything delivered within 30 s of the kill.
 */
requirePostgres();

const BULK = 3_000;
const WARM_UP = 200;
/** Sends per process at once (MAIL_CONCURRENCY, WEBHOOK_CONCURRENCY): 3 × 16 / 250 ms ≈ 190 a second. */
const CONCURRENCY = 16;
const SLOW_MS = 250;
const bulkPath = '/v1/organizations/demo/mdm/windows/enterprise/enrollment-tokens/bulk';

let db: TestDatabase;
let smtp: TestSmtpServer;
let receiver: WebhookReceiver;
let servers: ServerProcess[] = [];
let key: string;
const started = Date.now();
const facts: Record<string, string | number> = {};

const env = () => ({
  DATABASE_URL: db.url!,
  SMTP_URL: smtp.url,
  MAIL_CONCURRENCY: String(CONCURRENCY),
  WEBHOOK_CONCURRENCY: String(CONCURRENCY),
  // A connection for each send in flight, so no settlement waits behind another outbox's work.
  DATABASE_POOL_SIZE: String(CONCURRENCY + 8),
  WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
});

before(async () => {
  db = await createTestDatabase();
  smtp = await createTestSmtpServer(undefined, { delayMs: SLOW_MS });
  await smtp.start();
  receiver = await startWebhookReceiver();
  receiver.behave(() => ({ status: 204, delayMs: SLOW_MS }));
  // The first one bootstraps the demo organization; the other two join it.
  servers.push(await startServer(env()));
  key = demoKey(servers[0]!);
  servers.push(...(await Promise.all([startServer(env()), startServer(env())])));
});

after(async () => {
  await Promise.all(servers.map(stopServer));
  await receiver?.stop();
  await smtp?.stop();
  await db?.drop();
});

let batch = 0;
/** A bulk of `count` new users' tokens; returns their ids. */
async function bulk(count: number, sendEmail: boolean): Promise<string[]> {
  batch++;
  const userEmails = Array.from({ length: count }, (_, i) => `b${batch}u${i}@example.com`);
  const res = await http(servers[0]!.url, 'POST', bulkPath, { key, body: { sendEmail, userEmails }, timeoutMs: 120_000 });
  assert.equal(res.status, 200, JSON.stringify(res.body).slice(0, 300));
  assert.equal(res.body.data.success, count);
  return res.body.data.results.map((r: { tokenId: string }) => r.tokenId);
}

const analyze = (table: string) => db.database.db.execute(sql`analyze ${sql.identifier(table)}`);

/** Rows each server process holds now (its pid is in the lease token), and the most any holds. */
async function holdings(table: 'email_outbox' | 'webhook_deliveries'): Promise<Map<number, number>> {
  const held = await rows<{ pid: string; n: string }>(
    db.database,
    sql`select split_part(lease_token, '/', 2) as pid, count(*) as n from ${sql.identifier(table)}
        where status = 'pending' and lease_token is not null group by 1`,
  );
  return new Map(held.map((r) => [Number(r.pid), Number(r.n)]));
}

/** One copy of a message the receiver accepted: its id, when its sender began it, when it was answered. */
interface Copy {
  id: string;
  sentAt: number;
  answeredAt: number;
}

interface Run {
  /** Copies received per message id. */
  copies: Map<string, Copy[]>;
  /** The most rows one process held at once, sampled. */
  maxHeld: number;
  /** When the SIGKILL was sent, and when the test saw the process gone. */
  signalAt?: number;
  killedAt?: number;
  heldByKilled?: number;
  doneAt: number;
}

/**
 * Waits until every id in `expected` arrived, sampling how much each process holds; with
 * `kill`, SIGKILLs the process holding the most once half of them arrived.
 */
async function deliver(table: 'email_outbox' | 'webhook_deliveries', expected: Set<string>, arrived: () => Copy[], kill: boolean): Promise<Run> {
  const run: Run = { copies: new Map(), maxHeld: 0, doneAt: 0 };
  const count = () => {
    run.copies = new Map();
    for (const copy of arrived()) if (expected.has(copy.id)) run.copies.set(copy.id, [...(run.copies.get(copy.id) ?? []), copy]);
    return run.copies.size;
  };
  await waitFor(`${expected.size} ${table} rows delivered`, 240_000, async () => {
    const held = await holdings(table);
    run.maxHeld = Math.max(run.maxHeld, ...held.values(), 0);
    if (kill && run.killedAt === undefined && count() >= expected.size / 2) {
      const [pid, n] = [...held].sort((a, b) => b[1] - a[1])[0] ?? [servers[0]!.child.pid, 0];
      const victim = servers.find((s) => s.child.pid === pid) ?? servers[0]!;
      run.signalAt = Date.now();
      await killHard(victim);
      run.killedAt = Date.now();
      run.heldByKilled = n;
      servers = servers.filter((s) => s !== victim);
    }
    return count() >= expected.size ? true : undefined;
  });
  run.doneAt = Date.now();
  // A late duplicate (a sender still finishing one it lost) would show up here.
  await sleep(1_000);
  count();
  return run;
}

/**
 * A copy begun before the SIGKILL and answered after it went to a sender already dead, which
 * never learned of the answer: by the issue's terms not an acceptance, so its resend is no
 * duplicate. The receivers drop such copies themselves when they see the connection gone, but
 * they run in this process, and on a loaded machine this process can take hundreds of
 * milliseconds to notice (264 ms measured on 2 busy cores: 12 copies answered 9 ms after the
 * signal were counted, CI's "12 duplicates"). Only a message that was sent again loses such a
 * copy; a copy answered before the signal and sent again is the crash window and counts.
 */
function acceptedCopies(run: Run, copies: Copy[]): Copy[] {
  if (run.signalAt === undefined || copies.length < 2) return copies;
  const toTheDead = (c: Copy) => c.sentAt < run.signalAt! && c.answeredAt >= run.signalAt!;
  const kept = copies.filter((c) => !toTheDead(c));
  return kept.length > 0 ? kept : copies.slice(0, 1);
}

function checkRun(name: string, run: Run, expected: Set<string>, kill: boolean): void {
  const lost = [...expected].filter((id) => !run.copies.has(id));
  const accepted = [...run.copies.values()].map((copies) => acceptedCopies(run, copies));
  const duplicates = accepted.reduce((n, c) => n + c.length - 1, 0);
  const answeredToTheDead = [...run.copies.values()].reduce((n, c) => n + c.length, 0) - accepted.reduce((n, c) => n + c.length, 0);
  assert.deepEqual(lost, [], 'every message arrived');
  assert.ok(run.maxHeld <= CONCURRENCY, `no process held more than it sends at once (held ${run.maxHeld})`);
  if (kill) {
    assert.ok(duplicates <= 1, `at most one duplicate for one kill, got ${duplicates}`);
    const afterKill = run.doneAt - run.killedAt!;
    assert.ok(afterKill <= 30_000, `all delivered within 30 s of the kill (took ${seconds(afterKill)})`);
    facts[`${name}-after-kill`] = seconds(afterKill);
    facts[`${name}-held-by-killed`] = run.heldByKilled!;
    facts[`${name}-answered-to-the-dead`] = answeredToTheDead;
    facts[`${name}-kill-seen-after`] = `${run.killedAt! - run.signalAt!}ms`;
  } else {
    assert.equal(duplicates, 0, 'without a crash, nothing twice');
  }
  facts[`${name}-duplicates`] = duplicates;
  facts[`${name}-max-held`] = run.maxHeld;
}

describe('three servers, one PostgreSQL, a slow SMTP server and a slow webhook receiver', () => {
  const messageIds = (): Copy[] => smtp.received.map((m, i) => ({ id: m.messageId ?? '', sentAt: smtp.timings[i]!.startedAt, answeredAt: smtp.timings[i]!.acceptedAt }));
  const outboxIds = async (tokens: string[]) =>
    new Set(
      (await rows<{ id: string }>(db.database, sql`select id from email_outbox where token_id in (${sql.join(tokens.map((t) => sql`${t}`), sql`, `)})`)).map(
        (r) => `<${r.id}@openroll>`,
      ),
    );

  test('emails: a bulk of 3,000 after a delivered bulk and ANALYZE: exactly 3,000 messages, each recipient once', async () => {
    await deliver('email_outbox', await outboxIds(await bulk(WARM_UP, true)), messageIds, false);
    await analyze('email_outbox');
    const before = smtp.received.length;
    const t0 = Date.now();
    const expected = await outboxIds(await bulk(BULK, true));
    const run = await deliver('email_outbox', expected, messageIds, false);
    checkRun('email', run, expected, false);
    const got = smtp.received.slice(before);
    assert.equal(got.length, BULK, 'exactly 3,000 messages');
    const recipients = got.map((m) => (m.to && !Array.isArray(m.to) ? m.to.text : ''));
    assert.equal(new Set(recipients).size, BULK, 'each recipient once');
    facts['email-bulk'] = seconds(run.doneAt - t0);
  });

  test('emails: SIGKILL of the busiest sender mid-way: none lost, at most one duplicate, all within 30 s', async () => {
    const expected = await outboxIds(await bulk(BULK, true));
    try {
      const run = await deliver('email_outbox', expected, messageIds, true);
      checkRun('email-kill', run, expected, true);
    } finally {
      servers.push(await startServer(env()));
    }
  });

  test('webhooks: a bulk of 3,000 after a delivered bulk and ANALYZE: exactly 3,000 deliveries, each once', async () => {
    const hook = await http(servers[0]!.url, 'POST', '/v1/organizations/demo/webhooks', { key, body: { url: `${receiver.url}/hook`, events: ['enrollmentToken.created'] } });
    assert.equal(hook.status, 200, JSON.stringify(hook.body));
    // Every process hears of the new endpoint (its cache of who wants events) within moments.
    await sleep(1_000);
    const webhookIds = (): Copy[] => receiver.accepted.map((r) => ({ id: String(r.headers['webhook-id']), sentAt: r.receivedAt, answeredAt: r.answeredAt! }));
    const deliveryIds = async (tokens: string[]) =>
      new Set(
        (await rows<{ id: string }>(db.database, sql`select id from webhook_deliveries where token_id in (${sql.join(tokens.map((t) => sql`${t}`), sql`, `)})`)).map(
          (r) => `msg_${r.id}`,
        ),
      );
    const warmUp = await deliveryIds(await bulk(WARM_UP, false));
    assert.equal(warmUp.size, WARM_UP, 'one delivery per token');
    await deliver('webhook_deliveries', warmUp, webhookIds, false);
    await analyze('webhook_deliveries');

    const before = receiver.accepted.length;
    const t0 = Date.now();
    const expected = await deliveryIds(await bulk(BULK, false));
    const run = await deliver('webhook_deliveries', expected, webhookIds, false);
    checkRun('webhook', run, expected, false);
    assert.equal(receiver.accepted.length - before, BULK, 'exactly 3,000 deliveries');
    facts['webhook-bulk'] = seconds(run.doneAt - t0);

    const killed = await deliveryIds(await bulk(BULK, false));
    const killRun = await deliver('webhook_deliveries', killed, webhookIds, true);
    checkRun('webhook-kill', killRun, killed, true);

    report('outbox-scale-out', { processes: 3, 'slow-ms': SLOW_MS, concurrency: CONCURRENCY, ...facts, duration: seconds(Date.now() - started) });
  });
});

/**
 * Issue 27, part 2: a lease that cannot run out under a live sender, and a sender that lost a
 * row does not send it. Two senders (two "processes": nothing shared but the database) on one
 * database, the manual clock standing in for time, a real SMTP server on loopback. A sender is
 * held mid-attempt by a gate in front of its real token read or its real mailer.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createSmtpMailer, type Mailer } from '../../src/mail/mailer.ts';
import { createOutboxSender } from '../../src/mail/outbox-sender.ts';
import type { ReadRecipientToken } from '../../src/mail/recipient-token.ts';
import { createMdmUser, createOrg, type TestOrg } from '../helpers/factories.ts';
import { createTestSmtpServer, type TestSmtpServer } from '../helpers/smtp.ts';
import { buildTestApp, call, type TestContext } from '../helpers/test-app.ts';
import { createToken, tokensPath } from '../helpers/tokens.ts';

let ctx: TestContext;
let smtp: TestSmtpServer;
let a: TestOrg;
let mailer: Mailer;

before(async () => {
  smtp = await createTestSmtpServer();
  await smtp.start();
  mailer = createSmtpMailer(smtp.url, 'Openroll <no-reply@example.test>');
  ctx = await buildTestApp({ mailMaxAttempts: 3, mailRetryBaseMs: 1000 }, { mailer });
  a = await createOrg(ctx);
});
after(async () => {
  mailer.close();
  await smtp.stop();
  await ctx.close();
});

/** A gate: `wait()` blocks until `open()`; `entered` resolves once something waits at it. */
function gate() {
  let open!: () => void;
  let entered!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  const reached = new Promise<void>((resolve) => (entered = resolve));
  return {
    entered: reached,
    open: () => open(),
    wait: async () => {
      entered();
      await opened;
    },
  };
}

/** A second sender over the same database, like another server process's. */
function otherSender(options: { read?: ReadRecipientToken; mailer?: Mailer } = {}) {
  return createOutboxSender({
    database: ctx.db.database,
    clock: ctx.clock,
    mailer: options.mailer ?? mailer,
    log: { warn: () => {}, error: () => {} },
    tokens: { read: options.read ?? ctx.container.tokens.forRecipient, prepareDelivery: ctx.container.tokenLifecycle.prepareDelivery },
    maxAttempts: ctx.config.mailMaxAttempts,
    retryBaseMs: ctx.config.mailRetryBaseMs,
    leaseMs: ctx.config.outboxLeaseMs,
    concurrency: 5,
  });
}

async function queuedEmail(email: string) {
  const user = await createMdmUser(ctx, a.org, { email });
  const res = await createToken(ctx, a.adminKey, a.org.id, 'windows', { mdmUserId: user.id, sendEmail: true });
  assert.equal(res.status, 200);
  return `${tokensPath(a.org.id, 'windows')}/${res.body.data.id}`;
}

const to = (address: string) => smtp.received.filter((m) => m.to && !Array.isArray(m.to) && m.to.text === address);
const trail = async (url: string) => (await call(ctx.app, a.adminKey, { method: 'GET', url: `${url}/events` })).body.data.items.map((e: { type: string }) => e.type);

describe('leases of the outbox', () => {
  test('a sender whose lease ran out before the send does not send: the sender holding it now does, once', async () => {
    const url = await queuedEmail('lost-before@example.com');
    const held = gate();
    const slow = otherSender({ read: async (key) => (await held.wait(), ctx.container.tokens.forRecipient(key)) });
    const first = slow.runOnce();
    await held.entered; // claimed, and stuck before its send
    ctx.clock.advance(ctx.config.outboxLeaseMs);
    const taken = await ctx.container.outbox.runOnce();
    assert.deepEqual([taken.claimed, taken.sent], [1, 1], 'the lease ran out: another sender takes and sends it');
    held.open();
    const late = await first;
    assert.deepEqual([late.claimed, late.sent, late.lost], [1, 0, 1], 'the first sender finds it is no longer its own');
    assert.equal(to('lost-before@example.com').length, 1, 'sent once');
    assert.deepEqual(await trail(url), ['created', 'email.queued', 'email.sent']);
    const email = (await call(ctx.app, a.adminKey, { method: 'GET', url })).body.data.summary.email;
    assert.deepEqual([email.status, email.attempts], ['sent', 2]);
  });

  test('a live sender renews its lease: nobody else takes the row, however long the send', async () => {
    const url = await queuedEmail('renewed@example.com');
    const held = gate();
    const slow = otherSender({ read: async (key) => (await held.wait(), ctx.container.tokens.forRecipient(key)) });
    const first = slow.runOnce();
    await held.entered;
    for (let i = 0; i < 5; i++) {
      ctx.clock.advance(ctx.config.outboxLeaseMs / 2);
      await slow.heartbeat();
      assert.equal((await ctx.container.outbox.runOnce()).claimed, 0, `renewed: still held after ${(i + 1) / 2} leases`);
    }
    held.open();
    const done = await first;
    assert.deepEqual([done.sent, done.lost], [1, 0]);
    assert.equal(to('renewed@example.com').length, 1);
    assert.deepEqual(await trail(url), ['created', 'email.queued', 'email.sent']);
  });

  test('a lease lost during the send: the settlement is refused, the trail keeps one email.sent, both copies carry one Message-ID', async () => {
    const url = await queuedEmail('lost-during@example.com');
    const held = gate();
    const slow = otherSender({ mailer: { ...mailer, send: async (m) => (await held.wait(), mailer.send(m)) } });
    const first = slow.runOnce();
    await held.entered; // checked it still held the row, then stuck in the send
    ctx.clock.advance(ctx.config.outboxLeaseMs);
    assert.equal((await ctx.container.outbox.runOnce()).sent, 1);
    held.open();
    const late = await first;
    assert.deepEqual([late.sent, late.lost], [0, 1], 'its mark is fenced off by the other claim');
    const copies = to('lost-during@example.com');
    assert.equal(copies.length, 2, 'the one exception the README states');
    assert.equal(copies[0]!.messageId, copies[1]!.messageId, 'receivers can drop the second by its Message-ID');
    assert.deepEqual(await trail(url), ['created', 'email.queued', 'email.sent']);
  });

  test('a claim takes no more than the sender sends at once', async () => {
    const org = await createOrg(ctx);
    const emails = Array.from({ length: 12 }, (_, i) => `batch${i}@example.com`);
    await call(ctx.app, org.adminKey, { method: 'POST', url: `${tokensPath(org.org.id, 'windows')}/bulk`, payload: { sendEmail: true, userEmails: emails } });
    const sender = otherSender();
    assert.deepEqual((await sender.runOnce()).claimed, 5);
    for (let i = 0; i < 5 && (await sender.runOnce()).claimed > 0; i++);
    assert.equal(emails.filter((e) => to(e).length === 1).length, 12);
  });
});

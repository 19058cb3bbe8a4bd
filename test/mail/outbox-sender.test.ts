import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createContainer } from '../../src/container.ts';
import { createSmtpMailer } from '../../src/mail/mailer.ts';
import { createMdmUser, createOrg, type TestOrg } from '../helpers/factories.ts';
import { createTestSmtpServer, type TestSmtpServer } from '../helpers/smtp.ts';
import { buildTestApp, call, type TestContext } from '../helpers/test-app.ts';
import { createToken, tokensPath } from '../helpers/tokens.ts';

let ctx: TestContext;
let smtp: TestSmtpServer;
let a: TestOrg;

before(async () => {
  smtp = await createTestSmtpServer();
  ctx = await buildTestApp(
    { mailMaxAttempts: 3, mailRetryBaseMs: 1000 },
    { mailer: createSmtpMailer((await Promise.resolve(smtp)).url, 'Openroll <no-reply@example.test>') },
  );
  a = await createOrg(ctx);
});
after(async () => {
  await smtp.stop();
  await ctx.close();
});

/** Runs the sender until nothing is due at the current (manual) time. */
async function drain(sender = ctx.container.outbox): Promise<void> {
  for (let i = 0; i < 1000; i++) if ((await sender.runOnce()).claimed === 0) return;
}

const get = (url: string) => call(ctx.app, a.adminKey, { method: 'GET', url });

describe('email delivery through SMTP', () => {
  test('the right recipient, language, link, code and escaped custom text; the token shows it sent', async () => {
    await smtp.start();
    const user = await createMdmUser(ctx, a.org, { email: 'ana@example.com' });
    const hostile = '<script>alert(1)</script> & "quotes"';
    const res = await createToken(ctx, a.adminKey, a.org.id, 'apple', { mdmUserId: user.id, sendEmail: true, language: 'es', emailText: hostile, displayName: 'iPhone de Ana' });
    assert.equal(res.status, 200);
    assert.equal(res.body.data.summary.email.status, 'pending');
    await drain();
    const mail = smtp.received.find((m) => m.to && !Array.isArray(m.to) && m.to.text === 'ana@example.com');
    assert.ok(mail, 'delivered');
    assert.ok(mail.subject?.includes('Test organization'));
    const token = res.body.data;
    assert.ok(mail.text?.includes(token.enrollmentLink));
    assert.ok(mail.text?.includes(token.enrollCode));
    assert.ok(mail.text?.includes(hostile), 'plain text keeps the custom text verbatim');
    assert.ok(typeof mail.html === 'string' && mail.html.includes('&lt;script&gt;'));
    assert.equal(String(mail.html).includes('<script>'), false, 'never interpreted');
    assert.match(String(mail.html), /lang="es/);
    const after = (await get(`${tokensPath(a.org.id, 'apple')}/${token.id}`)).body.data;
    assert.equal(after.summary.email.status, 'sent');
    assert.equal(after.summary.email.attempts, 1);
    assert.equal(mail.messageId?.endsWith('@openroll>'), true);
    const events = (await get(`${tokensPath(a.org.id, 'apple')}/${token.id}/events`)).body.data.items.map((e: { type: string }) => e.type);
    assert.deepEqual(events, ['created', 'email.queued', 'email.sent']);
  });

  test('a bulk of 1,000 emails delivers 1,000 messages, none twice', async () => {
    const org = await createOrg(ctx);
    const emails = Array.from({ length: 1000 }, (_, i) => `bulk${i}@example.com`);
    const before = smtp.received.length;
    const res = await call(ctx.app, org.adminKey, { method: 'POST', url: `${tokensPath(org.org.id, 'windows')}/bulk`, payload: { sendEmail: true, userEmails: emails } });
    assert.equal(res.body.data.success, 1000);
    await drain();
    const got = smtp.received.slice(before).map((m) => (m.to && !Array.isArray(m.to) ? m.to.text : ''));
    assert.equal(got.length, 1000);
    assert.equal(new Set(got).size, 1000);
    assert.deepEqual([...got].sort(), [...emails].sort());
  });

  test('with the SMTP server down: creates succeed, messages retry with backoff, and all arrive after it returns, across a restart', async () => {
    await smtp.stop();
    const user = await createMdmUser(ctx, a.org, { email: 'later@example.com' });
    const res = await createToken(ctx, a.adminKey, a.org.id, 'windows', { mdmUserId: user.id, sendEmail: true });
    assert.equal(res.status, 200, 'a create never waits for mail');
    const url = `${tokensPath(a.org.id, 'windows')}/${res.body.data.id}`;
    await drain();
    let email = (await get(url)).body.data.summary.email;
    assert.equal(email.status, 'pending');
    assert.equal(email.attempts, 1);
    assert.ok(email.lastError);
    await drain();
    assert.equal((await get(url)).body.data.summary.email.attempts, 1, 'not retried before its backoff');
    ctx.clock.advance(1000);
    await drain();
    assert.equal((await get(url)).body.data.summary.email.attempts, 2, 'retried after 1 s');

    // "Restart": a new container over the same database, with nothing in memory carried over.
    const restarted = createContainer({ config: ctx.config, database: ctx.db.database, clock: ctx.clock, mailer: createSmtpMailer(smtp.url, 'x@example.test') });
    await smtp.start();
    ctx.clock.advance(2000);
    const before = smtp.received.length;
    await drain(restarted.outbox);
    assert.equal(smtp.received.length - before, 1);
    email = (await get(url)).body.data.summary.email;
    assert.equal(email.status, 'sent');
    assert.equal(email.attempts, 3);
    assert.equal(email.lastError, null);
  });

  test('attempts are capped: the message is marked failed and the trail says so', async () => {
    await smtp.stop();
    const user = await createMdmUser(ctx, a.org);
    const res = await createToken(ctx, a.adminKey, a.org.id, 'windows', { mdmUserId: user.id, sendEmail: true });
    const url = `${tokensPath(a.org.id, 'windows')}/${res.body.data.id}`;
    for (let i = 0; i < 5; i++) {
      await drain();
      ctx.clock.advance(10_000);
    }
    const email = (await get(url)).body.data.summary.email;
    assert.equal(email.status, 'failed');
    assert.equal(email.attempts, 3);
    const events = (await get(`${url}/events`)).body.data.items.map((e: { type: string }) => e.type);
    assert.deepEqual(events, ['created', 'email.queued', 'email.failed']);
    await smtp.start();
  });

  test('a message of a token revoked before delivery is cancelled, not sent', async () => {
    const user = await createMdmUser(ctx, a.org);
    const res = await createToken(ctx, a.adminKey, a.org.id, 'windows', { mdmUserId: user.id, sendEmail: true });
    const url = `${tokensPath(a.org.id, 'windows')}/${res.body.data.id}`;
    await call(ctx.app, a.adminKey, { method: 'DELETE', url });
    const before = smtp.received.length;
    await drain();
    assert.equal(smtp.received.length, before);
    assert.equal((await get(url)).body.data.summary.email.status, 'cancelled');
  });

  test('resend queues a second message that is delivered too', async () => {
    const user = await createMdmUser(ctx, a.org, { email: 'twice@example.com' });
    const res = await createToken(ctx, a.adminKey, a.org.id, 'windows', { mdmUserId: user.id, sendEmail: true, language: 'de' });
    await drain();
    ctx.clock.advance(ctx.config.emailResendCooldownSeconds * 1000); // the resend cooldown
    const resent = await call(ctx.app, a.adminKey, { method: 'POST', url: `${tokensPath(a.org.id, 'windows')}/${res.body.data.id}/send-email` });
    assert.equal(resent.status, 200);
    await drain();
    const toTwice = smtp.received.filter((m) => m.to && !Array.isArray(m.to) && m.to.text === 'twice@example.com');
    assert.equal(toTwice.length, 2);
    assert.notEqual(toTwice[0]!.messageId, toTwice[1]!.messageId, 'each queued message has its own id');
  });
});

import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import type { FastifyBaseLogger } from 'fastify';
import { pino } from 'pino';
import { SMTPServer } from 'smtp-server';
import { buildApp } from '../src/app.ts';
import { createContainer } from '../src/container.ts';
import { loggerOptions } from '../src/logger.ts';
import { createSmtpMailer } from '../src/mail/mailer.ts';
import { createMdmUser, createOrg } from './helpers/factories.ts';
import { freePort } from './helpers/smtp.ts';
import { buildTestApp, call, type TestContext } from './helpers/test-app.ts';
import { createTestDatabase } from './helpers/test-db.ts';
import { tokensPath } from './helpers/tokens.ts';

let ctx: TestContext;
let output = '';
before(async () => {
  ctx = await buildTestApp();
});
after(() => ctx.close());

test('logs never contain keys, link secrets or email bodies', async () => {
  const sink = new Writable({
    write(chunk, _enc, done) {
      output += chunk.toString();
      done();
    },
  });
  const log = pino(loggerOptions({ logLevel: 'trace' }), sink) as FastifyBaseLogger;
  const container = createContainer({ config: ctx.config, database: ctx.db.database, clock: ctx.clock, log });
  const app = await buildApp({ container, logger: log });
  try {
    const a = await createOrg(ctx);
    const user = await createMdmUser(ctx, a.org);
    const secretText = 'custom-text-that-must-not-be-logged';
    const created = await call(app, a.adminKey, {
      method: 'POST',
      url: tokensPath(a.org.id, 'windows'),
      payload: { mdmUserId: user.id, sendEmail: true, emailText: secretText },
    });
    assert.equal(created.status, 200);
    const link = new URL(created.body.data.enrollmentLink);
    const linkSecret = link.pathname.split('/').pop()!;
    await app.inject({ method: 'GET', url: link.pathname });
    await call(app, 'ork_wrong-key-00000000000000000000000000000000', { method: 'GET', url: tokensPath(a.org.id, 'windows') });
    await container.outbox.runOnce();

    assert.ok(output.includes('incoming request'), 'requests are logged');
    assert.ok(output.includes('/enroll/[redacted]'), 'the enrollment path is logged masked');
    for (const leak of [a.adminKey, a.adminKey.slice(4), linkSecret, secretText, 'ork_wrong-key']) {
      assert.equal(output.includes(leak), false, `log contains ${leak.slice(0, 12)}…`);
    }
  } finally {
    await app.close();
  }
});

describe('query values and personal data never reach the log', () => {
  let lines = '';
  const sink = new Writable({
    write(chunk, _enc, done) {
      lines += chunk.toString();
      done();
    },
  });
  const email = 'jane.doe.private@example.com';

  test('query strings, emails in paths, an SMTP refusal quoting the address, a failed query with its parameters', async () => {
    const smtp = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      // As Postfix answers: the refusal quotes the address.
      onRcptTo: (address, _session, callback) => callback(Object.assign(new Error(`<${address.address}>: Recipient address rejected: User unknown`), { responseCode: 550 })),
    });
    const port = await freePort();
    await new Promise<void>((resolve) => smtp.listen(port, '127.0.0.1', resolve));
    const db = await createTestDatabase();
    const log = pino(loggerOptions({ logLevel: 'trace' }), sink) as FastifyBaseLogger;
    const config = { ...ctx.config, rateLimitPerMinute: 0 };
    const mailer = createSmtpMailer(`smtp://127.0.0.1:${port}`, 'Openroll <no-reply@example.test>');
    const container = createContainer({ config, database: db.database, clock: ctx.clock, log, mailer });
    const app = await buildApp({ container, logger: log });
    try {
      const { organization, adminKey } = await container.organizations.create({ slug: 'log-test', name: 'Log test' });
      const org = `/v1/organizations/${organization.id}`;
      const user = await call(app, adminKey, { method: 'POST', url: `${org}/mdm/users`, payload: { email, name: 'Jane Doe' } });
      assert.equal(user.status, 200);

      assert.equal((await call(app, adminKey, { method: 'GET', url: `${org}/mdm/users?email=${encodeURIComponent(email)}&search=Jane%20Doe` })).status, 200);
      await call(app, adminKey, { method: 'GET', url: `${org}/mdm/users?email=${email}&limit=5` });
      await call(app, adminKey, { method: 'GET', url: `${org}/mdm/users/${email}` });
      await call(app, adminKey, { method: 'GET', url: `${org}/mdm/users/${encodeURIComponent(email)}?${email}` });

      const token = await call(app, adminKey, { method: 'POST', url: tokensPath(organization.id, 'windows'), payload: { mdmUserId: user.body.data.id, sendEmail: true } });
      assert.equal(token.status, 200);
      const report = await container.outbox.runOnce();
      assert.equal(report.retried, 1, 'the SMTP server refused the recipient');

      // The database goes away under a request that writes the address (the key is still cached).
      await db.database.close();
      const failed = await call(app, adminKey, { method: 'POST', url: `${org}/mdm/users`, payload: { email: `other.${email}`, name: 'Jane Doe' } });
      // PGlite reports itself closed (503); a node-postgres pool after end() is just an error (500).
      assert.ok([500, 503].includes(failed.status), String(failed.status));
    } finally {
      await app.close();
      await new Promise<void>((resolve) => smtp.close(() => resolve()));
      // The database was closed above: only the PostgreSQL one is left to drop.
      await db.drop().catch(() => {});
    }

    assert.ok(lines.includes('"url":"/v1/organizations/'), 'request URLs are logged');
    assert.ok(lines.includes('email=[redacted]&search=[redacted]'), 'the names of query parameters are kept');
    assert.ok(lines.includes('email delivery failed'), 'the SMTP refusal is logged');
    assert.ok(lines.includes('Failed query: '), 'the failed query is logged');
    assert.ok(lines.includes('params: [redacted]'), 'without its parameters');
    for (const leak of [email, encodeURIComponent(email), 'jane.doe.private', 'Jane%20Doe']) {
      assert.equal(lines.includes(leak), false, `the log contains ${leak}`);
    }
  });
});

import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, test } from 'node:test';
import type { FastifyBaseLogger } from 'fastify';
import { pino } from 'pino';
import { buildApp } from '../src/app.ts';
import { createContainer } from '../src/container.ts';
import { loggerOptions } from '../src/logger.ts';
import { createMdmUser, createOrg } from './helpers/factories.ts';
import { buildTestApp, call, type TestContext } from './helpers/test-app.ts';
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

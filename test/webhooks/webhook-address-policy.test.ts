/**
 * The address policy at delivery time, with WEBHOOK_ALLOW_PRIVATE_NETWORKS off. Names resolve
 * through a table this test controls, so a name can be made to point inside after its endpoint
 * was created (DNS rebinding). The only server that could be reached is the loopback receiver
 * this test starts, and it must see no connection at all: the refusal comes before connecting.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { webhookEndpoints } from '../../src/db/schema.ts';
import { newId } from '../../src/lib/ids.ts';
import { specialUseRange } from '../../src/webhooks/address-policy.ts';
import { createMdmUser, createOrg, type TestOrg } from '../helpers/factories.ts';
import { createTableResolver } from '../helpers/resolver.ts';
import { buildTestApp, call, type TestContext } from '../helpers/test-app.ts';
import { createToken } from '../helpers/tokens.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.ts';

const GLOBAL = '93.184.215.14';
const resolver = createTableResolver({ 'rebind.example.com': [GLOBAL] });
let ctx: TestContext;
let receiver: WebhookReceiver;
let a: TestOrg;

before(async () => {
  receiver = await startWebhookReceiver();
  ctx = await buildTestApp({ webhookAllowPrivateNetworks: false, webhookRetryBaseMs: 1000 }, { resolveHost: resolver });
  a = await createOrg(ctx);
});
after(async () => {
  await receiver.stop();
  await ctx.close();
});

async function drain(): Promise<void> {
  for (let i = 0; i < 100; i++) if ((await ctx.container.webhookSender.runOnce()).claimed === 0) return;
}

async function lastDelivery(hookId: string) {
  const res = await call(ctx.app, a.adminKey, { method: 'GET', url: `/v1/organizations/${a.org.id}/webhooks/${hookId}/deliveries` });
  return res.body.data.items[0];
}

describe('address policy', () => {
  test('only global unicast addresses are allowed; each refusal names its registry block (special-purpose-addresses.test.ts has every row)', () => {
    for (const address of ['93.184.215.14', '8.8.8.8', '2606:4700:4700::1111', '::ffff:93.184.215.14']) assert.equal(specialUseRange(address), null, address);
    const refused: Array<[string, string]> = [
      ['127.0.0.1', '127.0.0.0/8'], ['10.1.2.3', '10.0.0.0/8'], ['172.31.255.255', '172.16.0.0/12'], ['192.168.0.1', '192.168.0.0/16'], ['169.254.169.254', '169.254.0.0/16'],
      ['100.100.100.200', '100.64.0.0/10'], ['0.0.0.0', '0.0.0.0/32'], ['255.255.255.255', '255.255.255.255/32'], ['239.1.1.1', '224.0.0.0/4'],
      ['198.51.100.7', '198.51.100.0/24'], ['::1', '::1/128'], ['fe80::1', 'fe80::/10'], ['fc00::1', 'fc00::/7'], ['::ffff:127.0.0.1', '127.0.0.0/8'],
      ['::ffff:169.254.169.254', '169.254.0.0/16'], ['64:ff9b::a00:1', '10.0.0.0/8'], ['2001:db8::1', '2001:db8::/32'], ['ff02::1', 'ff00::/8'],
    ];
    for (const [address, block] of refused) assert.match(specialUseRange(address) ?? '', new RegExp(`in ${block.replace(/[.]/g, '\\.')} `), address);
  });
});

describe('refused at delivery time, before any connection', () => {
  let rebindRefusedWithoutConnecting = false;
  let hookId = '';

  test('a name that resolved to a global address at creation and to loopback at delivery', async () => {
    const res = await call(ctx.app, a.adminKey, { method: 'POST', url: `/v1/organizations/${a.org.id}/webhooks`, payload: { url: `http://rebind.example.com:${receiver.port}/hook` } });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    hookId = res.body.data.id;
    // Rebound before the sender ever runs: nothing is ever sent to the global address.
    resolver.table['rebind.example.com'] = ['127.0.0.1'];
    const user = await createMdmUser(ctx, a.org);
    await createToken(ctx, a.adminKey, a.org.id, 'windows', { mdmUserId: user.id, sendEmail: false });
    const lookupsBefore = resolver.lookups.filter((h) => h === 'rebind.example.com').length;
    await drain();
    const d = await lastDelivery(hookId);
    assert.equal(d.status, 'pending');
    assert.equal(d.responseStatus, null);
    assert.equal(d.lastError, 'rebind.example.com resolves to 127.0.0.1, which is in 127.0.0.0/8 (Loopback, RFC 1122, section 3.2.1.3): not globally reachable');
    assert.ok(resolver.lookups.filter((h) => h === 'rebind.example.com').length > lookupsBefore, 'resolved again at delivery');
    assert.equal(receiver.connections, 0, 'no connection was made');
    rebindRefusedWithoutConnecting = true;
  });

  test('the same name rebound to a private address', async (t) => {
    // Only where the loopback case proved that a refusal makes no connection.
    if (!rebindRefusedWithoutConnecting) return t.skip('the loopback case failed');
    resolver.table['rebind.example.com'] = ['10.0.0.1'];
    ctx.clock.advance(1000);
    await drain();
    const d = await lastDelivery(hookId);
    assert.equal(d.attempts, 2);
    assert.equal(d.lastError, 'rebind.example.com resolves to 10.0.0.1, which is in 10.0.0.0/8 (Private-Use, RFC 1918): not globally reachable');
  });

  test('a literal loopback URL stored while private networks were allowed is refused once they are not', async () => {
    const now = ctx.clock.now();
    const id = newId();
    await ctx.db.database.db.insert(webhookEndpoints).values({
      organizationId: a.org.id, id, url: `http://127.0.0.1:${receiver.port}/literal`, description: '', events: ['enrollmentToken.created'], enabled: true, secret: `whsec_${Buffer.alloc(32, 7).toString('base64')}`, createdAt: now, updatedAt: now,
    });
    const user = await createMdmUser(ctx, a.org);
    await createToken(ctx, a.adminKey, a.org.id, 'apple', { mdmUserId: user.id, sendEmail: false });
    await drain();
    const d = await lastDelivery(id);
    assert.equal(d.lastError, '127.0.0.1 is in 127.0.0.0/8 (Loopback, RFC 1122, section 3.2.1.3): not globally reachable');
    assert.equal(receiver.connections, 0, 'no connection was made');
  });
});

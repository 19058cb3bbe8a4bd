/**
 * Every row of the special-purpose table (src/webhooks/special-purpose-addresses.ts, from IANA's
 * IPv4 and IPv6 Special-Purpose Address Registries) is refused, tested row by row: the first and
 * last address inside, and the addresses just outside each boundary. Then the embedded-IPv4
 * forms, the two IPv4-compatible literals that used to pass (issue 21, item 2), through the
 * webhook API (create and update: 400 3000 on body.url) and at delivery time (names resolved by
 * the test resolver). No traffic goes to any of these addresses: refusals come before a socket,
 * and the one delivery that runs does so only once the policy was seen refusing its address.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { checkedAddresses, AddressRefusedError } from '../../src/webhooks/address-policy.ts';
import { EMBEDDED_IPV4_FORMS, refusalOf, SPECIAL_PURPOSE_IPV4, SPECIAL_PURPOSE_IPV6, type SpecialPurposeBlock } from '../../src/webhooks/special-purpose-addresses.ts';
import { errorPaths } from '../helpers/assertions.ts';
import { createMdmUser, createOrg, type TestOrg } from '../helpers/factories.ts';
import { createTableResolver } from '../helpers/resolver.ts';
import { buildTestApp, call, type TestContext } from '../helpers/test-app.ts';
import { createToken } from '../helpers/tokens.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.ts';

// Arithmetic of our own on addresses, so the expectations do not come from the code under test.
type Family = 4 | 6;
const BITS = { 4: 32, 6: 128 } as const;
function toBig(address: string): { family: Family; n: bigint } {
  if (!address.includes(':')) return { family: 4, n: address.split('.').reduce((n, part) => (n << 8n) + BigInt(part), 0n) };
  const hex = new URL(`http://[${address}]/`).hostname.slice(1, -1);
  const [head, tail] = hex.includes('::') ? hex.split('::') : [hex, undefined];
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = tail === undefined ? left : [...left, ...Array(8 - left.length - right.length).fill('0'), ...right];
  return { family: 6, n: groups.reduce((n: bigint, g: string) => (n << 16n) + BigInt(`0x${g}`), 0n) };
}
function fromBig(family: Family, n: bigint): string {
  if (family === 4) return [24n, 16n, 8n, 0n].map((s) => String((n >> s) & 255n)).join('.');
  return Array.from({ length: 8 }, (_, i) => ((n >> BigInt(112 - 16 * i)) & 0xffffn).toString(16)).join(':');
}
function rangeOf(block: string): { family: Family; first: bigint; last: bigint } {
  const [address, length] = block.split('/') as [string, string];
  const { family, n } = toBig(address);
  const size = 1n << BigInt(BITS[family] - Number(length));
  return { family, first: n, last: n + size - 1n };
}
const contains = (block: string, address: string) => {
  const r = rangeOf(block);
  const a = toBig(address);
  return r.family === a.family && a.n >= r.first && a.n <= r.last;
};

const ROWS: SpecialPurposeBlock[] = [...SPECIAL_PURPOSE_IPV4, ...SPECIAL_PURPOSE_IPV6];
/** In a refusing row, or in a block judged by the IPv4 address inside: no plain "allowed" expected there. */
const special = (address: string) => ROWS.some((row) => contains(row.block, address)) || EMBEDDED_IPV4_FORMS.some((form) => contains(form.block, address));

interface Sample {
  row: SpecialPurposeBlock;
  inside: string[];
  outside: string[];
}
const SAMPLES: Sample[] = ROWS.map((row) => {
  const { family, first, last } = rangeOf(row.block);
  const max = (1n << BigInt(BITS[family])) - 1n;
  return {
    row,
    inside: [...new Set([fromBig(family, first), fromBig(family, last)])],
    outside: [...(first > 0n ? [fromBig(family, first - 1n)] : []), ...(last < max ? [fromBig(family, last + 1n)] : [])],
  };
});

describe('the table, row by row', () => {
  test('it holds the registries’ rows that are not globally reachable (22 IPv4 rows, 16 IPv6 rows)', () => {
    assert.equal(SPECIAL_PURPOSE_IPV4.length, 22);
    assert.equal(SPECIAL_PURPOSE_IPV6.length, 16);
    for (const row of ROWS) assert.match(row.rfc, /^RFC \d+/, row.block);
  });

  for (const { row, inside, outside } of SAMPLES) {
    test(`${row.block} (${row.name}, ${row.rfc})`, () => {
      for (const address of inside) assert.notEqual(refusalOf(address), null, `${address} inside ${row.block}`);
      for (const address of outside) {
        const refusal = refusalOf(address);
        assert.ok(refusal === null || !refusal.includes(`in ${row.block} `), `${address} is outside ${row.block}: ${refusal}`);
        if (!special(address)) assert.equal(refusal, null, `${address}, just outside ${row.block}, is global`);
      }
    });
  }

  test('global addresses pass, in both families', () => {
    for (const address of ['93.184.215.14', '8.8.8.8', '1.1.1.1', '2606:4700:4700::1111', '2001:4860:4860::8888', '2a00:1450:4001:82f::200e']) assert.equal(refusalOf(address), null, address);
  });
});

describe('IPv6 forms carrying an IPv4 address are judged by the IPv4 table', () => {
  // Each form with 127.0.0.1 inside, then with 8.8.8.8 inside, written as RFC 4291, 6052, 3056 and 4380 lay them out.
  const forms: Array<{ form: string; loopback: string; global: string; globalAllowed: boolean }> = [
    { form: '::ffff:0:0/96', loopback: '::ffff:7f00:1', global: '::ffff:808:808', globalAllowed: true },
    { form: '::/96', loopback: '::7f00:1', global: '::808:808', globalAllowed: false }, // deprecated: refused whole
    { form: '64:ff9b::/96', loopback: '64:ff9b::7f00:1', global: '64:ff9b::808:808', globalAllowed: true },
    { form: '64:ff9b:1::/48', loopback: '64:ff9b:1:7f00:0:100::', global: '64:ff9b:1:808:8:800::', globalAllowed: false }, // not globally reachable itself
    { form: '2002::/16', loopback: '2002:7f00:1::1', global: '2002:808:808::1', globalAllowed: true },
    { form: '2001::/32', loopback: '2001:0:7f00:1::ffff:fffe', global: '2001:0:808:808::f7f7:f7f7', globalAllowed: false }, // inside 2001::/23
  ];

  test('every form of the table is covered here', () => {
    assert.deepEqual(forms.map((f) => f.form), EMBEDDED_IPV4_FORMS.map((f) => f.block));
  });

  for (const { form, loopback, global, globalAllowed } of forms) {
    test(`${form}: loopback inside is refused for it; a global IPv4 inside is ${globalAllowed ? 'allowed' : 'refused by the form’s own row'}`, () => {
      assert.match(refusalOf(loopback) ?? '', /^carries 127\.0\.0\.1 .*, in 127\.0\.0\.0\/8 \(Loopback/, loopback);
      if (globalAllowed) assert.equal(refusalOf(global), null, global);
      else assert.match(refusalOf(global) ?? '', /^is in (::\/96|64:ff9b:1::\/48|2001::\/23) /, global);
    });
  }

  test('Teredo: the client address is the inverted last 32 bits (RFC 4380 section 4)', () => {
    // RFC 4380's example: server 65.54.227.120, client 192.0.2.45 (documentation): refused for the client.
    assert.match(refusalOf('2001:0:4136:e378:8000:63bf:3fff:fdd2') ?? '', /^carries 192\.0\.2\.45 \(Teredo/);
  });
});

describe('through the webhook API and at delivery time', () => {
  const LITERALS = ['http://[::7f00:1]/', 'http://[::127.0.0.1]/'];
  const resolver = createTableResolver({ 'hooks.example.com': ['93.184.215.14'] });
  let ctx: TestContext;
  let a: TestOrg;
  let receiver: WebhookReceiver;
  const base = () => `/v1/organizations/${a.org.id}/webhooks`;
  const literalOf = (address: string) => (address.includes(':') ? `[${address}]` : address);

  before(async () => {
    receiver = await startWebhookReceiver();
    ctx = await buildTestApp({ webhookAllowPrivateNetworks: false, webhookRetryBaseMs: 1000 }, { resolveHost: resolver });
    a = await createOrg(ctx);
  });
  after(async () => {
    await receiver.stop();
    await ctx.close();
  });

  test('create: the two IPv4-compatible literals that passed, and one address inside every row, are 400 3000 on body.url', async () => {
    const urls = [...LITERALS, ...SAMPLES.map((s) => `http://${literalOf(s.inside[0]!)}/hook`)];
    for (const url of urls) {
      const res = await call(ctx.app, a.adminKey, { method: 'POST', url: base(), payload: { url } });
      assert.equal(res.status, 400, url);
      assert.equal(res.body.error.code, 3000, url);
      assert.deepEqual(errorPaths(res), ['body.url'], url);
      assert.match(res.body.error.data.errors[0].message, /is refused: .* not globally reachable/, url);
    }
    const list = await call(ctx.app, a.adminKey, { method: 'GET', url: base() });
    assert.equal(list.body.data.totalDocs, 0, 'none was stored');
  });

  test('update: the same URLs are refused, and the endpoint keeps its URL', async () => {
    const created = await call(ctx.app, a.adminKey, { method: 'POST', url: base(), payload: { url: 'https://hooks.example.com/hook' } });
    assert.equal(created.status, 200, JSON.stringify(created.body));
    const id = created.body.data.id;
    for (const url of [...LITERALS, 'http://[64:ff9b::a9fe:a9fe]/latest/meta-data', 'http://[2002:a9fe:a9fe::]/']) {
      const res = await call(ctx.app, a.adminKey, { method: 'PUT', url: `${base()}/${id}`, payload: { url } });
      assert.equal(res.status, 400, url);
      assert.equal(res.body.error.code, 3000, url);
      assert.deepEqual(errorPaths(res), ['body.url'], url);
    }
    assert.equal((await call(ctx.app, a.adminKey, { method: 'GET', url: `${base()}/${id}` })).body.data.url, 'https://hooks.example.com/hook');
    await call(ctx.app, a.adminKey, { method: 'DELETE', url: `${base()}/${id}` });
  });

  test('delivery-time resolution: a name answering with an address inside any row is refused, before any socket', async () => {
    for (const { row, inside } of SAMPLES) {
      for (const address of inside) {
        resolver.table['rebound.example.com'] = ['93.184.215.14', address];
        await assert.rejects(checkedAddresses('rebound.example.com', { resolve: resolver, allowPrivate: false }), AddressRefusedError, `${address} (${row.block})`);
      }
    }
  });

  test('a delivery to a name rebound to ::7f00:1 or ::127.0.0.1 is refused and connects nowhere', async () => {
    for (const address of ['::7f00:1', '::127.0.0.1']) {
      resolver.table['rebound.example.com'] = [address];
      // Only once the policy was seen refusing it does the sender run: a failure here must not become traffic.
      await assert.rejects(checkedAddresses('rebound.example.com', { resolve: resolver, allowPrivate: false }), AddressRefusedError);
    }
    resolver.table['rebound.example.com'] = ['93.184.215.14'];
    const created = await call(ctx.app, a.adminKey, { method: 'POST', url: base(), payload: { url: `http://rebound.example.com:${receiver.port}/hook` } });
    assert.equal(created.status, 200, JSON.stringify(created.body));
    const id = created.body.data.id;
    resolver.table['rebound.example.com'] = ['::7f00:1'];
    const user = await createMdmUser(ctx, a.org);
    await createToken(ctx, a.adminKey, a.org.id, 'windows', { mdmUserId: user.id, sendEmail: false });
    const drain = async () => {
      for (let i = 0; i < 100; i++) if ((await ctx.container.webhookSender.runOnce()).claimed === 0) return;
    };
    const last = async () => (await call(ctx.app, a.adminKey, { method: 'GET', url: `${base()}/${id}/deliveries` })).body.data.items[0];
    await drain();
    assert.match((await last()).lastError, /^rebound\.example\.com resolves to ::7f00:1, which carries 127\.0\.0\.1 \(IPv4-compatible, ::\/96\)/);
    resolver.table['rebound.example.com'] = ['::127.0.0.1'];
    ctx.clock.advance(1000);
    await drain();
    const second = await last();
    assert.equal(second.attempts, 2);
    assert.equal(second.responseStatus, null);
    assert.match(second.lastError, /resolves to ::127\.0\.0\.1, which carries 127\.0\.0\.1/);
    assert.equal(receiver.connections, 0, 'no connection was made');
  });
});

/**
 * Tenant isolation, generated from the route table: every route that requires a permission is
 * called with organization A's key against organization B (by id, by slug, by upper-case id),
 * and inside A's own path with the ids of B's entities and with bodies that reference them.
 * Each of those must answer 404 3001 and change nothing in the database (B's rows included).
 * A's own lists, filtered by B's ids or emails, must answer with no items.
 * A positive control per route (A's key, A's own entity, the same body) must succeed without
 * touching B, so a route that always answers 404 cannot pass. A route added later is covered
 * automatically, or fails here until it is given a body or an entity kind.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { ID_PATTERN } from '../src/lib/ids.ts';
import { createApiKeysRepo } from '../src/modules/api-keys/api-keys.repo.ts';
import { mintApiKey } from '../src/auth/api-key-credentials.ts';
import type { Platform } from '../src/platforms/platforms.ts';
import { createValidatorCompiler } from '../src/plugins/validation.ts';
import { changedTables, createDbProbe } from './helpers/db-probe.ts';
import { createMdmUser, createOrg, createPolicy, createSegment, createVppLocation, unique, type TestOrg } from './helpers/factories.ts';
import { buildRoutedApp, fillPath, type AppRoute } from './helpers/route-table.ts';
import { buildTestApp, call, type Json } from './helpers/test-app.ts';
import { tokensPath } from './helpers/tokens.ts';
import { createAppleDevice } from './helpers/apple-factories.ts';
import { makePushCertificate } from './protocols/apple/apple-device.ts';

/** One push certificate for every PUT of the matrix: making an RSA key per case is slow. */
const pushCertificate = await makePushCertificate();

const KINDS = ['winToken', 'admToken', 'mdmUser', 'winPolicy', 'admPolicy', 'vppLocation', 'segment', 'apiKey', 'admDevice', 'winDevice', 'webhook', 'webhookDelivery'] as const;
import { insertWindowsDevice } from './helpers/windows-device.ts';
type Kind = (typeof KINDS)[number];
type EntityId = string | number;

interface Tenant extends TestOrg {
  ids: Record<Kind, EntityId>;
  userEmail: string;
}

const ORG = '/v1/organizations/:organizationId';

/** What the `:id` of each collection names; a new `:id` route fails until it is listed here. */
const KIND_OF_COLLECTION: Record<string, Kind> = {
  [`${ORG}/api-keys`]: 'apiKey',
  [`${ORG}/mdm/users`]: 'mdmUser',
  [`${ORG}/mdm/windows/enterprise/policies`]: 'winPolicy',
  [`${ORG}/mdm/apple/enterprise/policies`]: 'admPolicy',
  [`${ORG}/mdm/apple/enterprise/vpp/locations`]: 'vppLocation',
  [`${ORG}/segments`]: 'segment',
  [`${ORG}/mdm/windows/enterprise/enrollment-tokens`]: 'winToken',
  [`${ORG}/mdm/apple/enterprise/enrollment-tokens`]: 'admToken',
  [`${ORG}/mdm/apple/devices`]: 'admDevice',
  [`${ORG}/webhooks`]: 'webhook',
  [`${ORG}/mdm/windows/devices`]: 'winDevice',
};

/** What a second path parameter names: a delivery of the endpoint in `:id`. */
const KIND_OF_SECOND_PARAM: Record<string, Kind> = { deliveryId: 'webhookDelivery' };

type BodyOf = (own: Tenant, other: Tenant) => Record<string, unknown>;
const tokens = (p: Platform) => `${ORG}/mdm/${p}/enterprise/enrollment-tokens`;

/**
 * A valid body for every route that takes one, keyed by `METHOD url`. The MDM-user bodies use
 * the other tenant's email: an email taken in B must not be "already taken" in A.
 */
const BODIES: Record<string, BodyOf> = {
  [`POST ${ORG}/api-keys`]: () => ({ name: unique('matrix'), role: 'viewer' }),
  [`POST ${ORG}/mdm/users`]: (_own, other) => ({ email: other.userEmail, name: 'Matrix' }),
  [`PUT ${ORG}/mdm/users/:id`]: () => ({ name: 'Renamed' }),
  [`POST ${ORG}/mdm/windows/enterprise/policies`]: () => ({ name: unique('policy') }),
  [`PUT ${ORG}/mdm/windows/enterprise/policies/:id`]: () => ({ name: unique('policy') }),
  [`POST ${ORG}/mdm/apple/enterprise/policies`]: () => ({ name: unique('policy') }),
  [`PUT ${ORG}/mdm/apple/enterprise/policies/:id`]: () => ({ name: unique('policy') }),
  [`POST ${ORG}/mdm/apple/enterprise/vpp/locations`]: () => ({ name: 'VPP', config: { countryISO2ACode: 'US', defaultPlatform: 'ios' } }),
  [`PUT ${ORG}/mdm/apple/enterprise/vpp/locations/:id`]: () => ({ name: 'VPP renamed' }),
  [`POST ${ORG}/segments`]: () => ({ name: unique('segment') }),
  [`PUT ${ORG}/segments/:id`]: () => ({ name: unique('segment') }),
  [`POST ${tokens('windows')}`]: (own) => ({ mdmUserId: own.ids.mdmUser, sendEmail: false }),
  [`POST ${tokens('windows')}/bulk`]: (_own, other) => ({ userEmails: [other.userEmail], sendEmail: false }),
  [`PUT ${tokens('windows')}/:id`]: () => ({ displayName: 'Matrix' }),
  [`POST ${tokens('apple')}`]: (own) => ({ mdmUserId: own.ids.mdmUser, sendEmail: false }),
  [`POST ${tokens('apple')}/bulk`]: (_own, other) => ({ userEmails: [other.userEmail], sendEmail: false }),
  [`PUT ${tokens('apple')}/:id`]: () => ({ displayName: 'Matrix' }),
  [`PUT ${ORG}/mdm/apple/enterprise/push-certificate`]: () => ({ certificate: pushCertificate.certificate, privateKey: pushCertificate.privateKey }),
  // Loopback's discard port: the matrix never runs the sender, and could only reach itself.
  [`POST ${ORG}/webhooks`]: () => ({ url: 'http://127.0.0.1:9/matrix' }),
  [`PUT ${ORG}/webhooks/:id`]: () => ({ description: 'Matrix' }),
};

type RefsOf = (own: Tenant, foreign: Tenant) => Array<[string, Record<string, unknown>]>;

/** Bodies sent inside A's own path that name B's entities: each is 404 3001 and changes nothing. */
function tokenRefs(platform: Platform, withUser: boolean): RefsOf {
  return (own, foreign) => {
    const base = { ...(withUser ? { mdmUserId: own.ids.mdmUser } : { userEmails: [`${unique('ref')}@example.com`] }), sendEmail: false };
    const policyKey = platform === 'windows' ? 'winPolicyId' : 'policyId';
    const assignmentsKey = platform === 'windows' ? 'winPolicyAssignments' : 'admPolicyAssignments';
    const assignmentIdKey = platform === 'windows' ? 'winPolicyId' : 'admPolicyId';
    const refs: Array<[string, Record<string, unknown>]> = [
      [`B's windows policy as ${policyKey}`, { ...base, [policyKey]: foreign.ids.winPolicy }],
      [`B's apple policy as ${policyKey}`, { ...base, [policyKey]: foreign.ids.admPolicy }],
      [`B's policy in ${assignmentsKey}`, { ...base, [assignmentsKey]: [{ [assignmentIdKey]: foreign.ids[platform === 'windows' ? 'winPolicy' : 'admPolicy'], priority: 1 }] }],
      [`B's segment`, { ...base, segmentId: foreign.ids.segment }],
    ];
    if (withUser) refs.push([`B's MDM user`, { ...base, mdmUserId: foreign.ids.mdmUser }]);
    if (platform === 'apple') refs.push([`B's VPP location`, { ...base, admVppLocationId: foreign.ids.vppLocation }]);
    return refs;
  };
}

function tokenUpdateRefs(platform: Platform): RefsOf {
  return (own, foreign) =>
    tokenRefs(platform, true)(own, foreign)
      .filter(([label]) => label !== `B's MDM user`)
      .map(([label, { mdmUserId: _u, sendEmail: _s, ...body }]) => [label, body]);
}

const FOREIGN_REFS: Record<string, RefsOf> = {
  [`POST ${tokens('windows')}`]: tokenRefs('windows', true),
  [`POST ${tokens('windows')}/bulk`]: tokenRefs('windows', false),
  [`PUT ${tokens('windows')}/:id`]: tokenUpdateRefs('windows'),
  [`POST ${tokens('apple')}`]: tokenRefs('apple', true),
  [`POST ${tokens('apple')}/bulk`]: tokenRefs('apple', false),
  [`PUT ${tokens('apple')}/:id`]: tokenUpdateRefs('apple'),
  [`POST ${ORG}/segments`]: (_own, foreign) => [[`B's segment as parentId`, { name: unique('segment'), parentId: foreign.ids.segment }]],
  [`PUT ${ORG}/segments/:id`]: (_own, foreign) => [[`B's segment as parentId`, { parentId: foreign.ids.segment }]],
};

// One key sends every request here: the per-key rate limit (tested on its own) stays off.
const ctx = await buildTestApp({ rateLimitPerMinute: 0, webhookAllowPrivateNetworks: true });
const routed = await buildRoutedApp(ctx);
const probe = await createDbProbe(ctx.container.database);
after(async () => {
  await routed.app.close();
  await ctx.close();
});

async function newApiKeyId(org: TestOrg['org']): Promise<string> {
  const { row } = mintApiKey(org.id, { name: unique('key'), role: 'viewer' }, ctx.clock.now(), ctx.container.credentialCheck);
  await createApiKeysRepo(ctx.container.database.db).insert(row);
  return row.id;
}

async function newToken(t: TestOrg, platform: Platform, body: Record<string, unknown>): Promise<string> {
  const res = await call(routed.app, t.adminKey, { method: 'POST', url: tokensPath(t.org.id, platform), payload: { sendEmail: false, ...body } });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.data.id;
}

/** A webhook endpoint of the tenant, and the delivery queued for it by one token's creation. */
async function newWebhook(t: TestOrg, mdmUserId: string): Promise<{ webhook: string; delivery: string }> {
  const res = await call(routed.app, t.adminKey, { method: 'POST', url: `/v1/organizations/${t.org.id}/webhooks`, payload: { url: 'http://127.0.0.1:9/matrix' } });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  await newToken(t, 'windows', { mdmUserId });
  const log = await call(routed.app, t.adminKey, { method: 'GET', url: `/v1/organizations/${t.org.id}/webhooks/${res.body.data.id}/deliveries` });
  return { webhook: res.body.data.id, delivery: log.body.data.items[0].id };
}

/** One entity of every kind; B's tokens reference B's policies, segment and VPP location. */
async function seedTenant(t: TestOrg): Promise<Tenant> {
  const user = await createMdmUser(ctx, t.org);
  const hook = await newWebhook(t, user.id);
  const winPolicy = await createPolicy(ctx, t.org, 'windows');
  const admPolicy = await createPolicy(ctx, t.org, 'apple');
  const vpp = await createVppLocation(ctx, t.org);
  const segment = await createSegment(ctx, t.org);
  const ids: Record<Kind, EntityId> = {
    mdmUser: user.id,
    winPolicy: winPolicy.id,
    admPolicy: admPolicy.id,
    vppLocation: vpp.id,
    segment: segment.id,
    apiKey: await newApiKeyId(t.org),
    winToken: await newToken(t, 'windows', { mdmUserId: user.id, winPolicyId: winPolicy.id, segmentId: segment.id, tags: ['b'] }),
    admToken: await newToken(t, 'apple', { mdmUserId: user.id, policyId: admPolicy.id, admVppLocationId: vpp.id, segmentId: segment.id }),
    admDevice: '',
    webhook: hook.webhook,
    webhookDelivery: hook.delivery,
    winDevice: (await insertWindowsDevice(ctx, t.org)).id,
  };
  ids.admDevice = (await createAppleDevice(ctx, t.org, String(ids.admToken))).id;
  // Each device has a command queued, so the queue routes have something of B's to leak.
  const commands = ctx.container.deviceCommands;
  await commands.enqueue(ctx.container.database.db, t.org.id, { id: String(ids.winDevice), platform: 'windows' }, [{ type: 'Get', target: './DevDetail/SwV' }]);
  await commands.enqueue(ctx.container.database.db, t.org.id, { id: String(ids.admDevice), platform: 'apple' }, [{ type: 'ProfileList', target: null }]);
  return { ...t, ids, userEmail: user.email };
}

/** A new entity of A for a positive control, so controls never depend on one another. */
async function freshEntity(t: Tenant, kind: Kind): Promise<EntityId> {
  switch (kind) {
    case 'winToken':
      return newToken(t, 'windows', { mdmUserId: t.ids.mdmUser });
    case 'admToken':
      return newToken(t, 'apple', { mdmUserId: t.ids.mdmUser });
    case 'mdmUser':
      return (await createMdmUser(ctx, t.org)).id;
    case 'winPolicy':
      return (await createPolicy(ctx, t.org, 'windows')).id;
    case 'admPolicy':
      return (await createPolicy(ctx, t.org, 'apple')).id;
    case 'vppLocation':
      return (await createVppLocation(ctx, t.org)).id;
    case 'segment':
      return (await createSegment(ctx, t.org)).id;
    case 'apiKey':
      return newApiKeyId(t.org);
    case 'admDevice':
      return (await createAppleDevice(ctx, t.org)).id;
    case 'webhook':
      return (await newWebhook(t, String(t.ids.mdmUser))).webhook;
    case 'webhookDelivery':
      return (await newWebhook(t, String(t.ids.mdmUser))).delivery;
    case 'winDevice':
      return (await insertWindowsDevice(ctx, t.org)).id;
  }
}

/** The second path parameters of a route (`:deliveryId`), each with the tenant's entity. */
function secondParams(route: AppRoute, t: Tenant): Record<string, EntityId> {
  return Object.fromEntries(Object.entries(KIND_OF_SECOND_PARAM).filter(([name]) => route.url.includes(`/:${name}`)).map(([name, k]) => [name, t.ids[k]]));
}

const a = await seedTenant(await createOrg(ctx));
const b = await seedTenant(await createOrg(ctx));

const validator = createValidatorCompiler();
/** Whether the route's own params schema admits the value: B's ids are tried where they could name something. */
function paramsAccept(route: AppRoute, params: Record<string, string>): boolean {
  const schema = route.schema?.params;
  if (!schema) return true;
  const validate = validator({ schema, method: route.method, url: route.url, httpPart: 'params' }) as (data: unknown) => boolean;
  return validate({ ...params });
}

function kindOf(route: AppRoute): Kind | undefined {
  const at = route.url.indexOf('/:id');
  return at < 0 ? undefined : KIND_OF_COLLECTION[route.url.slice(0, at)];
}

interface Case {
  label: string;
  url: string;
  body?: Record<string, unknown>;
}

let cases = 0;
const covered = new Set<string>();
let snapshot = await probe.snapshot();

async function send(route: AppRoute, url: string, body: Record<string, unknown> | undefined): Promise<Json> {
  const payload = body !== undefined && route.schema?.body !== undefined ? { payload: body } : {};
  return call(routed.app, a.adminKey, { method: route.method as 'GET', url, ...payload });
}

/** A's key reaches for B: 404 3001 and not one row of the database changes. */
async function expectIsolated(route: AppRoute, c: Case): Promise<void> {
  const res = await send(route, c.url, c.body);
  const now = await probe.snapshot();
  const changed = changedTables(snapshot, now);
  snapshot = now; // one failing case must not fail the cases after it
  const where = `${route.key} — ${c.label} (${c.url})`;
  assert.equal(res.status, 404, `${where}: HTTP status, body ${JSON.stringify(res.body)}`);
  if (route.method !== 'HEAD') {
    assert.equal(res.body.status, false, where);
    assert.equal(res.body.error.code, 3001, `${where}: error code`);
    assert.equal(typeof res.body.error.requestId, 'string', where);
  }
  assert.deepEqual(changed, [], `${where}: the database changed`);
  cases++;
}

/** A's list filtered by one of B's ids or emails: 200 with no items, and nothing changes. */
async function expectFilteredOut(route: AppRoute, c: Case): Promise<void> {
  const res = await send(route, c.url, undefined);
  const now = await probe.snapshot();
  const changed = changedTables(snapshot, now);
  snapshot = now;
  const where = `${route.key} — ${c.label}`;
  assert.equal(res.status, 200, `${where}: ${JSON.stringify(res.body)}`);
  assert.deepEqual(res.body.data.items, [], `${where}: lists B's data`);
  assert.equal(res.body.data.totalDocs, 0, where);
  assert.deepEqual(changed, [], `${where}: the database changed`);
  cases++;
}

/** The same route used properly by A succeeds and leaves B exactly as it was. */
async function expectControl(route: AppRoute, c: Case): Promise<void> {
  const before = await probe.snapshot(b.org.id);
  const res = await send(route, c.url, c.body);
  const changed = changedTables(before, await probe.snapshot(b.org.id));
  snapshot = await probe.snapshot();
  const where = `${route.key} — control (${c.url})`;
  assert.ok(res.status >= 200 && res.status < 300, `${where}: HTTP ${res.status} ${JSON.stringify(res.body)}`);
  assert.deepEqual(changed, [], `${where}: B's data changed`);
  cases++;
}

function hexVariants(id: EntityId): EntityId[] {
  return typeof id === 'string' && id.toUpperCase() !== id ? [id, id.toUpperCase()] : [id];
}

describe('isolation matrix', () => {
  assert.ok(routed.authenticated.length > 0, 'no authenticated route was collected');

  for (const route of routed.authenticated) {
    test(route.key, async () => {
      const hasId = route.url.includes('/:id');
      const kind = kindOf(route);
      if (hasId) assert.ok(kind, `${route.key}: add its collection to KIND_OF_COLLECTION`);
      const bodyOf = route.schema?.body !== undefined ? BODIES[route.key] : undefined;
      if (route.schema?.body !== undefined) assert.ok(bodyOf, `${route.key}: add a valid body to BODIES`);
      const body = () => bodyOf?.(a, b);
      const ownSecond = secondParams(route, a);
      const asText = (params: Record<string, EntityId>) => Object.fromEntries(Object.entries(params).map(([k, v]) => [k, String(v)]));

      // A's key against organization B, by id, by slug and by upper-case id.
      for (const [label, orgRef] of [
        ['B by id', b.org.id],
        ['B by slug', b.org.slug],
        ['B by upper-case id', b.org.id.toUpperCase()],
      ] as const) {
        const params = { organizationId: orgRef, ...(kind ? { id: b.ids[kind] } : {}), ...secondParams(route, b) };
        await expectIsolated(route, { label, url: fillPath(route.url, params), body: body() });
      }

      // Inside A's own path, the id of every entity of B the route's params admit.
      if (hasId) {
        let admitted = 0;
        for (const k of KINDS) {
          for (const id of hexVariants(b.ids[k])) {
            const orgRef = id === b.ids[k] ? a.org.id : a.org.slug;
            if (!paramsAccept(route, { organizationId: orgRef, id: String(id), ...asText(ownSecond) })) continue;
            admitted++;
            await expectIsolated(route, { label: `B's ${k} ${id}`, url: fillPath(route.url, { organizationId: orgRef, id, ...ownSecond }), body: body() });
          }
        }
        assert.ok(admitted > 0, `${route.key}: none of B's ids fits its params; extend KINDS`);
        assert.ok(paramsAccept(route, { organizationId: a.org.id, id: String(b.ids[kind!]), ...asText(ownSecond) }), `${route.key}: B's own ${kind} must be tried`);
      }

      // Under A's own entity, every id of B as the second parameter (`:deliveryId`).
      for (const name of Object.keys(ownSecond)) {
        for (const k of KINDS) {
          const params = { organizationId: a.org.id, id: a.ids[kind!], ...ownSecond, [name]: b.ids[k] };
          if (!paramsAccept(route, asText(params))) continue;
          await expectIsolated(route, { label: `B's ${k} as :${name}`, url: fillPath(route.url, params), body: body() });
        }
      }

      // Inside A's own path (A's own entity), bodies that reference B's entities.
      const method = route.method === 'HEAD' ? 'GET' : route.method;
      const refs = FOREIGN_REFS[`${method} ${route.url}`];
      if (refs && route.method !== 'HEAD') {
        const url = fillPath(route.url, { organizationId: a.org.id, ...(kind ? { id: a.ids[kind] } : {}), ...ownSecond });
        for (const [label, refBody] of refs(a, b)) await expectIsolated(route, { label, url, body: refBody });
      }

      // A's own list, filtered by B's entities: answers, but lists nothing of B's.
      const query = route.method === 'GET' ? (route.schema?.querystring as { properties?: Record<string, { pattern?: string; format?: string }> } | undefined) : undefined;
      for (const [name, prop] of Object.entries(query?.properties ?? {})) {
        const values = prop.pattern === ID_PATTERN ? KINDS.map((k) => b.ids[k]).filter((id) => typeof id === 'string') : prop.format === 'email' ? [b.userEmail] : [];
        for (const value of values) {
          await expectFilteredOut(route, { label: `filter ${name}=${value}`, url: `${fillPath(route.url, { organizationId: a.org.id })}?${name}=${encodeURIComponent(String(value))}` });
        }
      }

      // Positive control: the same call, A on A, succeeds.
      let own: Record<string, EntityId> = kind ? { id: await freshEntity(a, kind) } : {};
      if (Object.keys(ownSecond).length > 0) {
        const hook = await newWebhook(a, String(a.ids.mdmUser));
        own = { id: hook.webhook, deliveryId: hook.delivery };
      }
      await expectControl(route, { label: 'control', url: fillPath(route.url, { organizationId: a.org.id, ...own }), body: body() });
      covered.add(route.key);
    });
  }

  test('every authenticated route is covered, and every table entry names a route', () => {
    const keys = new Set(routed.authenticated.map((r) => r.key));
    assert.deepEqual([...keys].filter((k) => !covered.has(k)), [], 'routes not covered');
    const stale = [...Object.keys(BODIES), ...Object.keys(FOREIGN_REFS)].filter((k) => !keys.has(k));
    assert.deepEqual(stale, [], 'table entries for routes that do not exist');
    const collections = new Set(routed.authenticated.map((r) => r.url));
    assert.deepEqual(Object.keys(KIND_OF_COLLECTION).filter((c) => !collections.has(c)), [], 'collections that do not exist');
    console.log(`isolation matrix: ${covered.size} routes, ${cases} cases`);
  });
});

/**
 * Property-based fuzzing of every authenticated route's path parameters, query and body, driven
 * from the route table and each route's own schema: schema-shaped bodies with one part replaced
 * by something hostile, plus plain garbage. For every request:
 *   - no answer is a 5xx;
 *   - every non-2xx answer is the contract envelope with a (status, code) pair of src/errors.ts;
 *   - a rejected request leaves the row count of every table as it was;
 * and after each route, Object.prototype and Array.prototype are as they were.
 *
 * FUZZ_SEED=<int> reproduces a run (the seed is printed first and last); FUZZ_CASES=<n> changes
 * the total number of requests (default 10,000). fast-check prints the failing request, shrunk.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import fc from 'fast-check';
import type { FastifySchema } from 'fastify';
import { ERRORS } from '../src/errors.ts';
import { ID_PATTERN } from '../src/lib/ids.ts';
import { createApiKeysRepo } from '../src/modules/api-keys/api-keys.repo.ts';
import { mintApiKey } from '../src/auth/api-key-credentials.ts';
import { PERMISSIONS } from '../src/permissions.ts';
import type { Platform } from '../src/platforms/platforms.ts';
import { createDbProbe } from './helpers/db-probe.ts';
import { deepJsonText, encoded, keyArb, MALFORMED, NASTY_CHARS, nastyNumber, nastyString, nastyValue, objectOf, pathsOf, pct, PROTO_KEYS, RAW_JSON, setAt, withNastyChar } from './helpers/hostile-values.ts';
import { createMdmUser, createOrg, createPolicy, createSegment, createVppLocation, unique, type TestOrg } from './helpers/factories.ts';
import { buildRoutedApp, type AppRoute } from './helpers/route-table.ts';
import { buildTestApp } from './helpers/test-app.ts';
import { tokensPath } from './helpers/tokens.ts';
import { createAppleDevice } from './helpers/apple-factories.ts';
import { deviceEndpointCases, DEVICE_ENDPOINTS } from './helpers/device-fuzz.ts';
import { insertWindowsDevice } from './helpers/windows-device.ts';

const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : 20_260_301;
const TOTAL = process.env.FUZZ_CASES ? Number(process.env.FUZZ_CASES) : 10_000;
assert.ok(Number.isSafeInteger(SEED), 'FUZZ_SEED must be an integer');
assert.ok(Number.isSafeInteger(TOTAL) && TOTAL > 0, 'FUZZ_CASES must be a positive integer');

// One key sends every request here: the per-key rate limit (tested on its own) stays off.
// Webhook endpoints may be loopback ones: no sender runs here, and hosts resolve from a table.
// Management sessions are taken on their DeviceID (MDM_ALLOW_UNVERIFIED_SESSIONS, the trial
// setting): this suite is about what mutated messages do to the session code, which a refused
// certificate would stop before; test/protocols/windows/ tests the certificates.
const ctx = await buildTestApp({ rateLimitPerMinute: 0, webhookAllowPrivateNetworks: true, mdmAllowUnverifiedSessions: true });
const routed = await buildRoutedApp(ctx);
const probe = await createDbProbe(ctx.container.database);
after(async () => {
  await routed.app.close();
  await ctx.close();
});

// ---------------------------------------------------------------------------------------------
// Fixtures: the fuzzing tenant A (whose key is never in the id pool, so it cannot revoke itself)
// and a tenant B, with two entities of every kind each, so schema-shaped ids name real rows.

async function apiKeyId(org: TestOrg['org']): Promise<string> {
  const { row } = mintApiKey(org.id, { name: unique('key'), role: 'viewer' }, ctx.clock.now(), ctx.container.credentialCheck);
  await createApiKeysRepo(ctx.container.database.db).insert(row);
  return row.id;
}

async function token(t: TestOrg, platform: Platform, mdmUserId: string): Promise<string> {
  const res = await routed.app.inject({ method: 'POST', url: tokensPath(t.org.id, platform), headers: { authorization: `Bearer ${t.adminKey}` }, payload: { mdmUserId, sendEmail: true } });
  assert.equal(res.statusCode, 200, res.body);
  return res.json().data.id;
}

type Kind = 'mdmUser' | 'winPolicy' | 'admPolicy' | 'vppLocation' | 'apiKey' | 'winToken' | 'admToken' | 'segment' | 'admDevice' | 'winDevice' | 'webhook' | 'webhookDelivery';
type Pool = Record<Kind, Array<string | number>>;

async function seed(t: TestOrg): Promise<Pool> {
  const pool: Pool = { mdmUser: [], winPolicy: [], admPolicy: [], vppLocation: [], apiKey: [], winToken: [], admToken: [], segment: [], admDevice: [], winDevice: [], webhook: [], webhookDelivery: [] };
  for (let i = 0; i < 2; i++) {
    const hook = await routed.app.inject({ method: 'POST', url: `/v1/organizations/${t.org.id}/webhooks`, headers: { authorization: `Bearer ${t.adminKey}` }, payload: { url: 'http://127.0.0.1:9/fuzz' } });
    assert.equal(hook.statusCode, 200, hook.body);
    pool.webhook.push(hook.json().data.id);
    const user = await createMdmUser(ctx, t.org);
    pool.mdmUser.push(user.id);
    pool.winPolicy.push((await createPolicy(ctx, t.org, 'windows')).id);
    pool.admPolicy.push((await createPolicy(ctx, t.org, 'apple')).id);
    pool.vppLocation.push((await createVppLocation(ctx, t.org)).id);
    pool.segment.push((await createSegment(ctx, t.org)).id);
    pool.apiKey.push(await apiKeyId(t.org));
    pool.winToken.push(await token(t, 'windows', user.id));
    pool.admToken.push(await token(t, 'apple', user.id));
    pool.admDevice.push((await createAppleDevice(ctx, t.org)).id);
    const log = await routed.app.inject({ method: 'GET', url: `/v1/organizations/${t.org.id}/webhooks/${pool.webhook[i]}/deliveries`, headers: { authorization: `Bearer ${t.adminKey}` } });
    pool.webhookDelivery.push(log.json().data.items[0].id);
    pool.winDevice.push((await insertWindowsDevice(ctx, t.org)).id);
  }
  return pool;
}

const a = await createOrg(ctx);
const b = await createOrg(ctx);
/** A's entities that bodies reference; DELETE routes only ever get the disposable ones. */
const poolA = await seed(a);
const disposableA = await seed(a);
const poolB = await seed(b);
const HEX_IDS = (Object.keys(poolA) as Kind[]).filter((k) => k !== 'segment').flatMap((k) => [...poolA[k], ...disposableA[k], ...poolB[k]]) as string[];

/** Which entity a body field or a collection's `:id` names, so schema-shaped ids are often A's own. */
const KIND_OF_FIELD: Record<string, Kind> = {
  mdmUserId: 'mdmUser', 'mdm-user': 'mdmUser', winPolicyId: 'winPolicy', 'win-policy': 'winPolicy', policyId: 'admPolicy', admPolicyId: 'admPolicy', 'adm-policy': 'admPolicy',
  admVppLocationId: 'vppLocation', segmentId: 'segment', parentId: 'segment',
};
function kindOfRoute(url: string): Kind | undefined {
  const collection = url.slice(0, url.indexOf('/:id'));
  const last = collection.split('/').slice(-3).join('/');
  if (last.endsWith('api-keys')) return 'apiKey';
  if (last.endsWith('mdm/users')) return 'mdmUser';
  if (last.endsWith('windows/enterprise/policies')) return 'winPolicy';
  if (last.endsWith('apple/enterprise/policies')) return 'admPolicy';
  if (last.endsWith('vpp/locations')) return 'vppLocation';
  if (last.endsWith('segments')) return 'segment';
  if (last.endsWith('webhooks')) return 'webhook';
  if (last.endsWith('windows/devices')) return 'winDevice';
  if (collection.endsWith('windows/enterprise/enrollment-tokens')) return 'winToken';
  if (collection.endsWith('apple/enterprise/enrollment-tokens')) return 'admToken';
  if (collection.endsWith('mdm/apple/devices')) return 'admDevice';
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Schema-shaped values: what a well-meaning client would send, so mutations reach the handlers.

type JsonSchema = {
  type?: string;
  anyOf?: JsonSchema[];
  const?: unknown;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean;
  items?: JsonSchema;
  minItems?: number;
  maxItems?: number;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  pattern?: string;
  format?: string;
};

const SORT_FIELDS = ['createdAt', 'updatedAt', 'expireAt', 'displayName', 'state', 'type', 'subType', 'mdmUser.email', 'email', 'name', 'id', 'organizationId', 'linkSecret'];

const hexId = fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...HEX_IDS) }, { weight: 1, arbitrary: fc.stringMatching(/^[0-9a-f]{24}$/) });
/** Ids of any kind and tenant; for a DELETE, never one of A's referenced entities. */
function idOf(kind: Kind | undefined, disposable = false): fc.Arbitrary<string | number> {
  const others = disposable ? [disposableA, poolB] : [poolA, disposableA, poolB];
  const anyId =
    kind === 'segment'
      ? fc.oneof(fc.constantFrom(...others.flatMap((p) => p.segment)), fc.nat(50).map((n) => n + 1_000_000))
      : fc.oneof(fc.constantFrom(...others.flatMap((p) => (Object.keys(p) as Kind[]).filter((k) => k !== 'segment').flatMap((k) => p[k]))), fc.stringMatching(/^[0-9a-f]{24}$/));
  if (!kind) return anyId;
  return fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...(disposable ? disposableA : poolA)[kind]) }, { weight: 1, arbitrary: anyId });
}
/** A's own entity of the kind, and nothing else: for bodies meant to be accepted. */
const ownIdOf = (kind: Kind | undefined) => (kind ? fc.constantFrom(...poolA[kind]) : hexId);

/** Arrays of objects keyed by a reference (policy assignments) name each entity once. */
const firstValue = (v: unknown) => JSON.stringify(v && typeof v === 'object' && !Array.isArray(v) ? Object.values(v)[0] : v);
const iso = fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true }).map((d) => d.toISOString());

/**
 * A value of the schema. Ids name A's own entities (a body meant to be accepted), so that the
 * one hostile change made to it is what the server sees; `loose` ids may be anyone's or no one's.
 */
function fromSchema(s: JsonSchema, key = '', loose = false): fc.Arbitrary<unknown> {
  if (s.anyOf) return fc.oneof(...s.anyOf.map((x) => fromSchema(x, key, loose)));
  if (s.const !== undefined) return fc.constant(s.const);
  switch (s.type) {
    case 'object': {
      const props = s.properties ?? {};
      if (Object.keys(props).length === 0) return fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 });
      const record = Object.fromEntries(Object.entries(props).map(([k, v]) => [k, fromSchema(v, k, loose)]));
      return fc.record(record, { requiredKeys: s.required ?? [] });
    }
    case 'array':
      return fc.uniqueArray(fromSchema(s.items ?? {}, key, loose), { selector: firstValue, minLength: Math.min(s.minItems ?? 0, 2), maxLength: Math.min(s.maxItems ?? 2, 2) });
    case 'string': {
      if (s.pattern === ID_PATTERN) return loose ? idOf(KIND_OF_FIELD[key]) : ownIdOf(KIND_OF_FIELD[key]);
      if (key === 'permissions') return fc.constantFrom(...PERMISSIONS, 'mdm.*', '*', 'mdm.windows.*');
      if (key === 'url') return fc.oneof(fc.constantFrom('http://127.0.0.1:9/fuzz', 'https://localhost/x', 'http://[::1]:9/', 'https://unresolvable.example/'), fc.webUrl());
      if (s.format === 'email') return fc.oneof(fc.emailAddress(), fc.uuid().map((u) => `fuzz-${u}@example.com`));
      if (s.format === 'date-time') return iso;
      if (key === 'sort' || key === 'sortBy') return fc.tuple(fc.constantFrom(...SORT_FIELDS), fc.constantFrom('', ':asc', ':desc')).map(([f, d]) => f + d);
      if (s.pattern) return fc.stringMatching(new RegExp(s.pattern)).filter((x) => x.length <= (s.maxLength ?? 64));
      return fc.string({ minLength: s.minLength ?? 0, maxLength: Math.min(s.maxLength ?? 20, 20) });
    }
    case 'integer':
      if (key === 'segmentId' || key === 'parentId') return loose ? idOf('segment') : ownIdOf('segment');
      return fc.integer({ min: s.minimum ?? -1000, max: Math.min(s.maximum ?? 100_000, 100_000) });
    case 'number':
      return fc.double({ noNaN: true, noDefaultInfinity: true });
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

const isContainer = (s: JsonSchema): boolean => s.type === 'object' || s.type === 'array' || (s.anyOf ?? []).some(isContainer);

/** A schema-shaped value, sometimes as is and mostly with one hostile change. */
function mutated(schema: JsonSchema): fc.Arbitrary<unknown> {
  const valid = fromSchema(schema);
  return fc.oneof(
    { weight: 2, arbitrary: valid },
    { weight: 2, arbitrary: fromSchema(schema, '', true) },
    { weight: 3, arbitrary: fc.tuple(valid, fc.nat(), fc.constantFrom(...NASTY_CHARS), fc.nat()).map(([v, i, ch, at]) => withNastyChar(v, i, ch, at)) },
    { weight: 5, arbitrary: fc.tuple(valid, fc.nat(), nastyValue).map(([v, i, n]) => { const paths = pathsOf(v); return setAt(v, paths[i % paths.length]!, n); }) },
    {
      weight: 2,
      arbitrary: fc.tuple(valid, keyArb, nastyValue).map(([v, k, n]) => (v && typeof v === 'object' && !Array.isArray(v) ? objectOf([...Object.entries(v), [k, n]]) : v)),
    },
    { weight: 1, arbitrary: valid.map((v) => [v]) },
    {
      weight: 1,
      arbitrary: fc.tuple(valid, fc.nat()).map(([v, i]) => {
        if (!v || typeof v !== 'object' || Array.isArray(v)) return v;
        const keys = Object.keys(v);
        return keys.length ? objectOf(Object.entries(v).filter(([k]) => k !== keys[i % keys.length])) : v;
      }),
    },
  );
}

// ---------------------------------------------------------------------------------------------
// Requests.

const text = (arb: fc.Arbitrary<unknown>) => arb.map((v) => (typeof v === 'string' ? v : JSON.stringify(v) ?? 'null'));

function orgParam(): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 10, arbitrary: fc.constant(a.org.id) },
    { weight: 2, arbitrary: fc.constantFrom(a.org.slug, a.org.id.toUpperCase(), `${a.org.slug}/`) },
    { weight: 1, arbitrary: fc.constantFrom(b.org.id, b.org.slug) },
    { weight: 2, arbitrary: nastyString },
  ).map((s) => (s.endsWith('/') ? `${pct(s.slice(0, -1))}/` : pct(s)));
}

function validId(route: AppRoute): fc.Arbitrary<string> {
  return text(idOf(kindOfRoute(route.url), route.method === 'DELETE')).map(pct);
}

function idParam(route: AppRoute): fc.Arbitrary<string> {
  const valid = text(idOf(kindOfRoute(route.url), route.method === 'DELETE'));
  return encoded(fc.oneof({ weight: 2, arbitrary: valid }, { weight: 4, arbitrary: nastyString }, { weight: 2, arbitrary: nastyNumber.map(String) }));
}

/** Only parameters the schema knows, each with a schema-shaped value. */
function validQuery(schema: JsonSchema | undefined): fc.Arbitrary<string> {
  const props = schema?.properties ?? {};
  if (Object.keys(props).length === 0) return fc.constant('');
  const record = fc.record(Object.fromEntries(Object.entries(props).map(([k, v]) => [k, text(fromSchema(v, k))])), { requiredKeys: [] });
  return record.map((q) => Object.entries(q).map(([k, v]) => `${pct(k)}=${pct(v as string)}`).join('&'));
}

function queryString(schema: JsonSchema | undefined): fc.Arbitrary<string> {
  const props = schema?.properties ?? {};
  const names = Object.keys(props);
  const knownKey = names.length ? fc.constantFrom(...names) : fc.constant('page');
  const pair = fc.oneof(
    {
      weight: 6,
      arbitrary: knownKey.chain((k) => {
        const valid = text(fromSchema(props[k] ?? {}, k, true));
        const withChar = fc.tuple(valid, fc.constantFrom(...NASTY_CHARS), fc.nat()).map(([v, ch, at]) => withNastyChar(v, 0, ch, at));
        return fc.tuple(fc.constant(k), fc.oneof({ weight: 3, arbitrary: valid }, { weight: 2, arbitrary: withChar as fc.Arbitrary<string> }, { weight: 3, arbitrary: nastyString }, { weight: 1, arbitrary: nastyNumber.map(String) }));
      }),
    },
    { weight: 1, arbitrary: fc.tuple(fc.constantFrom(...PROTO_KEYS, `${names[0] ?? 'page'}[]`, `${names[0] ?? 'page'}[0]`, 'sort[field]', '__proto__[polluted]', 'constructor[prototype][polluted]'), nastyString) },
    { weight: 1, arbitrary: fc.tuple(nastyString.filter((s) => s.length < 100), nastyString) },
  );
  return fc.oneof(
    { weight: 8, arbitrary: fc.array(pair.map(([k, v]) => `${pct(k)}=${pct(v)}`), { maxLength: 5 }).map((ps) => ps.join('&')) },
    { weight: 1, arbitrary: fc.constantFrom(...MALFORMED, '&&&', '=', 'page', 'page=1&page=2', 'limit=1&limit=500&limit=501', 'a=1;b=2') },
  );
}


interface FuzzRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  payload?: string;
}

function shorten(s: string): string {
  return s.length > 300 ? `${s.slice(0, 300)}…(${s.length} chars)` : s;
}

type Part = 'org' | 'id' | 'query' | 'body' | 'headers';

/**
 * Requests for one route: a well-formed request with one part made hostile (sometimes none,
 * sometimes all), so that most hostile values get past the other checks to the code they test.
 */
function requestArb(route: AppRoute): fc.Arbitrary<FuzzRequest> {
  const schema = (route.schema ?? {}) as FastifySchema & Record<string, JsonSchema | undefined>;
  const bodySchema = schema.body as JsonSchema | undefined;
  const querySchema = schema.querystring as JsonSchema | undefined;
  const hasId = route.url.includes('/:id');
  // A second path parameter (`:deliveryId`): A's deliveries mostly, else anyone's or garbage.
  const hasSecond = route.url.includes('/:deliveryId');
  const validSecond = text(idOf('webhookDelivery')).map(pct);
  const hostileSecond = encoded(fc.oneof({ weight: 2, arbitrary: text(idOf('webhookDelivery')) }, { weight: 3, arbitrary: nastyString }, { weight: 1, arbitrary: nastyNumber.map(String) }));
  const takesBody = route.method !== 'GET' && route.method !== 'HEAD';

  const jsonBody = bodySchema ? fc.oneof({ weight: 8, arbitrary: mutated(bodySchema) }, { weight: 2, arbitrary: nastyValue }) : nastyValue;
  const bodies: Array<fc.WeightedArbitrary<string | undefined>> = [
    { weight: bodySchema ? 12 : 4, arbitrary: jsonBody.map((v) => JSON.stringify(v) ?? 'null') },
    { weight: 1, arbitrary: fc.constantFrom(...RAW_JSON) },
  ];
  if (bodySchema) {
    // A schema-shaped body with a `__proto__` key written into the JSON text itself.
    bodies.push({ weight: 1, arbitrary: fromSchema(bodySchema).map((v) => (JSON.stringify(v) ?? '{}').replace(/^\{/, '{"__proto__":{"polluted":"yes"},')) });
    // A schema-shaped body whose object or array field (free-form jsonb among them) nests deep.
    const containers = Object.entries(bodySchema.properties ?? {}).filter(([, s]) => isContainer(s)).map(([k]) => k);
    if (containers.length > 0) {
      bodies.push({
        weight: 1,
        arbitrary: fc.tuple(fromSchema(bodySchema), fc.constantFrom(...containers), deepJsonText).map(([v, key, deep]) => {
          const json = JSON.stringify(v) ?? '{}';
          return json.startsWith('{') ? `${json.slice(0, -1)}${json === '{}' ? '' : ','}"${key}":${deep}}` : json;
        }),
      });
    }
  }
  const contentType = fc.oneof(
    { weight: 1, arbitrary: fc.constant('application/json') },
    { weight: 2, arbitrary: fc.constantFrom('application/json; charset=utf-8', 'application/json; charset=utf-16', 'text/plain', 'application/x-www-form-urlencoded', 'APPLICATION/JSON', 'application/jsonx', '') },
  );
  const idempotencyKey = fc.oneof(fc.stringMatching(/^[\x21-\x7e]{1,40}$/), fc.constantFrom('', ' ', 'x'.repeat(256), 'x'.repeat(1_000), "' or 1=1 --", '__proto__'));

  const valid: Record<Part, fc.Arbitrary<unknown>> = {
    org: fc.constantFrom(a.org.id, a.org.slug, a.org.id.toUpperCase()).map(pct),
    id: hasId ? fc.tuple(validId(route), hasSecond ? validSecond : fc.constant('')) : fc.constant(['', '']),
    query: validQuery(querySchema),
    body: takesBody && bodySchema ? fromSchema(bodySchema).map((v) => JSON.stringify(v)) : fc.constant(undefined),
    headers: fc.record({ contentType: fc.constant('application/json'), idempotencyKey: fc.stringMatching(/^[\x21-\x7e]{8,40}$/) }, { requiredKeys: ['contentType'] }),
  };
  const hostile: Record<Part, fc.Arbitrary<unknown>> = {
    org: orgParam(),
    id: hasId ? fc.tuple(idParam(route), hasSecond ? fc.oneof(validSecond, hostileSecond) : fc.constant('')) : fc.constant(['', '']),
    query: queryString(querySchema),
    body: takesBody ? fc.oneof(...bodies) : fc.constant(undefined),
    headers: fc.record({ contentType, idempotencyKey }, { requiredKeys: ['contentType'] }),
  };
  const PARTS: Part[] = ['org', 'id', 'query', 'body', 'headers'];
  const request = (bad: readonly Part[]) => fc.record(Object.fromEntries(PARTS.map((p) => [p, (bad.includes(p) ? hostile : valid)[p]])) as Record<Part, fc.Arbitrary<unknown>>);
  const shapes: Array<fc.WeightedArbitrary<Record<Part, unknown>>> = [
    { weight: 1, arbitrary: request([]) },
    { weight: 1, arbitrary: request(['org']) },
    { weight: 2, arbitrary: request(['query']) },
    { weight: 1, arbitrary: request(['headers']) },
    { weight: 1, arbitrary: request(PARTS) },
  ];
  if (hasId) shapes.push({ weight: 3, arbitrary: request(['id']) });
  if (takesBody) shapes.push({ weight: bodySchema ? 8 : 2, arbitrary: request(['body']) });

  return fc.oneof(...shapes).map((parts) => {
    const { org, id: [id, second], query, body: payload } = parts as { org: string; id: [string, string]; query: string; body: string | undefined };
    const h = parts.headers as { contentType: string; idempotencyKey?: string };
    const path = route.url.replace(':organizationId', org).replace(':id', id).replace(':deliveryId', second);
    const req: FuzzRequest = {
      method: route.method,
      url: query ? `${path}?${query}` : path,
      headers: {
        authorization: `Bearer ${a.adminKey}`,
        ...(payload !== undefined && h.contentType ? { 'content-type': h.contentType } : {}),
        ...(h.idempotencyKey !== undefined ? { 'idempotency-key': h.idempotencyKey } : {}),
      },
      ...(payload !== undefined ? { payload } : {}),
    };
    return Object.assign(req, { [fc.toStringMethod]: () => JSON.stringify({ ...req, url: shorten(req.url), payload: req.payload === undefined ? undefined : shorten(req.payload) }) });
  });
}

// ---------------------------------------------------------------------------------------------
// The properties.

const STATUS_OF_CODE = new Map<number, Set<number>>();
for (const e of Object.values(ERRORS)) STATUS_OF_CODE.set(e.code, (STATUS_OF_CODE.get(e.code) ?? new Set()).add(e.status));

function assertEnvelope(req: FuzzRequest, status: number, headers: Record<string, unknown>, raw: string): void {
  let body: { status?: unknown; error?: { code?: unknown; message?: unknown; requestId?: unknown; data?: unknown } };
  try {
    body = JSON.parse(raw);
  } catch {
    assert.fail(`${req.method} ${shorten(req.url)}: HTTP ${status} with a body that is not JSON: ${shorten(raw)}`);
  }
  const where = `${req.method} ${shorten(req.url)} → ${status} ${shorten(raw)}`;
  assert.deepEqual(Object.keys(body).sort(), ['error', 'status'], where);
  assert.equal(body.status, false, where);
  const e = body.error!;
  assert.ok(typeof e === 'object' && e !== null, where);
  assert.deepEqual(Object.keys(e).filter((k) => !['code', 'message', 'requestId', 'data'].includes(k)), [], where);
  assert.equal(typeof e.code, 'number', where);
  assert.ok(STATUS_OF_CODE.get(e.code as number)?.has(status), `${where}: (${status}, ${e.code}) is not a pair of src/errors.ts`);
  assert.equal(typeof e.message, 'string', where);
  assert.equal(typeof e.requestId, 'string', where);
  assert.equal(e.requestId, headers['x-request-id'], `${where}: requestId and x-request-id differ`);
}

const protoNames = () => ({ object: Object.getOwnPropertyNames(Object.prototype).sort(), array: Object.getOwnPropertyNames(Array.prototype).sort() });
const PRISTINE = protoNames();
function assertUnpolluted(where: string): void {
  assert.deepEqual(protoNames(), PRISTINE, `${where}: a prototype gained or lost a property`);
  const probeObject: Record<string, unknown> = {};
  for (const k of ['polluted', 'isAdmin', 'a']) assert.equal(probeObject[k], undefined, `${where}: Object.prototype.${k} is set`);
}

const routes = routed.authenticated;
const perRoute = Math.ceil(TOTAL / routes.length);
let casesRun = 0;
let failedRoutes = 0;
let counts = await probe.counts();
const outcomes = { ok: 0, rejected: 0 };

console.log(`fuzz: seed=${SEED} cases=${perRoute * routes.length} (${routes.length} routes × ${perRoute})`);

describe('fuzz', () => {
  for (const route of routes) {
    test(route.key, async () => {
      failedRoutes++; // until the property holds
      await fc.assert(
        fc.asyncProperty(requestArb(route), async (req) => {
          casesRun++;
          const res = await routed.app.inject({ method: req.method as 'GET', url: req.url, headers: req.headers, ...(req.payload !== undefined ? { payload: req.payload } : {}) });
          const status = res.statusCode;
          assert.ok(status < 500, `${req.method} ${shorten(req.url)} → ${status} ${shorten(res.body)}`);
          const after = await probe.counts();
          if (status >= 200 && status < 300) {
            outcomes.ok++;
            if (route.method !== 'HEAD') assert.equal(res.json().status, true);
          } else {
            outcomes.rejected++;
            if (route.method !== 'HEAD') assertEnvelope(req, status, res.headers, res.body);
            const changed = Object.keys(after).filter((t) => after[t] !== counts[t]);
            assert.deepEqual(changed, [], `${req.method} ${shorten(req.url)} → ${status}: a rejected request changed row counts`);
          }
          counts = after;
        }),
        { seed: SEED, numRuns: perRoute, includeErrorInReport: true },
      );
      assertUnpolluted(route.key);
      failedRoutes--;
    });
  }

  test('totals', () => {
    assertUnpolluted('after fuzzing');
    // A failing property stops early; its own test reports it.
    if (failedRoutes === 0) assert.ok(casesRun >= TOTAL, `ran ${casesRun} cases, fewer than ${TOTAL}`);
    console.log(`fuzz: seed=${SEED} cases=${casesRun} (${outcomes.ok} accepted, ${outcomes.rejected} rejected)`);
  });
});

/** What fuzzing found, pinned so that it stays fixed whatever the seed draws. */
describe('found by fuzzing', () => {
  const org = `/v1/organizations/${a.org.id}`;
  const cases: Array<[string, FuzzRequest, string]> = [
    ['a page whose row offset overflows bigint (was 500)', { method: 'GET', url: `${org}/api-keys?page=368934881474191040`, headers: {} }, 'query.page'],
    ['a path parameter that is not UTF-8 (was Fastify’s own 400 body)', { method: 'DELETE', url: `${org}/api-keys/%ED%A0%80`, headers: {} }, 'params'],
    ['a path parameter over maxParamLength (was Fastify’s own 414 body)', { method: 'GET', url: `${org}/mdm/users/${'x'.repeat(300)}`, headers: {} }, 'params'],
    ['NUL in a text column (was 500)', { method: 'POST', url: `${org}/segments`, headers: { 'content-type': 'application/json' }, payload: '{"name":"a\\u0000b"}' }, 'body.name'],
    [
      'a segment id past the integer column (was 500 on PostgreSQL)',
      { method: 'POST', url: `${org}/mdm/windows/enterprise/enrollment-tokens`, headers: { 'content-type': 'application/json' }, payload: `{"mdmUserId":"${poolA.mdmUser[0]}","sendEmail":false,"segmentId":2147483648}` },
      'body.segmentId',
    ],
    ['NUL in a search filter (was 500)', { method: 'GET', url: `${org}/mdm/users?search=%00`, headers: {} }, 'query.search'],
    ['a lone surrogate in a jsonb key (was 500)', { method: 'POST', url: `${org}/mdm/apple/enterprise/policies`, headers: { 'content-type': 'application/json' }, payload: '{"name":"p","profiles":[{"\\ud800":"x"}]}' }, 'body.profiles.0'],
    [
      'a lone surrogate in a jsonb value (was 500)',
      { method: 'PUT', url: `${org}/mdm/apple/enterprise/vpp/locations/${poolA.vppLocation[0]}`, headers: { 'content-type': 'application/json' }, payload: '{"config":{"locationName":"\\udc00"}}' },
      'body.config.locationName',
    ],
  ];
  for (const [name, req, path] of cases) {
    test(name, async () => {
      const before = await probe.counts();
      const res = await routed.app.inject({ method: req.method as 'GET', url: req.url, headers: { ...req.headers, authorization: `Bearer ${a.adminKey}` }, ...(req.payload ? { payload: req.payload } : {}) });
      assert.equal(res.statusCode, 400, res.body);
      assertEnvelope(req, res.statusCode, res.headers, res.body);
      assert.equal(res.json().error.code, 3000);
      assert.ok(res.json().error.data.errors.some((e: { path: string }) => e.path === path), res.body);
      assert.deepEqual(await probe.counts(), before);
    });
  }
});

/**
 * The device protocol endpoints (no API key: SOAP and SyncML from devices): captured messages
 * mutated (truncated, tags dropped or doubled, hostile text, a DOCTYPE, garbage). Every answer
 * is below 500, is the endpoint's XML (a SOAP fault for a refusal), and a fault changes no row
 * count. The management endpoint is fuzzed as an enrolled device, so mutations reach its session code.
 */
describe('fuzz: device protocol endpoints', () => {
  const perEndpoint = Math.max(50, Math.ceil(TOTAL / 40));
  test('every device endpoint of the app is fuzzed here', () => {
    const deviceRoutes = routed.routes.filter((r) => r.method === 'POST' && /^\/(EnrollmentServer|ManagementServer)\//.test(r.url)).map((r) => r.url).sort();
    assert.deepEqual(deviceRoutes, DEVICE_ENDPOINTS.map((e) => e.route).sort());
  });
  for (const endpoint of DEVICE_ENDPOINTS) {
    test(`POST ${endpoint.route}`, async () => {
      if (endpoint.route.startsWith('/ManagementServer')) await insertWindowsDevice(ctx, a.org, { deviceIdentifier: endpoint.deviceId });
      let before = await probe.counts();
      // Each management case from an address of its own (198.18.0.0/15, for tests): mutated
      // DeviceIDs fail to authenticate, and past the per-address limit nothing would reach the session.
      let n = 0;
      await fc.assert(
        fc.asyncProperty(deviceEndpointCases(endpoint), async (req) => {
          const url = endpoint.route.replace(':organizationId', a.org.id);
          const remoteAddress = endpoint.deviceId ? `198.19.${(++n >> 8) & 255}.${n & 255}` : '127.0.0.1';
          const res = await routed.app.inject({ method: 'POST', url, payload: req.body, headers: req.headers, remoteAddress });
          const where = `POST ${url} ${shorten(req.body)} → ${res.statusCode} ${shorten(res.body)}`;
          assert.ok(res.statusCode < 500, where);
          assert.equal(Number(res.headers['content-length']), Buffer.byteLength(res.body), where);
          const fault = /<s:Fault>/.test(res.body);
          assert.ok(fault || res.statusCode === 200, where);
          assert.match(String(res.headers['content-type']), fault ? /^application\/soap\+xml; charset=utf-8$/ : endpoint.contentType, where);
          const after = await probe.counts();
          if (fault) assert.deepEqual(after, before, `${where}: a refused message changed row counts`);
          before = after;
        }),
        { seed: SEED, numRuns: perEndpoint, includeErrorInReport: true },
      );
      assertUnpolluted(endpoint.route);
    });
  }
});


import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createAppleDevice } from '../helpers/apple-factories.ts';
import { createMdmUser } from '../helpers/factories.ts';
import { runListSuite, type ListResource } from '../helpers/list-suite.ts';
import { buildRoutedApp } from '../helpers/route-table.ts';
import { buildTestApp, call, type TestContext } from '../helpers/test-app.ts';
import { APPLE_TOKEN_KEYS, tokensPath, WINDOWS_TOKEN_KEYS } from '../helpers/tokens.ts';
import { insertWindowsDevice } from '../helpers/windows-device.ts';

/**
 * Every listing route (lib/pagination.ts, lib/listing.ts and the token list's own statements)
 * runs the one list suite of test/helpers/list-suite.ts. The last test fails when a route
 * takes `page` and has no entry here.
 */

let ctx: TestContext;
before(async () => {
  // Webhook endpoints point at localhost; the sender is never started here, so nothing is sent.
  ctx = await buildTestApp({ webhookAllowPrivateNetworks: true });
});
after(() => ctx.close());

const ORG = '/v1/organizations/:organizationId';
type Item = Record<string, unknown>;

/** POSTs `payload` and returns the new item's id, failing loudly when the API refuses. */
async function post(key: string, url: string, payload: object): Promise<string> {
  const res = await call(ctx.app, key, { method: 'POST', url, payload });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return String(res.body.data.id);
}

async function send(key: string, method: 'PUT' | 'DELETE', url: string, payload?: object): Promise<void> {
  const res = await call(ctx.app, key, { method, url, ...(payload ? { payload } : {}) });
  assert.equal(res.status, 200, JSON.stringify(res.body));
}

/** A resource whose items are made, changed and deleted through its own routes. */
function crud(name: string, route: string, options: Omit<ListResource, 'name' | 'route' | 'setup' | 'order' | 'removal'> & { body: (item: { name: string; email: string }) => object; touch: object }): ListResource {
  return {
    name,
    route: `${ORG}${route}`,
    order: 'newest-first',
    removal: 'hidden',
    ...options,
    async setup(_ctx, org) {
      const path = `/v1/organizations/${org.org.id}${route}`;
      return {
        path,
        create: (item) => post(org.adminKey, path, options.body(item)),
        touch: (id) => send(org.adminKey, 'PUT', `${path}/${id}`, options.touch),
        remove: (id) => send(org.adminKey, 'DELETE', `${path}/${id}`),
      };
    },
  };
}

const byName = (item: Item) => String(item.name);
const NAME_SORTS = { fields: { createdAt: 'created', updatedAt: 'updated', name: 'name' } } as const;
const VPP_CONFIG = { countryISO2ACode: 'US', defaultPlatform: 'ios', locationName: 'US Corporate Location' };
const WIN_POLICY_KEYS = ['admxConfigs', 'admxConfigsInfo', 'agentConfiguration', 'applications', 'applicationsInfo', 'assets', 'assetsInfo', 'config', 'createdAt', 'id', 'name', 'organizationId', 'scripts', 'scriptsInfo', 'settings', 'updatedAt', 'version', 'winEnterpriseId'];
const ADM_POLICY_KEYS = ['admEnterprise', 'applications', 'config', 'createdAt', 'id', 'name', 'organization', 'profiles', 'updatedAt', 'version'];

function tokens(platform: 'windows' | 'apple'): ListResource {
  return {
    name: `${platform} enrollment tokens`,
    route: `${ORG}/mdm/${platform}/enterprise/enrollment-tokens`,
    order: 'newest-first',
    removal: 'show-deleted',
    keys: platform === 'windows' ? WINDOWS_TOKEN_KEYS : APPLE_TOKEN_KEYS,
    nameOf: (item) => String(item.displayName),
    sort: {
      fields: { createdAt: 'created', updatedAt: 'updated', expireAt: 'created', displayName: 'name', 'mdmUser.email': 'email', state: 'same', type: 'same', subType: 'same' },
      unknownField: 'enrollCode',
    },
    async setup(testCtx, org) {
      const path = tokensPath(org.org.id, platform);
      return {
        path,
        async create(item) {
          const user = await createMdmUser(testCtx, org.org, { email: item.email });
          return post(org.adminKey, path, { mdmUserId: user.id, sendEmail: false, displayName: item.name });
        },
        touch: (id) => send(org.adminKey, 'PUT', `${path}/${id}`, { tags: ['late'] }),
        remove: (id) => send(org.adminKey, 'DELETE', `${path}/${id}`),
      };
    },
  };
}

const WINDOWS_DEVICE_KEYS = ['certificate', 'createdAt', 'devInfo', 'deviceId', 'deviceName', 'enrolledAt', 'enrollmentContext', 'hwDevId', 'id', 'lastSeenAt', 'organizationId', 'osVersion', 'state', 'unenrolledAt', 'updatedAt', 'userEmail', 'winEnrollmentTokenId', 'commands', 'policies'];
const APPLE_DEVICE_KEYS = ['authenticatedAt', 'buildVersion', 'certificateThumbprint', 'createdAt', 'deviceName', 'enrolledAt', 'enrollmentToken', 'id', 'lastSeenAt', 'model', 'modelName', 'organization', 'osVersion', 'productName', 'pushTokenSet', 'pushTokenInvalid', 'serialNumber', 'state', 'topic', 'udid', 'unenrolledAt', 'updatedAt', 'commands', 'policies'];
const WEBHOOK_KEYS = ['createdAt', 'description', 'enabled', 'events', 'id', 'organizationId', 'updatedAt', 'url'];
const DELIVERY_KEYS = ['attempts', 'createdAt', 'deliveredAt', 'eventType', 'id', 'lastAttemptAt', 'lastError', 'nextAttemptAt', 'payload', 'responseStatus', 'status', 'tokenId', 'webhookId'];

/** Devices are made by the enrollment protocols, not by their admin routes: rows written directly. */
const devices: ListResource[] = [
  {
    name: 'windows devices',
    route: `${ORG}/mdm/windows/devices`,
    order: 'newest-first',
    keys: WINDOWS_DEVICE_KEYS,
    nameOf: (item) => String(item.deviceName),
    sort: { fields: { createdAt: 'created', updatedAt: 'updated', enrolledAt: 'created', deviceName: 'name' }, unknownField: 'enrollCodeHash' },
    async setup(testCtx, org) {
      return { path: `/v1/organizations/${org.org.id}/mdm/windows/devices`, create: async (item) => (await insertWindowsDevice(testCtx, org.org, { deviceName: item.name })).id };
    },
  },
  {
    name: 'apple devices',
    route: `${ORG}/mdm/apple/devices`,
    order: 'newest-first',
    keys: APPLE_DEVICE_KEYS,
    nameOf: (item) => String(item.serialNumber),
    sort: { fields: { createdAt: 'created', updatedAt: 'updated', lastSeenAt: 'created', serialNumber: 'name' }, unknownField: 'udid' },
    async setup(testCtx, org) {
      return { path: `/v1/organizations/${org.org.id}/mdm/apple/devices`, create: async (item) => (await createAppleDevice(testCtx, org.org, undefined, { serialNumber: item.name })).id };
    },
  },
  ...(['windows', 'apple'] as const).map(
    (platform): ListResource => ({
      // A device's command queue, oldest first: each item is one command, named by its target.
      name: `${platform} device commands`,
      route: `${ORG}/mdm/${platform}/devices/:id/commands`,
      order: 'oldest-first',
      keys: ['completedAt', 'createdAt', 'deviceId', 'id', 'result', 'sentAt', 'source', 'status', 'target', 'type'],
      nameOf: (item) => String(item.target),
      sort: { fields: { createdAt: 'created', updatedAt: 'updated', status: 'same' }, unknownField: 'target' },
      async setup(testCtx, org) {
        const id =
          platform === 'windows'
            ? (await insertWindowsDevice(testCtx, org.org, { deviceName: 'queue' })).id
            : (await createAppleDevice(testCtx, org.org, undefined, { serialNumber: 'QUEUE' })).id;
        const { deviceCommands, database } = testCtx.container;
        return {
          path: `/v1/organizations/${org.org.id}/mdm/${platform}/devices/${id}/commands`,
          create: async (item) => {
            const [command] = await deviceCommands.enqueue(database.db, org.org.id, { id, platform }, [{ type: platform === 'windows' ? 'Replace' : 'InstallProfile', target: item.name }]);
            return command!.id;
          },
        };
      },
    }),
  ),
];

const hooks: ListResource[] = [
  crud('webhooks', '/webhooks', {
    keys: WEBHOOK_KEYS,
    nameOf: (item) => String(item.description),
    body: (item) => ({ url: `http://localhost/${item.name}`, description: item.name }),
    touch: { enabled: false },
  }),
  {
    // The delivery log of one endpoint, newest first: each item is the `created` event of a token.
    name: 'webhook deliveries',
    route: `${ORG}/webhooks/:id/deliveries`,
    order: 'newest-first',
    keys: DELIVERY_KEYS,
    nameOf: (item) => String((item.payload as { data: { displayName: string } }).data.displayName),
    async setup(testCtx, org) {
      const hook = await post(org.adminKey, `/v1/organizations/${org.org.id}/webhooks`, { url: 'http://localhost/deliveries', events: ['enrollmentToken.created'] });
      const tokens = tokensPath(org.org.id, 'windows');
      return {
        path: `/v1/organizations/${org.org.id}/webhooks/${hook}/deliveries`,
        async create(item) {
          const user = await createMdmUser(testCtx, org.org, { email: item.email });
          return post(org.adminKey, tokens, { mdmUserId: user.id, sendEmail: false, displayName: item.name });
        },
      };
    },
  },
];

const RESOURCES: ListResource[] = [
  crud('mdm users', '/mdm/users', {
    keys: ['createdAt', 'email', 'id', 'language', 'name', 'organizationId', 'tags', 'updatedAt'],
    nameOf: byName,
    body: (item) => ({ name: item.name, email: item.email }),
    touch: { tags: ['late'] },
    sort: { fields: { ...NAME_SORTS.fields, email: 'email' }, unknownField: 'deletedAt' },
  }),
  crud('windows policies', '/mdm/windows/enterprise/policies', {
    keys: WIN_POLICY_KEYS,
    nameOf: byName,
    body: (item) => ({ name: item.name }),
    touch: { config: { touched: true } },
    sort: { ...NAME_SORTS, unknownField: 'version' },
  }),
  crud('apple policies', '/mdm/apple/enterprise/policies', {
    keys: ADM_POLICY_KEYS,
    nameOf: byName,
    body: (item) => ({ name: item.name }),
    touch: { config: { touched: true } },
    sort: { ...NAME_SORTS, unknownField: 'version' },
  }),
  crud('segments', '/segments', {
    keys: ['createdAt', 'id', 'name', 'organizationId', 'parentId', 'updatedAt'],
    nameOf: byName,
    body: (item) => ({ name: item.name }),
    touch: { parentId: null },
    sort: { ...NAME_SORTS, unknownField: 'parentId' },
  }),
  crud('vpp locations', '/mdm/apple/enterprise/vpp/locations', {
    keys: ['config', 'createdAt', 'id', 'name', 'organization', 'updatedAt'],
    nameOf: byName,
    body: (item) => ({ name: item.name, config: VPP_CONFIG }),
    touch: { config: { locationName: 'touched' } },
    sort: { ...NAME_SORTS, unknownField: 'config' },
  }),
  {
    // Revoked keys stay listed (with revokedAt) and keys never change: no touch, no removal.
    name: 'api keys',
    route: `${ORG}/api-keys`,
    order: 'newest-first',
    baseline: ['First admin key'],
    keys: ['createdAt', 'expiresAt', 'id', 'name', 'organizationId', 'permissions', 'prefix', 'revokedAt', 'role'],
    nameOf: byName,
    async setup(_ctx, org) {
      const path = `/v1/organizations/${org.org.id}/api-keys`;
      return { path, create: (item) => post(org.adminKey, path, { name: item.name, role: 'viewer' }) };
    },
  },
  tokens('windows'),
  tokens('apple'),
  ...devices,
  ...hooks,
  ...(['windows', 'apple'] as const).map(
    (platform): ListResource => ({
      // A token's audit trail, oldest first: each item is an update naming the token.
      name: `${platform} token events`,
      route: `${ORG}/mdm/${platform}/enterprise/enrollment-tokens/:id/events`,
      order: 'oldest-first',
      baseline: ['created'],
      keys: ['actorKeyId', 'at', 'changes', 'id', 'type'],
      nameOf: (item) => {
        const changes = item.changes as { displayName?: { to: string } };
        return item.type === 'updated' && changes.displayName ? changes.displayName.to : String(item.type);
      },
      async setup(testCtx, org) {
        const user = await createMdmUser(testCtx, org.org);
        const token = tokensPath(org.org.id, platform);
        const id = await post(org.adminKey, token, { mdmUserId: user.id, sendEmail: false });
        return { path: `${token}/${id}/events`, create: async (item) => (await send(org.adminKey, 'PUT', `${token}/${id}`, { displayName: item.name }), item.name) };
      },
    }),
  ),
];

for (const resource of RESOURCES) runListSuite(() => ctx, resource);

const takesPage = (schema: unknown) => typeof schema === 'object' && schema !== null && 'properties' in schema && typeof schema.properties === 'object' && schema.properties !== null && 'page' in schema.properties;

test('every route that takes a page runs the list suite', async () => {
  const routed = await buildRoutedApp(ctx);
  try {
    const listing = routed.routes
      .filter((r) => r.method === 'GET' && takesPage(r.schema?.querystring))
      .map((r) => r.url)
      .sort();
    assert.deepEqual(listing, RESOURCES.map((r) => r.route).sort());
  } finally {
    await routed.app.close();
  }
});

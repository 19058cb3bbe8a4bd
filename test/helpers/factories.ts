import { randomBytes } from 'node:crypto';
import { mdmUsers, policies, segments, vppLocations } from '../../src/db/schema.ts';
import { newId } from '../../src/lib/ids.ts';
import { sha256 } from '../../src/lib/secrets.ts';
import type { Platform } from '../../src/platforms/platforms.ts';
import { createApiKeysRepo } from '../../src/modules/api-keys/api-keys.repo.ts';
import { mintApiKey, type NewApiKey } from '../../src/auth/api-key-credentials.ts';
import type { OrganizationRecord } from '../../src/modules/organizations/organizations.repo.ts';
import type { TestContext } from './test-app.ts';

export function unique(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

export interface TestOrg {
  org: OrganizationRecord;
  adminKey: string;
}

/** A fresh tenant with its first admin key. */
export async function createOrg(ctx: TestContext, options: { plan?: string; slug?: string } = {}): Promise<TestOrg> {
  const { organization, adminKey } = await ctx.container.organizations.create({
    slug: options.slug ?? unique('org'),
    name: 'Test organization',
    plan: options.plan,
  });
  return { org: organization, adminKey };
}

/** A key of the organization, written directly so tests can give it any role, grant or expiry. */
export async function createKey(ctx: TestContext, org: OrganizationRecord, input: Omit<NewApiKey, 'name'> & { name?: string }): Promise<string> {
  const { secret, row } = mintApiKey(org.id, { name: input.name ?? unique('key'), ...input }, ctx.clock.now(), ctx.container.credentialCheck);
  await createApiKeysRepo(ctx.container.database.db).insert(row);
  return secret;
}

/**
 * A key as servers made them before keys carried a check (src/auth/credential-check.ts): "ork_"
 * and 43 random characters, stored as its SHA-256 and display prefix. Such keys keep working.
 */
export async function createLegacyKey(ctx: TestContext, org: OrganizationRecord, input: Omit<NewApiKey, 'name'> & { name?: string }): Promise<string> {
  const { row } = mintApiKey(org.id, { name: input.name ?? unique('legacy-key'), ...input }, ctx.clock.now(), ctx.container.credentialCheck);
  const secret = `ork_${randomBytes(32).toString('base64url')}`;
  await createApiKeysRepo(ctx.container.database.db).insert({ ...row, prefix: secret.slice(0, 12), keyHash: sha256(secret) });
  return secret;
}

/** Referenced entities, inserted directly so token tests stand on their own. */
export async function createMdmUser(ctx: TestContext, org: OrganizationRecord, options: { email?: string; language?: string | null } = {}) {
  const now = ctx.clock.now();
  const [row] = await ctx.container.database.db
    .insert(mdmUsers)
    .values({ id: newId(), organizationId: org.id, email: options.email ?? `${unique('user')}@example.com`, name: 'Test User', language: options.language ?? null, tags: [], createdAt: now, updatedAt: now })
    .returning();
  return row!;
}

export async function createPolicy(ctx: TestContext, org: OrganizationRecord, platform: Platform, name = unique('policy')) {
  const now = ctx.clock.now();
  const [row] = await ctx.container.database.db
    .insert(policies)
    .values({ id: newId(), organizationId: org.id, platform, name, config: {}, details: {}, version: 0, createdAt: now, updatedAt: now })
    .returning();
  return row!;
}

export async function createSegment(ctx: TestContext, org: OrganizationRecord) {
  const now = ctx.clock.now();
  const [row] = await ctx.container.database.db.insert(segments).values({ organizationId: org.id, name: unique('segment'), createdAt: now, updatedAt: now }).returning();
  return row!;
}

export async function createVppLocation(ctx: TestContext, org: OrganizationRecord) {
  const now = ctx.clock.now();
  const [row] = await ctx.container.database.db
    .insert(vppLocations)
    .values({ id: newId(), organizationId: org.id, name: 'US Corporate VPP', config: { countryISO2ACode: 'US' }, createdAt: now, updatedAt: now })
    .returning();
  return row!;
}

import { randomBytes } from 'node:crypto';
import { createApiKeysRepo } from '../../src/modules/api-keys/api-keys.repo.ts';
import { mintApiKey, type NewApiKey } from '../../src/modules/api-keys/api-keys.service.ts';
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
  const { secret, row } = mintApiKey(org.id, { name: input.name ?? unique('key'), ...input }, ctx.clock.now());
  await createApiKeysRepo(ctx.container.database.db).insert(row);
  return secret;
}

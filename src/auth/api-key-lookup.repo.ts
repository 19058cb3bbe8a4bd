import { eq } from 'drizzle-orm';
import type { Executor } from '../db/client.ts';
import { apiKeys, organizations } from '../db/schema.ts';

/**
 * Keys whose public prefix matches, with their organization. The one read of keys not scoped
 * by organization: the key is the credential, and the organization comes from its row.
 */
export async function findKeysByPrefix(db: Executor, prefix: string) {
  return db
    .select({ key: apiKeys, organization: organizations })
    .from(apiKeys)
    .innerJoin(organizations, eq(organizations.id, apiKeys.organizationId))
    .where(eq(apiKeys.prefix, prefix));
}

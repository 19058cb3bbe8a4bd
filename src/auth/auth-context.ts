import type { organizations } from '../db/schema.ts';

/** Who is calling: the key and its organization, resolved once per request. */
export interface AuthContext {
  keyId: string;
  organization: typeof organizations.$inferSelect;
  grants: readonly string[];
}

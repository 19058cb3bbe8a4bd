import type { Database } from '../db/client.ts';
import type { Clock } from '../lib/clock.ts';
import type { Language } from '../modules/enrollment-tokens/token.schemas.ts';
import { effectiveState } from '../modules/enrollment-tokens/token-state.ts';
import { findTokenByLinkSecret } from '../modules/enrollment-tokens/token.repo.ts';
import { enrollmentLink } from '../modules/enrollment-tokens/token.views.ts';
import { createOrganizationsRepo } from '../modules/organizations/organizations.repo.ts';
import type { Platform } from '../platforms/platforms.ts';
import type { EnrollPageInput } from './enroll-page.view.ts';

/** Link secrets are 32 random bytes in base64url: anything else cannot be a link. */
const LINK_SECRET = /^[A-Za-z0-9_-]{43}$/;

const KIND_OF_STATE = { EXPIRED: 'expired', DONE: 'used', DELETED: 'revoked' } as const;

/** What the page behind an enrollment link shows, decided from the token's state. */
export function createEnrollPageService(deps: { database: Database; clock: Clock; publicUrl: string }) {
  return {
    async pageFor(secret: string): Promise<EnrollPageInput> {
      if (!LINK_SECRET.test(secret)) return { kind: 'not-found' };
      const token = await findTokenByLinkSecret(deps.database.db, secret);
      if (!token) return { kind: 'not-found' };
      const organization = await createOrganizationsRepo(deps.database.db).findByIdOrSlug(token.organizationId);
      if (!organization) return { kind: 'not-found' };
      const language = token.language as Language;
      const state = effectiveState(token.state, token.expireAt, deps.clock.now());
      if (state !== 'PENDING') return { kind: KIND_OF_STATE[state], language, organizationName: organization.name };
      return {
        kind: 'pending',
        language,
        platform: token.platform as Platform,
        organizationName: organization.name,
        displayName: token.displayName,
        code: token.enrollCode,
        expireAt: token.expireAt,
        link: enrollmentLink(deps.publicUrl, token.linkSecret),
      };
    },
  };
}

export type EnrollPageService = ReturnType<typeof createEnrollPageService>;

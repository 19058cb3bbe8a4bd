import type { ReadRecipientToken } from '../mail/recipient-token.ts';
import type { EnrollPageInput } from './enroll-page.view.ts';

/** Link secrets are 32 random bytes in base64url: anything else cannot be a link. */
const LINK_SECRET = /^[A-Za-z0-9_-]{43}$/;

const KIND_OF_STATE = { EXPIRED: 'expired', DONE: 'used', DELETED: 'revoked' } as const;

/**
 * What the page behind an enrollment link shows, decided from the token as its recipient sees
 * it: the same read the email is rendered from (handed in by container.ts).
 */
export function createEnrollPageService(deps: { readToken: ReadRecipientToken }) {
  return {
    async pageFor(secret: string): Promise<EnrollPageInput> {
      if (!LINK_SECRET.test(secret)) return { kind: 'not-found' };
      const token = await deps.readToken({ linkSecret: secret });
      if (!token) return { kind: 'not-found' };
      const { language, organizationName } = token;
      if (token.state !== 'PENDING') return { kind: KIND_OF_STATE[token.state], language, organizationName };
      return {
        kind: 'pending',
        language,
        platform: token.platform,
        organizationName,
        displayName: token.displayName,
        code: token.enrollCode,
        expireAt: token.expireAt,
        link: token.link,
      };
    },
  };
}

export type EnrollPageService = ReturnType<typeof createEnrollPageService>;

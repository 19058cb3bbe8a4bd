import type { ReadRecipientToken } from '../mail/recipient-token.ts';
import { appleProfileUrl } from './apple-profile.i18n.ts';
import type { EnrollPageInput } from './enroll-page.view.ts';
import { windowsEnrollmentDeepLink } from './windows-enroll-link.ts';

/** Link secrets are 32 random bytes in base64url: anything else cannot be a link. */
const LINK_SECRET = /^[A-Za-z0-9_-]{43}$/;

const KIND_OF_STATE = { EXPIRED: 'expired', DONE: 'used', DELETED: 'revoked' } as const;

/**
 * What the page behind an enrollment link shows, decided from the token as its recipient sees
 * it: the same read the email is rendered from (handed in by container.ts).
 */
export function createEnrollPageService(deps: {
  readToken: ReadRecipientToken;
  publicUrl: string;
  /** The organization's APNs topic, null until its push certificate is uploaded (issue 13). */
  applePushTopic?: (organizationId: string) => Promise<string | null>;
  /** The email a Windows token's user signs in with (the device protocols' read of the token). */
  windowsUsername?: (linkSecret: string) => Promise<string | undefined>;
}) {
  return {
    async pageFor(secret: string): Promise<EnrollPageInput> {
      if (!LINK_SECRET.test(secret)) return { kind: 'not-found' };
      const token = await deps.readToken({ linkSecret: secret });
      if (!token) return { kind: 'not-found' };
      const { language, organizationName } = token;
      if (token.state !== 'PENDING') return { kind: KIND_OF_STATE[token.state], language, organizationName };
      // A Windows token's button opens Windows' own enrollment with the user and server filled in.
      const email = token.platform === 'windows' ? await deps.windowsUsername?.(secret) : undefined;
      const link = token.link;
      const apple = token.platform === 'apple' && deps.applePushTopic;
      return {
        kind: 'pending',
        language,
        platform: token.platform,
        organizationName,
        displayName: token.displayName,
        code: token.enrollCode,
        expireAt: token.expireAt,
        link: email ? windowsEnrollmentDeepLink(deps.publicUrl, email) : link,
        ...(email ? { windowsUsername: email } : {}),
        ...(apple ? { appleProfileUrl: (await apple(token.organizationId)) === null ? null : appleProfileUrl(link) } : {}),
      };
    },
  };
}

export type EnrollPageService = ReturnType<typeof createEnrollPageService>;

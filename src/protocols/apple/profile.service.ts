import { randomBytes } from 'node:crypto';
import type { AppleEnrollment } from '../../devices/apple-enrollment.service.ts';
import type { Clock } from '../../lib/clock.ts';
import { sha256 } from '../../lib/secrets.ts';
import type { PushCertificateService } from '../../modules/apple-push-certificate/push-certificate.service.ts';
import type { TokenState } from '../../modules/enrollment-tokens/token-state.ts';
import type { CertificateAuthority } from '../../pki/certificate-authority.ts';
import { appleUrls } from '../../platforms/apple-urls.ts';
import { caSignerFor } from '../../pki/ca-signer.ts';
import { signAttached } from '../../pki/cms.ts';
import { buildEnrollmentProfile } from './profile.ts';

const LINK_SECRET = /^[A-Za-z0-9_-]{43}$/;

export type ProfileOutcome =
  | { kind: 'profile'; body: Buffer }
  | { kind: 'not-found' }
  | { kind: 'closed'; state: Exclude<TokenState, 'PENDING'> }
  | { kind: 'no-push-certificate' };

/**
 * The signed `.mobileconfig` behind an Apple token's link. Each download mints a fresh one-time
 * SCEP challenge bound to the token (valid until the token expires) and it replaces the token's
 * unspent one, if any: at most one profile of a token can still get an identity, the latest
 * (the one iOS installs: a new download replaces the pending profile in Settings), and a copy of
 * an earlier one that went astray is dead. Reusing the earlier challenge instead would need it
 * stored readable; only its hash is kept. The token stays PENDING until the device's TokenUpdate.
 */
export function createProfileService(deps: { enrollment: AppleEnrollment; clock: Clock; publicUrl: string; ca: CertificateAuthority; pushCertificates: PushCertificateService }) {
  return {
    async profileFor(secret: string): Promise<ProfileOutcome> {
      if (!LINK_SECRET.test(secret)) return { kind: 'not-found' };
      const now = deps.clock.now();
      const token = await deps.enrollment.tokenByLinkSecret(secret, now);
      if (!token || token.platform !== 'apple') return { kind: 'not-found' };
      if (token.state !== 'PENDING') return { kind: 'closed', state: token.state };
      const organization = await deps.enrollment.organization(token.organizationId);
      if (!organization) return { kind: 'not-found' };
      const topic = await deps.pushCertificates.topicOf(token.organizationId);
      if (topic === null) return { kind: 'no-push-certificate' };

      // Hex: it travels as a PrintableString (challengePassword), whose alphabet has no '_'.
      const challenge = randomBytes(32).toString('hex');
      const signer = await caSignerFor(deps.ca, token.organizationId);
      const xml = buildEnrollmentProfile({
        organizationId: token.organizationId,
        organizationName: organization.name,
        tokenId: token.tokenId,
        topic,
        urls: appleUrls(deps.publicUrl, token.organizationId),
        challenge,
      });
      const body = await signAttached(Buffer.from(xml, 'utf8'), signer);
      await deps.enrollment.replaceChallenge(token.organizationId, token.tokenId, sha256(challenge), token.expireAt, now);
      return { kind: 'profile', body };
    },
  };
}

export type ProfileService = ReturnType<typeof createProfileService>;

import type { Database } from '../db/client.ts';
import { newId } from '../lib/ids.ts';
import { findTokenForDeviceByLinkSecret, type TokenForDevice } from '../modules/enrollment-tokens/token-device-access.ts';
import { createOrganizationsRepo } from '../modules/organizations/organizations.repo.ts';
import type { CertificateAuthority, IssuedCertificate } from '../pki/certificate-authority.ts';
import { DeviceRefused } from './device-refused.ts';
import { createScepChallengesRepo } from './scep-challenges.repo.ts';

/**
 * How an Apple device gets its identity, the face the profile download and SCEP call: the
 * token behind a link, a one-time SCEP challenge minted per profile, and the identity issued
 * against it (the challenge spent and the certificate issued in one transaction).
 */
export function createAppleEnrollment(deps: { database: Database; ca: CertificateAuthority }) {
  const { database } = deps;
  return {
    /** The organization an id names (a slug does not: the device paths carry ids), or undefined. */
    async organization(organizationId: string): Promise<{ id: string; name: string } | undefined> {
      const organization = await createOrganizationsRepo(database.db).findByIdOrSlug(organizationId);
      return organization?.id === organizationId ? { id: organization.id, name: organization.name } : undefined;
    },

    /** The token behind an enrollment link's secret, in any state. */
    tokenByLinkSecret: (secret: string, now: Date): Promise<TokenForDevice | null> => findTokenForDeviceByLinkSecret(database.db, secret, now),

    /**
     * The token's one unspent challenge becomes this one (its hash), valid until `expiresAt`:
     * at most one profile of a token can still get an identity, the latest.
     */
    async replaceChallenge(organizationId: string, tokenId: string, challengeHash: Buffer, expiresAt: Date, now: Date): Promise<void> {
      await createScepChallengesRepo(database.db).replaceUnspent(organizationId, { id: newId(), tokenId, challengeHash, expiresAt, createdAt: now });
    },

    /**
     * Spends the challenge and issues the identity in one transaction: a refusal (DeviceRefused,
     * or the CA's CertificateRequestRejected) leaves both as they were. The token must still be
     * able to enroll: a revoked token's challenges die with it.
     */
    async issueIdentity(organizationId: string, request: { challengeHash: Buffer; publicKeySpkiDer: Buffer; subjectCommonName: string }, now: Date): Promise<IssuedCertificate> {
      return database.db.transaction(async (tx) => {
        const challenges = createScepChallengesRepo(tx);
        const challenge = await challenges.spend(organizationId, request.challengeHash, now);
        if (!challenge) throw new DeviceRefused('challenge-unusable', 'the challenge is wrong, spent or expired');
        if (!(await challenges.tokenIsOpen(organizationId, challenge.tokenId, now))) throw new DeviceRefused('token-closed', 'the enrollment token can no longer enroll a device');
        return deps.ca.issueClientCertificate(tx, organizationId, {
          publicKeySpkiDer: request.publicKeySpkiDer,
          subjectCommonName: request.subjectCommonName,
          platform: 'apple',
          deviceId: newId(),
          tokenId: challenge.tokenId,
        });
      });
    },
  };
}

export type AppleEnrollment = ReturnType<typeof createAppleEnrollment>;

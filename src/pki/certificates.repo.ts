import { and, eq, inArray, isNull, sql, type SQL } from 'drizzle-orm';
import type { Executor } from '../db/client.ts';
import { certificateAuthorities, enrollmentTokens, issuedCertificates, organizations } from '../db/schema.ts';

export type CaRow = typeof certificateAuthorities.$inferSelect;
export type IssuedCertificateRow = typeof issuedCertificates.$inferSelect;

/** SQL of the certificate authority: its CA rows and the register of issued certificates. */
export function createCertificatesRepo(db: Executor) {
  return {
    async getCa(organizationId: string): Promise<CaRow | null> {
      const [row] = await db.select().from(certificateAuthorities).where(eq(certificateAuthorities.organizationId, organizationId));
      return row ?? null;
    },

    /** Inserts unless another process already made this organization's CA; the caller re-reads. */
    async insertCaIfMissing(organizationId: string, row: Omit<CaRow, 'organizationId'>): Promise<void> {
      await db
        .insert(certificateAuthorities)
        .values({ ...row, organizationId })
        .onConflictDoNothing({ target: certificateAuthorities.organizationId });
    },

    async organizationName(organizationId: string): Promise<string | null> {
      const [row] = await db.select({ name: organizations.name }).from(organizations).where(eq(organizations.id, organizationId));
      return row?.name ?? null;
    },

    async insertIssued(organizationId: string, row: Omit<IssuedCertificateRow, 'organizationId'>): Promise<void> {
      await db.insert(issuedCertificates).values({ ...row, organizationId });
    },

    /**
     * By thumbprint or serial, within one organization, or (null) across all: a device shows its
     * certificate before anything else says which organization it belongs to.
     */
    async findIssued(organizationId: string | null, by: { thumbprint: string } | { serialNumber: string }): Promise<IssuedCertificateRow | null> {
      const match: SQL = 'thumbprint' in by ? eq(issuedCertificates.thumbprint, by.thumbprint) : eq(issuedCertificates.serialNumber, by.serialNumber);
      const where = organizationId === null ? match : and(eq(issuedCertificates.organizationId, organizationId), match);
      const [row] = await db.select().from(issuedCertificates).where(where).limit(1);
      return row ?? null;
    },

    async revokeForDevice(organizationId: string, deviceId: string, at: Date): Promise<number> {
      const rows = await db
        .update(issuedCertificates)
        .set({ revokedAt: at })
        .where(and(eq(issuedCertificates.organizationId, organizationId), eq(issuedCertificates.deviceId, deviceId), isNull(issuedCertificates.revokedAt)))
        .returning({ serialNumber: issuedCertificates.serialNumber });
      return rows.length;
    },

    /**
     * Revokes every unrevoked certificate issued for these tokens except to the device each
     * token is bound to (none, for a token nobody redeemed); returns how many.
     */
    async revokeUnredeemedForTokens(organizationId: string, tokenIds: string[], at: Date): Promise<number> {
      if (tokenIds.length === 0) return 0;
      const boundDevice = sql`(select ${enrollmentTokens.deviceId} from ${enrollmentTokens} where ${enrollmentTokens.organizationId} = ${issuedCertificates.organizationId} and ${enrollmentTokens.id} = ${issuedCertificates.tokenId})`;
      const rows = await db
        .update(issuedCertificates)
        .set({ revokedAt: at })
        .where(
          and(
            eq(issuedCertificates.organizationId, organizationId),
            inArray(issuedCertificates.tokenId, tokenIds),
            isNull(issuedCertificates.revokedAt),
            sql`${issuedCertificates.deviceId} is distinct from ${boundDevice}`,
          ),
        )
        .returning({ serialNumber: issuedCertificates.serialNumber });
      return rows.length;
    },
  };
}

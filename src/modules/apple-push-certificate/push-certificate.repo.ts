import { eq } from 'drizzle-orm';
import type { Executor } from '../../db/client.ts';
import { applePushCertificates } from '../../db/schema.ts';

export type PushCertificateRecord = typeof applePushCertificates.$inferSelect;

export function createPushCertificateRepo(db: Executor) {
  return {
    async get(organizationId: string): Promise<PushCertificateRecord | undefined> {
      const [row] = await db.select().from(applePushCertificates).where(eq(applePushCertificates.organizationId, organizationId)).limit(1);
      return row;
    },

    /** One certificate per organization: a new upload replaces the old one (APNs renewals keep the topic). */
    async put(organizationId: string, row: Omit<PushCertificateRecord, 'organizationId' | 'createdAt'>, now: Date): Promise<PushCertificateRecord> {
      const values = { ...row, organizationId, createdAt: now };
      const [saved] = await db
        .insert(applePushCertificates)
        .values(values)
        .onConflictDoUpdate({ target: applePushCertificates.organizationId, set: { ...row } })
        .returning();
      return saved!;
    },
  };
}

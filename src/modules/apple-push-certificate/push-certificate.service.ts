import type { Database } from '../../db/client.ts';
import type { Clock } from '../../lib/clock.ts';
import { createPrivateKey } from 'node:crypto';
import { decryptSecret, encryptSecret, type SecretKey } from '../../pki/secret-key.ts';
import type { AuthContext } from '../../auth/auth-context.ts';
import { parsePushCertificate } from './push-certificate.parse.ts';
import { createPushCertificateRepo, type PushCertificateRecord } from './push-certificate.repo.ts';
import type { PushCertificateView } from './push-certificate.schemas.ts';

/** What binds an encrypted push key to its organization: a blob moved to another row fails to decrypt. */
export const pushKeyAad = (organizationId: string) => `apple-push-key:${organizationId}`;

function toView(row: PushCertificateRecord | undefined): PushCertificateView {
  return {
    topic: row?.topic ?? null,
    expiresAt: row?.notAfter.toISOString() ?? null,
    serialNumber: row?.serialNumber ?? null,
    uploadedAt: row?.updatedAt.toISOString() ?? null,
  };
}

export function createPushCertificateService(deps: { database: Database; clock: Clock; secretKey: () => SecretKey }) {
  const repo = () => createPushCertificateRepo(deps.database.db);
  return {
    async get(auth: AuthContext): Promise<PushCertificateView> {
      return toView(await repo().get(auth.organization.id));
    },

    async put(auth: AuthContext, input: { certificate: string; privateKey: string }): Promise<PushCertificateView> {
      const now = deps.clock.now();
      const parsed = parsePushCertificate(input, now);
      const keyDer = parsed.privateKey.export({ format: 'der', type: 'pkcs8' });
      const row = await repo().put(
        auth.organization.id,
        {
          topic: parsed.topic,
          certificatePem: parsed.certificatePem,
          privateKeyEncrypted: encryptSecret(deps.secretKey(), keyDer, pushKeyAad(auth.organization.id)),
          serialNumber: parsed.serialNumber,
          notBefore: parsed.notBefore,
          notAfter: parsed.notAfter,
          updatedAt: now,
        },
        now,
      );
      return toView(row);
    },

    /** The topic devices are told to listen on, or null while no certificate is uploaded. */
    async topicOf(organizationId: string): Promise<string | null> {
      return (await repo().get(organizationId))?.topic ?? null;
    },

    /**
     * The certificate and its key as TLS client credentials for APNs (src/push/), or undefined
     * while none is uploaded. `id` changes with every upload, so the pooled session is replaced.
     */
    async clientCredentials(organizationId: string): Promise<{ id: string; topic: string; certificatePem: string; privateKeyPem: string } | undefined> {
      const row = await repo().get(organizationId);
      if (!row) return undefined;
      const pkcs8 = decryptSecret(deps.secretKey(), row.privateKeyEncrypted, pushKeyAad(organizationId));
      const privateKeyPem = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' }).export({ format: 'pem', type: 'pkcs8' }).toString();
      return { id: `${row.serialNumber}/${row.updatedAt.getTime()}`, topic: row.topic, certificatePem: row.certificatePem, privateKeyPem };
    },
  };
}

export type PushCertificateService = ReturnType<typeof createPushCertificateService>;

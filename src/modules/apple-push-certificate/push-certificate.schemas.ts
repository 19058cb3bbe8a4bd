import { Type, type Static } from 'typebox';
import { NullableDateTime, OrgParams, ok, withErrors } from '../../lib/schemas.ts';

const tags = ['Apple enterprise'];

/** Never the key: the response is an allow-list (STYLE.md, Infisical). */
export const PushCertificate = Type.Object({
  topic: Type.Union([Type.String(), Type.Null()], { description: 'The certificate subject UID (com.apple.mgmt.External.<uuid>); null until one is uploaded' }),
  expiresAt: NullableDateTime,
  serialNumber: Type.Union([Type.String(), Type.Null()]),
  uploadedAt: NullableDateTime,
});

export type PushCertificateView = Static<typeof PushCertificate>;

const Pem = (description: string) => Type.String({ minLength: 1, maxLength: 32_768, description });

export const PushCertificateBody = Type.Object(
  {
    certificate: Pem('The APNs MDM push certificate from Apple, PEM'),
    privateKey: Pem('Its private key, PEM (PKCS#1 or PKCS#8), without a passphrase'),
  },
  { additionalProperties: false },
);

export const getPushCertificateSchema = {
  tags,
  summary: 'Get the Apple MDM push certificate’s topic and expiry (never the key)',
  params: OrgParams,
  response: withErrors({ 200: ok(PushCertificate) }),
};

export const putPushCertificateSchema = {
  tags,
  summary: 'Upload the Apple MDM push certificate and its private key',
  params: OrgParams,
  body: PushCertificateBody,
  response: withErrors({ 200: ok(PushCertificate) }),
};

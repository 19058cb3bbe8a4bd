import { AppError } from '../../errors.ts';
import { isBase64, stripWhitespace } from '../../lib/base64.ts';
import type { Clock } from '../../lib/clock.ts';
import type { AppleLifecycle, DeviceIdentity } from '../../devices/apple-lifecycle.service.ts';
import { thumbprintOf, type CertificateAuthority } from '../../pki/certificate-authority.ts';
import { certificateDer, CmsError, verifyDetached } from '../../pki/cms.ts';

/** The identity Openroll issued that signed a message: who the message is from. */
export type MessageSigner = DeviceIdentity;

/** A CMS signature with one 2048-4096-bit certificate is a few KiB; more is not a signature. */
const MAX_SIGNATURE_CHARS = 32_768;

function unauthorized(message: string): AppError {
  return new AppError('INVALID_TOKEN', { data: { errors: [{ path: 'headers.mdm-signature', message }] } });
}

/**
 * Authenticates a check-in or MDM message (`SignMessage` in the profile): the `Mdm-Signature`
 * header is a base64 detached CMS SignedData over the exact body, by an identity certificate this
 * organization's CA issued to an Apple device through SCEP, unexpired and not revoked, whose token
 * can still enroll (PENDING) or was redeemed by this very identity. Anything else is 401 4004,
 * whatever the body says.
 */
export async function authenticateMessage(
  deps: { ca: CertificateAuthority; clock: Clock; devices: Pick<AppleLifecycle, 'tokenBinding'> },
  organizationId: string,
  header: string | string[] | undefined,
  body: Buffer,
): Promise<MessageSigner> {
  if (typeof header !== 'string' || header.trim() === '') throw unauthorized('is required: every message must be signed with the device identity');
  // The length first, then a linear check: nothing here may cost more than the header's size.
  if (header.length > MAX_SIGNATURE_CHARS) throw unauthorized('must be base64');
  const base64 = stripWhitespace(header);
  if (!isBase64(base64)) throw unauthorized('must be base64');
  let der: Buffer;
  try {
    const verified = await verifyDetached(Buffer.from(base64, 'base64'), body);
    der = certificateDer(verified.signerCertificate);
  } catch (error) {
    if (error instanceof CmsError) throw unauthorized(`is not a valid signature of the body: ${error.message}`);
    throw error;
  }
  const thumbprint = thumbprintOf(der);
  const issued = await deps.ca.findIssuedCertificate(organizationId, { thumbprint });
  const now = deps.clock.now();
  if (!issued || issued.platform !== 'apple' || !Buffer.from(issued.certificateDer).equals(der)) throw unauthorized('was made by a certificate this organization did not issue');
  if (issued.revokedAt !== null) throw unauthorized('was made by a revoked certificate');
  if (issued.notAfter.getTime() <= now.getTime() || issued.notBefore.getTime() > now.getTime()) throw unauthorized('was made by a certificate outside its validity');
  // One identity per token: a spare one (a second profile download) dies when another device
  // redeems the token, and every unredeemed one when it is revoked or expires. Its certificate is
  // revoked then; this holds as well before the expiry sweep has stored EXPIRED.
  const token = await deps.devices.tokenBinding(organizationId, issued.tokenId, now);
  if (!token || (token.state !== 'PENDING' && token.deviceId !== issued.deviceId)) throw unauthorized('was made by an identity whose enrollment token can no longer enroll it');
  return { organizationId, deviceId: issued.deviceId, tokenId: issued.tokenId, thumbprint };
}

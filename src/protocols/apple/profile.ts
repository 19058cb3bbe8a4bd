import { randomUUID } from 'node:crypto';
import { buildPlist, type PlistDict } from '../../lib/plist.ts';

/** Every right the MDM payload can grant (Apple's AccessRights bit mask, 1 through 4096). */
export const ALL_ACCESS_RIGHTS = 8191;

export interface ProfileInput {
  organizationId: string;
  organizationName: string;
  tokenId: string;
  topic: string;
  urls: { scep: string; checkIn: string; server: string };
  challenge: string;
}

/**
 * The enrollment profile (Apple's Configuration Profile Reference): a SCEP payload that makes
 * the device generate its identity key and fetch a certificate with the one-time challenge, and
 * an MDM payload that uses that identity to sign every check-in. The identifiers are stable per
 * organization, so installing a newer profile replaces the older one on the device.
 */
export function buildEnrollmentProfile(input: ProfileInput): string {
  const base = `com.openroll.enrollment.${input.organizationId}`;
  const scepUuid = randomUUID().toUpperCase();
  const scep: PlistDict = {
    PayloadType: 'com.apple.security.scep',
    PayloadVersion: 1,
    PayloadIdentifier: `${base}.scep`,
    PayloadUUID: scepUuid,
    PayloadDisplayName: 'Device identity',
    PayloadDescription: `The certificate this device proves itself with to ${input.organizationName}.`,
    PayloadContent: {
      URL: input.urls.scep,
      Name: `openroll-${input.organizationId}`,
      Subject: [[['O', input.organizationName]], [['CN', `Openroll Apple device ${input.tokenId}`]]],
      Challenge: input.challenge,
      Keysize: 2048,
      'Key Type': 'RSA',
      // Signing and encryption: the identity signs check-ins and decrypts SCEP's answer.
      'Key Usage': 5,
      Retries: 3,
      RetryDelay: 10,
    },
  };
  const mdm: PlistDict = {
    PayloadType: 'com.apple.mdm',
    PayloadVersion: 1,
    PayloadIdentifier: `${base}.mdm`,
    PayloadUUID: randomUUID().toUpperCase(),
    PayloadDisplayName: 'Device management',
    PayloadDescription: `Lets ${input.organizationName} manage this device.`,
    ServerURL: input.urls.server,
    CheckInURL: input.urls.checkIn,
    Topic: input.topic,
    IdentityCertificateUUID: scepUuid,
    AccessRights: ALL_ACCESS_RIGHTS,
    SignMessage: true,
    CheckOutWhenRemoved: true,
  };
  return buildPlist({
    PayloadType: 'Configuration',
    PayloadVersion: 1,
    PayloadIdentifier: base,
    PayloadUUID: randomUUID().toUpperCase(),
    PayloadDisplayName: `${input.organizationName} device management`,
    PayloadDescription: `Enrolls this device in ${input.organizationName}'s device management.`,
    PayloadOrganization: input.organizationName,
    PayloadScope: 'System',
    PayloadRemovalDisallowed: false,
    PayloadContent: [scep, mdm],
  });
}

/**
 * What differs between Windows and Apple devices for the console: the API paths and the field
 * names of the two device objects (CONTRACT.md section 6), mapped to one view so the device
 * pages are written once.
 */
import { ORG, type Platform } from './platform.ts';

export const DEVICES = {
  windows: `${ORG}/mdm/windows/devices`,
  apple: `${ORG}/mdm/apple/devices`,
} as const;

/** Each platform's state literals, in its API's spelling (Windows lower case, Apple upper case). */
export const DEVICE_STATES = {
  windows: ['enrolled', 'unenrolled'],
  apple: ['AUTHENTICATED', 'ENROLLED', 'UNENROLLED'],
} as const;

export const DEVICE_SORT_FIELDS = {
  windows: ['createdAt', 'updatedAt', 'enrolledAt', 'deviceName'],
  apple: ['createdAt', 'updatedAt', 'lastSeenAt', 'serialNumber'],
} as const;

export function devicePerm(platform: Platform, action: 'list' | 'get' | 'remove'): string {
  return `mdm.${platform}.device.${action}`;
}

export interface CommandCounts {
  queued: number;
  sent: number;
  acknowledged: number;
  error: number;
}

export interface DeviceView {
  id: string;
  name: string | null;
  model: string | null;
  osVersion: string | null;
  /** The serial number of an Apple device, the DeviceID of a Windows PC. */
  hardwareId: string;
  hardwareIdKind: 'serial' | 'deviceId';
  /** The Apple UDID, or the Windows HwDevID. */
  otherId: string | null;
  /** lower case: enrolled, unenrolled, authenticated. */
  state: string;
  stateLiteral: string;
  tokenId: string;
  /** Windows devices name their user; an Apple device's user is its token's. */
  userEmail: string | null;
  certificate: { serialNumber: string | null; thumbprint: string };
  enrolledAt: string | null;
  lastSeenAt: string | null;
  unenrolledAt: string | null;
  createdAt: string;
  commands: CommandCounts;
  policies: Array<{ policyId: string | null; state: string }>;
}

type Loose = Record<string, unknown>;
const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);

export function deviceView(platform: Platform, raw: object): DeviceView {
  const d = raw as Loose;
  const windows = platform === 'windows';
  const certificate = (d.certificate ?? {}) as Loose;
  const devInfo = (d.devInfo ?? {}) as Loose;
  return {
    id: String(d.id),
    name: str(d.deviceName),
    model: windows ? str(devInfo['./DevInfo/Mod'] ?? devInfo.Mod ?? devInfo.model) : str(d.modelName) && str(d.productName) ? `${String(d.modelName)} (${String(d.productName)})` : str(d.modelName ?? d.model),
    osVersion: str(d.osVersion),
    hardwareId: String((windows ? d.deviceId : d.serialNumber ?? d.udid) ?? ''),
    hardwareIdKind: windows ? 'deviceId' : 'serial',
    otherId: windows ? str(d.hwDevId) : str(d.udid),
    state: String(d.state).toLowerCase(),
    stateLiteral: String(d.state),
    tokenId: String(windows ? d.winEnrollmentTokenId : d.enrollmentToken),
    userEmail: windows ? str(d.userEmail) : null,
    certificate: windows ? { serialNumber: str(certificate.serialNumber), thumbprint: String(certificate.thumbprint ?? '') } : { serialNumber: null, thumbprint: String(d.certificateThumbprint ?? '') },
    enrolledAt: str(d.enrolledAt),
    lastSeenAt: str(d.lastSeenAt),
    unenrolledAt: str(d.unenrolledAt),
    createdAt: String(d.createdAt),
    commands: (d.commands as CommandCounts | undefined) ?? { queued: 0, sent: 0, acknowledged: 0, error: 0 },
    policies: (d.policies as DeviceView['policies'] | undefined) ?? [],
  };
}

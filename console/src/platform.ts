/**
 * What differs between Windows and Apple tokens for the console: the API paths and the names of
 * the policy fields, mapped to one view so the pages are written once.
 */
export const PLATFORMS = ['windows', 'apple'] as const;
export type Platform = (typeof PLATFORMS)[number];

export const ORG = '/v1/organizations/{organizationId}';
export const TOKENS = {
  windows: `${ORG}/mdm/windows/enterprise/enrollment-tokens`,
  apple: `${ORG}/mdm/apple/enterprise/enrollment-tokens`,
} as const;
export const POLICIES = {
  windows: `${ORG}/mdm/windows/enterprise/policies`,
  apple: `${ORG}/mdm/apple/enterprise/policies`,
} as const;

export const POLICY_FILTER = { windows: 'win-policy', apple: 'adm-policy' } as const;

export function perm(platform: Platform, action: 'list' | 'get' | 'create' | 'update' | 'remove'): string {
  return `mdm.${platform}.enrollmentToken.${action}`;
}

export function isPlatform(value: string | undefined): value is Platform {
  return value === 'windows' || value === 'apple';
}

export interface TokenView {
  id: string;
  displayName: string;
  state: string;
  mdmUser: { id: string; email: string } | null;
  tags: string[];
  createdAt: string;
  updatedAt: string;
  expireAt: string;
  enrollmentLink: string;
  enrollCode: string;
  assignments: Array<{ policyId: string; name: string; priority: number }>;
  email: { status: string; attempts: number; sentAt: string | null; lastError: string | null } | null;
  sendEmail: boolean;
  emailText: string;
  segmentId: number | null;
  deviceId: string | null;
}

type Loose = Record<string, unknown>;

/** One view of either platform's token object (CONTRACT.md section 4's two shapes). */
export function tokenView(platform: Platform, raw: object): TokenView {
  const t = raw as Loose;
  const assignmentsRaw = ((platform === 'windows' ? t.winPolicyAssignments : t.admPolicyAssignments) ?? []) as Loose[];
  const assignments = assignmentsRaw.map((a) => {
    const policy = (platform === 'windows' ? a.winPolicy : a.admPolicy) as Loose | null | undefined;
    const policyId = String(platform === 'windows' ? a.winPolicyId : a.admPolicyId ?? policy?.id ?? '');
    return { policyId, name: String(policy?.name ?? policyId), priority: Number(a.priority ?? 0) };
  });
  const summary = (t.summary ?? {}) as Loose;
  const device = platform === 'windows' ? t.winDeviceId : (t.admDevice as Loose | null | undefined)?.id ?? t.admDevice;
  return {
    id: String(t.id),
    displayName: String(t.displayName ?? ''),
    state: String(t.state),
    mdmUser: (t.mdmUser as TokenView['mdmUser']) ?? null,
    tags: (t.tags as string[] | undefined) ?? [],
    createdAt: String(t.createdAt),
    updatedAt: String(t.updatedAt),
    expireAt: String(t.expireAt),
    enrollmentLink: String(t.enrollmentLink ?? ''),
    enrollCode: String(t.enrollCode ?? ''),
    assignments: assignments.sort((a, b) => a.priority - b.priority),
    email: (summary.email as TokenView['email']) ?? null,
    sendEmail: Boolean(t.sendEmail),
    emailText: String(t.emailText ?? ''),
    segmentId: typeof t.segmentId === 'number' ? t.segmentId : null,
    deviceId: typeof device === 'string' ? device : null,
  };
}

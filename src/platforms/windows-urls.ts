/** Where the Windows protocol endpoints live; absolute URLs are built from PUBLIC_URL. */
export const WINDOWS_PATHS = {
  /** Fixed by Windows: it derives this from enterpriseenrollment.<email domain>. */
  discovery: '/EnrollmentServer/Discovery.svc',
  policy: '/EnrollmentServer/Policy.svc',
  enrollment: '/EnrollmentServer/Enrollment.svc',
  /** The OMA-DM server; the organization in the path scopes every lookup of a session. */
  management: '/ManagementServer/MDM.svc/:organizationId',
} as const;

export function windowsUrls(publicUrl: string) {
  return {
    discovery: `${publicUrl}${WINDOWS_PATHS.discovery}`,
    policy: `${publicUrl}${WINDOWS_PATHS.policy}`,
    enrollment: `${publicUrl}${WINDOWS_PATHS.enrollment}`,
    management: (organizationId: string) => `${publicUrl}${WINDOWS_PATHS.management.replace(':organizationId', organizationId)}`,
  };
}

export type WindowsUrls = ReturnType<typeof windowsUrls>;
